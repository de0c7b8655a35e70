"""kopf wiring only: each handler reads what kopf gives it and calls the modules that do the work."""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, cast

import kopf

from cronflow import metrics, names
from cronflow.automatic import sync as automatic
from cronflow.children.cronjob import Owner
from cronflow.notify.deliver import notify
from cronflow.reconcile import runs
from cronflow.reconcile.scheduledjob import SPEC_HASH_ANNOTATION, reconcile, sync_cronjob_status
from cronflow.settings import OperatorSettings

GROUP, VERSION, PLURAL = names.GROUP, names.VERSION, names.PLURAL
MANAGED = {names.MANAGED_BY_LABEL: names.MANAGED_BY_VALUE}
HASH_INDEXES = ("cronjob_hashes", "watcher_hashes")

_operator = OperatorSettings()  # replaced by configure() before kopf starts
log = logging.getLogger(__name__)


def configure(settings: OperatorSettings) -> None:
    """Take the operator settings before kopf starts."""
    global _operator
    _operator = settings


@kopf.on.startup()
def tune_kopf(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Deliberate kopf settings: few writes of its own, bounded watches and requests."""
    # kopf would post an Event for every handler run; only warnings and errors become Events.
    settings.posting.level = logging.WARNING
    # Its bookkeeping lives in annotations under our prefix; the status schema stays ours alone.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="cronflow.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix="cronflow.dev", key="last-handled-configuration"
    )
    settings.persistence.finalizer = "cronflow.dev/kopf-finalizer"
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 30
    settings.execution.max_workers = 8
    # Per-object workers end soon after their last event: thousands of idle ones cost memory. No
    # worker limit: with one, a restart over more objects than the limit stalled (resume handlers
    # hold their workers while they wait for the indexes to fill).
    settings.queueing.idle_timeout = 0.5


@kopf.index("batch", "v1", "cronjobs", labels=MANAGED, id="cronjob_hashes")
@kopf.index("apps", "v1", "deployments", labels={**MANAGED, names.ROLE_LABEL: names.WATCHER_ROLE}, id="watcher_hashes")
def child_hashes(namespace: str | None, labels: kopf.Labels, annotations: kopf.Annotations, **_: Any) -> Any:
    """Observed spec hash of each owned CronJob / watcher Deployment, by (namespace, ScheduledJob name)."""
    return {(namespace, labels.get(names.SCHEDULEDJOB_LABEL)): annotations.get(SPEC_HASH_ANNOTATION)}


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL)
def reconcile_scheduledjob(
    body: kopf.Body,
    meta: kopf.Meta,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    **kwargs: Any,
) -> None:
    """Create/update/resume: one idempotent reconcile."""
    owner = Owner(name=meta["name"], namespace=meta["namespace"], uid=meta["uid"])
    observed = {index: next(iter(kwargs[index].get((owner.namespace, owner.name), [])), None) for index in HASH_INDEXES}
    with metrics.RECONCILE_SECONDS.time():
        try:
            outcome = reconcile(
                owner=owner,
                generation=meta.get("generation", 0),
                raw_spec=dict(spec),
                status=dict(status),
                observed_hash=observed["cronjob_hashes"],
                job_image=_operator.job_image,
                now=datetime.now(UTC),
                observed_watcher_hash=observed["watcher_hashes"],
            )
        except Exception:
            metrics.RECONCILES.labels(result="error").inc()
            raise
    metrics.RECONCILES.labels(result="invalid" if outcome.invalid else "ok").inc()
    patch.status.update(outcome.status)
    for type_, reason, message in outcome.events:
        kopf.event(body, type=type_, reason=reason, message=message)


@kopf.index("batch", "v1", "jobs", labels=MANAGED)
def jobs_by_scheduledjob(
    namespace: str | None, name: str, labels: kopf.Labels, body: kopf.Body, **_: Any
) -> Any:
    """Each owned Job's name, start and conditions, by (namespace, ScheduledJob name)."""
    return {
        (namespace, labels.get(names.SCHEDULEDJOB_LABEL)): {
            "metadata": {"name": name, "deletionTimestamp": body.metadata.get("deletionTimestamp")},
            "status": {k: body.status.get(k) for k in ("startTime", "conditions")},
        }
    }


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED)
def job_event(type: str, body: kopf.Body, **kwargs: Any) -> None:
    """A Job changed: keep its finalizer, record its result once it finished, update the active runs."""
    jobs_by_scheduledjob: kopf.Index[tuple[str, str], dict[str, Any]] = kwargs["jobs_by_scheduledjob"]
    if type == "DELETED":
        return
    job = dict(body)
    key = (body.metadata.namespace or "", body.metadata.labels.get(names.SCHEDULEDJOB_LABEL, ""))
    outcome = runs.sync_job(job, list(jobs_by_scheduledjob.get(key, [])))
    if outcome.scheduledjob is not None:
        for type_, reason, message in outcome.events:
            kopf.event(cast(kopf.Body, outcome.scheduledjob), type=type_, reason=reason, message=message)
        if outcome.result is not None:
            metrics.RUNS.labels(trigger=outcome.result["trigger"], status=outcome.result["status"]).inc()
            notify(outcome.scheduledjob, outcome.result, _operator)


@kopf.on.event("batch", "v1", "cronjobs", labels=MANAGED)
def cronjob_event(type: str, body: kopf.Body, **_: Any) -> None:
    """A CronJob changed (a run started or ended): last and next schedule times in the status."""
    # A CronJob that never ran has nothing to add: the reconcile that made it wrote the status.
    if type != "DELETED" and body.status.get("lastScheduleTime"):
        sync_cronjob_status(dict(body), datetime.now(UTC))


@kopf.daemon(
    GROUP, VERSION, PLURAL,
    when=lambda spec, **_: automatic.active(spec),
    cancellation_backoff=5,  # a pass in progress may finish (it is bounded by its request timeouts)
    cancellation_timeout=5,
)
async def automatic_mode(meta: kopf.Meta, spec: kopf.Spec, stopped: kopf.DaemonStopped, **_: Any) -> None:
    """While a ScheduledJob's watcher is active: one automatic sync pass every pollSeconds.

    A daemon rather than a timer: its interval follows spec.automatic.pollSeconds as it changes (kopf
    keeps `spec` live), kopf stops it when the filter stops matching or the object goes, and being
    async it holds no worker thread between passes. Like timers, daemons make kopf put its finalizer
    on the ScheduledJobs they run for; the filter keeps it off everything that is not automatic.
    """
    while not stopped:
        try:
            await asyncio.to_thread(
                automatic.sync_automatic, meta["namespace"], meta["name"], _operator.job_image, datetime.now(UTC)
            )
        except Exception as error:  # a failed pass (API, watcher unreachable) is retried at the next one
            # Not kopf's object logger: that would post an Event for every failed pass.
            log.warning("automatic mode of %s/%s: %s", meta["namespace"], meta["name"], error)
        await stopped.wait(automatic.poll_seconds(spec))
