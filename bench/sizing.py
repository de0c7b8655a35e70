"""Operator memory by number of ScheduledJobs, and its CPU in a burst: the measured figures that the
chart's default resources, README's sizing (Performance) and tests/unit/test_bench_sizing.py all take
from here.

The figures are committed `bench/run` results (SOURCES): the operator's resident set with no
ScheduledJob, and its peak (VmHWM) after N ScheduledJobs were created at once and then after a restart
over them.
The benchmark's ScheduledJobs carry no results in status; each result kept (spec.historyLimit, up to
4 KiB of response each) adds to what the operator caches per object.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

SOURCES = ("bench/results/2026-12-02T134316Z.json",)
"""The runs the figures come from (repository-relative)."""
IDLE_MIB = 95.6
"""RSS of the operator watching a namespace with no ScheduledJob, MiB."""
PEAK_MIB = {1000: 174.2, 10000: 764.0}
"""Peak RSS by number of ScheduledJobs (created at once, then a restart over them), MiB."""
BURST_CORES = 0.61
"""The operator's CPU (cores, unthrottled) while it reconciled DEFAULT_SIZE new ScheduledJobs at once."""
HEADROOM = 1.3
"""The default limit is the measured need times this (garbage-collection timing, larger specs)."""
DEFAULT_SIZE = 1000
"""The number of ScheduledJobs the chart's default resources are sized for."""
ROUND_MIB = 64
SIZES = (1000, 2500, 5000, 10000)
"""The sizes README's sizing table shows (those not in PEAK_MIB extrapolated)."""


def per_1000_mib() -> float:
    """Growth of the peak RSS per 1,000 ScheduledJobs, from idle to the largest measured size, MiB."""
    size = max(PEAK_MIB)
    return round((PEAK_MIB[size] - IDLE_MIB) * 1000 / size, 1)


def need_mib(size: int) -> float:
    """The measured peak at `size`, or idle plus the growth per 1,000 (linear) for a size not measured."""
    return PEAK_MIB.get(size, round(IDLE_MIB + per_1000_mib() * size / 1000, 1))


def limit_mib(size: int) -> int:
    """A memory limit for `size` ScheduledJobs: the need with headroom, rounded up to 64 MiB."""
    return math.ceil(need_mib(size) * HEADROOM / ROUND_MIB) * ROUND_MIB


def burst_cores(reports: list[dict[str, Any]]) -> float:
    """The operator's CPU share while the bulk of DEFAULT_SIZE ran (the highest, if several), in cores."""
    return max(float(b["operator_cpu_share_until_done"]) for report in reports for b in report.get("bulk") or []
               if "error" not in b and b["size"] == DEFAULT_SIZE)


def measured(reports: list[dict[str, Any]]) -> tuple[float, dict[int, float]]:
    """Idle RSS (the lowest) and peak RSS by size from bench results JSONs (each bulk, and the restart after it)."""
    bulks = [b for report in reports for b in report.get("bulk") or [] if "error" not in b]
    restarts = [r for report in reports for r in _listed(report.get("restart"))]
    peaks: dict[int, float] = {}
    for bulk in bulks:
        peaks[bulk["size"]] = bulk.get("operator_rss_mb_peak", bulk["operator_rss_mb"])
    for restart in restarts:
        if "writes" in restart and restart["objects"] in peaks:
            size = restart["objects"]
            peaks[size] = max(peaks[size], restart.get("operator_rss_mb_peak", restart["operator_rss_mb"]))
    idle = min(b["operator_rss_mb_idle"] for b in bulks)
    return idle, peaks


def _listed(restart: Any) -> list[dict[str, Any]]:
    return [restart] if isinstance(restart, dict) else list(restart or [])


def load_sources(repo: Path) -> list[dict[str, Any]]:
    """The results JSONs named by SOURCES."""
    return [json.loads((repo / source).read_text()) for source in SOURCES]
