"""Two operators on the same namespace: only the one holding the Lease writes, the other says it follows
(log and metric) and takes over when the leader is killed (within the lease duration) or stops cleanly
(at once: the lease is released)."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cronflow import leader
from tests.support import manifests
from tests.support.cluster import Cluster, OperatorProcess, two_operators, wait_until

pytestmark = pytest.mark.integration

WRITE_LINES = ("applied CronJob", "patched status of ScheduledJob", "created Job", "patched Job", "deleted Job")
"""What the operator logs for each of its writes (kube.KubeWriter)."""


@pytest.fixture
def operators(cluster: Cluster, crd: None, namespace: str, tmp_path: Path) -> Iterator[list[OperatorProcess]]:
    yield from two_operators(cluster, namespace, tmp_path)


def roles(procs: list[OperatorProcess], timeout: float = 30) -> tuple[OperatorProcess, OperatorProcess]:
    """(leader, follower) once exactly one reports cronflow_leader 1 and the other has logged that it follows."""

    def settled() -> tuple[OperatorProcess, OperatorProcess] | None:
        alive = [p for p in procs if p.proc is not None and p.proc.poll() is None]
        leading = [p for p in alive if p.metric("cronflow_leader") == 1]
        following = [p for p in alive if p not in leading and "follower: lease" in p.log()]
        if len(leading) == 1 and len(following) == 1:
            return leading[0], following[0]
        return None

    return wait_until("one leader and one follower", settled, timeout=timeout)


def lease(cluster: Cluster, namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = cluster.get_json("-n", namespace, "lease", leader.lease_name([namespace]))
    return found


def scheduledjob(namespace: str, **spec: Any) -> dict[str, Any]:
    return manifests.scheduledjob("nightly", namespace, **{
        "schedule": "30 2 * * *", "flow": {"endpoint": "https://flows.example.com/api/v1/flow/run"}, **spec})


def trigger(cluster: Cluster, namespace: str, token: str) -> None:
    cluster.kubectl("-n", namespace, "patch", "sj", "nightly", "--type", "merge", "-p",
                    json.dumps({"spec": {"trigger": token}}))


def triggered(cluster: Cluster, namespace: str, token: str, timeout: float) -> dict[str, Any]:
    """The status once it records `token` as the last trigger."""

    def probe() -> dict[str, Any] | None:
        status = cluster.get_json("-n", namespace, "sj", "nightly").get("status") or {}
        return status if status.get("lastTrigger") == token else None

    return wait_until(f"lastTrigger {token}", probe, timeout=timeout)


def jobs(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.get_json("-n", namespace, "jobs")["items"]
    return items


def writes_in(log: str) -> list[str]:
    return [line for line in log.splitlines() if any(marker in line for marker in WRITE_LINES)]


def test_of_two_operators_only_the_lease_holder_writes_and_the_other_says_it_follows(
    cluster: Cluster, namespace: str, operators: list[OperatorProcess]
) -> None:
    first, follower = roles(operators)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(scheduledjob(namespace, enabled=False)))
    trigger(cluster, namespace, "run-1")
    triggered(cluster, namespace, "run-1", timeout=30)
    time.sleep(3)  # the follower has seen every event of it by now

    assert len(jobs(cluster, namespace)) == 1
    assert any("created Job" in line for line in writes_in(first.log()))
    assert writes_in(follower.log()) == [], "a follower writes nothing"
    assert first.metric("cronflow_leader") == 1 and follower.metric("cronflow_leader") == 0
    holder = lease(cluster, namespace)["spec"]["holderIdentity"]
    assert f"is held by {holder}" in follower.log()
    assert f"leader: this operator ({holder}) holds lease {namespace}/" in first.log()
    assert follower.metric("cronflow_reconciles_total") == 0


def test_when_the_leader_is_killed_the_follower_takes_over_within_the_lease_duration(
    cluster: Cluster, namespace: str, operators: list[OperatorProcess]
) -> None:
    first, follower = roles(operators)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(scheduledjob(namespace, enabled=False)))
    trigger(cluster, namespace, "before")
    triggered(cluster, namespace, "before", timeout=30)
    old_holder = lease(cluster, namespace)["spec"]["holderIdentity"]

    first.stop(kill=True)  # no release: the follower must wait for the lease to expire
    killed = time.monotonic()
    trigger(cluster, namespace, "after-kill")
    deadline = leader.LEASE_DURATION_SECONDS + leader.RETRY_EVERY_SECONDS + 10
    triggered(cluster, namespace, "after-kill", timeout=deadline)
    took = time.monotonic() - killed
    print(f"leader killed -> the follower recorded the trigger in {took:.1f} s")

    assert took <= deadline
    assert len(jobs(cluster, namespace)) == 2, "each trigger ran once"
    assert follower.metric("cronflow_leader") == 1
    assert f"took it over from {old_holder}" in follower.log()
    assert any("created Job" in line for line in writes_in(follower.log()))
    spec = lease(cluster, namespace)["spec"]
    assert spec["holderIdentity"] != old_holder and spec["leaseTransitions"] >= 1


def test_when_the_leader_stops_cleanly_the_follower_takes_over_at_once(
    cluster: Cluster, namespace: str, operators: list[OperatorProcess]
) -> None:
    first, follower = roles(operators)
    cluster.kubectl("apply", "-f", "-", input=json.dumps(scheduledjob(namespace, enabled=False)))
    wait_until("the leader's CronJob", lambda: cluster.get_json("-n", namespace, "cronjobs")["items"], timeout=30)
    first.stop()
    assert "released lease" in first.log()
    stopped = time.monotonic()
    wait_until("the follower leading", lambda: follower.metric("cronflow_leader") == 1,
               timeout=leader.RETRY_EVERY_SECONDS + 5)
    print(f"leader stopped -> the follower leads after {time.monotonic() - stopped:.1f} s")
    trigger(cluster, namespace, "after-stop")
    triggered(cluster, namespace, "after-stop", timeout=30)
    assert "took it over (released)" in follower.log()
