"""Fixtures for the cluster tiers: a real API server (and node) started once per session.

The tests use the local cluster that `hack/cluster` builds: started here when it is not running, and
recognised by its kubeconfig when `KUBECONFIG` names it (as after `eval "$(hack/cluster env)"`). Any
other `KUBECONFIG` is refused, so a work cluster in the environment is never touched, unless
`CRONFLOW_TEST_CLUSTER=external` asks for it explicitly (then `CRONFLOW_OPERATOR_KUBECONFIG` and, for
the audit-log checks, `CRONFLOW_AUDIT_LOG` describe it). The session stops the local cluster at the
end unless it was running before or `CRONFLOW_KEEP_CLUSTER=1`.
"""

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from tests.support.cluster import Cluster, OperatorProcess, hack_cluster, local_cluster

REPO = Path(__file__).resolve().parents[1]
TIERS = ("unit", "integration", "e2e", "walkthrough", "lifecycle")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test carries the marker of its tier (its folder), so `-m unit` selects the quick ones."""
    for item in items:
        tier = next((t for t in TIERS if f"/tests/{t}/" in str(item.path)), None)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))


def external_cluster() -> Cluster | None:
    """The cluster KUBECONFIG names when it is not the local one and was asked for; refuses otherwise."""
    given = os.environ.get("KUBECONFIG")
    if not given or Path(given).resolve() == Path(hack_cluster("kubeconfig")).resolve():
        return None
    if os.environ.get("CRONFLOW_TEST_CLUSTER") != "external":
        pytest.exit(
            f"KUBECONFIG={given} is not the local test cluster ({hack_cluster('kubeconfig')}); the tests would "
            "install the CRD and create namespaces in it. Unset KUBECONFIG, or set CRONFLOW_TEST_CLUSTER=external "
            "to use that cluster on purpose.",
            returncode=4,
        )
    return Cluster(
        kubeconfig=Path(given),
        operator_kubeconfig=Path(os.environ.get("CRONFLOW_OPERATOR_KUBECONFIG", given)),
        audit_log=Path(p) if (p := os.environ.get("CRONFLOW_AUDIT_LOG")) else None,
        pod_gateway=os.environ.get("CRONFLOW_POD_GATEWAY", ""),
        managed=False,
    )


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """The API server for this session: the local cluster (started here when needed), or an external one."""
    external = external_cluster()
    if external is not None:
        yield external
        return
    was_running = "kube-apiserver: running" in hack_cluster("status")
    yield local_cluster()
    if not was_running and os.environ.get("CRONFLOW_KEEP_CLUSTER") != "1":
        hack_cluster("down")


@pytest.fixture(scope="session")
def node(cluster: Cluster) -> Cluster:
    """The same cluster with a node that runs pods, and the project's images loaded into it."""
    if cluster.managed:
        hack_cluster("up", "--with-node")
        subprocess.run([str(REPO / "hack" / "images")], check=True)
    return cluster


@pytest.fixture(scope="session")
def api(cluster: Cluster) -> client.ApiClient:
    """An admin client for the session's cluster."""
    api_client: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(cluster.kubeconfig)
    )
    return api_client


@pytest.fixture(scope="session")
def crd(cluster: Cluster) -> None:
    """The ScheduledJob CRD installed from crds/ (as users would), established and served."""
    cluster.install_crd()


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test; pods in it must meet the `restricted` Pod Security Standard."""
    base = request.node.name.lower().replace("_", "-")[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:5]}"
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def operator(cluster: Cluster, crd: None, namespace: str, tmp_path: Path) -> Iterator[OperatorProcess]:
    """`python -m cronflow` watching the test's namespace, with the chart's RBAC rules only."""
    proc = OperatorProcess(cluster, namespace, tmp_path / "operator.log")
    proc.grant_rbac()
    proc.start()
    yield proc
    proc.stop()
