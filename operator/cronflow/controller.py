"""The work queue between kopf's watch events and reconcile, as in client-go's controllers.

Any event of a ScheduledJob or of one of its children (DELETED included) queues the ScheduledJob's key;
keys are deduplicated, one pass per key runs at a time, and a key that changed during its pass is run
again. A failed pass is retried with exponential backoff and jitter, never dropped; every key is also
looked at again every RESYNC_SECONDS, so nothing depends on one event arriving. The world a pass sees
is a snapshot of kopf's indexes (its watch caches), taken on the event loop; the pass runs in a thread.

Passes (every write of the operator) run only while `leading` (leader.py: this operator holds the
lease). A follower keeps its watches, indexes and queue (a warm cache, for a fast takeover) but starts
no pass; on becoming the leader it queues every key it knows (a full resync), since the previous leader
may have left anything half done. On losing the lease no new pass starts; a pass already in flight
finishes (it cannot be stopped halfway in its thread), which the renew deadline leaves time for.
"""

import asyncio
import contextlib
import functools
import heapq
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cronflow import metrics, names
from cronflow.reconcile.scheduledjob import Memory, Observed, reconcile, release_jobs
from cronflow.reconcile.writer import ApiError, Writer

Key = tuple[str, str]
Sender = Callable[[Mapping[str, Any], Mapping[str, Any], Callable[[], None]], None]
"""Sends a result's notifications and calls the callable when they are delivered or finally failed."""
Index = Mapping[Key, Any]  # kopf.Index: key -> a store of the values indexed under it
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 300.0
RESYNC_SECONDS = 300.0
log = logging.getLogger(__name__)


