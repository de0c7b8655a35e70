"""Where the operator's memory goes: imports alone (no cluster), and the running operator at 0 and N ScheduledJobs.

`python -m bench.memory` prints the import profile as JSON (RSS after imports, `-X importtime`; no cluster).
The `memory` part of `bench/run` (only when named: tracemalloc slows the operator) starts an operator
with tracemalloc on (bench/tracemalloc_probe/sitecustomize.py: a snapshot on SIGUSR1), takes one with
no ScheduledJob and one with each bulk size reconciled, and reports the traced memory by package, the
largest allocation sites, and the growth per 1,000 ScheduledJobs.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

from bench import bulk
from bench.context import Context, part_result, scope
from bench.kube import Watch, wait_for
from bench.manifests import scheduledjob
from bench.track import FirstSeen, Progress, status_written

PROBE = Path(__file__).resolve().parent / "tracemalloc_probe"
PROBE_OUT_ENV = "CRONFLOW_BENCH_TRACEMALLOC"
IMPORTED = ("pydantic", "yaml", "aiohttp", "kubernetes", "kopf", "prometheus_client", "croniter", "jmespath")
"""The operator's large dependencies, each measured imported alone, and in this order step by step."""
OPERATOR_MODULE = "cronflow.__main__"
FRAMES = 1
"""Frames kept per traced allocation in the operator: the innermost only (5 frames made importing the
operator 8x slower again, about 280 s on the 2-core machine)."""
_RSS = "int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS:')).split()[1]) / 1024"


def _python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True, check=True, timeout=120)


def import_rss_mb(module: str | None) -> float:
    """RSS (MiB) of a fresh interpreter after importing `module` alone (None: nothing)."""
    code = (f"import {module}; " if module else "") + f"print({_RSS})"
    return round(float(_python(code).stdout), 1)


def package_of(filename: str) -> str:
    """The top-level package (or stdlib module) a source file belongs to, for grouping allocations."""
    path = Path(filename)
    parts = path.parts
    for anchor in ("site-packages", "operator", "jobs_image"):
        if anchor in parts:
            rest = parts[parts.index(anchor) + 1 :]
            if rest:
                return rest[0].removesuffix(".py")
    if filename.startswith("<"):
        return filename
    stdlib = Path(os.__file__).parent
    if path.is_relative_to(stdlib):
        rest = path.relative_to(stdlib).parts
        return "stdlib:" + rest[0].removesuffix(".py")
    return path.name


def short_path(filename: str) -> str:
    """A source file as seen from its package root (site-packages, the standard library, operator/)."""
    parts = Path(filename).parts
    for anchor in ("site-packages", "operator", "jobs_image"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1 :])
    stdlib = Path(os.__file__).parent
    return str(Path(filename).relative_to(stdlib)) if Path(filename).is_relative_to(stdlib) else filename


def by_package(snapshot: tracemalloc.Snapshot) -> Counter[str]:
    """Traced bytes by package of the innermost frame outside the import machinery (with one frame traced,
    what imports allocate counts as `<frozen importlib._bootstrap_external>`: module code of all packages)."""
    sizes: Counter[str] = Counter()
    for trace in snapshot.traces:
        frames = [f.filename for f in trace.traceback]  # innermost first
        owner = next((f for f in frames if not f.startswith("<frozen")), frames[0] if frames else "?")
        sizes[package_of(owner)] += trace.size
    return sizes


def _mb(value: float) -> float:
    return round(value / 1024 / 1024, 1)


def top_packages(sizes: Counter[str], count: int = 12) -> dict[str, float]:
    """The `count` largest packages in MiB, the rest summed as `other`."""
    top = dict(sizes.most_common(count))
    rest = sum(sizes.values()) - sum(top.values())
    return {**{name: _mb(size) for name, size in top.items()}, "other": _mb(rest)}


def import_profile() -> dict[str, Any]:
    """RSS after importing each big dependency alone, and step by step in one interpreter up to the operator
    (each step's growth is what it adds to those before); the slowest imports (`-X importtime`, cumulative)."""
    steps = [*IMPORTED, OPERATOR_MODULE]
    code = "; ".join(f"import {module}; print({_RSS}, flush=True)" for module in steps)
    cumulative = [float(v) for v in _python(f"print({_RSS}); " + code).stdout.split()]
    times = _python(f"import {OPERATOR_MODULE}", "-X", "importtime").stderr.splitlines()
    slowest: list[tuple[int, str]] = []
    for line in times[1:]:
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3:
            slowest.append((int(fields[1]), fields[2].strip()))
    return {
        "python_rss_mb": round(cumulative[0], 1),
        "operator_import_rss_mb": import_rss_mb(OPERATOR_MODULE),
        "alone_rss_mb": {module: import_rss_mb(module) for module in IMPORTED},
        "step_by_step_added_mb": {m: round(cumulative[i + 1] - cumulative[i], 1) for i, m in enumerate(steps)},
        "slowest_imports_ms": {name: round(us / 1000) for us, name in sorted(slowest, reverse=True)[:10]},
        "modules_imported": len(slowest),
    }


