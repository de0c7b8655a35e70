"""cronflow-api on the local cluster: the original API's documented script, with a ServiceAccount's token
whose Role allows ScheduledJobs (and creating Secrets) in one namespace only, runs a job end to end.

The gateway runs as a process on the host with a kubeconfig that holds no credentials at all, so every
call it makes is the caller's. (Through the chart's Service: tests/e2e/test_gateway_chart.py.)
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import scheduler_client as script
from tests.support.cluster import Cluster, OperatorProcess
from tests.support.flow_server import Server
from tests.support.gateway import GatewayProcess, credential_free_kubeconfig, documented_script_round_trip
from tests.support.rbac import SCHEDULER_USER, scheduler_user_rbac
from tests.support.scheduler_client import DAILY_JOB

pytestmark = pytest.mark.e2e


@pytest.fixture
def user_token(node: Cluster, namespace: str) -> str:
    node.kubectl("apply", "-f", "-", input=json.dumps(scheduler_user_rbac(namespace)))
    return node.kubectl("-n", namespace, "create", "token", SCHEDULER_USER, "--duration", "1h").stdout.strip()


@pytest.fixture
def other_namespace(node: Cluster, namespace: str) -> Iterator[str]:
    name = f"{namespace[:50]}-other"
    node.kubectl("create", "namespace", name)
    yield name
    node.kubectl("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def gateway(node: Cluster, namespace: str, flow_server: Server, tmp_path: Path) -> Iterator[GatewayProcess]:
    kubeconfig = credential_free_kubeconfig(node, tmp_path / "gateway.kubeconfig")
    proc = GatewayProcess(kubeconfig, namespace, f"{flow_server.url}/ok", tmp_path / "gateway.log")
    proc.start()
    yield proc
    proc.stop()


def test_the_documented_script_creates_lists_triggers_polls_disables_enables_and_deletes(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, gateway: GatewayProcess,
    user_token: str,
) -> None:
    documented_script_round_trip(
        node, namespace, gateway.url, user_token, flow_server, lambda: gateway.log() + operator.log()
    )


def test_another_namespace_is_403_and_no_token_is_401(
    node: Cluster, crd: None, gateway: GatewayProcess, user_token: str, other_namespace: str
) -> None:
    assert script.create_job(gateway.url, user_token, DAILY_JOB)[0] == 200  # in the user's own namespace
    for status, answer in (script.list_jobs(gateway.url, user_token, namespace=other_namespace),
                           script.post(gateway.url, user_token, "create_job", DAILY_JOB, namespace=other_namespace)):
        assert status == 403 and answer["status"] == "ERROR" and "forbidden" in answer["msg"], answer
    assert node.get_json("-n", other_namespace, "sj")["items"] == []
    for status, answer in (script.list_jobs(gateway.url, None), script.create_job(gateway.url, None, DAILY_JOB),
                           script.list_jobs(gateway.url, "not-a-token")):
        assert status == 401 and answer["status"] == "ERROR", answer
