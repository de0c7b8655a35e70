"""Imported at interpreter start when this folder is on PYTHONPATH (bench/memory.py puts it there for one operator).

With $CRONFLOW_BENCH_TRACEMALLOC set, tracemalloc runs from the first import on, and each SIGUSR1 dumps a
snapshot to `$CRONFLOW_BENCH_TRACEMALLOC.<n>`, then touches `<that>.done`.
"""

import os
import signal
import tracemalloc
from pathlib import Path
from types import FrameType

_OUT = os.environ.get("CRONFLOW_BENCH_TRACEMALLOC")
_taken = 0


def _dump(signum: int, frame: FrameType | None) -> None:
    global _taken
    _taken += 1
    path = f"{_OUT}.{_taken}"
    tracemalloc.take_snapshot().dump(path)
    Path(f"{path}.done").touch()


if _OUT:
    tracemalloc.start(int(os.environ.get("CRONFLOW_BENCH_TRACEMALLOC_FRAMES", "1")))
    signal.signal(signal.SIGUSR1, _dump)
