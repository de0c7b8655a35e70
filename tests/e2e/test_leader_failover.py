"""Two operators on one namespace with real runs: a run in flight when the leader is killed is recorded
once, with its RunSucceeded Event, by the operator that takes over (issue 20, item 7: the Triggered
Event came, the RunSucceeded never did)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cronflow import leader
from tests.support.cluster import Cluster, OperatorProcess, two_operators, wait_until
from tests.support.flow_server import Server
from tests.support.manifests import scheduledjob

pytestmark = pytest.mark.e2e


@pytest.fixture
def operators(node: Cluster, crd: None, namespace: str, tmp_path: Path) -> Iterator[list[OperatorProcess]]:
    yield from two_operators(node, namespace, tmp_path)


def results(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (cluster.get_json("-n", namespace, "sj", "flow").get("status") or {}).get(
        "results") or []
    return found


def test_a_run_in_flight_when_the_leader_is_killed_is_recorded_once_by_the_new_leader(
    node: Cluster, namespace: str, operators: list[OperatorProcess], flow_server: Server
) -> None:
    first = wait_until("a leader", lambda: next((p for p in operators if p.metric("cronflow_leader") == 1), None),
                       timeout=30)
    second = next(p for p in operators if p is not first)
    wait_until("the other following", lambda: "follower: lease" in second.log(), timeout=30)
    manifest = scheduledjob("flow", namespace, schedule="0 3 * * *",
                            flow={"endpoint": f"{flow_server.url}/slow", "timeoutSeconds": 30}, trigger="t1")
    node.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    wait_until("the run in flight", lambda: flow_server.received, timeout=120)

    first.stop(kill=True)
    flow_server.release.set()
    [result] = wait_until("the result in status", lambda: results(node, namespace),
                          timeout=leader.LEASE_DURATION_SECONDS + 60, every=1)

    assert result["status"] == "OK" and result["trigger"] == "Manual"
    assert second.metric("cronflow_leader") == 1
    events = node.get_json("-n", namespace, "events")["items"]
    succeeded = [e for e in events if e["reason"] == "RunSucceeded" and e["involvedObject"]["name"] == "flow"]
    assert len(succeeded) == 1
    assert len(flow_server.received) == 1, "the flow was called once"