def backoff(failures: int) -> float:
    """Seconds before retry number `failures`: doubling from FIRST_BACKOFF_SECONDS, capped, jittered."""
    delay: float = min(FIRST_BACKOFF_SECONDS * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
    return delay * random.uniform(0.5, 1.0)


@dataclass
class Indexes:
    """kopf's indexes of the ScheduledJobs and their children, by (namespace, ScheduledJob name)."""

    scheduledjobs: Index
    cronjobs: Index
    watchers: Index
    jobs: Index

    def observe(self, key: Key) -> tuple[Observed | None, list[Mapping[str, Any]]]:
        """The world of one key (None when the ScheduledJob is gone), and its Jobs."""
        jobs = list(self.jobs.get(key, ()))
        sj = next(iter(self.scheduledjobs.get(key, ())), None)
        if sj is None:
            return None, jobs
        observed = Observed(
            scheduledjob=sj,
            cronjob=next(iter(self.cronjobs.get(key, ())), None),
            watcher=next(iter(self.watchers.get(key, ())), None),
            jobs=jobs,
        )
        return observed, jobs


class Controller:
    """Queue and workers; `add` is called from kopf's event handlers."""

    def __init__(
        self, writer: Writer, job_image: str, send: Sender,
        workers: int = 4, leading: bool = True,
    ) -> None:
        self.writer = writer
        self.job_image = job_image
        self.send = send
        self.workers = workers
        self.indexes: Indexes | None = None
        self.synced = asyncio.Event()
        """Set by the first handler call: kopf calls handlers only once every index is filled."""
        self._heap: list[tuple[float, Key]] = []
        self._due: dict[Key, float] = {}
        self._running: set[Key] = set()
        self._again: dict[Key, float] = {}
        self._failures: dict[Key, int] = {}
        self._memory: dict[Key, Memory] = {}
        self._wakeup = asyncio.Event()
        self._leading = asyncio.Event()
        if leading:
            self._leading.set()

    @property
    def leading(self) -> bool:
        """Whether passes may run (this operator holds the lease)."""
        return self._leading.is_set()

    def set_leading(self, leading: bool) -> None:
        """Start (with a full resync) or stop running passes; called on the event loop."""
        if leading == self.leading:
            return
        if not leading:
            self._leading.clear()
            return
        self._leading.set()
        if self.indexes is not None:  # every ScheduledJob, and the Jobs of gone ones (to release them)
            for key in {*self.indexes.scheduledjobs, *self.indexes.jobs}:
                self.add(key)

    def add(self, key: Key, after: float = 0.0) -> None:
        """Queue a pass over `key` in `after` seconds (sooner if it is queued sooner already)."""
        self.synced.set()
        due = time.monotonic() + after
        if key in self._running:
            self._again[key] = min(due, self._again.get(key, due))
            return
        if key in self._due and self._due[key] <= due:
            return
        self._due[key] = due
        heapq.heappush(self._heap, (due, key))
        self._wakeup.set()

    async def run(self, indexes: Indexes) -> None:
        """Work until cancelled."""
        self.indexes = indexes
        await asyncio.gather(self._resync(), *(self._work() for _ in range(self.workers)))

    async def _next(self) -> Key:
        while True:
            while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
                heapq.heappop(self._heap)  # superseded by an earlier due time, or taken
            if self._heap and self._heap[0][0] <= time.monotonic():
                _, key = heapq.heappop(self._heap)
                del self._due[key]
                return key
            self._wakeup.clear()
            timeout = self._heap[0][0] - time.monotonic() if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _work(self) -> None:
        while True:
            await self._leading.wait()
            key = await self._next()
            if not self.leading:  # lost the lease while waiting for a key: leave it queued
                self.add(key)
                continue
            self._running.add(key)
            try:
                await self._process(key)
            finally:
                self._running.discard(key)
                if key in self._again:
                    self.add(key, max(0.0, self._again.pop(key) - time.monotonic()))

    async def _process(self, key: Key) -> None:
        assert self.indexes is not None
        observed, jobs = self.indexes.observe(key)
        started = time.monotonic()
        try:
            if observed is None:  # gone: never hold its Jobs back
                await asyncio.to_thread(release_jobs, self.writer, jobs)
                self._forget(key)
                return
            memory = self._memory.setdefault(key, Memory())
            outcome = await asyncio.to_thread(
                reconcile, observed, self.writer, self.job_image, datetime.now(UTC), memory,
                functools.partial(self._recorded, key, asyncio.get_running_loop()),
            )
        except Exception as error:
            failures = self._failures[key] = self._failures.get(key, 0) + 1
            delay = backoff(failures)
            metrics.RECONCILES.labels(result="error").inc()
            if isinstance(error, ApiError) and error.transient:
                log.info("%s/%s: %s; retry %d in %.1f s", *key, error, failures, delay)
            else:
                log.exception("%s/%s: pass failed; retry %d in %.1f s", *key, failures, delay)
            self.add(key, delay)
            return
        finally:
            metrics.RECONCILE_SECONDS.observe(time.monotonic() - started)
        self._failures.pop(key, None)
        metrics.RECONCILES.labels(result="invalid" if outcome.invalid else "ok").inc()
        if outcome.requeue_after is not None:
            self.add(key, outcome.requeue_after)

    def _recorded(
        self, key: Key, loop: asyncio.AbstractEventLoop,
        sj: Mapping[str, Any], result: Mapping[str, Any], done: Callable[[], None], first: bool,
    ) -> None:
        """A result is in the status (called from the pass's thread): count it, send its notifications;
        when they are out, `done` and one more pass (which releases the Job)."""
        if first:
            metrics.RUNS.labels(trigger=result["trigger"], status=result["status"]).inc()

        def sent() -> None:  # from a delivery thread
            done()
            loop.call_soon_threadsafe(self.add, key)

        self.send(sj, result, sent)

    def _forget(self, key: Key) -> None:
        self._failures.pop(key, None)
        self._memory.pop(key, None)

    async def _resync(self) -> None:
        """Every key again every RESYNC_SECONDS, spread over the period."""
        await self.synced.wait()
        while True:
            await asyncio.sleep(RESYNC_SECONDS)
            assert self.indexes is not None
            for key in list(self.indexes.scheduledjobs):
                self.add(key, random.uniform(0, RESYNC_SECONDS / 2))


def owner_key(namespace: str | None, labels: Mapping[str, str]) -> Key:
    """The key of the ScheduledJob a child belongs to, from its label."""
    return (namespace or "", labels.get(names.SCHEDULEDJOB_LABEL, ""))
