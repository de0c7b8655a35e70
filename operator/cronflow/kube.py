"""The operator's Kubernetes API access: one shared client, the `Writer` of reconcile, one error type.

Every call goes through `call_kubeapi`, which turns the client's exceptions into `ApiError` (the
server's status and message, or status 0 when no answer came), so the retry policy lives in one
place: the controller's work queue retries transient errors, reconcile reports permanent ones.
"""

import base64
import functools
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from cronflow import names
from cronflow.automatic.client import WatcherClient
from cronflow.reconcile.writer import ApiError

FIELD_MANAGER = "cronflow"
log = logging.getLogger(__name__)


@functools.cache
def api_client() -> client.ApiClient:
    """A client for the in-cluster service account, else the current kubeconfig context."""
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        config.load_kube_config()  # type: ignore[no-untyped-call]
    configuration = client.Configuration.get_default_copy()
    configuration.connection_pool_maxsize = 16
    return client.ApiClient(configuration)


def call_kubeapi(
    call: Callable[..., Any], *args: Any, not_found: Any = ApiError,
    timeout: float | tuple[float, float] = 30, **kwargs: Any,
) -> Any:
    """Make one API call; errors become ApiError. `not_found` (unless ApiError) is returned on a 404."""
    try:
        return call(*args, **kwargs, _request_timeout=timeout)
    except ApiException as error:
        if error.status == 404 and not_found is not ApiError:
            return not_found
        raise ApiError(int(error.status or 0), str(error.reason or ""), _server_message(error)) from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise ApiError(0, type(error).__name__, str(error)) from None


def _server_message(error: ApiException) -> str:
    """The `message` of the API server's Status answer (what kubectl prints), else the reason."""
    try:
        return str(json.loads(error.body or "")["message"])
    except (ValueError, KeyError, TypeError):
        return str(error.reason or "")


