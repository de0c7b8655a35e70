"""The work queue: keys coalesce, a key changed during its pass runs again, failures retry with backoff."""

import asyncio
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from cronflow import controller
from cronflow.controller import Controller, Indexes, backoff
from cronflow.reconcile.scheduledjob import Memory, Observed, Outcome
from cronflow.reconcile.writer import ApiError
from tests.support.fake_writer import FakeWriter

KEY = ("team-a", "nightly")
SJ = {"metadata": {"name": "nightly", "namespace": "team-a", "uid": "u", "resourceVersion": "1"}, "spec": {}}


def indexes(with_sj: bool = True) -> Indexes:
    return Indexes(scheduledjobs={KEY: [SJ]} if with_sj else {}, cronjobs={}, watchers={}, jobs={})


class Passes:
    """A stand-in for reconcile that fails `failures` times, then succeeds; optionally blocks."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.calls = 0
        self.failures = failures
        self.error = error or ApiError(409, "Conflict", "the object has been modified")
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def __call__(
        self, observed: Observed, writer: Any, image: str, now: Any, memory: Memory, on_recorded: Any = None
    ) -> Outcome:
        self.calls += 1
        self.entered.set()
        self.release.wait(5)
        if self.calls <= self.failures:
            raise self.error
        return Outcome()


async def run_until(ctl: Controller, done: Any, timeout: float = 5) -> None:
    task = asyncio.create_task(ctl.run(indexes()))
    try:
        async with asyncio.timeout(timeout):
            while not done():
                await asyncio.sleep(0.01)
    finally:
        task.cancel()


def make(monkeypatch: pytest.MonkeyPatch, passes: Passes) -> tuple[Controller, list[Mapping[str, Any]]]:
    monkeypatch.setattr(controller, "reconcile", passes)
    monkeypatch.setattr(controller, "FIRST_BACKOFF_SECONDS", 0.01)
    seen: list[Mapping[str, Any]] = []

    def send(sj: Mapping[str, Any], result: Mapping[str, Any], done: Callable[[], None]) -> None:
        seen.append(result)
        done()

    return Controller(FakeWriter(sj=dict(SJ)), "img", send, workers=2), seen


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    assert 0.25 <= backoff(1) <= 0.5
    assert 2.0 <= backoff(4) <= 4.0
    assert backoff(40) <= controller.MAX_BACKOFF_SECONDS


def test_a_failing_pass_is_retried_until_it_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes(failures=3)
    ctl, _ = make(monkeypatch, passes)

    async def scenario() -> None:
        ctl.add(KEY)
        await run_until(ctl, lambda: passes.calls == 4)

    asyncio.run(scenario())
    assert passes.calls == 4


def test_an_unexpected_error_is_retried_too(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes(failures=1, error=KeyError("status"))
    ctl, _ = make(monkeypatch, passes)

    async def scenario() -> None:
        ctl.add(KEY)
        await run_until(ctl, lambda: passes.calls == 2)

    asyncio.run(scenario())


def test_events_for_one_key_coalesce_and_one_during_a_pass_runs_it_again(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes()
    passes.release.clear()
    ctl, _ = make(monkeypatch, passes)

    async def scenario() -> None:
        for _ in range(5):
            ctl.add(KEY)
        task = asyncio.create_task(ctl.run(indexes()))
        await asyncio.to_thread(passes.entered.wait, 5)
        ctl.add(KEY)  # changed while its pass runs (e.g. the pass's own write came back)
        ctl.add(KEY)
        passes.release.set()
        await asyncio.sleep(0.3)
        task.cancel()

    asyncio.run(scenario())
    assert passes.calls == 2


def test_a_gone_scheduledjob_releases_its_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes()
    ctl, _ = make(monkeypatch, passes)
    held = {"metadata": {"name": "nightly-1", "namespace": "team-a", "resourceVersion": "3",
                         "finalizers": ["cronflow.dev/result"]}}
    writer = FakeWriter(sj=dict(SJ), jobs={"nightly-1": held})
    ctl.writer = writer

    async def scenario() -> None:
        ctl.add(KEY)
        task = asyncio.create_task(ctl.run(Indexes({}, {}, {}, {KEY: [held]})))
        async with asyncio.timeout(5):
            while not writer.writes:
                await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(scenario())
    assert writer.writes == ["patch Job/nightly-1"]
    assert passes.calls == 0


def test_a_follower_runs_no_pass_and_on_becoming_leader_runs_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    passes = Passes()
    ctl, _ = make(monkeypatch, passes)
    ctl.set_leading(False)
    other = ("team-b", "hourly")
    gone_with_jobs = ("team-c", "gone")
    held = {"metadata": {"name": "gone-1", "namespace": "team-c", "resourceVersion": "3",
                         "finalizers": ["cronflow.dev/result"]}}
    writer = FakeWriter(sj=dict(SJ), jobs={"gone-1": held})
    ctl.writer = writer
    seen = Indexes(scheduledjobs={KEY: [SJ], other: [SJ]}, cronjobs={}, watchers={}, jobs={gone_with_jobs: [held]})

    async def scenario() -> None:
        ctl.add(KEY)  # an event while following: queued, not run
        task = asyncio.create_task(ctl.run(seen))
        await asyncio.sleep(0.3)
        assert passes.calls == 0 and writer.writes == []
        ctl.set_leading(True)  # the queued key, every other ScheduledJob, and the gone one's Jobs
        async with asyncio.timeout(5):
            while passes.calls < 2 or not writer.writes:
                await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(scenario())
    assert passes.calls == 2
    assert writer.writes == ["patch Job/gone-1"]


def test_after_losing_the_lease_no_new_pass_starts_and_one_in_flight_finishes(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    passes = Passes()
    passes.release.clear()
    ctl, _ = make(monkeypatch, passes)

    async def scenario() -> None:
        ctl.add(KEY)
        task = asyncio.create_task(ctl.run(indexes()))
        await asyncio.to_thread(passes.entered.wait, 5)
        ctl.set_leading(False)  # lost mid-pass
        ctl.add(KEY)
        passes.release.set()
        await asyncio.sleep(0.3)
        assert passes.calls == 1, "the pass in flight finished; the key queued meanwhile waits"
        ctl.set_leading(True)
        async with asyncio.timeout(5):
            while passes.calls < 2:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        task.cancel()

    asyncio.run(scenario())
    assert passes.calls == 2, "the queued key and the full resync's coalesce into one pass"
    assert ctl.leading
