"""The gateway's Kubernetes calls, each made with the caller's token: the gateway has no rights of its own.

`Cluster` is what the routes need (the real one here, an in-memory fake in the unit tests). A Cluster is
made per request from the caller's bearer token and the API server's address and CA; credentials that
the gateway's own kubeconfig or service account holds are never copied into it.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kubernetes import client, config

from cronflow import names
from cronflow.kube import call_kubeapi, call_kubeapi_discard, read_json
from cronflow.reconcile.writer import ApiError

__all__ = ["ApiError", "Cluster", "KubeCluster", "ListPage", "api_server", "token_configuration"]
IN_CLUSTER_CA = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
_JSON_BODY = {"Content-Type": "application/json"}  # copied per call: the client adds to the dict it gets


@dataclass(frozen=True)
class ListPage:
    """One chunk of a list: its items, the API server's continue token (None after the last), and how many
    items remain after it when the API server says (it does for lists without a selector)."""

    items: list[dict[str, Any]]
    continue_: str | None
    remaining: int | None


class Cluster(Protocol):
    """The API calls of one request, as its caller; each raises ApiError when refused or unanswered."""

    def username(self) -> str:
        """Who the token belongs to (a SelfSubjectReview)."""

    def list_scheduledjobs(self, namespace: str) -> list[dict[str, Any]]:
        """The ScheduledJobs of a namespace."""

    def list_scheduledjobs_page(self, namespace: str, limit: int, continue_: str | None) -> ListPage:
        """At most `limit` ScheduledJobs of a namespace, from where `continue_` left off (the list API's chunks)."""

    def read_scheduledjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        """One ScheduledJob, or None when there is none of that name."""

    def can(self, verb: str, namespace: str, resource: str = names.PLURAL, group: str = names.GROUP) -> bool:
        """Whether the caller may do `verb` on `resource` in `namespace` ("": every namespace); a
        SelfSubjectAccessReview, which every authenticated user may make."""

    def list_namespaces(self) -> list[str]:
        """The names of every namespace (needs list on namespaces, cluster-wide)."""

    def create_scheduledjob(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        """Create a ScheduledJob; the created object."""

    def patch_spec(self, sj: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
        """Merge-patch spec fields of that very ScheduledJob (refused if one of its name but another uid)."""

    def delete_scheduledjob(self, sj: Mapping[str, Any]) -> None:
        """Delete that very ScheduledJob (its children and Secrets go with it)."""

    def create_secret(self, manifest: Mapping[str, Any]) -> None:
        """Create a Secret."""

    def close(self) -> None:
        """Release the connections."""


def api_server() -> client.Configuration:
    """The API server's address and CA: in a pod from its environment and the mounted CA (no token needed:
    the chart mounts none), else from the current kubeconfig context."""
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
    if host and port and os.path.isfile(IN_CLUSTER_CA):
        found = client.Configuration(host=f"https://{f'[{host}]' if ':' in host else host}:{port}")
        found.ssl_ca_cert = IN_CLUSTER_CA
        return found
    found = client.Configuration()
    config.load_kube_config(client_configuration=found)  # type: ignore[no-untyped-call]
    return found


def token_configuration(server: client.Configuration, token: str) -> client.Configuration:
    """A client configuration for `server` that authenticates with `token` and nothing else."""
    made = client.Configuration(
        host=server.host, api_key={"authorization": token}, api_key_prefix={"authorization": "Bearer"},
        ssl_ca_cert=server.ssl_ca_cert, verify_ssl=server.verify_ssl, tls_server_name=server.tls_server_name,
        proxy=server.proxy, no_proxy=server.no_proxy,
    )
    made.retries = False  # the caller retries: an answer comes back, or a 502
    return made


class KubeCluster:
    """`Cluster` on the real API server, as the caller (a new client per request)."""

    def __init__(self, server: client.Configuration, token: str) -> None:
        self._client = client.ApiClient(token_configuration(server, token))
        self._custom = client.CustomObjectsApi(self._client)

    def username(self) -> str:
        review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        answer = read_json(call_kubeapi(client.AuthenticationV1Api(self._client).create_self_subject_review, review,
                                    _headers=dict(_JSON_BODY), _preload_content=False))
        return str(answer["status"]["userInfo"].get("username", ""))

    def list_scheduledjobs(self, namespace: str) -> list[dict[str, Any]]:
        answer = call_kubeapi(self._custom.list_namespaced_custom_object, names.GROUP, names.VERSION, namespace,
                              names.PLURAL, _preload_content=False)
        items: list[dict[str, Any]] = read_json(answer)["items"]
        return items

    def list_scheduledjobs_page(self, namespace: str, limit: int, continue_: str | None) -> ListPage:
        answer = read_json(call_kubeapi(self._custom.list_namespaced_custom_object, names.GROUP, names.VERSION,
                                    namespace, names.PLURAL, limit=limit, _continue=continue_,
                                    _preload_content=False))
        meta = answer.get("metadata") or {}
        return ListPage(answer["items"], meta.get("continue") or None, meta.get("remainingItemCount"))

    def read_scheduledjob(self, namespace: str, name: str) -> dict[str, Any] | None:
        answer = call_kubeapi(self._custom.get_namespaced_custom_object, names.GROUP, names.VERSION, namespace,
                              names.PLURAL, name, not_found=None, _preload_content=False)
        return None if answer is None else dict(read_json(answer))

    def create_scheduledjob(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        answer = call_kubeapi(self._custom.create_namespaced_custom_object, names.GROUP, names.VERSION,
                              manifest["metadata"]["namespace"], names.PLURAL, dict(manifest),
                              _headers=dict(_JSON_BODY), _preload_content=False)
        return dict(read_json(answer))

    def patch_spec(self, sj: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
        meta = sj["metadata"]
        body = {"metadata": {"uid": meta["uid"]}, "spec": dict(spec)}
        call_kubeapi_discard(self._custom.patch_namespaced_custom_object, names.GROUP, names.VERSION,
                             meta["namespace"], names.PLURAL, meta["name"], body,
                             _content_type="application/merge-patch+json")

    def delete_scheduledjob(self, sj: Mapping[str, Any]) -> None:
        meta = sj["metadata"]
        options = {"preconditions": {"uid": meta["uid"]}, "propagationPolicy": "Background"}
        call_kubeapi_discard(self._custom.delete_namespaced_custom_object, names.GROUP, names.VERSION,
                             meta["namespace"], names.PLURAL, meta["name"], body=options)

    def can(self, verb: str, namespace: str, resource: str = names.PLURAL, group: str = names.GROUP) -> bool:
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {
            "resourceAttributes": {"namespace": namespace, "verb": verb, "group": group, "resource": resource}}}
        answer = read_json(call_kubeapi(client.AuthorizationV1Api(self._client).create_self_subject_access_review,
                                    review, _headers=dict(_JSON_BODY), _preload_content=False))
        return bool(answer.get("status", {}).get("allowed"))

    def list_namespaces(self) -> list[str]:
        answer = read_json(call_kubeapi(client.CoreV1Api(self._client).list_namespace, _preload_content=False))
        return [item["metadata"]["name"] for item in answer["items"]]

    def create_secret(self, manifest: Mapping[str, Any]) -> None:
        call_kubeapi_discard(client.CoreV1Api(self._client).create_namespaced_secret,
                             manifest["metadata"]["namespace"], dict(manifest), _headers=dict(_JSON_BODY))

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
