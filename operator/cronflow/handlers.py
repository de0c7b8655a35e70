"""kopf wiring only: indexes as the watch caches, events that queue their ScheduledJob, the controller's start.

No kopf change handlers (create/update/resume): they would keep a diff base in an annotation (one more
write per object) and run only when the ScheduledJob changes. Every event here, of the ScheduledJob or
of a child, DELETED included, queues one level-triggered pass (controller.py).

The watches and indexes run in every operator; the passes (every write) only in the one that holds the
leader-election Lease (leader.py), so that two operators started for the same namespaces never both act.
"""

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import kopf

from cronflow import health, kube, leader, names
from cronflow.controller import Controller, Indexes, owner_key
from cronflow.notify.deliver import notify
from cronflow.settings import OperatorSettings

GROUP, VERSION, PLURAL = names.GROUP, names.VERSION, names.PLURAL
MANAGED = {names.MANAGED_BY_LABEL: names.MANAGED_BY_VALUE}
WATCHERS = {**MANAGED, names.ROLE_LABEL: names.WATCHER_ROLE}
_META = ("name", "namespace", "uid", "generation", "resourceVersion", "creationTimestamp", "deletionTimestamp",
         "labels", "annotations", "ownerReferences", "finalizers")

_operator = OperatorSettings()  # replaced by configure() before kopf starts
_controller: Controller | None = None
_elector: leader.Elector | None = None
_tasks: list[asyncio.Task[None]] = []


def configure(settings: OperatorSettings) -> None:
    """Take the operator settings before kopf starts."""
    global _operator
    _operator = settings


def _cached(body: kopf.Body, status_keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """What the caches keep of an object: its metadata, spec and (some of its) status."""
    meta = {key: body.metadata[key] for key in _META if key in body.metadata}
    status = dict(body.status) if status_keys is None else {k: body.status[k] for k in status_keys if k in body.status}
    return {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"), "metadata": meta,
            "spec": dict(body.spec), "status": status}


@kopf.index(GROUP, VERSION, PLURAL, id="scheduledjobs")
def scheduledjob_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
    return {(namespace, name): _cached(body)}


@kopf.index("batch", "v1", "cronjobs", labels=MANAGED, id="cronjobs")
def cronjob_index(namespace: str | None, labels: kopf.Labels, body: kopf.Body, **_: Any) -> Any:
    return {owner_key(namespace, labels): _cached(body, ("lastScheduleTime",))}


@kopf.index("apps", "v1", "deployments", labels=WATCHERS, id="watchers")
def watcher_index(namespace: str | None, labels: kopf.Labels, body: kopf.Body, **_: Any) -> Any:
    return {owner_key(namespace, labels): _cached(body)}


@kopf.index("batch", "v1", "jobs", labels=MANAGED, id="jobs")
def job_index(namespace: str | None, labels: kopf.Labels, body: kopf.Body, **_: Any) -> Any:
    cached = _cached(body, ("startTime", "completionTime", "conditions"))
    del cached["spec"]  # not needed to record a run
    return {owner_key(namespace, labels): cached}


@kopf.on.event(GROUP, VERSION, PLURAL)
async def scheduledjob_event(namespace: str | None, name: str, **_: Any) -> None:
    _queue((namespace or "", name))


@kopf.on.event("batch", "v1", "cronjobs", labels=MANAGED)
@kopf.on.event("apps", "v1", "deployments", labels=WATCHERS)
@kopf.on.event("batch", "v1", "jobs", labels=MANAGED)
async def child_event(namespace: str | None, labels: kopf.Labels, **_: Any) -> None:
    _queue(owner_key(namespace, labels))


def _queue(key: tuple[str, str]) -> None:
    assert _controller is not None, "the controller starts before any handler runs"
    _controller.add(key)


def _notify(sj: Mapping[str, Any], result: Mapping[str, Any], done: Callable[[], None]) -> None:
    notify(sj, result, _operator, done)


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, **indexes: Any) -> None:
    """Deliberate kopf settings (it writes nothing of its own), then the controller's workers, the
    leader election (the workers run passes only while this operator holds the lease) and the
    readiness endpoint."""
    global _controller, _elector
    # kopf would post an Event for every handler run; only warnings and errors become Events.
    settings.posting.level = logging.WARNING
    # Earlier versions ran kopf daemons, which put this finalizer on automatic ScheduledJobs; with its
    # name set, kopf removes it from them (no handler here needs one).
    settings.persistence.finalizer = names.KOPF_FINALIZER
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 30
    # Per-object workers end soon after their last event: thousands of idle ones cost memory.
    settings.queueing.idle_timeout = 0.5
    _controller = Controller(kube.KubeWriter(), _operator.job_image, _notify, leading=False)
    observed = Indexes(indexes["scheduledjobs"], indexes["cronjobs"], indexes["watchers"], indexes["jobs"])
    _tasks.append(asyncio.create_task(_controller.run(observed), name="cronflow-controller"))
    _elector = leader.Elector(
        kube.KubeLeases(),
        leader.lease_namespace(_operator.lease_namespace, os.environ.get("POD_NAMESPACE", ""), _operator.namespaces),
        leader.lease_name(_operator.namespaces),
        leader.new_identity(os.environ.get("POD_NAME", "")),
        _controller.set_leading,
        watched=_operator.namespaces,
    )
    _tasks.append(asyncio.create_task(_elector.run(), name="cronflow-leader-election"))
    if _operator.readiness_port:
        readiness = health.Readiness(health.watch_lists(_operator.namespaces), controller_running=True,
                                     election=_elector.readiness)
        _tasks.append(asyncio.create_task(health.serve(readiness, _operator.readiness_port), name="cronflow-readyz"))


@kopf.on.cleanup()
async def stop(**_: Any) -> None:
    """Stop the controller's workers (a pass in its thread finishes on its own), the leader election
    (giving up the lease, so that another operator takes over at once) and the readiness endpoint."""
    for task in _tasks:
        task.cancel()
    if _elector is not None:
        await asyncio.to_thread(_elector.release)
