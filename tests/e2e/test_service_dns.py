"""Runs that reach their flow service by its Service DNS name (another namespace, through CoreDNS and
kube-proxy), and a run whose host name does not resolve, which says so in its result."""

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Cluster, OperatorProcess, wait_until
from tests.support.manifests import scheduledjob

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
FLOW_SERVICE = REPO / "hack" / "demo_flow_service.py"
PORT = 8080
HARDENED = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def flow_service_manifests(namespace: str) -> list[dict[str, Any]]:
    """The demo flow service as a pod of the operator image (it has python3) behind a Service `flows`."""
    labels = {"app": "flows"}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flows", "namespace": namespace},
         "data": {"flow_service.py": FLOW_SERVICE.read_text()}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "flows", "namespace": namespace, "labels": labels},
         "spec": {
             "automountServiceAccountToken": False,
             "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
             "containers": [{
                 "name": "flows", "image": "cronflow-operator:dev", "imagePullPolicy": "Never",
                 "command": ["python3", "/flows/flow_service.py", "0.0.0.0", str(PORT)],
                 "ports": [{"name": "http", "containerPort": PORT}],
                 "readinessProbe": {"tcpSocket": {"port": PORT}, "periodSeconds": 1},
                 "securityContext": HARDENED,
                 "volumeMounts": [{"name": "code", "mountPath": "/flows", "readOnly": True}],
             }],
             "volumes": [{"name": "code", "configMap": {"name": "flows"}}],
         }},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "flows", "namespace": namespace},
         "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}},
    ]


@pytest.fixture
def flows_namespace(node: Cluster) -> Iterator[str]:
    """A namespace of its own with the flow service running behind its Service, its endpoint ready."""
    name = f"flows-{uuid.uuid4().hex[:5]}"
    node.kubectl("create", "namespace", name)
    node.kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
    for manifest in flow_service_manifests(name):
        node.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    wait_until("the flow service's endpoint", lambda: ready_endpoints(node, name), timeout=120, every=1)
    yield name
    node.kubectl("delete", "namespace", name, "--wait=false", check=False)


def ready_endpoints(cluster: Cluster, namespace: str) -> list[str]:
    slices = cluster.get_json("-n", namespace, "endpointslices", "-l", "kubernetes.io/service-name=flows")["items"]
    return [address for eps in slices for endpoint in eps.get("endpoints") or []
            if endpoint.get("conditions", {}).get("ready") for address in endpoint["addresses"]]


def triggered_result(cluster: Cluster, namespace: str, endpoint: str) -> dict[str, Any]:
    """Apply a ScheduledJob calling `endpoint`, trigger it, and return its first result."""
    manifest = scheduledjob("by-name", namespace, flow={
        "endpoint": endpoint, "binaryPath": "admin/flow.ibflowbin", "timeoutSeconds": 20})
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    cluster.kubectl("-n", namespace, "patch", "sj", "by-name", "--type", "merge", "-p",
                    json.dumps({"spec": {"trigger": uuid.uuid4().hex}}))

    def first() -> dict[str, Any] | None:
        results = (cluster.get_json("-n", namespace, "sj", "by-name").get("status") or {}).get("results")
        return dict(results[0]) if results else None

    return wait_until("the triggered run's result", first, timeout=120, every=1)


def test_a_run_reaches_its_flow_service_by_its_service_name_in_another_namespace(
    node: Cluster, namespace: str, operator: OperatorProcess, flows_namespace: str
) -> None:
    host = f"flows.{flows_namespace}.svc.cluster.local"
    result = triggered_result(node, namespace, f"http://{host}/api/v1/flow/run_binary_async")
    assert result["status"] == "OK", result
    assert result["httpResult"]["status"] == 200
    answer = json.loads(result["httpResult"]["response"])
    assert answer["accepted"] is True
    assert answer["received"] == {"binary_path": "admin/flow.ibflowbin"}  # the flow body reached the pod


def test_a_run_whose_host_name_does_not_resolve_says_so(
    node: Cluster, namespace: str, operator: OperatorProcess, flows_namespace: str
) -> None:
    host = f"no-such-flows.{flows_namespace}.svc.cluster.local"
    result = triggered_result(node, namespace, f"http://{host}/api/v1/flow/run_binary_async")
    assert result["status"] == "ERROR"
    assert f"DNS lookup failed for {host}" in result["message"], result
    assert "httpResult" not in result or not result["httpResult"]
