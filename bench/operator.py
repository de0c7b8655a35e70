"""`python -m cronflow` as users run it, as a subprocess under the operator's own user; its /proc figures."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bench.cluster import REPO, Env

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Operator:
    """One operator process watching the benchmark's namespaces; optionally sampled by py-spy.

    With a profile folder, py-spy records raw stacks per thread (more py-spy options: $BENCH_PYSPY_ARGS,
    e.g. `--idle` to see where threads wait).
    """

    def __init__(self, env: Env, namespaces: list[str], log_dir: Path, label: str, profile_dir: Path | None = None):
        self.env = env
        self.namespaces = namespaces
        self.log_path = log_dir / f"operator-{label}.log"
        self.label = label
        self.profile_dir = profile_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.profiler: subprocess.Popen[bytes] | None = None
        self.liveness_port = 0
        self.metrics_port = 0
        self.started_at = 0.0
        """time.time() when the process was started."""
        self.starts = 0

    def start(self) -> float:
        """Start the process; returns the monotonic start time (use `wait_alive` next)."""
        self.liveness_port, self.metrics_port = free_port(), free_port()
        env = {**os.environ, "KUBECONFIG": str(self.env.operator_kubeconfig)}
        args = [sys.executable, "-m", "cronflow", "--job-image", "cronflow-job:dev",
                "--liveness-port", str(self.liveness_port), "--metrics-port", str(self.metrics_port)]
        for namespace in self.namespaces:
            args += ["--namespace", namespace]
        log = self.log_path.open("ab")
        self.started_at = time.time()
        started = time.monotonic()
        self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        self.starts += 1
        if self.profile_dir is not None:
            out = self.profile_dir / f"{self.label}-{self.starts}.txt"
            self.profiler = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(self.proc.pid), "--rate", "200",
                 "--format", "raw", "--output", str(out), "--threads",
                 *os.environ.get("BENCH_PYSPY_ARGS", "").split()],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        return started

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def wait_alive(self, timeout: float = 90) -> float:
        """Poll /healthz every 20 ms; the monotonic time it first answered 200."""
        url = f"http://127.0.0.1:{self.liveness_port}/healthz"
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"operator exited with {self.proc.returncode}; see {self.log_path}")
                try:
                    async with session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response:
                        if response.status == 200:
                            return time.monotonic()
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"operator not alive after {timeout} s; see {self.log_path}")
                await asyncio.sleep(0.02)

    async def metric(self, name: str) -> float:
        """The sum of all samples of a metric on /metrics (0 when absent)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as r:
            text = await r.text()
        pattern = re.compile(rf"^{re.escape(name)}(?:{{[^}}]*}})? ([0-9.e+-]+)$", re.MULTILINE)
        return sum(float(v) for v in pattern.findall(text))

    def rss_mb(self) -> float:
        """Resident set size now (/proc/PID/status VmRSS), MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (/proc/PID/stat), seconds."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / CLOCK_TICKS, 2)

    def stop(self) -> float:
        """SIGTERM (SIGKILL after 20 s); returns how long it took to exit, seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        begin = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.profiler is not None:
            try:
                self.profiler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.profiler.kill()
            self.profiler = None
        return round(time.monotonic() - begin, 2)
