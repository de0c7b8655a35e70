"""The node runs real pods: a hardened pod from the locally built job image calls a server on the host."""

import json
from collections.abc import Iterator

import pytest

from tests.support.cluster import Cluster, wait_until
from tests.support.flow_server import Server, serve

pytestmark = pytest.mark.e2e


@pytest.fixture
def gateway_server(node: Cluster) -> Iterator[Server]:
    """A flow service stand-in on the pod network's gateway address, reachable from pods."""
    yield from serve(host=node.pod_gateway)


def test_restricted_pod_from_local_image_succeeds_with_readable_termination_message(
    node: Cluster, namespace: str, gateway_server: Server
) -> None:
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runner", "namespace": namespace},
        "spec": {
            "restartPolicy": "Never", "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "run", "image": "cronflow-job:dev", "imagePullPolicy": "Never",
                "env": [{"name": "CRONFLOW_FLOW", "value": json.dumps({"endpoint": f"{gateway_server.url}/ok"})}],
                "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}},
            }],
        },
    }
    node.kubectl("apply", "-f", "-", input=json.dumps(pod))
    done = wait_until(
        "the pod to finish",
        lambda: (p := node.get_json("-n", namespace, "pod", "runner"))["status"].get("phase") in
        ("Succeeded", "Failed") and p,
        timeout=90,
    )
    assert done["status"]["phase"] == "Succeeded"
    message = json.loads(done["status"]["containerStatuses"][0]["state"]["terminated"]["message"])
    assert message["status"] == "OK"
    assert message["httpResult"]["status"] == 200
    assert [r.path for r in gateway_server.received] == ["/ok"]
