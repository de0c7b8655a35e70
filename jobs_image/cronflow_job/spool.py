"""The spool of automatic mode: claim each complete file of an input directory exactly once.

All state is on disk, inside the input directory, so a restarted watcher carries on where it was:

    <dir>/<name>                        new files (the writers' side)
    <dir>/.cronflow/processing/<name>   claimed: its run is in progress (the claim list)
    <dir>/.cronflow/claims/<name>       the id of that claim (text)
    <dir>/.cronflow/done/<name>         its run reported OK
    <dir>/.cronflow/failed/<name>       its run reported ERROR, or its name is not UTF-8 (never claimed)
    <dir>/.cronflow/failed.log          one line per file moved to failed/ without a run:
                                        `<UTC time> <name in failed/ as a bytes literal> <reason>`
    <dir>/.cronflow/last-file           the name of the file claimed last

Only regular top-level files count; hidden names (`.x`), `*.part` and names that do not match the
pattern are left alone. A file is complete when its inode, size and modification time are the same in
two consecutive polls. A writer that may pause for longer than a poll should write `<name>.part` or
`.<name>` and rename it to `<name>` when done: both are ignored, and a rename is atomic.
A claim is an atomic rename into processing/, made only while fewer than `max_parallel` files are there.
During its run a file is at `.cronflow/processing/<name>` (relative to the input directory).

A claim id is `<claim time, ns since the epoch>-<8 random hex digits>`: new for every claim (also of a
file moved back from failed/ or re-delivered with its mtime kept), and the same for the life of the claim,
across restarts: it is written to claims/<name> before the rename and removed after the file moved on.
A file in processing/ without one (claimed by an earlier watcher) keeps that watcher's id, `<name>@<mtime_ns>`.

A name that is not valid UTF-8 (e.g. Latin-1 bytes from an SMB or FTP client) cannot be reported or run:
once complete, such a file is moved to failed/ under its own bytes and a line is added to failed.log.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

SPOOL_DIR = ".cronflow"
PROCESSING, CLAIMS, DONE, FAILED = "processing", "claims", "done", "failed"
LAST_FILE = "last-file"
FAILED_LOG = "failed.log"
NOT_UTF8 = "the file name is not valid UTF-8: rename the file and move it back into the input directory"
PART_SUFFIX = ".part"
MAX_OBSERVED = 256
"""Candidates stat'ed per poll and remembered until the next: bounds work and memory for any directory."""

Completion = Literal["moved", "already-done", "not-claimed", "other-claim"]


@dataclass(frozen=True)
class Claim:
    """A file in processing/ and the id of its claim (see the module docstring)."""

    file: str
    claim_id: str


@dataclass(frozen=True)
class Poll:
    """What one poll did: the files it claimed, and those it moved to failed/ (names as on disk)."""

    claimed: list[Claim]
    rejected: list[bytes]


@dataclass(frozen=True)
class SpoolState:
    """What /state reports."""

    processing: list[Claim]
    pending: int
    done: int
    failed: int
    last_file: str | None


def new_claim_id() -> str:
    """A fresh claim id: the time in ns and 8 random hex digits (short, ASCII)."""
    return f"{time.time_ns()}-{secrets.token_hex(4)}"


def legacy_claim_id(name: str, mtime_ns: int) -> str:
    """The id an earlier watcher gave a claim (no claims/ file): kept, so an upgrade starts no second run."""
    return f"{name}@{mtime_ns}"


