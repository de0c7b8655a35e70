"""What a result means, on the node: retries, success rules, async completion, forms and Secret headers.

Job pods call the flow server on the host; each test asserts what the server received as well as the
result the operator recorded.
"""

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_runs import apply_sj, trigger, wait_results
from tests.support.cluster import Cluster, OperatorProcess
from tests.support.flow_server import Server
from tests.support.volumes import Volumes

pytestmark = pytest.mark.e2e

FAST_RETRY = {"attempts": 3, "backoffSeconds": 1, "maxBackoffSeconds": 2}


def run_once(cluster: Cluster, namespace: str, endpoint: str, **spec: Any) -> dict[str, Any]:
    """Apply a ScheduledJob calling `endpoint` with `spec`'s flow fields, trigger it, wait for its result."""
    flow = {"endpoint": endpoint, "timeoutSeconds": 10, **spec.pop("flow", {})}
    apply_sj(cluster, namespace, endpoint, flow=flow, **spec)
    trigger(cluster, namespace, "t1")
    [result] = wait_results(cluster, namespace, 1, timeout=180)
    return result


def key() -> str:
    return uuid.uuid4().hex[:12]


@pytest.mark.parametrize("failure", ["status=503&retryAfter=1", "status=503", "drop=1"])
def test_a_run_retries_transient_failures_then_is_ok(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, failure: str
) -> None:
    route = f"/flaky/{key()}"
    result = run_once(node, namespace, f"{flow_server.url}{route}?fail=2&{failure}", flow={"retry": FAST_RETRY})
    assert (result["status"], result["attempts"], result["httpResult"]["status"]) == ("OK", 3, 200)
    assert len(flow_server.to(route)) == 3


