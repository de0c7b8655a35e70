"""The watcher's spool: complete files only, claimed once by an atomic rename, at most maxParallel at a time."""

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from cronflow_job.spool import MAX_OBSERVED, Claim, Spool, claim_id


def make_spool(directory: Path, pattern: str | None = None, max_parallel: int = 4) -> Spool:
    return Spool(str(directory), pattern, max_parallel)


def drop(directory: Path, name: str, data: bytes = b"x") -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def processing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory / ".cronflow" / "processing"))


def test_spool_directories_are_created_on_start(tmp_path: Path) -> None:
    make_spool(tmp_path)
    assert sorted(os.listdir(tmp_path / ".cronflow")) == ["done", "failed", "processing"]


def test_a_file_is_claimed_after_two_polls_that_see_it_unchanged(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    path = drop(tmp_path, "a.pdf")
    mtime = path.stat().st_mtime_ns
    assert spool.poll() == []
    assert spool.poll() == [Claim("a.pdf", f"a.pdf@{mtime}")]
    assert not path.exists()
    assert processing(tmp_path) == ["a.pdf"]
    assert spool.poll() == []


def test_a_file_that_grows_between_polls_is_not_claimed_until_it_stops(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    path = drop(tmp_path, "slow.pdf", b"part one")
    spool.poll()
    with path.open("ab") as file:
        file.write(b" and part two")
    assert spool.poll() == []
    assert path.exists()
    assert [c.file for c in spool.poll()] == ["slow.pdf"]


def test_a_rewrite_with_the_same_size_is_seen_by_its_modification_time(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    path = drop(tmp_path, "same.pdf", b"aaaa")
    spool.poll()
    path.write_bytes(b"bbbb")
    os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns + 1_000_000))
    assert spool.poll() == []


@pytest.mark.parametrize("name", [".hidden.pdf", "upload.pdf.part", "notes.txt"])
def test_hidden_part_and_unmatched_files_are_left_alone(tmp_path: Path, name: str) -> None:
    spool = make_spool(tmp_path, pattern="*.pdf")
    path = drop(tmp_path, name)
    spool.poll()
    assert spool.poll() == []
    assert path.exists()
    assert spool.state().pending == 0


def test_a_part_file_renamed_when_complete_is_claimed(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    part = drop(tmp_path, "big.pdf.part", b"all of it")
    spool.poll()
    part.rename(tmp_path / "big.pdf")
    spool.poll()
    assert [c.file for c in spool.poll()] == ["big.pdf"]


def test_directories_and_symlinks_are_not_input_files(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.pdf").symlink_to(drop(tmp_path, ".target"))
    spool.poll()
    assert spool.poll() == []


def test_pattern_is_a_case_sensitive_glob_on_the_name(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, pattern="invoice-*.pdf")
    for name in ("invoice-1.pdf", "invoice-2.PDF", "other.pdf"):
        drop(tmp_path, name)
    spool.poll()
    assert [c.file for c in spool.poll()] == ["invoice-1.pdf"]


def test_no_more_than_max_parallel_files_are_processing(tmp_path: Path) -> None:
    spool = make_spool(tmp_path, max_parallel=2)
    for i in range(5):
        drop(tmp_path, f"{i}.pdf")
    spool.poll()
    assert len(spool.poll()) == 2
    assert spool.poll() == []
    assert spool.state().pending == 3
    spool.complete(processing(tmp_path)[0], ok=True)
    assert len(spool.poll()) == 1
    assert len(processing(tmp_path)) == 2


def test_a_new_file_with_the_name_of_one_in_processing_waits_for_it(tmp_path: Path) -> None:
    spool = make_spool(tmp_path)
    drop(tmp_path, "a.pdf", b"first")
    spool.poll()
    [first] = spool.poll()
    drop(tmp_path, "a.pdf", b"second")
    spool.poll()
    assert spool.poll() == []
    assert (tmp_path / ".cronflow" / "processing" / "a.pdf").read_bytes() == b"first"
    assert spool.complete("a.pdf", ok=True, expected_claim=first.claim_id) == "moved"
    assert [c.file for c in spool.poll()] == ["a.pdf"]


def test_ten_thousand_files_are_handled_with_bounded_work_and_memory(tmp_path: Path) -> None:
    for i in range(10_000):
        drop(tmp_path, f"{i:05}.pdf")
    spool = make_spool(tmp_path, max_parallel=3)
    started = time.monotonic()
    tracemalloc.start()
    spool.poll()
    claims = spool.poll()
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
    [claim] = spool.poll()
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
    claims = spool.poll()
    spool.complete("a.pdf", ok=False)

    again = make_spool(tmp_path)
    state = again.state()
    assert state.processing == [c for c in claims if c.file == "b.pdf"]
    assert (state.failed, state.done, state.last_file) == (1, 0, claims[-1].file)


def test_claim_id_is_name_and_modification_time() -> None:
    assert claim_id("a.pdf", 1234) == "a.pdf@1234"
