"""Reconcile one ScheduledJob: desired CronJob and watcher vs observed, trigger, the smallest status patch.

Steps (the only writes are in steps 2 to 4; a pass over an unchanged object writes nothing):
1. parse the spec (what slipped past the schema -> Ready=False with the reason);
2. apply the CronJob when its spec hash differs from the observed one;
3. automatic mode: apply the watcher Deployment the same way (scaled to 0 while paused), delete it
   when spec.automatic no longer names a volume;
4. create the one Job of a new trigger token (idempotent by name);
5. compute the status and return only what differs.
"""

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cronflow import kube, names
from cronflow.api.models import InvalidSpec, ScheduledJobSpec, parse_spec
from cronflow.automatic.sync import WATCHER_UNAVAILABLE
from cronflow.children.cronjob import Owner, build_cronjob, build_trigger_job
from cronflow.children.watcher import build_watcher, has_watcher, watcher_active, watcher_token
from cronflow.schedule import format_time, next_run_time
from cronflow.status import READY_MESSAGE, READY_REASON, set_condition, status_patch

SPEC_HASH_ANNOTATION = "cronflow.dev/spec-hash"


@dataclass
class Outcome:
    """What a reconcile pass wants written to the status, and the Events to post."""

    status: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    invalid: bool = False


def spec_hash(manifest: Mapping[str, Any]) -> str:
    """A stable hash of a manifest's spec, kept as an annotation to detect drift without a diff."""
    return hashlib.sha256(json.dumps(manifest["spec"], sort_keys=True).encode()).hexdigest()[:16]


def watcher_hash(owner: Owner, spec: ScheduledJobSpec, job_image: str) -> str:
    """The watcher Deployment's spec hash, without the API token (made once, then read back from it)."""
    return spec_hash(build_watcher(owner, spec, job_image, token=""))


def reconcile(
    owner: Owner,
    generation: int,
    raw_spec: Mapping[str, Any],
    status: Mapping[str, Any],
    observed_hash: str | None,
    job_image: str,
    now: datetime,
    observed_watcher_hash: str | None = None,
) -> Outcome:
    """One idempotent pass over a ScheduledJob; returns the status patch and Events."""
    outcome = Outcome()
    conditions = list(status.get("conditions") or [])
    try:
        spec = parse_spec(raw_spec)
    except InvalidSpec as error:
        message = str(error)
        desired = {
            "observedGeneration": generation,
            "conditions": set_condition(conditions, "Ready", "False", "InvalidSpec", message, now),
        }
        outcome.status = status_patch(status, desired)
        outcome.invalid = True
        if outcome.status:
            outcome.events.append(("Warning", "InvalidSpec", message))
        return outcome

    cronjob = build_cronjob(owner, spec, job_image)
    digest = spec_hash(cronjob)
    cronjob["metadata"].setdefault("annotations", {})[SPEC_HASH_ANNOTATION] = digest
    if observed_hash != digest:
        kube.apply(cronjob)
        if observed_hash:  # a creation shows in the status already; an Event would be one more write each
            outcome.events.append(("Normal", "Applied", f"CronJob {cronjob['metadata']['name']} updated"))
    outcome.events.extend(_sync_watcher(owner, spec, job_image, observed_watcher_hash))

    last_trigger = status.get("lastTrigger")
    if spec.trigger and spec.trigger != last_trigger:
        job = build_trigger_job(owner, spec, job_image, spec.trigger)
        created = kube.create_job(job)
        if created:
            outcome.events.append(("Normal", "Triggered", f"Job {job['metadata']['name']} created"))
        last_trigger = spec.trigger

    watcher_down = any(c.get("type") == "Ready" and c.get("reason") == WATCHER_UNAVAILABLE for c in conditions)
    if not (watcher_down and watcher_active(spec)):  # else the automatic sync says when it is back
        conditions = set_condition(conditions, "Ready", "True", READY_REASON, READY_MESSAGE, now)
    desired = {
        **schedule_status(spec, now),
        "observedGeneration": generation,
        "cronJobName": names.cronjob_name(owner.name),
        "lastTrigger": last_trigger,
        "conditions": conditions,
    }
    if not has_watcher(spec):
        desired["automatic"] = None  # the watcher's counts are gone with it
    outcome.status = status_patch(status, desired)
    return outcome


def _sync_watcher(
    owner: Owner, spec: ScheduledJobSpec, job_image: str, observed_hash: str | None
) -> list[tuple[str, str, str]]:
    """Apply the watcher Deployment when its spec hash differs, or delete it when it is no longer wanted."""
    name = names.watcher_name(owner.name)
    if not has_watcher(spec):
        if observed_hash is None:
            return []
        kube.delete_deployment(owner.namespace, name)
        return [("Normal", "Deleted", f"Deployment {name} deleted (automatic mode has no volume)")]
    digest = watcher_hash(owner, spec, job_image)
    if observed_hash == digest:
        return []
    token = watcher_token(kube.get_deployment(owner.namespace, name)) or secrets.token_urlsafe(32)
    watcher = build_watcher(owner, spec, job_image, token)
    watcher["metadata"]["annotations"] = {SPEC_HASH_ANNOTATION: digest}
    kube.apply(watcher)
    return [("Normal", "Applied", f"Deployment {name} {'updated' if observed_hash else 'created'}")]


def schedule_status(spec: ScheduledJobSpec, now: datetime) -> dict[str, Any]:
    """The status fields that follow from the spec and the clock alone."""
    automatic = bool(spec.automatic and spec.automatic.enabled)
    scheduled = spec.enabled and not automatic
    return {
        "state": "ENABLED" if spec.enabled else "DISABLED",
        "mode": "Automatic" if automatic else "Schedule",
        "nextScheduleTime": format_time(next_run_time(spec.schedule, spec.time_zone, now)) if scheduled else None,
    }


def sync_cronjob_status(cronjob: Mapping[str, Any], now: datetime) -> None:
    """After a CronJob changed (a run started or ended): lastScheduleTime and the next run in the status."""
    labels = cronjob["metadata"].get("labels") or {}

    def changes(sj: Mapping[str, Any]) -> dict[str, Any]:
        try:
            spec = parse_spec(sj.get("spec") or {})
        except InvalidSpec:
            return {}
        desired = {
            **schedule_status(spec, now),
            "lastScheduleTime": (cronjob.get("status") or {}).get("lastScheduleTime"),
        }
        return status_patch(sj.get("status") or {}, desired)

    kube.update_scheduledjob_status(
        cronjob["metadata"]["namespace"], labels.get(names.SCHEDULEDJOB_LABEL, ""), changes
    )
