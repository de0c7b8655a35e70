"""Pure: a ScheduledJob as the dashboard shows it, a table row or the job's page."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cronflow import names
from cronflow.gateway.dashboard.shapes import Condition, JobDetail, JobSummary, Mark, RunDetail, State
from cronflow.gateway.shapes import Header
from cronflow.schedule import format_time, upcoming_run_times

NEXT_RUNS = 3


def job_summary(sj: Mapping[str, Any], now: datetime) -> JobSummary:
    """A table row: the state (from status, else from spec before the operator has written one), the next
    run times from the schedule itself (so they are current even when the operator lags), recent results."""
    meta, spec, status = sj["metadata"], sj.get("spec") or {}, sj.get("status") or {}
    results = status.get("results") or []
    automatic = bool((spec.get("automatic") or {}).get("enabled"))
    state: State = status.get("state") or ("ENABLED" if spec.get("enabled", True) else "DISABLED")
    schedule, zone = str(spec.get("schedule", "")), str(spec.get("timeZone") or "Etc/UTC")
    ready: Mapping[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == names.READY), {})
    return JobSummary(
        name=meta["name"],
        uid=meta.get("uid", ""),
        display_name=(meta.get("annotations") or {}).get(names.DISPLAY_NAME_ANNOTATION, meta["name"]),
        schedule=schedule,
        time_zone=zone,
        state=state,
        automatic=automatic,
        next_run_times=_next_runs(schedule, zone, now) if state == "ENABLED" and not automatic else [],
        results=[_mark(result) for result in reversed(results)],
        failing=bool(results) and results[0].get("status") == "ERROR",
        consecutive_failures=int(status.get("consecutiveFailures", 0)),
        running=len(status.get("active") or []),
        problem=str(ready.get("message", "")) if ready.get("status") == "False" else "",
    )


def job_detail(sj: Mapping[str, Any], now: datetime, can_act: bool) -> JobDetail:
    """The job's page."""
    status = sj.get("status") or {}
    return JobDetail(
        summary=job_summary(sj, now),
        namespace=sj["metadata"].get("namespace", ""),
        runs=[_run(result) for result in status.get("results") or []],
        active=[str(run.get("name", "")) for run in status.get("active") or []],
        conditions=[Condition(type=str(c.get("type", "")), status=str(c.get("status", "")),
                              reason=str(c.get("reason", "")), message=str(c.get("message", "")))
                    for c in status.get("conditions") or []],
        can_act=can_act,
    )


def _next_runs(schedule: str, zone: str, now: datetime) -> list[str]:
    try:
        return [format_time(t) for t in upcoming_run_times(schedule, zone, now, NEXT_RUNS)]
    except ValueError:  # a schedule or zone the operator refuses too (its Ready condition says why)
        return []


def _mark(result: Mapping[str, Any]) -> Mark:
    http = result.get("httpResult") or {}
    return Mark(job=str(result.get("job", "")), status=result["status"], trigger=str(result.get("trigger", "")),
                finished_at=result.get("finishedAt"), http_status=http.get("status"))


def _run(result: Mapping[str, Any]) -> RunDetail:
    http = result.get("httpResult") or {}
    completion = result.get("completion") or {}
    return RunDetail(
        job=str(result.get("job", "")),
        trigger=str(result.get("trigger", "")),
        status=result["status"],
        scheduled_time=result.get("scheduledTime"),
        input_file=result.get("inputFile"),
        start_time=result.get("startTime"),
        finished_at=result.get("finishedAt"),
        attempts=result.get("attempts"),
        http_status=http.get("status"),
        headers=[Header(key=str(h.get("key", "")), value=str(h.get("value", ""))) for h in http.get("headers") or []],
        response=str(http.get("response", "")),
        truncated=bool(http.get("truncated", False)),
        message=str(result.get("message", "")),
        completion_job_id=completion.get("jobId"),
    )