def is_plain_name(name: str) -> bool:
    """A file name without a directory part (what /complete accepts)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def is_utf8_name(name: str) -> bool:
    """Whether a name read from the directory is valid UTF-8 (os.scandir surrogate-escapes other bytes)."""
    try:
        return os.fsencode(name).decode("utf-8") == name
    except UnicodeError:
        return False


class Spool:
    """Claims and completes the files of one input directory; safe to call from several threads."""

    def __init__(self, directory: str, pattern: str | None, max_parallel: int) -> None:
        self.directory = directory
        self.pattern = pattern or None
        self.max_parallel = max_parallel
        self._spool = os.path.join(directory, SPOOL_DIR)
        for sub in (PROCESSING, CLAIMS, DONE, FAILED):
            os.makedirs(os.path.join(self._spool, sub), exist_ok=True)
        self._lock = threading.Lock()
        self._observed: dict[str, tuple[int, int, int]] = {}
        self._pending = 0
        self._counts = {DONE: _count_files(self._path(DONE)), FAILED: _count_files(self._path(FAILED))}
        self._last_file = _read_text(os.path.join(self._spool, LAST_FILE))

    def wanted(self, name: str) -> bool:
        """Whether a top-level name is an input file (not hidden, not `.part`, matching the pattern)."""
        if name.startswith(".") or name.endswith(PART_SUFFIX):
            return False
        return self.pattern is None or fnmatch.fnmatchcase(name, self.pattern)

    def poll(self) -> Poll:
        """One pass: claim the files that are complete, as many as there are free slots.

        Complete files with a name that is not UTF-8 go to failed/ instead (also any left in processing/
        by an earlier watcher). The directory is streamed (os.scandir), never listed whole: at most
        MAX_OBSERVED candidates are stat'ed, the other entries are only counted as pending from their
        name and type.
        """
        with self._lock:
            rejected: list[bytes] = []
            in_progress: set[str] = set()
            for name in self._processing_names():
                if is_utf8_name(name):
                    in_progress.add(name)
                else:
                    self._reject(self._path(PROCESSING), name, rejected)
            free = self.max_parallel - len(in_progress)
            observed: dict[str, tuple[int, int, int]] = {}
            claims: list[Claim] = []
            pending = 0
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    if not self.wanted(entry.name) or not entry.is_file(follow_symlinks=False):
                        continue
                    pending += 1
                    if len(observed) >= MAX_OBSERVED:
                        continue
                    try:
                        stat = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        pending -= 1
                        continue
                    signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
                    unchanged = self._observed.get(entry.name) == signature
                    if unchanged and not is_utf8_name(entry.name):
                        self._reject(self.directory, entry.name, rejected)
                        pending -= 1
                        continue
                    # A name still in processing/ waits (a rename would replace that file), observed meanwhile.
                    if unchanged and len(claims) < free and entry.name not in in_progress:
                        claim = self._claim(entry.name)
                        if claim is not None:
                            claims.append(claim)
                        pending -= 1
                        continue
                    observed[entry.name] = signature
            self._observed = observed
            self._pending = pending
        return Poll(claims, rejected)

    def complete(self, name: str, ok: bool, expected_claim: str | None = None) -> Completion:
        """Move a claimed file to done/ (ok) or failed/; a name taken there gets a timestamp suffix.

        Only the claim `expected_claim` (when given) is completed, never a later claim of the same name.
        Idempotent: a file that is no longer in processing/ but in done/ or failed/ is `already-done`.
        """
        if not is_plain_name(name):
            raise ValueError(f"not a plain file name: {name!r}")
        with self._lock:
            source = os.path.join(self._path(PROCESSING), name)
            try:
                stat = os.stat(source, follow_symlinks=False)
            except FileNotFoundError:
                finished = any(os.path.lexists(os.path.join(self._path(d), name)) for d in (DONE, FAILED))
                return "already-done" if finished else "not-claimed"
            if expected_claim is not None and self._claim_id(name, stat.st_mtime_ns) != expected_claim:
                return "other-claim"
            self._move(source, name, DONE if ok else FAILED)
            _remove(self._claim_file(name))  # after the move: a file in processing/ never lacks its id
            return "moved"

    def state(self) -> SpoolState:
        """The claims, and the counts of the last poll and of finished files."""
        with self._lock:
            return SpoolState(
                processing=self._processing(),
                pending=self._pending,
                done=self._counts[DONE],
                failed=self._counts[FAILED],
                last_file=self._last_file,
            )

    def _claim(self, name: str) -> Claim | None:
        claim = Claim(name, new_claim_id())
        claim_file = self._claim_file(name)
        _write_text(claim_file, claim.claim_id)
        try:
            os.rename(os.path.join(self.directory, name), os.path.join(self._path(PROCESSING), name))
        except FileNotFoundError:
            _remove(claim_file)
            return None  # removed or renamed by its writer since the scan
        self._last_file = name
        _write_text(os.path.join(self._spool, LAST_FILE), name)
        return claim

    def _reject(self, source: str, name: str, rejected: list[bytes]) -> None:
        """Move a file whose name is not UTF-8 to failed/ without a run, with a line in failed.log."""
        try:
            stored = os.fsencode(self._move(os.path.join(source, name), name, FAILED))
        except FileNotFoundError:
            return  # removed or renamed by its writer since the scan
        with open(os.path.join(self._spool, FAILED_LOG), "a", encoding="utf-8") as log:
            log.write(f"{_timestamp()} {stored!r} {NOT_UTF8}\n")
        rejected.append(stored)

    def _move(self, source: str, name: str, outcome: str) -> str:
        """Rename `source` into done/ or failed/ as `name` (with a timestamp suffix when taken); the new name."""
        target = name
        if os.path.lexists(os.path.join(self._path(outcome), name)):
            stem, extension = os.path.splitext(name)
            target = f"{stem}.{_timestamp()}{extension}"
        os.rename(source, os.path.join(self._path(outcome), target))
        self._counts[outcome] += 1
        return target

    def _claim_id(self, name: str, mtime_ns: int) -> str:
        return _read_text(self._claim_file(name)) or legacy_claim_id(name, mtime_ns)

    def _processing(self) -> list[Claim]:
        with os.scandir(self._path(PROCESSING)) as entries:
            claims = [
                Claim(entry.name, self._claim_id(entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
                for entry in entries
                if entry.is_file(follow_symlinks=False) and is_utf8_name(entry.name)
            ]
        return sorted(claims, key=lambda claim: claim.file)

    def _processing_names(self) -> list[str]:
        with os.scandir(self._path(PROCESSING)) as entries:
            return [entry.name for entry in entries if entry.is_file(follow_symlinks=False)]

    def _claim_file(self, name: str) -> str:
        return os.path.join(self._path(CLAIMS), name)

    def _path(self, sub: str) -> str:
        return os.path.join(self._spool, sub)


def _count_files(directory: str) -> int:
    with os.scandir(directory) as entries:
        return sum(1 for entry in entries if entry.is_file(follow_symlinks=False))


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read() or None
    except FileNotFoundError:
        return None


def _write_text(path: str, text: str) -> None:
    """Replace the file's content atomically (via a hidden temporary beside it: never a claimed name)."""
    temporary = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)
