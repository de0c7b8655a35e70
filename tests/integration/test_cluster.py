"""The local cluster is a real Kubernetes: pinned version, RBAC, and controllers that act."""

import json
from pathlib import Path

import pytest

from tests.support.cluster import Cluster, wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def pinned_version() -> str:
    for line in (REPO / "hack/versions.env").read_text().splitlines():
        if line.startswith("K8S_VERSION="):
            return line.split("=", 1)[1]
    raise AssertionError("K8S_VERSION missing from hack/versions.env")


def test_api_server_reports_the_pinned_version(cluster: Cluster) -> None:
    if not cluster.managed:
        pytest.skip("an existing cluster has its own version")
    versions = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert versions["serverVersion"]["gitVersion"] == pinned_version()
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
