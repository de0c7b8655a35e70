"""Watch callbacks that remember when something was first seen, percentile summaries, progress lines."""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bench.kube import Obj


class FirstSeen:
    """A watch callback: the first receive time of every key that `keys(obj)` yields."""

    def __init__(self, keys: Callable[[Obj], Iterable[str]]):
        self._keys = keys
        self.times: dict[str, float] = {}

    def __call__(self, type_: str, obj: Obj, received: float) -> None:
        if type_ == "DELETED":
            return
        for key in self._keys(obj):
            self.times.setdefault(key, received)

    def __contains__(self, key: str) -> bool:
        return key in self.times

    def __len__(self) -> int:
        return len(self.times)

    def has(self, key: str) -> Callable[[], bool]:
        """A probe for `wait_for`: whether `key` has been seen."""
        return lambda: key in self.times

    def has_all(self, keys: Iterable[str]) -> Callable[[], bool]:
        """A probe for `wait_for`: whether every one of `keys` has been seen."""
        wanted = set(keys)
        return lambda: wanted.issubset(self.times)


def name_of(obj: Obj) -> Iterable[str]:
    """The object's name (for FirstSeen)."""
    return [obj["metadata"]["name"]]


def status_written(obj: Obj) -> Iterable[str]:
    """The name of a ScheduledJob whose status is written for its current generation with a Ready condition."""
    status = obj.get("status") or {}
    ready = any(c.get("type") == "Ready" for c in status.get("conditions") or [])
    if ready and status.get("observedGeneration") == obj["metadata"].get("generation"):
        return [obj["metadata"]["name"]]
    return []


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by the nearest-rank method (p99 of 100 samples is the 99th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float], unit_scale: float = 1000.0) -> dict[str, Any]:
    """n, p50, p90, p99, max and mean of seconds, in milliseconds by default, and the samples in order."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(quantile(values, 0.5) * unit_scale, 1),
        "p90": round(quantile(values, 0.9) * unit_scale, 1),
        "p99": round(quantile(values, 0.99) * unit_scale, 1),
        "max": round(max(values) * unit_scale, 1),
        "mean": round(sum(values) / len(values) * unit_scale, 1),
        "samples": [round(v * unit_scale, 1) for v in values],
    }


class Progress:
    """Prints `label: name count, ... (elapsed s)` to stderr every `every` seconds while a long step runs."""

    def __init__(self, label: str, counts: dict[str, Callable[[], int]], every: float = 10.0):
        self.label = label
        self.counts = counts
        self.every = every
        self._task: asyncio.Task[None] | None = None
        self._began = 0.0

    def line(self) -> str:
        """The current counts."""
        counts = ", ".join(f"{name} {count():,}" for name, count in self.counts.items())
        return f"bench: {self.label}: {counts} ({time.monotonic() - self._began:.0f} s)"

    def start(self) -> None:
        """Begin printing (from now on)."""
        self._began = time.monotonic()

        async def loop() -> None:
            while True:
                await asyncio.sleep(self.every)
                print(self.line(), file=sys.stderr, flush=True)

        self._task = asyncio.create_task(loop())

    async def stop(self) -> None:
        """Stop printing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