def test_retries_exhausted_is_an_error_that_names_each_attempt(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    route = f"/flaky/{key()}"
    result = run_once(node, namespace, f"{flow_server.url}{route}?fail=9", flow={"retry": FAST_RETRY})
    assert (result["status"], result["attempts"], result["httpResult"]["status"]) == ("ERROR", 3, 503)
    assert "3 attempts" in result["message"]
    assert result["message"].count("503") >= 3
    assert len(flow_server.to(route)) == 3


def test_a_4xx_is_not_retried(node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server) -> None:
    route = f"/flaky/{key()}"
    result = run_once(node, namespace, f"{flow_server.url}{route}?fail=9&status=404", flow={"retry": FAST_RETRY})
    assert (result["status"], result["attempts"], result["httpResult"]["status"]) == ("ERROR", 1, 404)
    assert len(flow_server.to(route)) == 1


def test_a_200_with_an_error_body_is_an_error_when_success_says_so(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    result = run_once(node, namespace, f"{flow_server.url}/error", flow={"success": {"when": "status == 'OK'"}})
    assert (result["status"], result["httpResult"]["status"]) == ("ERROR", 200)
    assert "status == 'OK'" in result["message"]
    assert '"ERROR"' in result["httpResult"]["response"]


def completion(server: Server, timeout: int = 60) -> dict[str, Any]:
    return {
        "jobId": "data.job_id",
        "statusUrl": f"{server.url}/async/status?job_id={{jobId}}",
        "intervalSeconds": 1,
        "timeoutSeconds": timeout,
        "doneWhen": "state != 'RUNNING'",
        "successWhen": "state == 'COMPLETE'",
    }


@pytest.mark.parametrize(("end", "status"), [("COMPLETE", "OK"), ("FAILED", "ERROR")])
def test_an_async_flow_is_followed_to_its_end(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, end: str, status: str
) -> None:
    job_id = key()
    result = run_once(
        node, namespace, f"{flow_server.url}/async/start/{job_id}?polls=2&end={end}",
        flow={"completion": completion(flow_server)},
    )
    assert result["status"] == status, result
    assert result["completion"]["jobId"] == job_id
    assert json.loads(result["completion"]["httpResult"]["response"])["state"] == end
    assert json.loads(result["httpResult"]["response"])["data"]["job_id"] == job_id  # the start answer
    assert len(flow_server.to("/async/status")) == 3  # RUNNING twice, then the end


def test_an_async_flow_still_running_at_its_timeout_is_an_error(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    result = run_once(
        node, namespace, f"{flow_server.url}/async/start/{key()}?end=NEVER",
        flow={"completion": completion(flow_server, timeout=4)},
    )
    assert result["status"] == "ERROR"
    assert "still running after 4" in result["message"]
    assert json.loads(result["completion"]["httpResult"]["response"])["state"] == "RUNNING"


def test_a_secret_header_reaches_the_server_and_appears_nowhere_else(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    secret_value = f"k-{uuid.uuid4().hex}"
    literal = f"--from-literal=X-Api-Key={secret_value}"
    node.kubectl("-n", namespace, "create", "secret", "generic", "flow-headers", literal)
    node.kubectl("-n", namespace, "label", "secret", "flow-headers", "cronflow.dev/usable=true")
    result = run_once(
        node, namespace, f"{flow_server.url}/ok",
        flow={"headers": {"X-Team": "genomics"}, "headersSecretRef": {"name": "flow-headers"}, "query": {"dry": "1"}},
    )
    assert result["status"] == "OK", result
    [received] = flow_server.to("/ok")
    assert received.headers["X-Api-Key"] == secret_value
    assert received.headers["X-Team"] == "genomics"
    assert received.query == {"dry": ["1"]}

    seen = [
        node.kubectl("-n", namespace, "get", "sj,cronjobs,jobs,pods,events", "-o", "yaml").stdout,
        node.kubectl("-n", namespace, "describe", "sj,jobs,pods").stdout,
        node.kubectl("-n", namespace, "logs", "-l", "cronflow.dev/scheduledjob=flow", "--tail=-1").stdout,
        operator.log(),
    ]
    assert all(secret_value not in text for text in seen)


def test_a_form_sends_the_claimed_file_to_a_job_submission_service(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, volumes: Volumes
) -> None:
    inbox: Path = volumes.create("inbox")
    endpoint = f"{flow_server.url}/submission?polls=1"
    apply_sj(node, namespace, endpoint, flow={
        "endpoint": endpoint, "timeoutSeconds": 10,
        "form": {"fields": {"email": "ops@example.com", "submission_name": "nightly"}, "fileField": "input_data"},
        "completion": {
            "jobId": "UUID", "statusUrl": f"{flow_server.url}/submission/{{jobId}}", "intervalSeconds": 1,
            "timeoutSeconds": 60, "doneWhen": "state != 'Running'", "successWhen": "state == 'Complete'",
        },
    }, automatic={"enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}}, "path": "input",
                  "pollSeconds": 1})
    content = b"%PDF-1.4 sample \x00\xff bytes"
    (inbox / "batch-1.pdf").write_bytes(content)
    [result] = wait_results(node, namespace, 1, timeout=180)
    assert result["status"] == "OK", result
    assert result["inputFile"] == "batch-1.pdf"
    [submitted] = flow_server.to("/submission")
    file_part = submitted.part("input_data")
    assert (file_part.filename, file_part.data) == ("batch-1.pdf", content)
    assert submitted.part("email").data == b"ops@example.com"
    assert json.loads(result["completion"]["httpResult"]["response"])["state"] == "Complete"

    job = node.get_json("-n", namespace, "job", result["job"])
    mounts = {m["mountPath"]: m for m in job["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["/input"]["readOnly"] is True  # the claimed file is read, never written


def test_a_form_without_a_claimed_file_sends_an_empty_file(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    result = run_once(node, namespace, f"{flow_server.url}/submission", flow={
        "form": {"fields": {"email": "ops@example.com", "submission_name": "manual"}, "fileField": "input_data"}})
    assert (result["status"], result["httpResult"]["status"]) == ("OK", 201), result
    [submitted] = flow_server.to("/submission")
    assert submitted.part("input_data").data == b""

