"""The operator's Kubernetes API access: one shared client, server-side apply, idempotent creates."""

import base64
import functools
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from cronflow import names

FIELD_MANAGER = "cronflow"


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


def apply(manifest: dict[str, Any]) -> None:
    """Server-side apply of a CronJob or Deployment owned by cronflow: fields it no longer sets are removed."""
    meta = manifest["metadata"]
    patch = {
        "CronJob": batch_api().patch_namespaced_cron_job,
        "Deployment": apps_api().patch_namespaced_deployment,
    }[manifest["kind"]]
    response: Any = patch(
        name=meta["name"],
        namespace=meta["namespace"],
        body=manifest,
        field_manager=FIELD_MANAGER,
        force=True,
        _content_type="application/apply-patch+yaml",
        _preload_content=False,  # the answer is not needed: skip building client models from it
    )
    response.release_conn()


def create_job(manifest: dict[str, Any]) -> bool:
    """Create a Job; False when one of that name exists already (the create is idempotent)."""
    try:
        batch_api().create_namespaced_job(namespace=manifest["metadata"]["namespace"], body=cast(Any, manifest))
    except ApiException as error:
        if error.status == 409:
            return False
        raise
    return True


def get_scheduledjob(namespace: str, name: str) -> dict[str, Any] | None:
    """A ScheduledJob as stored, or None when it does not exist."""
    try:
        obj: dict[str, Any] = cast(Any, custom_api()).get_namespaced_custom_object(
            names.GROUP, names.VERSION, namespace, names.PLURAL, name
        )
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    return obj


def patch_scheduledjob_status(sj: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge-patch status fields, guarded by the resourceVersion they were computed from (409 if stale)."""
    meta = sj["metadata"]
    body = {"metadata": {"resourceVersion": meta["resourceVersion"]}, "status": dict(changes)}
    updated: dict[str, Any] = cast(Any, custom_api()).patch_namespaced_custom_object_status(
        names.GROUP, names.VERSION, meta["namespace"], names.PLURAL, meta["name"], body,
        _content_type="application/merge-patch+json",
    )
    return updated


def patch_job_metadata(
    job: Mapping[str, Any],
    finalizers: list[str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> None:
    """Set a Job's finalizers and/or add annotations, guarded by its resourceVersion (409 if stale)."""
    meta = job["metadata"]
    patch_meta: dict[str, Any] = {"resourceVersion": meta["resourceVersion"]}
    if finalizers is not None:
        patch_meta["finalizers"] = finalizers
    if annotations:
        patch_meta["annotations"] = dict(annotations)
    try:
        batch_api().patch_namespaced_job(
            meta["name"], meta["namespace"], {"metadata": patch_meta},
            _content_type="application/merge-patch+json",
        )
    except ApiException as error:
        if error.status == 404:
            return
        raise


def get_job(namespace: str, name: str) -> dict[str, Any] | None:
    """A Job as stored (a plain dict), or None when it is gone."""
    return _read_or_none(batch_api().read_namespaced_job, namespace, name)


def get_deployment(namespace: str, name: str) -> dict[str, Any] | None:
    """A Deployment as stored (a plain dict), or None when it does not exist."""
    return _read_or_none(apps_api().read_namespaced_deployment, namespace, name)


def delete_deployment(namespace: str, name: str) -> None:
    """Delete a Deployment (and, in the background, its pods); gone already is fine."""
    try:
        apps_api().delete_namespaced_deployment(name, namespace, propagation_policy="Background")
    except ApiException as error:
        if error.status != 404:
            raise


def list_jobs(namespace: str, label_selector: str) -> list[dict[str, Any]]:
    """The Jobs matching a label selector, as plain dicts."""
    response: Any = batch_api().list_namespaced_job(namespace, label_selector=label_selector, _preload_content=False)
    jobs: list[dict[str, Any]] = json.loads(response.data)["items"]
    return jobs


def list_pods(namespace: str, label_selector: str) -> list[dict[str, Any]]:
    """The pods matching a label selector, as plain dicts."""
    response: Any = core_api().list_namespaced_pod(namespace, label_selector=label_selector, _preload_content=False)
    pods: list[dict[str, Any]] = json.loads(response.data)["items"]
    return pods


def _read_or_none(read: Callable[..., Any], namespace: str, name: str) -> dict[str, Any] | None:
    try:
        response: Any = read(name, namespace, _preload_content=False)
    except ApiException as error:
        if error.status == 404:
            return None
        raise
    obj: dict[str, Any] = json.loads(response.data)
    return obj


def job_pod(namespace: str, job_name: str) -> dict[str, Any] | None:
    """The (newest) pod of a Job as a plain dict, or None when it has none."""
    pods = list_pods(namespace, f"batch.kubernetes.io/job-name={job_name}")
    pods.sort(key=lambda p: p["metadata"].get("creationTimestamp", ""))
    return pods[-1] if pods else None


def read_secret(namespace: str, name: str) -> dict[str, str]:
    """A Secret's data, decoded. Values are never logged or written anywhere by the operator."""
    secret: Any = core_api().read_namespaced_secret(name, namespace)
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def post_event(obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    """A core/v1 Event about `obj` (for code outside kopf handlers, e.g. notification threads)."""
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
    }
    try:
        core_api().create_namespaced_event(meta["namespace"], cast(Any, event))
    except ApiException as error:
        logging.getLogger(__name__).warning("could not post event %s: %s", reason, error.reason)


def update_scheduledjob_status(
    namespace: str, name: str, changes: Callable[[Mapping[str, Any]], Mapping[str, Any]], attempts: int = 5
) -> None:
    """Read the ScheduledJob, patch the status fields `changes(sj)` returns (if any); on 409 read again."""
    for attempt in range(attempts):
        sj = get_scheduledjob(namespace, name)
        if sj is None:
            return
        wanted = changes(sj)
        if not wanted:
            return
        try:
            patch_scheduledjob_status(sj, wanted)
            return
        except ApiException as error:
            if error.status != 409 or attempt == attempts - 1:
                raise
