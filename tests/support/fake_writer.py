"""The one fake of reconcile's `Writer`: an in-memory world that takes writes as the API server would.

Writes change the world (an apply stores the manifest, a status patch merges and bumps the
resourceVersion, a Job patch sets its finalizers), so a second pass over `observed()` shows whether
reconcile converges and then writes nothing. `fail` makes a call raise an ApiError once per write.
"""

import base64
import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cronflow import names
from cronflow.automatic.plan import Claim, WatcherError, WatcherState
from cronflow.reconcile.scheduledjob import Observed
from cronflow.reconcile.writer import ApiError

_uids = itertools.count(1)


def uid() -> str:
    """A fresh object uid."""
    return f"00000000-0000-0000-0000-{next(_uids):012d}"


@dataclass
class FakeWatcher:
    """A watcher's API: its claims, or an error for every call while `down`."""

    claims: list[Claim] = field(default_factory=list)
    down: bool = False
    completed: list[tuple[str, str]] = field(default_factory=list)

    def state(self) -> WatcherState:
        if self.down:
            raise WatcherError("GET http://10.0.0.9:8080/state failed: ConnectTimeout")
        return WatcherState(processing=list(self.claims), pending=0, done=len(self.completed), failed=0,
                            last_file=self.claims[-1].file if self.claims else None)

    def complete(self, claim: Claim, status: Literal["OK", "ERROR"]) -> None:
        self.claims.remove(claim)
        self.completed.append((claim.file, status))


@dataclass
class FakeWriter:
    """World + call log. `writes` lists every write as 'verb kind/name'; `events` every Event."""

    sj: dict[str, Any]
    cronjob: dict[str, Any] | None = None
    watcher_deployment: dict[str, Any] | None = None
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    """Secret name -> its labels."""
    owned_secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Secrets the operator made (the watcher's token), as created."""
    replicasets: list[dict[str, Any]] = field(default_factory=list)
    watcher_pods: list[dict[str, Any]] = field(default_factory=list)
    watcher_api: FakeWatcher = field(default_factory=FakeWatcher)
    fail: dict[str, ApiError] = field(default_factory=dict)
    """'apply CronJob', 'create Job', 'patch status', 'patch Job', 'delete Job' -> the error it raises."""
    writes: list[str] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)
    status_patches: list[dict[str, Any]] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)
    """Results handed to `record` the first time (reconcile's on_recorded)."""
    sent: list[str] = field(default_factory=list)
    """Jobs whose notifications `record` was asked to send (again after a restart)."""
    deliver_later: bool = False
    """Keep the notifications' `done` callbacks in `undelivered` instead of calling them at once."""
    undelivered: list[Callable[[], None]] = field(default_factory=list)

    def record(self, sj: Mapping[str, Any], result: Mapping[str, Any], done: Callable[[], None], first: bool) -> None:
        """Reconcile's on_recorded: keep the result; deliver at once unless `deliver_later`."""
        if first:
            self.recorded.append(dict(result))
        self.sent.append(str(result["job"]))
        if self.deliver_later:
            self.undelivered.append(done)
        else:
            done()

    def observed(self) -> Observed:
        """The world as the watch caches would show it now."""
        return Observed(
            scheduledjob=copy.deepcopy(self.sj),
            cronjob=copy.deepcopy(self.cronjob),
            watcher=copy.deepcopy(self.watcher_deployment),
            jobs=[copy.deepcopy(j) for j in self.jobs.values()],
        )

    def _write(self, verb: str, kind: str, name: str) -> None:
        self.writes.append(f"{verb} {kind}/{name}")
        if (error := self.fail.get(f"{verb} {kind}")) is not None:
            raise error

    def apply(self, manifest: Mapping[str, Any]) -> None:
        self._write("apply", manifest["kind"], manifest["metadata"]["name"])
        stored = copy.deepcopy(dict(manifest))
        current = self.cronjob if manifest["kind"] == "CronJob" else self.watcher_deployment
        stored["metadata"]["uid"] = current["metadata"]["uid"] if current else uid()
        stored["status"] = (current or {}).get("status", {})
        if manifest["kind"] == "CronJob":
            self.cronjob = stored
        else:
            self.watcher_deployment = stored

    def create_job(self, manifest: Mapping[str, Any]) -> bool:
        name = manifest["metadata"]["name"]
        self._write("create", "Job", name)
        if name in self.jobs:
            return False
        job = copy.deepcopy(dict(manifest))
        job["metadata"].update(uid=uid(), resourceVersion="1", creationTimestamp="2026-11-22T12:00:00Z")
        job["status"] = {}
        self.jobs[name] = job
        return True

    def delete_job(self, namespace: str, name: str) -> None:
        self._write("delete", "Job", name)
        self.jobs.pop(name, None)

    def delete_deployment(self, namespace: str, name: str) -> None:
        self._write("delete", "Deployment", name)
        self.watcher_deployment = None

    def patch_status(self, sj: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        self._write("patch", "status", sj["metadata"]["name"])
        if sj["metadata"]["resourceVersion"] != self.sj["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "the object has been modified")
        self.status_patches.append(copy.deepcopy(dict(changes)))
        status = self.sj.setdefault("status", {})
        for key, value in changes.items():
            if value is None:
                status.pop(key, None)
            else:
                status[key] = copy.deepcopy(value)
        self.sj["metadata"]["resourceVersion"] = str(int(self.sj["metadata"]["resourceVersion"]) + 1)

    def patch_job_metadata(
        self, job: Mapping[str, Any], finalizers: list[str], annotations: Mapping[str, str] | None = None
    ) -> None:
        name = job["metadata"]["name"]
        self._write("patch", "Job", name)
        stored = self.jobs.get(name)
        if stored is None:
            return
        stored["metadata"]["finalizers"] = list(finalizers)
        stored["metadata"].setdefault("annotations", {}).update(annotations or {})
        if stored["metadata"].get("deletionTimestamp") and names.RESULT_FINALIZER not in finalizers:
            del self.jobs[name]  # nothing holds it any more

    def secret_labels(self, namespace: str, name: str) -> Mapping[str, str] | None:
        return self.secrets.get(name)

    def read_owned_secret(self, namespace: str, name: str, key: str) -> tuple[str, str | None] | None:
        secret = self.owned_secrets.get(name)
        if secret is None:
            return None
        owner = next((r["uid"] for r in secret["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
        return base64.b64decode(secret["data"][key]).decode(), owner

    def create_secret(self, manifest: Mapping[str, Any]) -> bool:
        name = manifest["metadata"]["name"]
        self._write("create", "Secret", name)
        if name in self.owned_secrets:
            return False
        self.owned_secrets[name] = copy.deepcopy(dict(manifest))
        return True

    def list_replicasets(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self.replicasets)

    def job_pod(self, namespace: str, job_name: str) -> Mapping[str, Any] | None:
        return self.pods.get(job_name)

    def list_pods(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        return list(self.watcher_pods)

    def watcher(self, pod_ip: str, token: str) -> FakeWatcher:
        return self.watcher_api

    def post_event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))
