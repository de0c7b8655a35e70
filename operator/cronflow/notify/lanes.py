"""Bounded delivery lanes: work for one target never waits behind work for another.

A lane is named by its target (for example one tenant's webhook host). Each lane runs at most
`per_lane` tasks at once and holds at most `queue_per_lane` waiting ones; over all lanes there are at
most `max_workers` threads and `max_queued` waiting tasks, so memory stays bounded however many
targets there are. Threads are started on demand and end when there is nothing left to do; a thread
whose lane runs dry takes over a lane that is waiting for a thread (only when `max_workers` are busy
at once can one target's work wait for another's). Threads are not daemons: at interpreter exit the
waiting work is still done, as with a ThreadPoolExecutor.
"""

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)
Task = Callable[[], None]


class Lanes:
    """Per-target FIFO lanes over a bounded set of threads."""

    def __init__(self, per_lane: int, queue_per_lane: int, max_workers: int, max_queued: int) -> None:
        if min(per_lane, queue_per_lane, max_workers, max_queued) < 1:
            raise ValueError("every bound must be at least 1")
        self.per_lane, self.queue_per_lane = per_lane, queue_per_lane
        self.max_workers, self.max_queued = max_workers, max_queued
        self._changed = threading.Condition()
        self._waiting: dict[str, deque[Task]] = {}
        self._running: dict[str, int] = {}
        self._starved: deque[str] = deque()  # lanes with waiting work that found no free thread
        self._workers = 0
        self._queued = 0

    def submit(self, lane: str, task: Task) -> bool:
        """Queue `task` on `lane`; False (and nothing queued) when the lane or all lanes are full."""
        with self._changed:
            waiting = self._waiting.get(lane)
            if (waiting is not None and len(waiting) >= self.queue_per_lane) or self._queued >= self.max_queued:
                return False
            self._waiting.setdefault(lane, deque()).append(task)
            self._queued += 1
            if self._running.get(lane, 0) < self.per_lane:
                if self._workers < self.max_workers:
                    self._start(lane)
                elif lane not in self._starved:
                    self._starved.append(lane)
            return True

    def join(self, timeout: float) -> bool:
        """Wait until nothing is queued or running; False if that took longer than `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._workers or self._queued:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def _start(self, lane: str) -> None:
        """A new thread for `lane` (called holding the lock)."""
        self._workers += 1
        self._running[lane] = self._running.get(lane, 0) + 1
        threading.Thread(target=self._work, args=(lane,), name=f"notify {lane}"[:60]).start()

    def _work(self, lane: str) -> None:
        current: str | None = lane
        while current is not None:
            picked = self._next(current)
            if picked is None:
                return
            current, task = picked
            try:
                task()
            except Exception:
                log.exception("notification task on lane %s failed", current)

    def _next(self, lane: str) -> tuple[str, Task] | None:
        """The next task for this thread: from its lane, else from a starved lane; None: the thread ends."""
        with self._changed:
            while True:
                waiting = self._waiting.get(lane)
                if waiting:
                    self._queued -= 1
                    task = waiting.popleft()
                    if not waiting:
                        del self._waiting[lane]
                    self._changed.notify_all()
                    return lane, task
                self._running[lane] -= 1
                if not self._running[lane]:
                    del self._running[lane]
                adopted = self._adopt()
                if adopted is None:
                    self._workers -= 1
                    self._changed.notify_all()
                    return None
                lane = adopted

    def _adopt(self) -> str | None:
        """A starved lane that still has waiting work and room for a thread (called holding the lock)."""
        while self._starved:
            lane = self._starved.popleft()
            if self._waiting.get(lane) and self._running.get(lane, 0) < self.per_lane:
                self._running[lane] = self._running.get(lane, 0) + 1
                if len(self._waiting[lane]) > self._running[lane] and self._running[lane] < self.per_lane:
                    self._starved.append(lane)  # it could use one more thread still
                return lane
        return None
