"""Runs: keep the result finalizer on live Jobs, record each finished Job exactly once, track active runs.

A Job is recorded when its result is in the ScheduledJob status; then it is annotated as recorded and
its finalizer removed. Both checks (the annotation, the job name in status.results) make a second
pass after a crash or restart a no-op. Status writes carry the resourceVersion they were computed
from, so two Jobs finishing at once cannot overwrite each other's result (409 -> retry).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from cronflow import kube, names
from cronflow.results import add_result, build_result, is_recorded, job_finished
from cronflow.status import status_patch

RECORDED_ANNOTATION = f"{names.GROUP}/recorded"
DEFAULT_HISTORY_LIMIT = 10
CONFLICT_RETRIES = 5


@dataclass
class RunOutcome:
    """What happened to one Job: the recorded result (if any) and Events for its ScheduledJob."""

    scheduledjob: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)


def active_runs(jobs: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """status.active from a ScheduledJob's Jobs: those not finished, oldest first."""
    runs = [
        {"name": j["metadata"]["name"], "startTime": j.get("status", {}).get("startTime")}
        for j in jobs
        if not job_finished(j) and not j["metadata"].get("deletionTimestamp")
    ]
    return sorted((({k: v for k, v in r.items() if v}) for r in runs), key=lambda r: r.get("startTime", ""))


def sync_job(job: Mapping[str, Any], sibling_jobs: list[Mapping[str, Any]]) -> RunOutcome:
    """Sync one Job; on a write conflict (someone changed it or its ScheduledJob) read again and redo."""
    for _ in range(CONFLICT_RETRIES):
        try:
            return _sync_once(job, sibling_jobs)
        except ApiException as error:
            if error.status != 409:
                raise
            fresh = kube.get_job(job["metadata"]["namespace"], job["metadata"]["name"])
            if fresh is None:
                return RunOutcome()
            job = fresh
    return _sync_once(job, sibling_jobs)


def _sync_once(job: Mapping[str, Any], sibling_jobs: list[Mapping[str, Any]]) -> RunOutcome:
    """One pass over a Job: finalizer, result, active list. Writes only what changed."""
    meta = job["metadata"]
    namespace, job_name = meta["namespace"], meta["name"]
    sj_name = (meta.get("labels") or {}).get(names.SCHEDULEDJOB_LABEL)
    finalizers = list(meta.get("finalizers") or [])
    recorded = (meta.get("annotations") or {}).get(RECORDED_ANNOTATION) == "true"
    sj = kube.get_scheduledjob(namespace, sj_name) if sj_name else None
    outcome = RunOutcome(scheduledjob=sj)
    finished = job_finished(job)

    if sj is None or sj["metadata"].get("deletionTimestamp"):
        # Nobody to record for: never hold the Job back.
        if names.RESULT_FINALIZER in finalizers:
            kube.patch_job_metadata(job, finalizers=[f for f in finalizers if f != names.RESULT_FINALIZER])
        return outcome

    if not finished:
        if names.RESULT_FINALIZER not in finalizers and not meta.get("deletionTimestamp") and not recorded:
            kube.patch_job_metadata(job, finalizers=[*finalizers, names.RESULT_FINALIZER])
    elif not recorded:
        status = sj.get("status") or {}
        if not is_recorded(status.get("results") or [], job_name):
            outcome.result = build_result(job, kube.job_pod(namespace, job_name))
            counter = "succeeded" if outcome.result["status"] == "OK" else "failed"
            limit = (sj.get("spec") or {}).get("historyLimit") or DEFAULT_HISTORY_LIMIT
            changes = {
                "results": add_result(status.get("results") or [], outcome.result, limit),
                counter: int(status.get(counter) or 0) + 1,
                "active": active_runs([j for j in sibling_jobs if j["metadata"]["name"] != job_name]),
            }
            kube.patch_scheduledjob_status(sj, changes)
            outcome.events.append(_run_event(outcome.result))
            sj = None  # status changed; the active list below is already part of that write
        kube.patch_job_metadata(
            job,
            finalizers=[f for f in finalizers if f != names.RESULT_FINALIZER],
            annotations={RECORDED_ANNOTATION: "true"},
        )

    if sj is not None:
        desired = {"active": active_runs(sibling_jobs)}
        changes = status_patch(sj.get("status") or {}, desired)
        if changes:
            kube.patch_scheduledjob_status(sj, changes)
    return outcome


def _run_event(result: Mapping[str, Any]) -> tuple[str, str, str]:
    http = (result.get("httpResult") or {}).get("status")
    detail = f"HTTP {http}" if http else result.get("message", "")
    if result["status"] == "OK":
        return ("Normal", "RunSucceeded", f"Job {result['job']} ({result['trigger']}): {detail}")
    return ("Warning", "RunFailed", f"Job {result['job']} ({result['trigger']}): {detail}")
