"""cronflow-api as the chart installs it (`gateway.enabled=true`): the original API's documented script
through the gateway's Service, with a ServiceAccount token bound to a Role in the jobs' namespace only.

The script runs on the host and reaches the Service's ClusterIP (kube-proxy routes it, as on any node);
a pod reaches the same Service by its DNS name. The gateway pod holds no token of its own.
"""

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.test_helm import CHART, RELEASE, Release, create_namespace, install, run_client_pod
from tests.support import scheduler_client as script
from tests.support.cluster import Cluster, free_port, wait_until
from tests.support.flow_server import Server
from tests.support.gateway import documented_script_round_trip
from tests.support.rbac import SCHEDULER_USER, scheduler_user_rbac
from tests.support.scheduler_client import DAILY_JOB

pytestmark = pytest.mark.e2e
GATEWAY = f"{RELEASE}-api"


@pytest.fixture(scope="module")
def gateway_release(node: Cluster, crd: None) -> Iterator[Release]:
    """The chart with the gateway, its jobs and the runs in a second namespace; the flow endpoint is set per
    test through `helm upgrade` (module scope: one install)."""
    namespace = create_namespace(node, "cronflow-e2e-gw")
    watched = create_namespace(node, "cronflow-e2e-gw-jobs", "pod-security.kubernetes.io/enforce=restricted")
    installed = install(
        node, namespace, watched, "gateway.enabled=true", f"gateway.namespace={watched}",
        "gateway.flowEndpoint=http://flows.invalid/ok", wait=True,
    )
    yield installed
    installed.helm("uninstall", RELEASE, "--ignore-not-found", "--wait")
    for name in (namespace, watched):
        node.kubectl("delete", "namespace", name, "--wait=false", check=False)


def service_url(release: Release) -> str:
    """URL_BASE: the gateway Service's ClusterIP and port."""
    service = release.cluster.get_json("-n", release.namespace, "service", GATEWAY)
    return f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"


def point_at(release: Release, flow_server: Server) -> None:
    """`gateway.flowEndpoint` = the flow server's /ok; waits for the rollout."""
    release.helm("upgrade", RELEASE, str(CHART), "--reuse-values", "--wait", "--timeout", "120s",
                 "--set", f"gateway.flowEndpoint={flow_server.url}/ok")
    release.cluster.kubectl("-n", release.namespace, "rollout", "status", f"deployment/{GATEWAY}", "--timeout=120s")


def user_token(release: Release) -> str:
    cluster, namespace = release.cluster, release.watched
    cluster.kubectl("apply", "-f", "-", input=json.dumps(scheduler_user_rbac(namespace)))
    return cluster.kubectl("-n", namespace, "create", "token", SCHEDULER_USER, "--duration", "1h").stdout.strip()


def test_the_documented_script_works_through_the_gateway_service(
    gateway_release: Release, flow_server: Server
) -> None:
    point_at(gateway_release, flow_server)
    cluster, namespace = gateway_release.cluster, gateway_release.namespace
    pods = cluster.get_json("-n", namespace, "pods", "-l", "app.kubernetes.io/component=gateway")["items"]
    [pod] = [p for p in pods if "deletionTimestamp" not in p["metadata"]]
    assert pod["spec"]["automountServiceAccountToken"] is False
    assert not [m for m in pod["spec"]["containers"][0]["volumeMounts"] if "token" in m.get("subPath", "")]

    def logs() -> str:
        gateway = cluster.kubectl("-n", namespace, "logs", f"deployment/{GATEWAY}", check=False).stdout
        operator = cluster.kubectl("-n", namespace, "logs", f"deployment/{RELEASE}", check=False).stdout
        return gateway + operator

    documented_script_round_trip(
        cluster, gateway_release.watched, service_url(gateway_release), user_token(gateway_release), flow_server,
        logs,
    )


def test_the_gateway_service_answers_by_its_dns_name_and_without_a_token_is_401(gateway_release: Release) -> None:
    url = f"http://{GATEWAY}.{gateway_release.namespace}.svc.cluster.local/openapi.json"
    spec = json.loads(run_client_pod(gateway_release.cluster, gateway_release.namespace, "openapi",
                                     ["wget", "-q", "-O", "-", url]))
    assert "/api/v1/scheduler/create_job" in spec["paths"]
    status, answer = script.create_job(service_url(gateway_release), None, DAILY_JOB)
    assert status == 401 and answer["status"] == "ERROR", answer
    forbidden = requests.get(f"{service_url(gateway_release)}/api/v1/scheduler/list_jobs",
                             params={"namespace": gateway_release.namespace},
                             headers={"Authorization": f"Bearer {user_token(gateway_release)}"}, timeout=30)
    assert forbidden.status_code == 403, forbidden.text


def test_kubectl_cronflow_dashboard_port_forwards_to_the_gateway_service(gateway_release: Release) -> None:
    """The plugin's default path: `kubectl port-forward` to the chart's Service; the page and its API answer
    there for a caller's token."""
    cluster, port = gateway_release.cluster, free_port()
    plugin = Path(sys.executable).with_name("kubectl-cronflow")
    command = [str(plugin), "dashboard", "--no-browser", "--port", str(port), "--service", GATEWAY,
               "--service-namespace", gateway_release.namespace, "-n", gateway_release.watched,
               "--kubeconfig", str(cluster.kubeconfig)]
    token = user_token(gateway_release)
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as forwarded:
        try:
            page = wait_until("the page through the port-forward", lambda: _get(f"http://127.0.0.1:{port}/"),
                              timeout=60)
            assert '<script src="/dashboard.js"' in page.text
            jobs = requests.get(f"http://127.0.0.1:{port}/api/v1/dashboard/jobs",
                                params={"namespace": gateway_release.watched},
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert jobs.status_code == 200, jobs.text
            assert jobs.json()["namespace"] == gateway_release.watched
        finally:
            forwarded.send_signal(signal.SIGINT)
            _, said = forwarded.communicate(timeout=15)
    assert f"dashboard at http://127.0.0.1:{port}/" in said
    assert token not in said


def _get(url: str) -> requests.Response | None:
    try:
        answer = requests.get(url, timeout=2)
    except requests.RequestException:
        return None
    return answer if answer.status_code == 200 else None
