"""One idempotent pass of automatic mode: the watcher's claims -> one Job each -> the file moved on.

Steps (each pass reads current state only, so a restart of the operator or the watcher resumes):
1. load the ScheduledJob; stop unless its watcher is active (enabled, automatic.enabled);
2. find the watcher pod; when it cannot run, set Ready=False (WatcherUnavailable) and post one Event;
3. GET /state from the watcher; for each claim (a file in processing/):
   - its result is in status.results, or its Job finished and was recorded -> POST /complete;
   - its Job exists -> wait; else create it (named by the claim id: a second create is a 409);
4. write status.automatic (and Ready back to True after WatcherUnavailable) only when it changed.
A result counts as recorded by status.results or the Job's recorded annotation (reconcile/runs.py); a
Job deleted (TTL: an hour after it finished) whose result was also pushed out of status.results before
its file was completed would run again: only possible when the watcher was down for that long.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from kubernetes.client.exceptions import ApiException

from cronflow import kube, names
from cronflow.api.models import InvalidSpec, parse_spec
from cronflow.automatic.client import Claim, WatcherClient, WatcherState
from cronflow.children.cronjob import Owner, build_file_job, child_labels
from cronflow.children.watcher import watcher_active, watcher_labels, watcher_token
from cronflow.reconcile.runs import RECORDED_ANNOTATION
from cronflow.results import job_finished
from cronflow.status import READY_MESSAGE, READY_REASON, set_condition, status_patch

WATCHER_UNAVAILABLE = "WatcherUnavailable"
NOT_READY_GRACE = timedelta(seconds=60)
"""A running watcher that fails its readiness probe for longer than this is reported."""
_STARTING = frozenset({"ContainerCreating", "PodInitializing"})
_SAME_WAIT = {"ErrImagePull": "ImagePullBackOff"}  # alternating reasons of one problem: report one


@dataclass(frozen=True)
class Availability:
    """The watcher pod: its IP when ready, a problem to report, or neither (still starting)."""

    pod_ip: str | None = None
    problem: str | None = None


@dataclass
class ClaimPlan:
    """What to do about the claims of one /state answer."""

    create: list[Claim] = field(default_factory=list)
    complete: list[tuple[Claim, Literal["OK", "ERROR"]]] = field(default_factory=list)


def active(raw_spec: Mapping[str, Any]) -> bool:
    """The raw-spec test of `watcher_active` (for kopf filters: no validation, no exception)."""
    automatic = raw_spec.get("automatic") or {}
    return bool(raw_spec.get("enabled", True) and automatic.get("enabled") and automatic.get("volume"))


def poll_seconds(raw_spec: Mapping[str, Any]) -> float:
    """How often to sync: the watcher's own poll interval."""
    return float((raw_spec.get("automatic") or {}).get("pollSeconds") or 10)


