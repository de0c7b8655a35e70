"""cronflow-api on the local cluster: the original API's documented script, with a ServiceAccount's token
whose Role allows ScheduledJobs (and creating Secrets) in one namespace only, runs a job end to end.

The gateway runs as a process on the host with a kubeconfig that holds no credentials at all, so every
call it makes is the caller's. (Through the chart's Service: with the chart's gateway templates.)
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cronflow import names
from tests.support import scheduler_client as script
from tests.support.cluster import Cluster, OperatorProcess, wait_until
from tests.support.flow_server import Server
from tests.support.gateway import GatewayProcess
from tests.support.scheduler_client import DAILY_JOB

pytestmark = pytest.mark.e2e
USER = "scheduler-user"
AUTH_TOKEN = DAILY_JOB["flow_parameters"]["auth_token"]


def user_rbac(namespace: str) -> dict[str, Any]:
    """A ServiceAccount with a Role on ScheduledJobs (and Secret create, for the auth_token) in `namespace`."""
    meta = {"name": USER, "namespace": namespace}
    rules = [
        {"apiGroups": [names.GROUP], "resources": [names.PLURAL],
         "verbs": ["get", "list", "create", "patch", "delete"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
    ]
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": USER},
         "subjects": [{"kind": "ServiceAccount", "name": USER, "namespace": namespace}]},
    ]}


def credential_free_kubeconfig(cluster: Cluster, path: Path) -> Path:
    """The cluster's address and CA only: the gateway must not be able to act on its own."""
    config = json.loads(cluster.kubectl("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout)
    config["users"] = [{"name": user["name"], "user": {}} for user in config["users"]]
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def user_token(node: Cluster, namespace: str) -> str:
    node.kubectl("apply", "-f", "-", input=json.dumps(user_rbac(namespace)))
    return node.kubectl("-n", namespace, "create", "token", USER, "--duration", "1h").stdout.strip()


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
    url_base, answers = gateway.url, []

    def call(answer: tuple[int, Any]) -> Any:
        answers.append(answer)
        assert answer[0] == 200, answer
        return answer[1]

    job_id = call(script.create_job(url_base, user_token, DAILY_JOB))["job_id"]
    [job] = call(script.list_jobs(url_base, user_token, job_id=job_id, username="*"))["jobs"]
    assert (job["name"], job["username"]) == ("Daily Job", f"system:serviceaccount:{namespace}:{USER}")
    [sj] = node.get_json("-n", namespace, "sj")["items"]
    assert sj["metadata"]["uid"] == job_id

    run_id = call(script.trigger_job(url_base, user_token, job_id))["run_id"]
    run = wait_until("the triggered run to finish", lambda: (
        finished if (finished := call(script.get_run(url_base, user_token, run_id)))["state"] in ("OK", "ERROR")
        else None), timeout=120, every=1)
    assert run["state"] == "OK", run
    assert run["result"]["http_result"]["status"] == "200"
    [received] = [r for r in flow_server.received if r.path == "/ok"]
    assert received.headers["Authorization"] == f"Bearer {AUTH_TOKEN}"  # the Secret reached the run only
    assert json.loads(received.body)["settings"] == DAILY_JOB["flow_parameters"]["settings"]
    [job] = call(script.list_jobs(url_base, user_token, job_id=job_id))["jobs"]
    assert job["results"] == [run["result"]]

    assert call(script.disable_job(url_base, user_token, job_id)) == {"status": "OK", "disabled_jobs": job_id}
    assert node.get_json("-n", namespace, "sj", sj["metadata"]["name"])["spec"]["enabled"] is False
    assert call(script.enable_job(url_base, user_token, job_id)) == {"status": "OK", "enabled_jobs": job_id}

    secret = node.get_json("-n", namespace, "secret", f"{sj['metadata']['name']}-auth-token")
    assert secret["metadata"]["ownerReferences"][0]["uid"] == job_id
    everything = json.dumps([answers, node.get_json("-n", namespace, "sj"), node.get_json("-n", namespace, "events")])
    assert AUTH_TOKEN not in everything and AUTH_TOKEN not in gateway.log() and AUTH_TOKEN not in operator.log()
    assert user_token not in gateway.log()

    assert call(script.delete_job(url_base, user_token, job_id)) == {"status": "OK", "deleted_jobs": job_id}
    wait_until("the job and its Secret to be gone", lambda: not (
        node.get_json("-n", namespace, "sj")["items"]
        or node.get_json("-n", namespace, "secret", "-l", f"{names.USABLE_LABEL}=true")["items"]), timeout=60)


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
