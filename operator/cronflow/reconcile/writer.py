"""What reconcile needs from the API server, as a Protocol: kube.py in production, a fake in unit tests.

Reads of what the watch caches hold (ScheduledJobs, CronJobs, Deployments, Jobs) are not here: a pass
gets them as an `Observed` snapshot. Every method raises `ApiError` for a refused or failed request.
"""

from collections.abc import Mapping
from typing import Any, Protocol

from cronflow.automatic.plan import WatcherApi

TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})
"""Answers worth retrying besides 5xx and no answer at all (status 0)."""


class ApiError(Exception):
    """A request the API server refused (status and its message) or that got no answer (status 0)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def transient(self) -> bool:
        """Retry with backoff (conflict, throttled, server error, no answer); else it is the input's fault.

        One 403 is transient too: right after the CRD is installed, the owner-reference admission check
        may not know the ScheduledJob kind yet ("cannot find RESTMapping").
        """
        if self.status == 403 and "cannot find RESTMapping" in self.message:
            return True
        return self.status == 0 or self.status >= 500 or self.status in TRANSIENT_STATUSES


class Writer(Protocol):
    """The API calls of a reconcile pass."""

    def apply(self, manifest: Mapping[str, Any]) -> None:
        """Server-side apply (force) of a CronJob or Deployment."""

    def create_job(self, manifest: Mapping[str, Any]) -> bool:
        """Create a Job; False when one of that name exists already."""

    def delete_job(self, namespace: str, name: str) -> None:
        """Delete a Job and, in the background, its pods; gone already is fine."""

    def delete_deployment(self, namespace: str, name: str) -> None:
        """Delete a Deployment; gone already is fine."""

    def patch_status(self, sj: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        """Merge-patch ScheduledJob status fields, guarded by sj's resourceVersion (409 when stale)."""

    def patch_job_metadata(
        self, job: Mapping[str, Any], finalizers: list[str], annotations: Mapping[str, str] | None = None
    ) -> None:
        """Set a Job's finalizers (and add annotations), guarded by its resourceVersion; gone is fine."""

    def secret_labels(self, namespace: str, name: str) -> Mapping[str, str] | None:
        """A Secret's labels (its data is never read here), or None when it does not exist."""

    def read_owned_secret(self, namespace: str, name: str, key: str) -> tuple[str, str | None] | None:
        """A Secret's value at `key` and its controller's uid, or None when it does not exist."""

    def create_secret(self, manifest: Mapping[str, Any]) -> bool:
        """Create a Secret; False when one of that name exists already."""

    def list_replicasets(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """The ReplicaSets with these labels."""

    def job_pod(self, namespace: str, job_name: str) -> Mapping[str, Any] | None:
        """The newest pod of a Job (its termination message holds the result), or None."""

    def list_pods(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """The pods with these labels."""

    def watcher(self, pod_ip: str, token: str) -> WatcherApi:
        """A client of the watcher pod at pod_ip (its calls raise WatcherError)."""

    def post_event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """A core/v1 Event about obj (best effort: a failure is logged, not raised)."""
