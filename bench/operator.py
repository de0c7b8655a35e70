"""The operator process of tests/support, without debug logs, optionally sampled by py-spy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.support.cluster import Cluster, OperatorProcess


class Operator(OperatorProcess):
    """One operator process watching the benchmark's namespaces (its log: `operator-<label>.log`).

    With a profile folder, py-spy records raw stacks per thread (more py-spy options: $BENCH_PYSPY_ARGS,
    e.g. `--idle` to see where threads wait).
    """

    def __init__(self, cluster: Cluster, namespaces: list[str], log_dir: Path, label: str,
                 profile_dir: Path | None = None):
        super().__init__(cluster, namespaces, log_dir / f"operator-{label}.log", verbose=False)
        self.label = label
        self.profile_dir = profile_dir
        self.profiler: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def launch(self) -> float:
        """Start the process (and py-spy on it); returns the monotonic start time (use `wait_alive` next)."""
        started = super().launch()
        self.starts += 1
        if self.profile_dir is not None:
            out = self.profile_dir / f"{self.label}-{self.starts}.txt"
            self.profiler = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(self.pid), "--rate", "200",
                 "--format", "raw", "--output", str(out), "--threads",
                 *os.environ.get("BENCH_PYSPY_ARGS", "").split()],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        return started

    async def start_measured(self, timeout: float = 90) -> tuple[float, float]:
        """Launch it and poll /healthz every 20 ms: the monotonic times it was started and first answered 200."""
        started = self.launch()
        return started, await asyncio.to_thread(self.wait_alive, timeout, 0.02)

    def rss_peak_mb(self) -> float:
        """Its peak resident set size since it started (/proc/PID/status VmHWM), MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def stop(self, kill: bool = False) -> float:
        """Stop it and let py-spy write its profile; returns how long the operator took to exit, seconds."""
        seconds = super().stop(kill)
        if self.profiler is not None:
            try:
                self.profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.profiler.kill()
            self.profiler = None
        return seconds
