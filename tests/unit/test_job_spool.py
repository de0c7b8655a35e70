"""The watcher's spool: complete files only, claimed once by an atomic rename, at most maxParallel at a time."""

import os
import re
import time
import tracemalloc
from pathlib import Path

import pytest

from cronflow_job.spool import MAX_OBSERVED, NOT_UTF8, Claim, Spool, is_utf8_name, new_claim_id

LATIN1_NAME = b"rapport-\xe9t\xe9.pdf"
"""A name as an SMB or FTP client with a Latin-1 code page writes it: not valid UTF-8."""


def make_spool(directory: Path, pattern: str | None = None, max_parallel: int = 4) -> Spool:
    return Spool(str(directory), pattern, max_parallel)


def drop(directory: Path, name: str, data: bytes = b"x") -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def processing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory / ".cronflow" / "processing"))


def spool_bytes(directory: Path, sub: str) -> list[bytes]:
    """The raw names in a spool directory (os.listdir of a bytes path: nothing decoded)."""
    return sorted(os.listdir(os.fsencode(directory / ".cronflow" / sub)))


def claim_again(spool: Spool) -> Claim:
    """Two polls that see the dropped file unchanged: its claim."""
    spool.poll()
    [claim] = spool.poll().claimed
    return claim


def test_spool_directories_are_created_on_start(tmp_path: Path) -> None:
    make_spool(tmp_path)
    assert sorted(os.listdir(tmp_path / ".cronflow")) == ["claims", "done", "failed", "processing"]