def watcher_availability(
    deployment: Mapping[str, Any] | None, pods: Sequence[Mapping[str, Any]], now: datetime
) -> Availability:
    """Ready (pod IP), a problem that will not pass by itself (message), or starting (neither)."""
    if deployment is None:
        return Availability()
    for condition in (deployment.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            return Availability(problem=f"the watcher pod cannot be created: {condition.get('message', '')}")
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    if not live:
        return Availability()
    pod = max(live, key=lambda p: p["metadata"].get("creationTimestamp", ""))
    status = pod.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    scheduled = conditions.get("PodScheduled") or {}
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return Availability(problem=f"the watcher pod cannot be scheduled: {scheduled.get('message', '')}")
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting and waiting.get("reason") not in _STARTING:
            return Availability(problem=f"the watcher container cannot run: {_waiting_reason(container, waiting)}")
        started = ((container.get("state") or {}).get("running") or {}).get("startedAt")
        if not container.get("ready") and started and now - _parse_time(started) > NOT_READY_GRACE:
            return Availability(problem="the watcher does not answer its readiness probe (GET /healthz)")
    if (conditions.get("Ready") or {}).get("status") == "True" and status.get("podIP"):
        return Availability(pod_ip=status["podIP"])
    return Availability()


def _waiting_reason(container: Mapping[str, Any], waiting: Mapping[str, Any]) -> str:
    """A stable description (no back-off timers, which would change the condition at every retry)."""
    reason = str(waiting.get("reason") or "Waiting")
    reason = _SAME_WAIT.get(reason, reason)
    if reason.startswith("CreateContainer"):
        return f"{reason}: {waiting.get('message', '')}"
    terminated = (container.get("lastState") or {}).get("terminated")
    if terminated:
        return f"{reason} (last exit code {terminated.get('exitCode')}, {terminated.get('reason', 'Error')})"
    return reason


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def plan_claims(
    sj_name: str,
    claims: Sequence[Claim],
    jobs: Mapping[str, Mapping[str, Any]],
    results: Sequence[Mapping[str, Any]],
) -> ClaimPlan:
    """For each claim: complete it (its run is recorded), create its Job (none yet), or wait."""
    recorded = {str(r.get("job")): r.get("status") for r in results}
    plan = ClaimPlan()
    for claim in claims:
        job_name = names.file_job_name(sj_name, claim.claim_id)
        job = jobs.get(job_name)
        if job_name in recorded:
            plan.complete.append((claim, "OK" if recorded[job_name] == "OK" else "ERROR"))
        elif job is None:
            plan.create.append(claim)
        elif (job["metadata"].get("annotations") or {}).get(RECORDED_ANNOTATION) == "true" and job_finished(job):
            plan.complete.append((claim, "OK" if job_finished(job) == "Complete" else "ERROR"))
    return plan


def automatic_status(state: WatcherState) -> dict[str, Any]:
    """status.automatic from a /state answer."""
    document: dict[str, Any] = {
        "pending": state.pending,
        "processing": len(state.processing),
        "done": state.done,
        "failed": state.failed,
    }
    if state.last_file is not None:
        document["lastFile"] = state.last_file
    return document


def sync_automatic(namespace: str, name: str, job_image: str, now: datetime) -> None:
    """One pass for one ScheduledJob (see the module docstring); writes only what changed."""
    sj = kube.get_scheduledjob(namespace, name)
    if sj is None or sj["metadata"].get("deletionTimestamp"):
        return
    try:
        spec = parse_spec(sj.get("spec") or {})
    except InvalidSpec:
        return  # the reconcile reports it
    if not watcher_active(spec):
        return
    owner = Owner(name=name, namespace=namespace, uid=sj["metadata"]["uid"])
    status = sj.get("status") or {}
    conditions = list(status.get("conditions") or [])
    deployment = kube.get_deployment(namespace, names.watcher_name(name))
    pods = kube.list_pods(namespace, _selector(watcher_labels(owner)))
    availability = watcher_availability(deployment, pods, now)
    token = watcher_token(deployment)
    if availability.problem is not None:
        unavailable = set_condition(conditions, "Ready", "False", WATCHER_UNAVAILABLE, availability.problem, now)
        _write_status(sj, {"conditions": unavailable}, warning=availability.problem)
        return
    if availability.pod_ip is None or token is None:
        return

    watcher = WatcherClient(availability.pod_ip, token)
    state = watcher.state()
    jobs = {j["metadata"]["name"]: j for j in kube.list_jobs(namespace, _selector(child_labels(owner)))}
    plan = plan_claims(name, state.processing, jobs, status.get("results") or [])
    for claim in plan.create:
        job = build_file_job(owner, spec, job_image, claim.file, claim.claim_id)
        if kube.create_job(job):
            message = f"Job {job['metadata']['name']} created for file {claim.file}"
            kube.post_event(sj, "Normal", "FileClaimed", message)
    for claim, result in plan.complete:
        watcher.complete(claim, result)
    if plan.complete:
        state = watcher.state()

    if any(c.get("type") == "Ready" and c.get("reason") == WATCHER_UNAVAILABLE for c in conditions):
        conditions = set_condition(conditions, "Ready", "True", READY_REASON, READY_MESSAGE, now)
    _write_status(sj, {"automatic": automatic_status(state), "conditions": conditions})


def _write_status(sj: Mapping[str, Any], desired: Mapping[str, Any], warning: str | None = None) -> None:
    """Patch what differs; post `warning` as an Event only with a write (so once per change)."""
    changes = status_patch(sj.get("status") or {}, desired)
    if not changes:
        return
    try:
        kube.patch_scheduledjob_status(sj, changes)
    except ApiException as error:
        if error.status == 409:
            return  # changed meanwhile: the next pass computes it again
        raise
    if warning is not None:
        kube.post_event(sj, "Warning", WATCHER_UNAVAILABLE, warning)


def _selector(labels: Mapping[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in labels.items())