def read_json(response: Any) -> Any:
    """The answer's JSON; its connection goes back to the pool, fully read."""
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def call_kubeapi_discard(call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """`call_kubeapi` for a write whose answer is not needed (no client models are built from it): the
    answer is read to its end before its connection goes back to the pool, else the next request on that
    connection would read the rest of this body as its status line. With `not_found=None` a 404 is fine."""
    response = call_kubeapi(call, *args, _preload_content=False, **kwargs)
    if response is not None:  # None: the not_found answer to a 404
        response.drain_conn()
        response.release_conn()


def _list(call: Callable[..., Any], namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """The objects a namespaced list call returns for a label selector, as plain dicts."""
    selector = ",".join(f"{key}={value}" for key, value in labels.items())
    items: list[dict[str, Any]] = read_json(call_kubeapi(call, namespace, label_selector=selector,
                                                     _preload_content=False))["items"]
    return items


def batch_api() -> client.BatchV1Api:
    """The batch/v1 API (CronJobs, Jobs)."""
    return client.BatchV1Api(api_client())


def core_api() -> client.CoreV1Api:
    """The core/v1 API (Pods, Secrets, Events)."""
    return client.CoreV1Api(api_client())


def custom_api() -> client.CustomObjectsApi:
    """The API of custom resources (ScheduledJobs)."""
    return client.CustomObjectsApi(api_client())


def apps_api() -> client.AppsV1Api:
    """The apps/v1 API (Deployments)."""
    return client.AppsV1Api(api_client())


def coordination_api() -> client.CoordinationV1Api:
    """The coordination.k8s.io/v1 API (the leader election's Lease)."""
    return client.CoordinationV1Api(api_client())


LEASE_TIMEOUT = (2.0, 3.0)
"""connect, read: a lease call must answer well within the renew deadline (leader.RENEW_DEADLINE_SECONDS)."""


class KubeLeases:
    """The production `leader.LeaseApi`: plain JSON in and out."""

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Lease, None when there is none."""
        response = call_kubeapi(coordination_api().read_namespaced_lease, name, namespace, not_found=None,
                                timeout=LEASE_TIMEOUT, _preload_content=False)
        if response is None:
            return None
        lease: dict[str, Any] = read_json(response)
        return lease

    def create(self, namespace: str, body: Mapping[str, Any]) -> None:
        """Create the Lease (409 when it exists)."""
        call_kubeapi_discard(coordination_api().create_namespaced_lease, namespace, dict(body), timeout=LEASE_TIMEOUT)

    def replace(self, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        """Replace the Lease, guarded by the body's resourceVersion (409 when it changed)."""
        call_kubeapi_discard(coordination_api().replace_namespaced_lease, name, namespace, dict(body),
                             timeout=LEASE_TIMEOUT)


class KubeWriter:
    """The production `Writer` (cronflow.reconcile.writer): the real API server."""

    def apply(self, manifest: Mapping[str, Any]) -> None:
        """Server-side apply (force): fields cronflow no longer sets are removed, hand edits taken back."""
        meta = manifest["metadata"]
        patch = {
            "CronJob": batch_api().patch_namespaced_cron_job,
            "Deployment": apps_api().patch_namespaced_deployment,
        }[manifest["kind"]]
        call_kubeapi_discard(
            patch, name=meta["name"], namespace=meta["namespace"], body=dict(manifest),
            field_manager=FIELD_MANAGER, force=True, _content_type="application/apply-patch+yaml",
        )
        log.info("applied %s %s/%s", manifest["kind"], meta["namespace"], meta["name"])

    def create_job(self, manifest: Mapping[str, Any]) -> bool:
        """Create a Job; False when one of that name exists already (the create is idempotent)."""
        try:
            call_kubeapi_discard(
                batch_api().create_namespaced_job, namespace=manifest["metadata"]["namespace"], body=dict(manifest)
            )
        except ApiError as error:
            if error.status == 409 and error.reason == "Conflict" and "already exists" in error.message:
                return False
            raise
        log.info("created Job %s/%s", manifest["metadata"]["namespace"], manifest["metadata"]["name"])
        return True

    def delete_job(self, namespace: str, name: str) -> None:
        """Delete a Job and, in the background, its pods; gone already is fine."""
        call_kubeapi_discard(batch_api().delete_namespaced_job, name, namespace, propagation_policy="Background",
                             not_found=None)
        log.info("deleted Job %s/%s", namespace, name)

    def delete_deployment(self, namespace: str, name: str) -> None:
        """Delete a Deployment (and, in the background, its pods); gone already is fine."""
        call_kubeapi_discard(apps_api().delete_namespaced_deployment, name, namespace,
                             propagation_policy="Background", not_found=None)
        log.info("deleted Deployment %s/%s", namespace, name)

    def patch_status(self, sj: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        """Merge-patch status fields, guarded by the resourceVersion they were computed from (409 if stale)."""
        meta = sj["metadata"]
        body = {"metadata": {"resourceVersion": meta["resourceVersion"]}, "status": dict(changes)}
        call_kubeapi_discard(
            custom_api().patch_namespaced_custom_object_status,
            names.GROUP, names.VERSION, meta["namespace"], names.PLURAL, meta["name"], body,
            _content_type="application/merge-patch+json",
        )
        log.info("patched status of ScheduledJob %s/%s: %s", meta["namespace"], meta["name"], ", ".join(changes))

    def patch_job_metadata(
        self, job: Mapping[str, Any], finalizers: list[str], annotations: Mapping[str, str] | None = None
    ) -> None:
        """Set a Job's finalizers and/or add annotations, guarded by its resourceVersion (409 if stale)."""
        meta = job["metadata"]
        patch_meta: dict[str, Any] = {"resourceVersion": meta["resourceVersion"], "finalizers": finalizers}
        if annotations:
            patch_meta["annotations"] = dict(annotations)
        call_kubeapi_discard(
            batch_api().patch_namespaced_job, meta["name"], meta["namespace"], {"metadata": patch_meta},
            _content_type="application/merge-patch+json", not_found=None,
        )
        log.info("patched Job %s/%s: finalizers %s", meta["namespace"], meta["name"], finalizers)

    def secret_labels(self, namespace: str, name: str) -> Mapping[str, str] | None:
        """A Secret's labels, or None when it does not exist (the answer's data is dropped unread)."""
        response = call_kubeapi(core_api().read_namespaced_secret, name, namespace, not_found=None,
                                _preload_content=False)
        if response is None:
            return None
        labels: dict[str, str] = read_json(response)["metadata"].get("labels") or {}
        return labels

    def read_owned_secret(self, namespace: str, name: str, key: str) -> tuple[str, str | None] | None:
        """A Secret's value at `key` and its controller's uid, or None when it does not exist."""
        response = call_kubeapi(core_api().read_namespaced_secret, name, namespace, not_found=None,
                                _preload_content=False)
        if response is None:
            return None
        secret = read_json(response)
        owner = next((r["uid"] for r in secret["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
        value = (secret.get("data") or {}).get(key)
        return (base64.b64decode(value).decode() if value else "", owner)

    def create_secret(self, manifest: Mapping[str, Any]) -> bool:
        """Create a Secret; False when one of that name exists already."""
        meta = manifest["metadata"]
        try:
            call_kubeapi_discard(core_api().create_namespaced_secret, meta["namespace"], dict(manifest))
        except ApiError as error:
            if error.status == 409 and "already exists" in error.message:
                return False
            raise
        log.info("created Secret %s/%s", meta["namespace"], meta["name"])
        return True

    def list_replicasets(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """The ReplicaSets matching the labels, as plain dicts."""
        return _list(apps_api().list_namespaced_replica_set, namespace, labels)

    def job_pod(self, namespace: str, job_name: str) -> Mapping[str, Any] | None:
        """The (newest) pod of a Job as a plain dict, or None when it has none."""
        pods = self.list_pods(namespace, {"batch.kubernetes.io/job-name": job_name})
        pods.sort(key=lambda p: p["metadata"].get("creationTimestamp", ""))
        return pods[-1] if pods else None

    def list_pods(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        """The pods matching the labels, as plain dicts."""
        return _list(core_api().list_namespaced_pod, namespace, labels)

    def watcher(self, pod_ip: str, token: str) -> WatcherClient:
        """A client of a watcher pod's HTTP API."""
        return WatcherClient(pod_ip, token)

    def post_event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """A core/v1 Event about obj."""
        post_event(obj, type_, reason, message)


class SecretNotUsable(Exception):
    """A referenced Secret that is missing or not labelled usable (the message names it, never a value)."""


def read_secret(namespace: str, name: str) -> dict[str, str]:
    """A Secret's data, decoded, if it carries the usable label. Values are never logged or written."""
    secret: Any = call_kubeapi(core_api().read_namespaced_secret, name, namespace)
    if (secret.metadata.labels or {}).get(names.USABLE_LABEL) != "true":
        raise SecretNotUsable(f'Secret {name} is not labelled {names.USABLE_LABEL}: "true"')
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def post_event(obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """A core/v1 Event about `obj` (best effort: a failure is logged, never raised)."""
    meta = obj["metadata"]
    now = datetime.now(UTC)
    event = {
        "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": obj.get("apiVersion", names.API_VERSION), "kind": obj.get("kind", names.KIND),
            "name": meta["name"], "namespace": meta["namespace"], "uid": meta.get("uid"),
        },
        "type": type_, "reason": reason, "message": message[:1024],
        "firstTimestamp": now.isoformat(), "lastTimestamp": now.isoformat(), "count": 1,
        "source": {"component": "cronflow"},
        "reportingComponent": "cronflow",
    }
    try:
        call_kubeapi_discard(core_api().create_namespaced_event, meta["namespace"], cast(Any, event))
    except ApiError as error:
        log.warning("could not post event %s: %s", reason, error.reason)