def test_a_file_is_claimed_after_two_polls_that_see_it_unchanged(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    path = drop(tmp_path, "a.pdf")
    assert spool.poll().claimed == []
    [claim] = spool.poll().claimed
    assert claim.file == "a.pdf"
    assert not path.exists()
    assert processing(tmp_path) == ["a.pdf"]
    assert (tmp_path / ".cronflow" / "claims" / "a.pdf").read_text() == claim.claim_id
    assert spool.poll().claimed == []


def test_a_file_that_grows_between_polls_is_not_claimed_until_it_stops(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    path = drop(tmp_path, "slow.pdf", b"part one")
    spool.poll()
    with path.open("ab") as file:
        file.write(b" and part two")
    assert spool.poll().claimed == []
    assert path.exists()
    assert [c.file for c in spool.poll().claimed] == ["slow.pdf"]


def test_a_rewrite_with_the_same_size_is_seen_by_its_modification_time(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    path = drop(tmp_path, "same.pdf", b"aaaa")
    spool.poll()
    path.write_bytes(b"bbbb")
    os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns + 1_000_000))
    assert spool.poll().claimed == []


@pytest.mark.parametrize("name", [".hidden.pdf", "upload.pdf.part", "notes.txt"])
def test_hidden_part_and_unmatched_files_are_left_alone(tmp_path: Path, name: str) -> None:
    spool = make_spool(tmp_path, pattern="*.pdf")
    path = drop(tmp_path, name)
    spool.poll()
    assert spool.poll().claimed == []
    assert path.exists()
    assert spool.state().pending == 0


def test_a_part_file_renamed_when_complete_is_claimed(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    part = drop(tmp_path, "big.pdf.part", b"all of it")
    spool.poll()
    part.rename(tmp_path / "big.pdf")
    spool.poll()
    assert [c.file for c in spool.poll().claimed] == ["big.pdf"]


def test_directories_and_symlinks_are_not_input_files(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.pdf").symlink_to(drop(tmp_path, ".target"))
    spool.poll()
    assert spool.poll().claimed == []


def test_pattern_is_a_case_sensitive_glob_on_the_name(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, pattern="invoice-*.pdf")
    for name in ("invoice-1.pdf", "invoice-2.PDF", "other.pdf"):
        drop(tmp_path, name)
    spool.poll()
    assert [c.file for c in spool.poll().claimed] == ["invoice-1.pdf"]


def test_no_more_than_max_parallel_files_are_processing(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, max_parallel=2)
    for i in range(5):
        drop(tmp_path, f"{i}.pdf")
    spool.poll()
    assert len(spool.poll().claimed) == 2
    assert spool.poll().claimed == []
    assert spool.state().pending == 3
    spool.complete(processing(tmp_path)[0], ok=True)
    assert len(spool.poll().claimed) == 1
    assert len(processing(tmp_path)) == 2


def test_a_new_file_with_the_name_of_one_in_processing_waits_for_it(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    drop(tmp_path, "a.pdf", b"first")
    spool.poll()
    [first] = spool.poll().claimed
    drop(tmp_path, "a.pdf", b"second")
    spool.poll()
    assert spool.poll().claimed == []
    assert (tmp_path / ".cronflow" / "processing" / "a.pdf").read_bytes() == b"first"
    assert spool.complete("a.pdf", ok=True, expected_claim=first.claim_id) == "moved"
    assert [c.file for c in spool.poll().claimed] == ["a.pdf"]


def test_ten_thousand_files_are_handled_with_bounded_work_and_memory(tmp_path: Path) -> None:
    for i in range(10_000):
        drop(tmp_path, f"{i:05}.pdf")
    spool = make_spool(tmp_path, max_parallel=3)
    started = time.monotonic()
    tracemalloc.start()
    spool.poll()
    claims = spool.poll().claimed
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(claims) == 3
    assert spool.state().pending == 10_000 - 3
    assert len(spool._observed) <= MAX_OBSERVED
    assert peak < 256 * 1024, f"a poll should not hold the listing (about 650 KB here): peak {peak} bytes"
    assert time.monotonic() - started < 5


def test_complete_moves_the_file_to_done_or_failed_and_counts_it(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    drop(tmp_path, "ok.pdf")
    drop(tmp_path, "bad.pdf")
    spool.poll()
    spool.poll()
    assert spool.complete("ok.pdf", ok=True) == "moved"
    assert spool.complete("bad.pdf", ok=False) == "moved"
    assert os.listdir(tmp_path / ".cronflow" / "done") == ["ok.pdf"]
    assert os.listdir(tmp_path / ".cronflow" / "failed") == ["bad.pdf"]
    state = spool.state()
    assert (state.done, state.failed, state.processing) == (1, 1, [])


def test_complete_is_idempotent_and_refuses_unknown_or_other_claims(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    drop(tmp_path, "a.pdf")
    spool.poll()
    [claim] = spool.poll().claimed
    assert spool.complete("a.pdf", ok=True, expected_claim="a.pdf@1") == "other-claim"
    assert spool.complete("a.pdf", ok=True, expected_claim=claim.claim_id) == "moved"
    assert spool.complete("a.pdf", ok=True, expected_claim=claim.claim_id) == "already-done"
    assert spool.complete("never.pdf", ok=True) == "not-claimed"
    assert spool.state().done == 1
    with pytest.raises(ValueError):
        spool.complete("../escape", ok=True)


def test_a_name_taken_in_done_gets_a_timestamp_suffix(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    for content in (b"first", b"second"):
        drop(tmp_path, "report.pdf", content)
        spool.poll()
        spool.poll()
        spool.complete("report.pdf", ok=True)
    done = sorted(os.listdir(tmp_path / ".cronflow" / "done"))
    assert len(done) == 2 and "report.pdf" in done
    [renamed] = [name for name in done if name != "report.pdf"]
    assert renamed.startswith("report.") and renamed.endswith("Z.pdf")


def test_a_restarted_spool_carries_on_from_the_disk(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    for name in ("a.pdf", "b.pdf"):
        drop(tmp_path, name)
    spool.poll()
    claims = spool.poll().claimed
    spool.complete("a.pdf", ok=False)

    again = make_spool(tmp_path)
    state = again.state()
    assert state.processing == [c for c in claims if c.file == "b.pdf"]
    assert (state.failed, state.done, state.last_file) == (1, 0, claims[-1].file)


def test_a_claim_id_is_short_ascii_and_new_each_time() -> None:
    ids = {new_claim_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9]{19}-[0-9a-f]{8}", claim) for claim in ids)


def test_a_failed_file_moved_back_is_a_new_claim(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    drop(tmp_path, "a.pdf")
    first = claim_again(spool)
    spool.complete("a.pdf", ok=False, expected_claim=first.claim_id)
    os.rename(tmp_path / ".cronflow" / "failed" / "a.pdf", tmp_path / "a.pdf")  # keeps the mtime
    again = claim_again(spool)
    assert again.file == "a.pdf"
    assert again.claim_id != first.claim_id


def test_a_redelivery_that_keeps_the_modification_time_is_a_new_claim(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    mtime_ns = 1_764_000_000_000_000_000
    claims = []
    for _ in range(2):  # as `rsync -t` or `scp -p` deliver the same file twice
        os.utime(drop(tmp_path, "a.pdf", b"same"), ns=(mtime_ns, mtime_ns))
        claims.append(claim_again(spool))
        spool.complete("a.pdf", ok=True)
    assert claims[0].claim_id != claims[1].claim_id
    assert spool.state().done == 2


def test_an_earlier_claim_id_does_not_complete_a_later_claim_of_the_name(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    drop(tmp_path, "a.pdf")
    first = claim_again(spool)
    spool.complete("a.pdf", ok=False, expected_claim=first.claim_id)
    os.rename(tmp_path / ".cronflow" / "failed" / "a.pdf", tmp_path / "a.pdf")
    again = claim_again(spool)
    assert spool.complete("a.pdf", ok=False, expected_claim=first.claim_id) == "other-claim"
    assert processing(tmp_path) == ["a.pdf"]
    assert spool.complete("a.pdf", ok=True, expected_claim=again.claim_id) == "moved"


def test_the_claim_id_is_kept_across_a_restart_and_a_touch_during_the_run(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    drop(tmp_path, "a.pdf")
    claim = claim_again(spool)
    os.utime(tmp_path / ".cronflow" / "processing" / "a.pdf", ns=(1, 1))
    restarted = make_spool(tmp_path)
    assert restarted.state().processing == [claim]
    assert restarted.complete("a.pdf", ok=True, expected_claim=claim.claim_id) == "moved"


def test_the_claim_file_is_removed_when_the_file_moves_on(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    for name in ("ok.pdf", "bad.pdf"):
        drop(tmp_path, name)
    spool.poll()
    spool.poll()
    assert sorted(os.listdir(tmp_path / ".cronflow" / "claims")) == ["bad.pdf", "ok.pdf"]
    spool.complete("ok.pdf", ok=True)
    spool.complete("bad.pdf", ok=False)
    assert os.listdir(tmp_path / ".cronflow" / "claims") == []


def test_a_claim_of_an_earlier_watcher_keeps_its_name_and_mtime_id(tmp_path: Path) -> None:
    (tmp_path / ".cronflow" / "processing").mkdir(parents=True)
    path = drop(tmp_path / ".cronflow" / "processing", "old.pdf")
    legacy = f"old.pdf@{path.stat().st_mtime_ns}"
    spool = make_spool(tmp_path)
    assert spool.state().processing == [Claim("old.pdf", legacy)]
    assert spool.complete("old.pdf", ok=True, expected_claim=legacy) == "moved"


def test_a_file_name_that_is_not_utf8_goes_to_failed_with_a_reason_once_complete(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, pattern="*.pdf", max_parallel=1)
    path = os.path.join(os.fsencode(tmp_path), LATIN1_NAME)
    with open(path, "wb") as file:
        file.write(b"%PDF")
    drop(tmp_path, "good.pdf")
    first = spool.poll()
    assert (first.claimed, first.rejected, spool.state().pending) == ([], [], 2)
    second = spool.poll()
    assert [c.file for c in second.claimed] == ["good.pdf"]
    assert second.rejected == [LATIN1_NAME]
    assert spool_bytes(tmp_path, "failed") == [LATIN1_NAME]
    assert spool_bytes(tmp_path, "processing") == [b"good.pdf"]
    [line] = (tmp_path / ".cronflow" / "failed.log").read_text(encoding="ascii").splitlines()
    assert line.endswith(f" {LATIN1_NAME!r} {NOT_UTF8}")
    state = spool.state()
    assert (state.failed, state.pending, state.last_file) == (1, 0, "good.pdf")
    assert spool.poll().rejected == []
    assert make_spool(tmp_path).state().failed == 1


def test_a_name_that_is_not_utf8_keeps_its_bytes_when_failed_holds_it_already(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    for content in (b"first", b"second"):
        with open(os.path.join(os.fsencode(tmp_path), LATIN1_NAME), "wb") as file:
            file.write(content)
        spool.poll()
        spool.poll()
    failed = spool_bytes(tmp_path, "failed")
    assert len(failed) == 2 and LATIN1_NAME in failed
    [renamed] = [name for name in failed if name != LATIN1_NAME]
    assert renamed.startswith(b"rapport-\xe9t\xe9.") and renamed.endswith(b"Z.pdf")
    assert spool.state().failed == 2


def test_a_name_that_is_not_utf8_but_not_an_input_file_is_left_alone(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, pattern="*.pdf")
    names = [b"notes-\xe9.txt", b".hidden-\xe9.pdf", b"upload-\xe9.pdf.part"]
    for name in names:
        with open(os.path.join(os.fsencode(tmp_path), name), "wb") as file:
            file.write(b"x")
    spool.poll()
    assert spool.poll().rejected == []
    assert sorted(n for n in os.listdir(os.fsencode(tmp_path)) if n != b".cronflow") == sorted(names)


def test_a_name_that_is_not_utf8_left_in_processing_by_an_earlier_watcher_is_never_listed(tmp_path: Path) -> None:
    processing_dir = os.path.join(os.fsencode(tmp_path), b".cronflow", b"processing")
    os.makedirs(processing_dir)
    with open(os.path.join(processing_dir, LATIN1_NAME), "wb") as file:
        file.write(b"%PDF")
    spool = make_spool(tmp_path)
    assert spool.state().processing == []
    assert spool.poll().rejected == [LATIN1_NAME]
    assert spool_bytes(tmp_path, "failed") == [LATIN1_NAME]
    assert (spool.state().processing, spool.state().failed) == ([], 1)


@pytest.mark.parametrize(
    ("raw", "utf8"), [(b"plain.pdf", True), ("r\u00e9sum\u00e9.pdf".encode(), True), (LATIN1_NAME, False)]
)
def test_is_utf8_name_checks_the_bytes_on_disk(raw: bytes, utf8: bool) -> None:
    assert is_utf8_name(os.fsdecode(raw)) is utf8