def _snapshot(pid: int, out: Path, index: int, timeout: float = 300) -> tracemalloc.Snapshot:
    """Ask the operator for its next tracemalloc snapshot and load it."""
    path = Path(f"{out}.{index}")
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while not Path(f"{path}.done").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no tracemalloc snapshot {path} after {timeout:.0f} s")
        time.sleep(0.2)
    return tracemalloc.Snapshot.load(str(path))


def snapshot_figures(snapshot: tracemalloc.Snapshot, rss_mb: float) -> dict[str, Any]:
    """Traced total, by package, and the largest allocation sites (file:line) of one snapshot."""
    lines = snapshot.statistics("lineno")[:10]
    return {
        "rss_mb": rss_mb,
        "traced_mb": _mb(sum(t.size for t in snapshot.traces)),
        "by_package_mb": top_packages(by_package(snapshot)),
        "largest_sites_mb": {
            f"{short_path(s.traceback[0].filename)}:{s.traceback[0].lineno}": _mb(s.size) for s in lines
        },
    }


def growth_per_1000(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, objects: int) -> dict[str, Any]:
    """What grew between two snapshots per 1,000 ScheduledJobs: by package and by allocation site."""
    scale = 1000 / objects
    grown = by_package(after)
    grown.subtract(by_package(before))
    sites = after.compare_to(before, "lineno")[:10]
    return {
        "by_package_mb": {name: round(_mb(size) * scale, 1) for name, size in grown.most_common(10)},
        "largest_sites_mb": {
            f"{short_path(s.traceback[0].filename)}:{s.traceback[0].lineno}": round(_mb(s.size_diff) * scale, 1)
            for s in sites
        },
    }


async def run(ctx: Context, sizes: list[int]) -> dict[str, Any]:
    """The import profile, then one traced operator: a snapshot at 0 and at each of `sizes` (cumulative)."""
    began = time.monotonic()
    figures: dict[str, Any] = {"imports": await asyncio.to_thread(import_profile)}
    async with scope(ctx, "memory", start=False, cleanup_seconds=bulk.cleanup_seconds(max(sizes))) as sc:
        ns = sc.namespaces[0]
        operator = sc.operator
        out = ctx.log_dir / "operator.tracemalloc"
        operator.env.update(
            {
                PROBE_OUT_ENV: str(out),
                f"{PROBE_OUT_ENV}_FRAMES": str(FRAMES),
                "PYTHONPATH": os.pathsep.join(p for p in (str(PROBE), os.environ.get("PYTHONPATH", "")) if p),
            }
        )
        await operator.start_measured()
        await asyncio.sleep(5)  # settled: watches up, leadership taken
        snapshots = [await asyncio.to_thread(_snapshot, operator.pid, out, 1)]
        figures["at_0"] = snapshot_figures(snapshots[0], operator.rss_mb())
        statuses = FirstSeen(status_written)
        watch = await Watch(ctx.kube, "scheduledjobs", ns, statuses).start()
        created = 0
        try:
            for size in sizes:
                names_ = [f"memory-{i}" for i in range(size)]
                progress = Progress(
                    f"memory {size}",
                    {"statuses": lambda: len(statuses), "operator MB": lambda: round(operator.rss_mb())},
                )
                progress.start()
                try:
                    await ctx.kube.create_many("scheduledjobs", ns, [scheduledjob(n, ns) for n in names_[created:]])
                    await wait_for(f"{size} statuses", statuses.has_all(names_), timeout=300 + size * 0.5, every=0.2)
                finally:
                    await progress.stop()
                created = size
                await asyncio.sleep(10)  # the workers idle out
                snapshots.append(await asyncio.to_thread(_snapshot, operator.pid, out, len(snapshots) + 1))
                figures[f"at_{size}"] = snapshot_figures(snapshots[-1], operator.rss_mb())
                figures[f"at_{size}"]["growth_per_1000"] = growth_per_1000(snapshots[0], snapshots[-1], size)
        finally:
            await watch.stop()
        return part_result(sc, began, **figures, tracemalloc_frames=FRAMES)


if __name__ == "__main__":
    print(json.dumps(import_profile(), indent=2))
