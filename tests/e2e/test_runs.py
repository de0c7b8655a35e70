"""Real runs on the node: job pods call a flow server on the host, results land in status exactly once,
notifications reach a real webhook server and a real SMTP server."""

import json
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.cluster import Cluster, OperatorProcess, free_port, wait_until
from tests.support.flow_server import Server, serve
from tests.support.manifests import scheduledjob

pytestmark = pytest.mark.e2e


@pytest.fixture
def webhook_server() -> Iterator[Server]:
    """A webhook receiver on loopback (the operator runs on the host)."""
    yield from serve()


class Inbox:
    """aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def apply_sj(cluster: Cluster, namespace: str, endpoint: str, name: str = "flow", **spec: Any) -> None:
    manifest = scheduledjob(name, namespace, **{
        "schedule": "0 3 * * *", "flow": {"endpoint": endpoint, "timeoutSeconds": 20}, **spec})
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))


def trigger(cluster: Cluster, namespace: str, token: str, name: str = "flow") -> None:
    cluster.kubectl("-n", namespace, "patch", "sj", name, "--type", "merge", "-p",
                    json.dumps({"spec": {"trigger": token}}))


def results(cluster: Cluster, namespace: str, name: str = "flow") -> list[dict[str, Any]]:
    status = cluster.get_json("-n", namespace, "sj", name).get("status") or {}
    found: list[dict[str, Any]] = status.get("results") or []
    return found


def wait_results(cluster: Cluster, namespace: str, count: int, name: str = "flow",
                 timeout: float = 120) -> list[dict[str, Any]]:
    return wait_until(
        f"{count} result(s) in status",
        lambda: r if len(r := results(cluster, namespace, name)) >= count else None,
        timeout=timeout, every=1,
    )


def test_triggered_run_records_http_status_headers_and_response(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/ok", flow={
        "endpoint": f"{flow_server.url}/ok", "binaryPath": "admin/flow.ibflowbin",
        "settings": {"runtimeConfig": {"maxRetries": 1}}})
    trigger(node, namespace, "t1")
    [result] = wait_results(node, namespace, 1)

    assert result["status"] == "OK"
    assert result["trigger"] == "Manual"
    assert result["httpResult"]["status"] == 200
    assert json.loads(result["httpResult"]["response"]) == {"accepted": True}
    headers = {h["key"]: h["value"] for h in result["httpResult"]["headers"]}
    assert headers["X-Request-Id"] == "r-1"
    assert headers["Set-Cookie"] == "<redacted>"
    assert result["startTime"] and result["finishedAt"]
    body = json.loads(flow_server.received[0].body)
    assert body == {"binary_path": "admin/flow.ibflowbin", "settings": {"runtime_config": {"max_retries": 1}}}

    status = node.get_json("-n", namespace, "sj", "flow")["status"]
    assert status["succeeded"] == 1
    job = node.get_json("-n", namespace, "job", result["job"])
    assert "cronflow.dev/result" not in (job["metadata"].get("finalizers") or [])
    events = node.get_json("-n", namespace, "events")["items"]
    assert any(e["reason"] == "RunSucceeded" and e["involvedObject"]["name"] == "flow" for e in events)


def test_failing_flow_is_recorded_as_error_with_its_http_status(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/fail")
    trigger(node, namespace, "t1")
    [result] = wait_results(node, namespace, 1)
    assert (result["status"], result["httpResult"]["status"]) == ("ERROR", 500)
    assert node.get_json("-n", namespace, "sj", "flow")["status"]["failed"] == 1


def test_unreachable_flow_is_an_error_with_a_message(
    node: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    apply_sj(node, namespace, f"http://{node.pod_gateway}:{free_port()}/nothing-listens")
    trigger(node, namespace, "t1")
    [result] = wait_results(node, namespace, 1)
    assert result["status"] == "ERROR"
    assert "connection refused" in result["message"]
    assert "httpResult" not in result


def test_scheduled_run_is_recorded(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/ok", schedule="* * * * *")
    [result, *_] = wait_results(node, namespace, 1, timeout=150)
    assert (result["trigger"], result["status"]) == ("Schedule", "OK")
    status = node.get_json("-n", namespace, "sj", "flow")["status"]
    assert status["lastScheduleTime"]


def test_history_is_capped_newest_first(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/ok", historyLimit=2)
    for count, token in enumerate("abc", start=1):
        trigger(node, namespace, token)
        def counted(n: int = count) -> bool:
            return bool(node.get_json("-n", namespace, "sj", "flow")["status"].get("succeeded") == n)

        wait_until(f"run {token} counted", counted, timeout=120, every=1)
    recorded = results(node, namespace)
    assert len(recorded) == 2
    tokens = [node.get_json("-n", namespace, "job", r["job"])["metadata"]["annotations"]["cronflow.dev/trigger-token"]
              for r in recorded]
    assert tokens == ["c", "b"]


def test_result_survives_the_operator_being_killed_while_the_job_finishes(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/slow")
    trigger(node, namespace, "t1")
    wait_until("the flow call to arrive", lambda: flow_server.received, timeout=90)
    operator.stop(kill=True)
    flow_server.release.set()
    job_name = node.get_json("-n", namespace, "jobs")["items"][0]["metadata"]["name"]
    wait_until("the Job to complete", lambda: any(
        c["type"] == "Complete" and c["status"] == "True"
        for c in node.get_json("-n", namespace, "job", job_name)["status"].get("conditions") or []), timeout=60)
    node.kubectl("-n", namespace, "delete", "job", job_name, "--wait=false")  # history cleanup racing us
    time.sleep(2)
    assert node.get_json("-n", namespace, "job", job_name)["metadata"]["finalizers"] == ["cronflow.dev/result"]

    operator.start()
    [result] = wait_results(node, namespace, 1)
    assert (result["job"], result["status"]) == (job_name, "OK")
    wait_until("the Job to be gone", lambda: node.kubectl(
        "-n", namespace, "get", "job", job_name, check=False).returncode != 0, timeout=30)
    operator.restart()
    time.sleep(3)
    assert len(results(node, namespace)) == 1
    assert node.get_json("-n", namespace, "sj", "flow")["status"]["succeeded"] == 1


def test_webhook_gets_exactly_one_delivery_and_email_arrives(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server,
    webhook_server: Server, smtp_inbox: tuple[Inbox, int],
) -> None:
    inbox, smtp_port = smtp_inbox
    operator.env = {"CRONFLOW_SMTP_HOST": "127.0.0.1", "CRONFLOW_SMTP_PORT": str(smtp_port),
                    "CRONFLOW_SMTP_STARTTLS": "false", "CRONFLOW_SMTP_FROM": "cronflow@test.local"}
    operator.restart()
    node.kubectl("-n", namespace, "create", "secret", "generic", "hook-headers", "--from-literal=X-Hook-Token=s3cret")
    node.kubectl("-n", namespace, "label", "secret", "hook-headers", "cronflow.dev/usable=true")
    apply_sj(node, namespace, f"{flow_server.url}/fail", notifications={
        "on": ["Failure", "Success"],
        "webhook": {"url": f"{webhook_server.url}/ok", "headers": {"X-Team": "data"},
                    "headersSecretRef": {"name": "hook-headers"}},
        "emails": ["oncall@example.com"],
    })
    trigger(node, namespace, "t1")
    [result] = wait_results(node, namespace, 1)
    wait_until("the webhook delivery", lambda: webhook_server.received, timeout=30)
    wait_until("the email", lambda: inbox.messages, timeout=30)
    time.sleep(3)

    assert len(webhook_server.received) == 1
    delivery = webhook_server.received[0]
    payload = json.loads(delivery.body)
    assert payload["run"]["job"] == result["job"]
    assert payload["run"]["status"] == "ERROR"
    assert delivery.headers["X-Team"] == "data"
    assert delivery.headers["X-Hook-Token"] == "s3cret"
    assert delivery.headers["Idempotency-Key"] == payload["idempotencyKey"]

    assert len(inbox.messages) == 1
    recipients, raw = inbox.messages[0]
    assert recipients == ["oncall@example.com"]
    email = message_from_bytes(raw, policy=policy.default)
    assert str(email["Subject"]).strip() == f"[cronflow] {namespace}/flow: run ERROR"
    events = json.dumps(node.get_json("-n", namespace, "events"))
    assert "s3cret" not in events


OUTAGE_RUNS = 5
"""Scheduled runs while the operator is down: more than the 3 Jobs a CronJob used to keep."""


def job_items(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.get_json("-n", namespace, "jobs")["items"]
    return items


def test_runs_while_the_operator_is_down_are_each_recorded_once_when_it_is_back(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/ok", schedule="* * * * *")
    wait_until("the CronJob", lambda: node.get_json("-n", namespace, "cronjobs")["items"], timeout=30)
    operator.stop()
    before = {j["metadata"]["name"] for j in job_items(node, namespace)}

    def finished_during_outage() -> list[str] | None:
        names = [j["metadata"]["name"] for j in job_items(node, namespace)
                 if j["metadata"]["name"] not in before and j.get("status", {}).get("succeeded")]
        return names if len(names) >= OUTAGE_RUNS else None

    during = wait_until(f"{OUTAGE_RUNS} scheduled runs without the operator", finished_during_outage,
                        timeout=OUTAGE_RUNS * 60 + 120, every=5)
    operator.start()

    def all_recorded() -> list[dict[str, Any]] | None:
        recorded = results(node, namespace)
        return recorded if set(during) <= {r["job"] for r in recorded} else None

    recorded = wait_until("every run of the outage in status", all_recorded, timeout=60, every=1)
    jobs = [r["job"] for r in recorded]
    assert len(jobs) == len(set(jobs)), f"a run recorded twice: {jobs}"
    assert all(r["status"] == "OK" and r["trigger"] == "Schedule" for r in recorded)
    status = node.get_json("-n", namespace, "sj", "flow")["status"]
    assert status["succeeded"] == len(jobs)
    assert status["lastRunTime"] == max(r["startTime"] for r in recorded)


@pytest.fixture
def silent_endpoint(node: Cluster) -> Iterator[str]:
    """A TCP port on the pod gateway that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind((node.pod_gateway, 0))
        listener.listen(16)
        yield f"http://{node.pod_gateway}:{listener.getsockname()[1]}/never"


