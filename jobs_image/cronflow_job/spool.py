"""The spool of automatic mode: claim each complete file of an input directory exactly once.

All state is on disk, inside the input directory, so a restarted watcher carries on where it was:

    <dir>/<name>                        new files (the writers' side)
    <dir>/.cronflow/processing/<name>   claimed: its run is in progress (the claim list)
    <dir>/.cronflow/done/<name>         its run reported OK
    <dir>/.cronflow/failed/<name>       its run reported ERROR
    <dir>/.cronflow/last-file           the name of the file claimed last

Only regular top-level files count; hidden names (`.x`), `*.part` and names that do not match the
pattern are left alone. A file is complete when its inode, size and modification time are the same in
two consecutive polls. A writer that may pause for longer than a poll should write `<name>.part` or
`.<name>` and rename it to `<name>` when done: both are ignored, and a rename is atomic.
A claim is an atomic rename into processing/, made only while fewer than `max_parallel` files are there.
During its run a file is at `.cronflow/processing/<name>` (relative to the input directory).
"""

from __future__ import annotations

import fnmatch
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

SPOOL_DIR = ".cronflow"
PROCESSING, DONE, FAILED = "processing", "done", "failed"
LAST_FILE = "last-file"
PART_SUFFIX = ".part"
MAX_OBSERVED = 256
"""Candidates stat'ed per poll and remembered until the next: bounds work and memory for any directory."""

Completion = Literal["moved", "already-done", "not-claimed", "other-claim"]


@dataclass(frozen=True)
class Claim:
    """A file in processing/; `claim_id` (`<name>@<mtime_ns>`) tells a new file of the same name apart."""

    file: str
    claim_id: str


@dataclass(frozen=True)
class SpoolState:
    """What /state reports."""

    processing: list[Claim]
    pending: int
    done: int
    failed: int
    last_file: str | None


def claim_id(name: str, mtime_ns: int) -> str:
    """The id of a claim: the name and the modification time it had when claimed (a rename keeps it)."""
    return f"{name}@{mtime_ns}"


def is_plain_name(name: str) -> bool:
    """A file name without a directory part (what /complete accepts)."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


class Spool:
    """Claims and completes the files of one input directory; safe to call from several threads."""

    def __init__(self, directory: str, pattern: str | None, max_parallel: int) -> None:
        self.directory = directory
        self.pattern = pattern or None
        self.max_parallel = max_parallel
        self._spool = os.path.join(directory, SPOOL_DIR)
        for sub in (PROCESSING, DONE, FAILED):
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

    def poll(self) -> list[Claim]:
        """One pass: claim the files that are complete, as many as there are free slots.

        The directory is streamed (os.scandir), never listed whole: at most MAX_OBSERVED candidates are
        stat'ed, the other entries are only counted as pending from their name and type.
        """
        with self._lock:
            in_progress = {claim.file for claim in self._processing()}
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
                    # A name still in processing/ waits (a rename would replace that file), observed meanwhile.
                    claimable = len(claims) < free and entry.name not in in_progress
                    if claimable and self._observed.get(entry.name) == signature:
                        claim = self._claim(entry.name, stat.st_mtime_ns)
                        if claim is not None:
                            claims.append(claim)
                        pending -= 1
                        continue
                    observed[entry.name] = signature
            self._observed = observed
            self._pending = pending
        return claims

    def complete(self, name: str, ok: bool, expected_claim: str | None = None) -> Completion:
        """Move a claimed file to done/ (ok) or failed/; a name taken there gets a timestamp suffix.

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
            if expected_claim is not None and claim_id(name, stat.st_mtime_ns) != expected_claim:
                return "other-claim"
            outcome = DONE if ok else FAILED
            target = os.path.join(self._path(outcome), name)
            if os.path.lexists(target):
                stem, extension = os.path.splitext(name)
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
                target = os.path.join(self._path(outcome), f"{stem}.{stamp}{extension}")
            os.rename(source, target)
            self._counts[outcome] += 1
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

    def _claim(self, name: str, mtime_ns: int) -> Claim | None:
        try:
            os.rename(os.path.join(self.directory, name), os.path.join(self._path(PROCESSING), name))
        except FileNotFoundError:
            return None  # removed or renamed by its writer since the scan
        self._last_file = name
        _write_text(os.path.join(self._spool, LAST_FILE), name)
        return Claim(name, claim_id(name, mtime_ns))

    def _processing(self) -> list[Claim]:
        with os.scandir(self._path(PROCESSING)) as entries:
            claims = [
                Claim(entry.name, claim_id(entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
                for entry in entries
                if entry.is_file(follow_symlinks=False)
            ]
        return sorted(claims, key=lambda claim: claim.file)

    def _path(self, sub: str) -> str:
        return os.path.join(self._spool, sub)


def _count_files(directory: str) -> int:
    with os.scandir(directory) as entries:
        return sum(1 for entry in entries if entry.is_file(follow_symlinks=False))


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read() or None
    except FileNotFoundError:
        return None


def _write_text(path: str, text: str) -> None:
    """Replace the file's content atomically (write a temporary file beside it, then rename it)."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(temporary, path)
