"""Pure decisions of automatic mode: is the watcher pod usable, and what to do about each claim.

A result counts as recorded by status.results or the Job's recorded annotation; a Job deleted (TTL: an
hour after it finished) whose result was also pushed out of status.results before its file was
completed would run again: only possible when the watcher was down for that long.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from cronflow import names
from cronflow.children.cronjob import controller_uid
from cronflow.results import job_finished

NOT_READY_GRACE = timedelta(seconds=60)
"""A running watcher that fails its readiness probe for longer than this is reported."""
_STARTING = frozenset({"ContainerCreating", "PodInitializing"})
_SAME_WAIT = {"ErrImagePull": "ImagePullBackOff"}  # alternating reasons of one problem: report one


@dataclass(frozen=True)
class Claim:
    """A file in the watcher's processing/ directory; the claim id names its one Job."""

    file: str
    claim_id: str


@dataclass(frozen=True)
class WatcherState:
    """What GET /state reports."""

    processing: list[Claim]
    pending: int
    done: int
    failed: int
    last_file: str | None


class WatcherError(Exception):
    """The watcher did not answer as its API says (message without the token)."""


class WatcherApi(Protocol):
    """A watcher's HTTP API (automatic/client.py in production)."""

    def state(self) -> WatcherState:
        """The claims and file counts."""

    def complete(self, claim: Claim, status: Literal["OK", "ERROR"]) -> None:
        """Move a claimed file to done/ or failed/."""


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


def owned_pods(
    deployment: Mapping[str, Any] | None, replicasets: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The pods whose owner chain (pod -> ReplicaSet -> Deployment) leads to `deployment`: labels alone
    would let a look-alike pod receive the watcher's token."""
    if deployment is None:
        return []
    uid = deployment["metadata"].get("uid")
    sets = {rs["metadata"]["uid"] for rs in replicasets if controller_uid(rs) == uid}
    return [pod for pod in pods if controller_uid(pod) in sets]


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
        return Availability(problem=_unschedulable(pod, str(scheduled.get("message") or "")))
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


_DANGLING_NOT_FOUND = re.compile(r"\.\s*not found\.?$")
"""kube-scheduler's message for a claim that does not exist ends in a bare "... PersistentVolumeClaims. not found"."""


def _unschedulable(pod: Mapping[str, Any], message: str) -> str:
    """The scheduler's message, and which claim to look at when it is about the pod's claims."""
    text = " ".join(message.split())
    volumes = (pod.get("spec") or {}).get("volumes") or []
    claims = [v["persistentVolumeClaim"].get("claimName", "") for v in volumes if v.get("persistentVolumeClaim")]
    namespace = pod["metadata"].get("namespace", "")
    hint = ""
    if claims and _DANGLING_NOT_FOUND.search(text):
        text = _DANGLING_NOT_FOUND.sub(".", text)
        hint = f" (PersistentVolumeClaim {', '.join(claims)} not found in namespace {namespace})"
    elif claims and "persistentvolumeclaim" in text.lower():
        hint = f" (PersistentVolumeClaim {', '.join(claims)} must exist in namespace {namespace} and be Bound)"
    return f"the watcher pod cannot be scheduled: {text}{hint}"


_MAX_SAID = 512
"""How much of the watcher's termination message (why it stopped) the Ready message quotes."""


def _waiting_reason(container: Mapping[str, Any], waiting: Mapping[str, Any]) -> str:
    """A stable description (no back-off timers, which would change the condition at every retry)."""
    reason = str(waiting.get("reason") or "Waiting")
    reason = _SAME_WAIT.get(reason, reason)
    if reason.startswith("CreateContainer"):
        return f"{reason}: {waiting.get('message', '')}"
    terminated = (container.get("lastState") or {}).get("terminated")
    if terminated:
        said = " ".join(str(terminated.get("message") or "").split())[:_MAX_SAID]
        last = f"last exit code {terminated.get('exitCode')}, {terminated.get('reason', 'Error')}"
        return f"{reason} ({last}): {said}" if said else f"{reason} ({last})"
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
        elif (job["metadata"].get("annotations") or {}).get(names.RECORDED_ANNOTATION) == "true" and job_finished(job):
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
