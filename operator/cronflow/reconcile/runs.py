"""Pure: a ScheduledJob's Jobs -> what to record and which finalizers to add or remove.

Every run is recorded exactly once: a live Job carries the result finalizer, a finished (or deleted)
Job's result goes into the status, and only after that write is the finalizer removed and the Job
annotated as recorded. A Job whose name is in status.results already is never recorded twice, so a
pass that failed halfway is simply run again. Jobs of another owner (an earlier ScheduledJob of the
same name) are released without being recorded.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cronflow import names
from cronflow.children.cronjob import controller_uid
from cronflow.results import build_result, deleted_result, is_recorded, job_finished

KEEP_SCHEDULED_JOBS = 3
"""Recorded scheduled Jobs kept (for `kubectl logs`); older ones are deleted by the operator, since the
CronJob's own history limits are set high so that no unrecorded Job is ever removed by it."""


@dataclass
class RunsPlan:
    """The outcome of looking at a ScheduledJob's Jobs."""

    results: list[dict[str, Any]] = field(default_factory=list)
    """New results, oldest first."""
    hold: list[Mapping[str, Any]] = field(default_factory=list)
    """Live Jobs that still need the result finalizer."""
    release: list[Mapping[str, Any]] = field(default_factory=list)
    """Jobs to mark recorded and free of the finalizer, after the status write."""
    delete: list[str] = field(default_factory=list)
    """Recorded scheduled Jobs beyond KEEP_SCHEDULED_JOBS."""
    active: list[dict[str, Any]] = field(default_factory=list)


def plan_runs(
    owners: set[str],
    jobs: Sequence[Mapping[str, Any]],
    recorded: Sequence[Mapping[str, Any]],
    pod_of: Callable[[str], Mapping[str, Any] | None],
) -> RunsPlan:
    """Decide for each Job; `owners` are the uids of the ScheduledJob and its CronJob."""
    plan = RunsPlan()
    scheduled_done: list[Mapping[str, Any]] = []
    for job in sorted(jobs, key=_start):
        meta = job["metadata"]
        finalizers = meta.get("finalizers") or []
        held = names.RESULT_FINALIZER in finalizers
        if controller_uid(job) not in owners:
            if held:
                plan.release.append(job)
            continue
        done = (meta.get("annotations") or {}).get(names.RECORDED_ANNOTATION) == "true"
        finished = job_finished(job) is not None
        deleting = bool(meta.get("deletionTimestamp"))
        if not done and (finished or (deleting and held)):
            if not is_recorded(recorded, meta["name"]):
                plan.results.append(build_result(job, pod_of(meta["name"])) if finished else deleted_result(job))
            plan.release.append(job)
            done = True
        elif done and held:
            plan.release.append(job)
        elif not done and not deleting and not held:
            plan.hold.append(job)
        if not finished and not deleting:
            run = {"name": meta["name"], "startTime": (job.get("status") or {}).get("startTime")}
            plan.active.append({k: v for k, v in run.items() if v})
        if done and finished and not deleting and _trigger(job) == "Schedule":
            scheduled_done.append(job)
    plan.delete = [j["metadata"]["name"] for j in scheduled_done[:-KEEP_SCHEDULED_JOBS]]
    return plan


def _start(job: Mapping[str, Any]) -> str:
    return str((job.get("status") or {}).get("startTime") or job["metadata"].get("creationTimestamp") or "")


def _trigger(job: Mapping[str, Any]) -> str:
    return str((job["metadata"].get("annotations") or {}).get(names.TRIGGER_ANNOTATION, "Schedule"))