def test_a_running_job_deleted_is_recorded_as_error_and_goes_away(
    node: Cluster, namespace: str, operator: OperatorProcess, silent_endpoint: str
) -> None:
    apply_sj(node, namespace, silent_endpoint, flow={"endpoint": silent_endpoint, "timeoutSeconds": 120})
    trigger(node, namespace, "t1")

    def running_pod() -> str | None:
        for pod in node.get_json("-n", namespace, "pods")["items"]:
            if pod.get("status", {}).get("phase") == "Running":
                return str(pod["metadata"]["labels"]["batch.kubernetes.io/job-name"])
        return None

    job = wait_until("the run's pod running", running_pod, timeout=90, every=1)
    node.kubectl("-n", namespace, "delete", "job", job, "--wait=false")
    [result] = wait_results(node, namespace, 1, timeout=30)
    assert (result["job"], result["status"]) == (job, "ERROR")
    assert result["message"] == "the Job was deleted before it finished"
    wait_until("the Job gone", lambda: not job_items(node, namespace), timeout=30, every=1)
    [event] = [e for e in node.get_json("-n", namespace, "events")["items"] if e["reason"] == "RunFailed"]
    assert job in event["message"]


def test_a_forged_job_with_the_labels_is_not_recorded(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/ok")
    wait_until("the CronJob", lambda: node.get_json("-n", namespace, "cronjobs")["items"], timeout=30)
    cronjob = node.get_json("-n", namespace, "cronjob", "flow")
    template = cronjob["spec"]["jobTemplate"]
    forged = {"apiVersion": "batch/v1", "kind": "Job",
              "metadata": {"name": "flow-forged", "namespace": namespace, **template["metadata"]},
              "spec": template["spec"]}
    node.kubectl("apply", "-f", "-", input=json.dumps(forged))
    wait_until("the forged Job to finish", lambda: node.get_json("-n", namespace, "job", "flow-forged")
               .get("status", {}).get("succeeded"), timeout=90, every=1)
    time.sleep(3)
    assert results(node, namespace) == []
    job = node.get_json("-n", namespace, "job", "flow-forged")
    assert "cronflow.dev/result" not in (job["metadata"].get("finalizers") or [])


def test_planted_secret_values_valid_and_malformed_appear_nowhere(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, webhook_server: Server
) -> None:
    """Distinctive values in every Secret cronflow reads, good and bad, through success and failure."""
    planted = {
        "good-token": "PLANTED-good-token-8d1f",
        "bad-token": "PLANTED-bad-token-2c7e\n",
        "good-hook": "PLANTED-good-hook-5a90",
        "bad-hook": "PLANTED-bad-hook-71b3\n",
    }
    for name, value in planted.items():
        key = "token" if name.endswith("token") else "X-Hook-Token"
        secret = {"apiVersion": "v1", "kind": "Secret",
                  "metadata": {"name": name, "namespace": namespace, "labels": {"cronflow.dev/usable": "true"}},
                  "stringData": {key: value}}
        node.kubectl("apply", "-f", "-", input=json.dumps(secret))
    for good in (True, False):
        prefix = "good" if good else "bad"
        for path in ("ok", "fail"):
            name = f"{prefix}-{path}"
            apply_sj(node, namespace, f"{flow_server.url}/{path}", name=name, flow={
                "endpoint": f"{flow_server.url}/{path}", "timeoutSeconds": 20,
                "authTokenSecretRef": {"name": f"{prefix}-token", "key": "token"}},
                notifications={"on": ["Success", "Failure"], "webhook": {
                    "url": f"{webhook_server.url}/ok", "headersSecretRef": {"name": f"{prefix}-hook"}}})
            trigger(node, namespace, "t1", name=name)
    for name in ("good-ok", "good-fail", "bad-ok", "bad-fail"):
        wait_results(node, namespace, 1, name=name)
    assert [r["status"] for r in results(node, namespace, "good-ok")] == ["OK"]
    assert [r["status"] for r in results(node, namespace, "bad-ok")] == ["ERROR"]  # refused, by name
    wait_until("the good webhooks", lambda: len(webhook_server.received) >= 2, timeout=30)
    wait_until("NotificationFailed for the malformed header", lambda: [
        e for e in node.get_json("-n", namespace, "events")["items"] if e["reason"] == "NotificationFailed"],
        timeout=30)
    time.sleep(2)

    texts = {
        "ScheduledJobs (status, annotations)": node.kubectl("-n", namespace, "get", "sj", "-o", "json").stdout,
        "Events": node.kubectl("-n", namespace, "get", "events", "-o", "json").stdout,
        "operator log": operator.log(),
    }
    for job in job_items(node, namespace):
        job_name = job["metadata"]["name"]
        texts[f"log of {job_name}"] = node.kubectl("-n", namespace, "logs", f"job/{job_name}", check=False).stdout
    for where, text in texts.items():
        for value in planted.values():
            assert value.strip() not in text, f"a planted Secret value is in the {where}"
    assert "bad-hook" in texts["Events"], "the malformed header is reported by its Secret's name"


def test_a_notification_not_out_when_the_operator_stops_is_sent_after_it_restarts(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, webhook_server: Server
) -> None:
    with socket.socket() as silent:  # a webhook target that accepts and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        apply_sj(node, namespace, f"{flow_server.url}/ok", notifications={
            "on": ["Success"], "webhook": {"url": f"http://127.0.0.1:{silent.getsockname()[1]}/hook"}})
        trigger(node, namespace, "t1")
        [result] = wait_results(node, namespace, 1)
        job = node.get_json("-n", namespace, "job", result["job"])
        assert "cronflow.dev/result" in job["metadata"]["finalizers"], "held while its notification is out"
        operator.stop(kill=True)
    node.kubectl("-n", namespace, "patch", "sj", "flow", "--type", "merge", "-p", json.dumps(
        {"spec": {"notifications": {"webhook": {"url": f"{webhook_server.url}/ok"}}}}))
    operator.start()
    delivery = wait_until("the delivery after the restart", lambda: webhook_server.received, timeout=60)[0]
    uid = node.get_json("-n", namespace, "sj", "flow")["metadata"]["uid"]
    assert delivery.headers["Idempotency-Key"] == f"{uid}/{result['job']}"
    wait_until("the Job released", lambda: "cronflow.dev/result" not in (
        node.get_json("-n", namespace, "job", result["job"])["metadata"].get("finalizers") or []), timeout=30)
    assert len(results(node, namespace)) == 1
