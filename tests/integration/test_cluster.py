"""The local cluster is a real Kubernetes: pinned version, RBAC, and controllers that act."""

import json
import os
from pathlib import Path

import pytest

from tests.support.cluster import Cluster, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def pinned_version(name: str = "K8S_VERSION") -> str:
    for line in (REPO / "hack/versions.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} missing from hack/versions.env")


def test_api_server_reports_the_pinned_version(cluster: Cluster) -> None:
    """The first pin, or with CRONFLOW_CONTROL_PLANE=newest (hack/test's newest stage) the newest one;
    kubectl stays at the first."""
    if not cluster.managed:
        pytest.skip("an existing cluster has its own version")
    newest = os.environ.get("CRONFLOW_CONTROL_PLANE") == "newest"
    versions = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert versions["serverVersion"]["gitVersion"] == pinned_version("K8S_NEWEST_VERSION" if newest else "K8S_VERSION")
    assert versions["clientVersion"]["gitVersion"] == pinned_version()


def test_operator_user_has_no_rights_without_a_binding(cluster: Cluster, namespace: str) -> None:
    result = cluster.kubectl(
        "--kubeconfig", str(cluster.operator_kubeconfig), "-n", namespace, "get", "cronjobs", check=False
    )
    assert result.returncode != 0
    assert "forbidden" in result.stderr.lower()


def test_cronjob_controller_creates_a_job(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl(
        "-n", namespace, "create", "cronjob", "tick", "--image=cronflow-job:dev",
        "--schedule=* * * * *", "--", "run",
    )
    jobs = wait_until(
        "a Job created by the CronJob controller",
        lambda: cluster.get_json("-n", namespace, "jobs")["items"],
        timeout=75, every=1,
    )
    owner = jobs[0]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("CronJob", "tick")
