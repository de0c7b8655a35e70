"""Scheduling policies on the node: a pause after failed runs and its resume with the plugin, a 24-hour
backfill that runs each hour once across an operator restart, the status times after OK and ERROR runs."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.test_runs import apply_sj, trigger, wait_results
from tests.integration.test_plugin import plugin
from tests.support.cluster import Cluster, OperatorProcess, wait_until
from tests.support.flow_server import Server

pytestmark = pytest.mark.e2e


def status_of(cluster: Cluster, namespace: str, name: str = "flow") -> dict[str, Any]:
    found: dict[str, Any] = cluster.get_json("-n", namespace, "sj", name).get("status") or {}
    return found


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})


def test_two_failed_runs_pause_the_schedule_and_the_plugin_resumes_it(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/fail", pauseAfterFailures=2)
    trigger(node, namespace, "t1")
    wait_results(node, namespace, 1)
    trigger(node, namespace, "t2")
    wait_results(node, namespace, 2)
    status = wait_until("state PAUSED", lambda: s if (s := status_of(node, namespace))["state"] == "PAUSED" else None)

    paused = condition(status, "Paused")
    assert (paused["status"], paused["reason"]) == ("True", "TooManyFailures")
    assert "last error" in paused["message"] and "500" in paused["message"]
    assert status["consecutiveFailures"] == 2 and "nextScheduleTimes" not in status
    cronjob = node.get_json("-n", namespace, "cronjob", status["cronJobName"])
    assert cronjob["spec"]["suspend"] is True
    events = node.get_json("-n", namespace, "events")["items"]
    assert sum(e["reason"] == "TooManyFailures" for e in events) == 1

    resumed = plugin(node, namespace, "resume", "flow")
    assert resumed.returncode == 0, resumed.stderr
    status = wait_until("state ENABLED", lambda: s if (s := status_of(node, namespace))["state"] == "ENABLED" else None)
    assert status["consecutiveFailures"] == 0 and status["lastResume"]
    assert condition(status, "Paused")["status"] == "False"
    assert node.get_json("-n", namespace, "cronjob", status["cronJobName"])["spec"]["suspend"] is False


def test_a_24_hour_backfill_runs_each_hour_once_across_an_operator_restart(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/ok", schedule="0 * * * *", concurrencyPolicy="Allow",
             historyLimit=50)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    span = ["--from", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--to",
            (start + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")]
    dry = plugin(node, namespace, "backfill", "flow", *span, "--dry-run")
    assert dry.returncode == 0 and len(dry.stdout.splitlines()) == 25  # a header and 24 times
    requested = plugin(node, namespace, "backfill", "flow", *span)
    assert requested.returncode == 0 and "(24 scheduled times)" in requested.stdout

    def done_at_least(count: int) -> dict[str, Any] | None:
        progress = status_of(node, namespace).get("backfill") or {}
        return progress if progress.get("done", 0) >= count else None

    wait_until("a quarter of the backfill", lambda: done_at_least(6), timeout=240, every=1)
    operator.restart()
    progress = wait_until("the whole backfill", lambda: done_at_least(24), timeout=400, every=2)

    assert (progress["total"], progress["done"], progress["failed"]) == (24, 24, 0)
    recorded = [r for r in wait_results(node, namespace, 24) if r["trigger"] == "Backfill"]
    scheduled = sorted(r["scheduledTime"] for r in recorded)
    assert scheduled == [(start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in range(24)]
    assert len({r["job"] for r in recorded}) == 24
    assert len(flow_server.received) == 24, "each hour called exactly once"
    assert status_of(node, namespace)["backfill"]["done"] == 24


def test_status_times_after_an_error_and_then_an_ok_run(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server
) -> None:
    apply_sj(node, namespace, f"{flow_server.url}/flaky/times?fail=1", schedule="30 2 * * *",
             timeZone="Europe/Amsterdam")
    trigger(node, namespace, "t1")
    [failed] = wait_results(node, namespace, 1)
    status = status_of(node, namespace)
    assert failed["status"] == "ERROR"
    assert (status["consecutiveFailures"], status["lastRunTime"]) == (1, failed["startTime"])
    assert status["lastFailureTime"] and "lastSuccessfulTime" not in status

    trigger(node, namespace, "t2")
    ok, _ = wait_results(node, namespace, 2)
    status = status_of(node, namespace)
    assert ok["status"] == "OK" and status["consecutiveFailures"] == 0
    assert status["lastSuccessfulTime"] >= status["lastFailureTime"]
    assert status["lastRunTime"] == max(failed["startTime"], ok["startTime"])
    times = status["nextScheduleTimes"]
    assert len(times) == 5 and times == sorted(times) and all(t.endswith("Z") for t in times)
    assert times[0] == status["nextScheduleTime"]
