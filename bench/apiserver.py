"""The API server's own view of a part: what its /metrics counted between two scrapes.

Request latencies by verb and resource (the benchmark's kinds), answers by code, API priority and
fairness (time requests waited in their priority level's queues, rejections, the levels' seats), etcd
latencies and watch events sent. The cluster is shared: counters include other clients' requests of the
same kinds in the same interval (the load averages in the JSON say how busy it was).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from bench.kube import Kube

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FAMILIES = (
    "apiserver_request_duration_seconds_sum",
    "apiserver_request_duration_seconds_count",
    "apiserver_request_total",
    "apiserver_flowcontrol_request_wait_duration_seconds_sum",
    "apiserver_flowcontrol_request_wait_duration_seconds_count",
    "apiserver_flowcontrol_request_execution_seconds_sum",
    "apiserver_flowcontrol_request_execution_seconds_count",
    "apiserver_flowcontrol_rejected_requests_total",
    "apiserver_flowcontrol_nominal_limit_seats",
    "apiserver_flowcontrol_current_limit_seats",
    "etcd_request_duration_seconds_sum",
    "etcd_request_duration_seconds_count",
    "apiserver_watch_events_total",
)
RESOURCES = {"cronjobs", "jobs", "scheduledjobs"}
_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str, families: Iterable[str] = FAMILIES) -> Samples:
    """The samples of `families` in a Prometheus text exposition."""
    wanted = set(families)
    samples: Samples = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None or match.group(1) not in wanted:
            continue
        name, labels, value = match.groups()
        samples[(name, frozenset(_LABEL.findall(labels or "")))] = float(value)
    return samples


async def scrape(kube: Kube) -> Samples:
    """The API server's metrics now (the admin's client)."""
    return parse(await kube.get_text("/metrics"))


def _sum_by(samples: Samples, name: str, keys: tuple[str, ...]) -> dict[tuple[str, ...], float]:
    sums: dict[tuple[str, ...], float] = defaultdict(float)
    for (family, labels), value in samples.items():
        if family == name:
            label = dict(labels)
            sums[tuple(label.get(k, "") for k in keys)] += value
    return sums


def _delta(before: Samples, after: Samples) -> Samples:
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def _latency(
    delta: Samples, family: str, keys: tuple[str, ...], keep: Callable[[tuple[str, ...]], bool] = lambda _: True
) -> dict[str, dict[str, float]]:
    """Count and mean (ms) of a histogram's observations by `keys`, the most frequent first."""
    counts = _sum_by(delta, f"{family}_count", keys)
    sums = _sum_by(delta, f"{family}_sum", keys)
    found = {}
    for key, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        if count >= 1 and keep(key):
            found[" ".join(k for k in key if k)] = {"count": int(count), "mean_ms": round(sums[key] / count * 1000, 1)}
    return found


def _ours(key: tuple[str, ...]) -> bool:
    return key[1] in RESOURCES


def _counts(delta: Samples, family: str, keys: tuple[str, ...]) -> dict[str, int]:
    return {" ".join(k): int(v) for k, v in sorted(_sum_by(delta, family, keys).items()) if v >= 1}


def summary(before: Samples, after: Samples) -> dict[str, Any]:
    """What happened between the two scrapes, for the benchmark's kinds and for every priority level."""
    delta = _delta(before, after)
    codes = _sum_by(delta, "apiserver_request_total", ("verb", "resource", "code"))
    nominal = _sum_by(after, "apiserver_flowcontrol_nominal_limit_seats", ("priority_level",))
    current = _sum_by(after, "apiserver_flowcontrol_current_limit_seats", ("priority_level",))
    return {
        "requests": _latency(delta, "apiserver_request_duration_seconds", ("verb", "resource", "subresource"), _ours),
        "answers_4xx_5xx": {
            " ".join(k): int(v) for k, v in sorted(codes.items()) if v >= 1 and _ours(k) and k[2] >= "400"
        },
        "flowcontrol_wait": _latency(
            delta, "apiserver_flowcontrol_request_wait_duration_seconds", ("priority_level", "flow_schema", "execute")
        ),
        "flowcontrol_execution": _latency(
            delta, "apiserver_flowcontrol_request_execution_seconds", ("priority_level",)
        ),
        "flowcontrol_rejected": _counts(
            delta, "apiserver_flowcontrol_rejected_requests_total", ("priority_level", "reason")
        ),
        "flowcontrol_seats": {k[0]: {"nominal": int(v), "current": int(current.get(k, 0))} for k, v in nominal.items()},
        "etcd": _latency(
            delta,
            "etcd_request_duration_seconds",
            ("operation", "type"),
            lambda key: any(r in key[1] for r in RESOURCES),
        ),
        "watch_events": _counts(delta, "apiserver_watch_events_total", ("kind",)),
    }
