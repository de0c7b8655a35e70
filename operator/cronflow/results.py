"""Pure: a finished Job and its pod -> one status.results entry, the bounded results ring, the run times."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cronflow import names
from cronflow.schedule import format_time

RESULT_VERSION = 1


def job_finished(job: Mapping[str, Any]) -> str | None:
    """'Complete' or 'Failed' when the Job has finished, else None."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def parse_termination_message(message: str | None) -> dict[str, Any] | None:
    """The job runner's result document, or None when the message is not one (e.g. an OOM kill)."""
    if not message:
        return None
    try:
        document = json.loads(message)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("v") != RESULT_VERSION:
        return None
    if document.get("status") not in ("OK", "ERROR"):
        return None
    return document


def _terminated_state(pod: Mapping[str, Any] | None) -> Mapping[str, Any]:
    for status in (pod or {}).get("status", {}).get("containerStatuses") or []:
        terminated = status.get("state", {}).get("terminated")
        if terminated:
            return dict(terminated)
    return {}


def _failure_reason(job: Mapping[str, Any], pod: Mapping[str, Any] | None) -> str:
    """What Kubernetes says about a run that left no result document."""
    if _failed_condition(job).get("reason") == "DeadlineExceeded":  # its pod was killed: say why, not how
        deadline = job.get("spec", {}).get("activeDeadlineSeconds")
        return (f"the run was stopped at its deadline (activeDeadlineSeconds: {deadline} s, retries, backoff "
                "and completion timeout included)")
    terminated = _terminated_state(pod)
    if terminated:
        reason = terminated.get("reason") or "Error"
        return f"the job container ended without a result: {reason} (exit code {terminated.get('exitCode')})"
    for status in (pod or {}).get("status", {}).get("containerStatuses") or []:
        waiting = status.get("state", {}).get("waiting")
        if waiting:
            return f"the job container never ran: {waiting.get('reason')}: {waiting.get('message', '')}".rstrip(": ")
    failed = _failed_condition(job)
    if failed:
        return f"the Job failed: {failed.get('reason')}: {failed.get('message', '')}".rstrip(": ")
    return "the Job finished without a result"


def _failed_condition(job: Mapping[str, Any]) -> Mapping[str, Any]:
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Failed" and condition.get("status") == "True":
            return dict(condition)
    return {}


def _attempts_and_completion(document: Mapping[str, Any]) -> dict[str, Any]:
    """`attempts` and `completion` of a result document, where they have the types status requires.

    A value of another type (an older or broken job image) is left out: the API server would refuse the
    whole status write, and the run would never be recorded.
    """
    found: dict[str, Any] = {}
    attempts = document.get("attempts")
    if isinstance(attempts, int) and not isinstance(attempts, bool) and attempts >= 1:
        found["attempts"] = attempts
    completion = document.get("completion")
    if isinstance(completion, dict):
        kept = {key: completion[key] for key, kind in (("jobId", str), ("httpResult", dict))
                if isinstance(completion.get(key), kind)}
        if kept:
            found["completion"] = kept
    return found


def build_result(job: Mapping[str, Any], pod: Mapping[str, Any] | None) -> dict[str, Any]:
    """The status.results entry of a finished Job (camelCase, as stored)."""
    meta = job.get("metadata", {})
    annotations = meta.get("annotations") or {}
    status = job.get("status", {})
    document = parse_termination_message(_terminated_state(pod).get("message"))
    entry: dict[str, Any] = {
        "job": meta["name"],
        "trigger": annotations.get(names.TRIGGER_ANNOTATION, "Schedule"),
        "startTime": status.get("startTime") or meta.get("creationTimestamp"),
    }
    scheduled = annotations.get(names.SCHEDULED_TIME_ANNOTATION) or annotations.get(names.CRONJOB_SCHEDULED_ANNOTATION)
    if scheduled:
        entry["scheduledTime"] = _utc(scheduled)
    input_file = annotations.get(names.INPUT_FILE_ANNOTATION)
    if input_file:
        entry["inputFile"] = input_file
    if document is not None:
        entry["finishedAt"] = document.get("finishedAt") or status.get("completionTime")
        entry["status"] = document["status"]
        entry.update(_attempts_and_completion(document))
        if document.get("httpResult"):
            entry["httpResult"] = document["httpResult"]
        entry["message"] = document.get("message") or ""
    else:
        entry["finishedAt"] = status.get("completionTime") or _terminated_state(pod).get("finishedAt")
        entry["status"] = "ERROR"
        entry["message"] = _failure_reason(job, pod)
    return {key: value for key, value in entry.items() if value is not None}


def add_result(results: Sequence[Mapping[str, Any]], entry: Mapping[str, Any], limit: int) -> list[dict[str, Any]]:
    """The results with `entry` first, capped at `limit`; unchanged when that Job is already recorded."""
    if any(r.get("job") == entry["job"] for r in results):
        return [dict(r) for r in results]
    return [dict(entry), *(dict(r) for r in results)][:limit]


def is_recorded(results: Sequence[Mapping[str, Any]], job_name: str) -> bool:
    """Whether a Job's result is already in status.results."""
    return any(r.get("job") == job_name for r in results)


def deleted_result(job: Mapping[str, Any]) -> dict[str, Any]:
    """The status.results entry of a Job deleted while it ran (concurrencyPolicy Replace, kubectl delete)."""
    entry = build_result(job, None)
    entry["status"] = "ERROR"
    entry["message"] = "the Job was deleted before it finished"
    deleted_at = job.get("metadata", {}).get("deletionTimestamp")
    if deleted_at:
        entry["finishedAt"] = deleted_at
    return entry


def run_times(
    status: Mapping[str, Any], new: Sequence[Mapping[str, Any]], active: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """lastRunTime (newest start, active runs included), lastSuccessfulTime and lastFailureTime (newest
    finish of an OK, an ERROR run) after recording the `new` results; a time never seen stays absent."""
    found: dict[str, str] = {}
    for key, times in (
        ("lastRunTime", [r.get("startTime") for r in [*new, *active]]),
        ("lastSuccessfulTime", [_finished(r) for r in new if r["status"] == "OK"]),
        ("lastFailureTime", [_finished(r) for r in new if r["status"] != "OK"]),
    ):
        known = [_utc(t) for t in [status.get(key), *times] if t]
        if known:
            found[key] = max(known)
    return found


def _finished(result: Mapping[str, Any]) -> str | None:
    return result.get("finishedAt") or result.get("startTime")


def _utc(moment: str) -> str:
    """An RFC 3339 time as status writes it (UTC, whole seconds), so that times compare as strings."""
    try:
        return format_time(datetime.fromisoformat(moment))
    except ValueError:
        return moment
