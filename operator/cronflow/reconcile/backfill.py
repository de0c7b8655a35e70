"""Pure: which backfill runs to start now, and the backfill's progress in status.

A backfill runs the scheduled times in [from, to) oldest first, so the times it has started are exactly
those up to `status.backfill.lastStarted`: a restart or a re-apply of the same range goes on from there,
and each Job is named from its scheduled time (`names.backfill_job_name`), so a create repeated after a
crash gets "already exists" instead of a second run. A new range first moves the started part of the
previous one into `status.backfilled`; the new range skips every time inside those ranges. An existing
backfill Job of a later time moves `lastStarted` too (created before a crash, its status write lost). Runs started
but not recorded yet (`lastStarted` prefix minus `done`) count as running even when the Job cache does not
show them yet, so the concurrency bound holds across a lagging cache.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cronflow.api.models import ScheduledJobSpec
from cronflow.schedule import backfill_times, format_time

MAX_PARALLEL = 5
"""Backfill runs at once with concurrencyPolicy Allow (Forbid and Replace: one, and none beside another run)."""
MAX_RANGES = 100
"""Ranges of earlier backfills kept in status.backfilled (the newest ones)."""


@dataclass
class BackfillPlan:
    """The scheduled times to start now (oldest first) and the status fields after this pass."""

    start: list[str] = field(default_factory=list)
    progress: dict[str, Any] | None = None
    backfilled: list[dict[str, str]] | None = None
    refused: str | None = None
    """Why spec.backfill cannot run (too many scheduled times)."""
    started_new: bool = False


def plan_backfill(
    spec: ScheduledJobSpec, status: Mapping[str, Any], new: Sequence[Mapping[str, Any]],
    jobs: Collection[str], active_backfill: int, active: int, runnable: bool,
) -> BackfillPlan:
    """`new`: this pass's results; `jobs`: the scheduled times of the backfill Jobs that exist; `active_backfill`,
    `active`: the running backfill Jobs, and all running Jobs."""
    progress = dict(status["backfill"]) if status.get("backfill") else None
    ranges = [dict(r) for r in status.get("backfilled") or []]
    plan = BackfillPlan(progress=progress, backfilled=ranges or None)
    if spec.backfill is None:
        return plan
    try:
        times = backfill_times(spec.schedule, spec.time_zone, spec.backfill.from_, spec.backfill.to)
    except ValueError as error:
        plan.refused = str(error)
        return plan
    span = {"from": format_time(spec.backfill.from_), "to": format_time(spec.backfill.to)}
    if progress is None or {k: progress.get(k) for k in span} != span:
        if progress is not None and progress.get("lastStarted"):
            ranges = add_range(ranges, str(progress["from"]), _just_after(str(progress["lastStarted"])))
        progress, plan.started_new = {**span, "done": 0, "failed": 0}, True
    todo = [t for t in map(format_time, times) if not _covered(ranges, t)]
    progress = count_results(progress, ranges, new)
    last = max([t for t in (progress.get("lastStarted"), *(t for t in todo if t in jobs)) if t], default=None)
    if last is not None:
        progress["lastStarted"] = last  # a Job created just before a crash moves it too
    started = sum(1 for t in todo if last is not None and t <= last)
    in_flight = started - progress["done"]
    busy = max(in_flight, active_backfill) if spec.concurrency_policy == "Allow" else max(in_flight, active)
    slots = (MAX_PARALLEL if spec.concurrency_policy == "Allow" else 1) - busy
    progress["total"] = len(todo)
    plan.progress, plan.backfilled = progress, ranges or None
    plan.start = todo[started:started + max(slots, 0)] if runnable else []
    return plan


def count_results(
    progress: Mapping[str, Any], ranges: Sequence[Mapping[str, str]], new: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """`progress` with this pass's results of its runs counted: Backfill results for a time in its range that
    no earlier range holds (also in a pass that cannot read the spec, so that no result goes uncounted)."""
    counted = dict(progress)
    for result in new:
        moment = str(result.get("scheduledTime") or "")
        if (result.get("trigger") == "Backfill" and counted["from"] <= moment < counted["to"]
                and not _covered(ranges, moment)):
            counted["done"] += 1
            counted["failed"] += int(result["status"] != "OK")
    return counted


def add_range(ranges: Sequence[Mapping[str, str]], start: str, end: str) -> list[dict[str, str]]:
    """`ranges` with [start, end) added, overlapping and touching ones merged, sorted; the newest MAX_RANGES."""
    merged: list[dict[str, str]] = []
    for item in sorted([*ranges, {"from": start, "to": end}], key=lambda r: r["from"]):
        if merged and item["from"] <= merged[-1]["to"]:
            merged[-1]["to"] = max(merged[-1]["to"], item["to"])
        else:
            merged.append(dict(item))
    return merged[-MAX_RANGES:]


def _covered(ranges: Sequence[Mapping[str, str]], moment: str) -> bool:
    return any(r["from"] <= moment < r["to"] for r in ranges)


def _just_after(moment: str) -> str:
    return format_time(datetime.fromisoformat(moment) + timedelta(seconds=1))
