"""The chart as users install it: helm install with the chart's defaults, a triggered run with its result,
metrics through the operator's Service, readiness that needs the API server, an existing CRD, least
privilege, upgrade, uninstall.

The operator pod reaches the API server through the `kubernetes` Service (kube-proxy) like on any
cluster; the runs' pods live in a second namespace that enforces the `restricted` Pod Security Standard.
"""

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import Cluster, wait_until
from tests.support.flow_server import Server, serve
from tests.support.helm import helm_binary
from tests.support.manifests import scheduledjob

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "cronflow"
PLUGIN = REPO / ".venv" / "bin" / "kubectl-cronflow"
RELEASE = "cronflow"
SELECTOR = f"app.kubernetes.io/instance={RELEASE}"
CRD_NAME = "scheduledjobs.cronflow.dev"
PAUSE_IMAGE = "cronflow.local/pause:3.10"
"""The node's sandbox image: a static busybox (wget), for a client pod."""


@dataclass
class Release:
    """An installed release of the chart and the namespace whose ScheduledJobs it reconciles."""

    cluster: Cluster
    namespace: str
    watched: str
    notes: str = ""

    def helm(self, *args: str) -> subprocess.CompletedProcess[str]:
        """helm against the session's cluster, in the release namespace; fails the test on error."""
        result = subprocess.run(
            [helm_binary(), "--kubeconfig", str(self.cluster.kubeconfig), "--namespace", self.namespace, *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, f"helm {' '.join(args)} failed: {result.stderr}"
        return result

    def pods(self) -> list[dict[str, Any]]:
        """The operator's pods that are not being deleted."""
        items = self.cluster.get_json("-n", self.namespace, "pods", "-l", SELECTOR)["items"]
        return [pod for pod in items if "deletionTimestamp" not in pod["metadata"]]

    def wait_available(self) -> None:
        """Wait until the Deployment is Available; on timeout, fail with the pods' state and logs."""
        result = self.cluster.kubectl(
            "-n",
            self.namespace,
            "wait",
            "--for=condition=Available",
            "--timeout=100s",
            f"deployment/{RELEASE}",
            check=False,
        )
        assert result.returncode == 0, f"the operator did not become available:\n{self.diagnostics()}"

    def diagnostics(self) -> str:
        """The operator's pods and logs, for failure messages."""
        pods = self.cluster.kubectl("-n", self.namespace, "describe", "pods", "-l", SELECTOR, check=False)
        logs = self.cluster.kubectl("-n", self.namespace, "logs", f"deployment/{RELEASE}", "--tail=100", check=False)
        return f"{pods.stdout}\n--- operator log ---\n{logs.stdout}{logs.stderr}"


def create_namespace(cluster: Cluster, base: str, *labels: str) -> str:
    name = f"{base}-{uuid.uuid4().hex[:5]}"
    cluster.kubectl("create", "namespace", name)
    if labels:
        cluster.kubectl("label", "namespace", name, *labels)
    return name


def install(cluster: Cluster, namespace: str, watched: str, *values: str, wait: bool = False) -> Release:
    """`helm install` with the chart's defaults but for the local images and the watched namespace."""
    release = Release(cluster, namespace, watched)
    sets = ["image.pullPolicy=Never", f"watchNamespaces={{{watched}}}", "rbac.scope=namespace", *values]
    waiting = ["--wait", "--timeout", "120s"] if wait else []
    installed = release.helm(
        "install", RELEASE, str(CHART), *waiting, *[arg for value in sets for arg in ("--set", value)]
    )
    release.notes = installed.stdout
    return release


@pytest.fixture(scope="module")
def release(node: Cluster, crd: None) -> Iterator[Release]:
    """The chart installed with `--wait` into a fresh namespace, over the CRD that kubectl applied (the `crd`
    fixture), reconciling a second, `restricted` namespace."""
    namespace = create_namespace(node, "cronflow-e2e")
    watched = create_namespace(node, "cronflow-e2e-runs", "pod-security.kubernetes.io/enforce=restricted")
    installed = install(node, namespace, watched, wait=True)
    yield installed
    installed.helm("uninstall", RELEASE, "--ignore-not-found", "--wait")
    for name in (namespace, watched):
        node.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def gateway_server(node: Cluster) -> Iterator[Server]:
    """A flow service stand-in on the pod network's gateway address, reachable from the runs' pods."""
    yield from serve(host=node.pod_gateway)


def test_installed_operator_runs_a_triggered_scheduledjob_and_records_its_result(
    release: Release, gateway_server: Server
) -> None:
    release.wait_available()
    [pod] = release.pods()
    assert "hostNetwork" not in pod["spec"]
    env = {item["name"] for item in pod["spec"]["containers"][0]["env"]}
    assert not env & {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}, "the kubelet's: the kubernetes Service"
    cluster, watched = release.cluster, release.watched
    scheduled_job = scheduledjob("helm-e2e", schedule="0 0 1 1 *", flow={"endpoint": f"{gateway_server.url}/ok"})
    cluster.kubectl("apply", "-n", watched, "-f", "-", input=json.dumps(scheduled_job))
    triggered = subprocess.run(
        [str(PLUGIN), "trigger", "helm-e2e", "-n", watched, "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert triggered.returncode == 0, triggered.stderr

    def first_result() -> dict[str, Any] | None:
        results = cluster.get_json("-n", watched, "scheduledjob", "helm-e2e").get("status", {}).get("results")
        return dict(results[0]) if results else None

    try:
        result = wait_until("status.results[0] of the triggered run", first_result, timeout=120, every=1)
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}\n{release.diagnostics()}") from None
    assert result["trigger"] == "Manual"
    assert result["status"] == "OK", result
    assert result["httpResult"]["status"] == 200
    assert [(r.method, r.path) for r in gateway_server.received] == [("POST", "/ok")]


def test_metrics_are_scraped_through_the_operator_service_by_its_dns_name(release: Release) -> None:
    release.wait_available()
    url = f"http://{RELEASE}-metrics.{release.namespace}.svc.cluster.local:9090/metrics"
    log = run_client_pod(release.cluster, release.namespace, "scrape", ["wget", "-q", "-O", "-", url])
    assert "# TYPE cronflow_reconciles_total counter" in log
    assert "cronflow_reconcile_duration_seconds_bucket" in log


def run_client_pod(cluster: Cluster, namespace: str, name: str, command: list[str]) -> str:
    """Run busybox COMMAND in a pod of the node's sandbox image until it succeeds; its log."""
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "restartPolicy": "Never", "automountServiceAccountToken": False,
            "containers": [{"name": "client", "image": PAUSE_IMAGE, "imagePullPolicy": "Never",
                            "command": ["/bin/busybox", *command]}],
        },
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(pod))
    phase = wait_until(
        f"pod {name} to finish",
        lambda: p if (p := cluster.get_json("-n", namespace, "pod", name)["status"].get("phase")) in
        ("Succeeded", "Failed") else None,
        timeout=90, every=1,
    )
    log = cluster.kubectl("-n", namespace, "logs", name).stdout
    assert phase == "Succeeded", log
    return log


def test_install_over_a_crd_applied_with_kubectl_leaves_it_alone_and_says_so(release: Release) -> None:
    crd = release.cluster.get_json("crd", CRD_NAME)
    assert "meta.helm.sh/release-name" not in crd["metadata"].get("annotations", {})
    manifest = release.helm("get", "manifest", RELEASE).stdout
    assert "kind: CustomResourceDefinition" not in manifest
    assert "The ScheduledJob CRD was there already (applied with kubectl)" in release.notes


def test_install_over_a_crd_of_a_release_elsewhere_leaves_it_alone(node: Cluster, crd: None) -> None:
    annotations = {"meta.helm.sh/release-name": "cronflow", "meta.helm.sh/release-namespace": "cronflow-old"}
    node.kubectl("annotate", "crd", CRD_NAME, *[f"{k}={v}" for k, v in annotations.items()], "--overwrite")
    node.kubectl("label", "crd", CRD_NAME, "app.kubernetes.io/managed-by=Helm", "--overwrite")
    namespace = create_namespace(node, "cronflow-e2e-newer")
    try:
        release = install(node, namespace, namespace, "metrics.enabled=false")
        assert "The ScheduledJob CRD was there already (release cronflow in namespace cronflow-old)" in release.notes
        assert node.get_json("crd", CRD_NAME)["metadata"]["annotations"]["meta.helm.sh/release-namespace"] == (
            "cronflow-old"
        )
        release.helm("uninstall", RELEASE, "--wait")
        assert node.get_json("crd", CRD_NAME)["metadata"]["name"] == CRD_NAME
    finally:
        node.kubectl("annotate", "crd", CRD_NAME, *[f"{k}-" for k in annotations], check=False)
        node.kubectl("label", "crd", CRD_NAME, "app.kubernetes.io/managed-by-", check=False)
        node.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_operator_that_cannot_reach_the_api_server_is_never_ready(node: Cluster, crd: None) -> None:
    namespace = create_namespace(node, "cronflow-e2e-unreachable")
    try:
        # The pod gateway answers, but nothing listens on port 1: every request is refused.
        release = install(node, namespace, namespace, "crds.install=false", "metrics.enabled=false",
                          f"kubernetesServiceHost={node.pod_gateway}", "kubernetesServicePort=1")
        assert "CustomResourceDefinition" not in release.helm("get", "manifest", RELEASE).stdout

        def refused_readiness() -> list[str]:
            """Readiness probes that the operator's /readyz answered with 503 (before it listens, the
            kubelet's first probes are refused)."""
            events = node.get_json("-n", namespace, "events", "--field-selector", "reason=Unhealthy")["items"]
            return [e["message"] for e in events if e["message"].startswith("Readiness probe failed")
                    and "statuscode: 503" in e["message"]]

        wait_until("a readiness probe answered 503", refused_readiness, timeout=120, every=1)
        [pod] = release.pods()
        assert pod["status"]["containerStatuses"][0]["started"] is True  # alive, liveness answers
        assert not _ready(pod)
        deployment = node.get_json("-n", namespace, "deployment", RELEASE)
        available = [c for c in deployment["status"].get("conditions", []) if c["type"] == "Available"]
        assert available and available[0]["status"] == "False"
        readyz = node.kubectl("-n", namespace, "exec", pod["metadata"]["name"], "--", "python3", "-c",
                              "import urllib.request, urllib.error\n"
                              "try: urllib.request.urlopen('http://127.0.0.1:8081/readyz')\n"
                              "except urllib.error.HTTPError as e: print(e.code, e.read().decode())", check=False)
        # Whichever check answers first (a watch's list or the leader-election Lease) names the refusal.
        assert readyz.stdout.startswith("503 not ready: "), readyz.stdout + readyz.stderr
        assert "Connection refused" in readyz.stdout, readyz.stdout
        release.helm("uninstall", RELEASE, "--wait")
    finally:
        node.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def test_operator_service_account_is_denied_what_it_does_not_need(release: Release) -> None:
    account = f"system:serviceaccount:{release.namespace}:{RELEASE}"

    def can_i(*args: str) -> str:
        return release.cluster.kubectl("auth", "can-i", "--as", account, *args, check=False).stdout.strip()

    assert can_i("list", "secrets", "-A") == "no"
    assert can_i("delete", "namespaces") == "no"
    assert can_i("create", "cronjobs.batch", "-n", release.namespace) == "no", "rights only where it watches"
    assert can_i("create", "cronjobs.batch", "-n", release.watched) == "yes"
    assert can_i("patch", "scheduledjobs.cronflow.dev/status", "-n", release.watched) == "yes"


def test_upgrade_to_text_logs_rolls_out_a_new_pod(release: Release) -> None:
    release.wait_available()
    [old] = release.pods()
    release.helm("upgrade", RELEASE, str(CHART), "--reuse-values", "--set", "logFormat=text")
    release.wait_available()

    def replaced() -> dict[str, Any] | None:
        pods = release.pods()
        ready = [p for p in pods if p["metadata"]["name"] != old["metadata"]["name"] and _ready(p)]
        return ready[0] if len(pods) == 1 and ready else None

    new = wait_until("the upgraded operator pod", replaced, timeout=120, every=1)
    env = {item["name"]: item.get("value") for item in new["spec"]["containers"][0]["env"]}
    assert env["CRONFLOW_LOG_FORMAT"] == "text"


def test_uninstall_removes_the_operator_and_keeps_the_crd(node: Cluster, crd: None) -> None:
    namespace = create_namespace(node, "cronflow-e2e-uninstall")
    try:
        # The documented path over an existing CRD: crds.install=false.
        release = install(node, namespace, namespace, "crds.install=false", "metrics.enabled=false")
        assert node.get_json("-n", namespace, "deployment", RELEASE)["spec"]["replicas"] == 1
        release.helm("uninstall", RELEASE, "--wait")
        for kind in ("deployment", "serviceaccount", "role", "rolebinding"):
            assert node.kubectl("-n", namespace, "get", kind, RELEASE, check=False).returncode != 0, kind
        assert node.get_json("crd", "scheduledjobs.cronflow.dev")["metadata"]["name"] == "scheduledjobs.cronflow.dev"
    finally:
        node.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def _ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
