"""Leader election on a Lease: the pure decisions (table), then the elector's loop against a fake Lease API
with an injected clock: one leader among two, conflicts lose, deadline, release, readiness, the metric."""

import asyncio
import copy
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from cronflow import leader
from cronflow.leader import Action, decide, release_body
from cronflow.reconcile.writer import ApiError

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
NAME, NS = "cronflow-operator-abc", "cronflow-system"


def stamp(seconds_ago: float) -> str:
    return leader.format_time(NOW - timedelta(seconds=seconds_ago))


def lease(holder: str | None, renewed_ago: float | None = 1, duration: int = 15, transitions: int = 3,
          rv: str = "7") -> dict[str, Any]:
    spec: dict[str, Any] = {"leaseDurationSeconds": duration, "acquireTime": stamp(100),
                            "leaseTransitions": transitions}
    if holder is not None:
        spec["holderIdentity"] = holder
    if renewed_ago is not None:
        spec["renewTime"] = stamp(renewed_ago)
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": NAME, "namespace": NS, "resourceVersion": rv, "uid": "u1",
                         "managedFields": [{"manager": "x"}]},
            "spec": spec}


# (case, lease as read, action, holder afterwards, transitions written)
DECISIONS = [
    ("absent: create it", None, Action.CREATE, "me", 0),
    ("mine: renew", lease("me", renewed_ago=4), Action.RENEW, "me", 3),
    ("mine although expired (e.g. after an outage): renew", lease("me", renewed_ago=60), Action.RENEW, "me", 3),
    ("someone else's, fresh: follow", lease("other", renewed_ago=1), Action.FOLLOW, "other", None),
    ("someone else's, 14 s old: follow", lease("other", renewed_ago=14), Action.FOLLOW, "other", None),
    ("someone else's, just expired: take over", lease("other", renewed_ago=15.01), Action.ACQUIRE, "me", 4),
    ("someone else's, long expired: take over", lease("other", renewed_ago=600), Action.ACQUIRE, "me", 4),
    ("its own duration counts: 30 s lease, 20 s old", lease("other", renewed_ago=20, duration=30),
     Action.FOLLOW, "other", None),
    ("released (no holder): take over", lease(None, renewed_ago=0), Action.ACQUIRE, "me", 4),
    ("released (empty holder): take over", lease("", renewed_ago=0), Action.ACQUIRE, "me", 4),
    ("renewed in the future by a skewed clock: follow", lease("other", renewed_ago=-30), Action.FOLLOW, "other", None),
    ("held, never renewed, acquired long ago: take over", lease("other", renewed_ago=None), Action.ACQUIRE, "me", 4),
]


@pytest.mark.parametrize(("case", "read", "action", "holder", "transitions"), DECISIONS, ids=[d[0] for d in DECISIONS])
def test_decide(case: str, read: dict[str, Any] | None, action: Action, holder: str, transitions: int | None) -> None:
    decision = decide(read, "me", NOW, NAME, NS, watched=["b", "a"])
    assert (decision.action, decision.holder) == (action, holder)
    if action is Action.FOLLOW:
        assert decision.body is None
        assert decision.expires_in is not None and decision.expires_in > 0
        return
    assert decision.body is not None
    spec = decision.body["spec"]
    assert spec["holderIdentity"] == "me"
    assert spec["renewTime"] == leader.format_time(NOW) == "2025-03-01T12:00:00.000001Z"
    assert spec["leaseDurationSeconds"] == leader.LEASE_DURATION_SECONDS
    assert spec["leaseTransitions"] == transitions
    meta = decision.body["metadata"]
    assert (meta["name"], meta["namespace"]) == (NAME, NS)
    if read is None:
        assert spec["acquireTime"] == spec["renewTime"]
        assert meta["annotations"] == {leader.NAMESPACES_ANNOTATION: "a,b"}
        assert "resourceVersion" not in meta
    else:  # a replace, guarded by what was read
        assert meta["resourceVersion"] == "7" and meta["uid"] == "u1"
        assert "managedFields" not in meta
        assert spec["acquireTime"] == (read["spec"]["acquireTime"] if action is Action.RENEW else spec["renewTime"])


def test_a_takeover_names_the_previous_holder() -> None:
    assert decide(lease("old-pod_1a2b", renewed_ago=30), "me", NOW, NAME, NS).previous == "old-pod_1a2b"
    assert decide(lease(None), "me", NOW, NAME, NS).previous == ""


def test_release_gives_up_only_ones_own_lease_and_expires_it_at_once() -> None:
    body = release_body(lease("me"), "me", NOW)
    assert body is not None
    assert "holderIdentity" not in body["spec"]
    assert body["spec"]["leaseDurationSeconds"] == 1
    assert body["metadata"]["resourceVersion"] == "7"
    assert decide(body, "other", NOW, NAME, NS).action is Action.ACQUIRE
    assert release_body(lease("other"), "me", NOW) is None
    assert release_body(None, "me", NOW) is None


def test_lease_name_is_per_set_of_namespaces_in_any_order() -> None:
    assert leader.lease_name(["b", "a"]) == leader.lease_name(["a", "b", "a"])
    assert leader.lease_name(["a"]) != leader.lease_name(["a", "b"]) != leader.lease_name([])
    name = leader.lease_name([])
    assert name.startswith("cronflow-operator-") and len(name) == len("cronflow-operator-") + 10


def test_lease_namespace_setting_then_pod_namespace_then_first_watched_then_default() -> None:
    assert leader.lease_namespace("ops", "cronflow-system", ["b", "a"]) == "ops"
    assert leader.lease_namespace("", "cronflow-system", ["b", "a"]) == "cronflow-system"
    assert leader.lease_namespace("", "", ["b", "a"]) == "a"
    assert leader.lease_namespace("", "", []) == "default"


def test_identity_is_the_pod_name_and_a_suffix_new_each_time() -> None:
    first, second = leader.new_identity("cronflow-7d9f"), leader.new_identity("cronflow-7d9f")
    assert first.startswith("cronflow-7d9f_") and first != second
    assert leader.new_identity("")  # the host name


def test_times_round_trip_and_never_fall_on_a_whole_second() -> None:
    later = NOW + timedelta(microseconds=250)
    assert leader.parse_time(leader.format_time(later)) == later
    assert leader.format_time(NOW) == "2025-03-01T12:00:00.000001Z"  # isoformat() keeps the fraction
    assert leader.parse_time("2025-03-01T12:00:00Z") == NOW
    assert leader.parse_time("garbage") is None and leader.parse_time(None) is None


# The loop, against a fake API server holding one Lease.

class FakeLeases:
    """One namespace's Leases with resourceVersions: a stale replace or a second create gets 409."""

    def __init__(self) -> None:
        self.leases: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.fail: ApiError | None = None
        self.writes: list[str] = []

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        if self.fail:
            raise self.fail
        found = self.leases.get(name)
        return copy.deepcopy(found) if found else None

    def _store(self, name: str, body: Mapping[str, Any], verb: str) -> None:
        self.version += 1
        stored = copy.deepcopy(dict(body))
        stored["metadata"]["resourceVersion"] = str(self.version)
        self.leases[name] = stored
        self.writes.append(f"{verb} {stored['spec'].get('holderIdentity', '')}")

    def create(self, namespace: str, body: Mapping[str, Any]) -> None:
        if self.fail:
            raise self.fail
        name = body["metadata"]["name"]
        if name in self.leases:
            raise ApiError(409, "Conflict", f'leases "{name}" already exists')
        self._store(name, body, "create")

    def replace(self, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        if self.fail:
            raise self.fail
        if body["metadata"].get("resourceVersion") != self.leases[name]["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "the object has been modified")
        self._store(name, body, "replace")


class Clocks:
    """A wall clock and a monotonic clock that move together."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wall(self) -> datetime:
        return NOW + timedelta(seconds=self.seconds + 0.25)

    def mono(self) -> float:
        return 1000.0 + self.seconds


def elector(api: FakeLeases, clocks: Clocks, identity: str, changes: list[bool] | None = None) -> leader.Elector:
    return leader.Elector(api, NS, NAME, identity, (changes if changes is not None else []).append,
                          wall=clocks.wall, clock=clocks.mono)


def test_of_two_operators_one_leads_the_other_follows_until_the_lease_expires(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cronflow.leader")
    api, clocks = FakeLeases(), Clocks()
    a, b = elector(api, clocks, "pod-a_1"), elector(api, clocks, "pod-b_2")
    assert a.step() == leader.RENEW_EVERY_SECONDS and a.leading
    assert b.step() == leader.RETRY_EVERY_SECONDS and not b.leading and b.holder == "pod-a_1"
    clocks.seconds += 5
    a.step()  # renews
    clocks.seconds += 14
    b.step()
    assert not b.leading, "renewed 14 s ago: still valid"
    clocks.seconds += 1  # a stopped renewing (crashed) 15 s ago
    b.step()
    assert b.leading and api.leases[NAME]["spec"]["holderIdentity"] == "pod-b_2"
    assert api.leases[NAME]["spec"]["leaseTransitions"] == 1
    a.step()  # back from the dead: sees b's fresh lease
    assert not a.leading and a.holder == "pod-b_2"
    logs = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("leader: this operator (pod-a_1) holds lease") and "created it" in m for m in logs)
    assert any(m.startswith("follower: lease cronflow-system/cronflow-operator-abc is held by pod-a_1") for m in logs)
    assert any("took it over from pod-a_1" in m for m in logs)
    assert any(m.startswith("lost lease cronflow-system/cronflow-operator-abc to pod-b_2") for m in logs)


def test_a_write_that_lost_the_race_gets_a_conflict_and_the_writer_stays_a_follower() -> None:
    api, clocks = FakeLeases(), Clocks()
    a, b = elector(api, clocks, "a"), elector(api, clocks, "b")
    stale = api.read(NS, NAME)  # both read "absent" ...
    assert stale is None
    a.step()
    create_again = decide(stale, "b", clocks.wall(), NAME, NS)  # ... b's create comes second
    with pytest.raises(ApiError) as raised:
        api.create(NS, create_again.body or {})
    assert raised.value.status == 409
    # A takeover raced by a renewal: b's replace carries the old resourceVersion.
    clocks.seconds += 16
    expired = api.read(NS, NAME)
    a.step()  # a renews first
    takeover = decide(expired, "b", clocks.wall(), NAME, NS)
    assert takeover.action is Action.ACQUIRE
    with pytest.raises(ApiError):
        api.replace(NS, NAME, takeover.body or {})
    b.step()
    assert a.leading and not b.leading


def test_a_conflict_in_step_means_read_again_soon() -> None:
    class Racing(FakeLeases):
        def create(self, namespace: str, body: Mapping[str, Any]) -> None:
            raise ApiError(409, "Conflict", "already exists")

    b = elector(Racing(), Clocks(), "b")
    assert b.step() == leader.CONFLICT_RETRY_SECONDS
    assert not b.leading and b.readiness() is None


def test_a_leader_that_cannot_renew_stops_acting_at_the_deadline_before_anyone_may_take_over() -> None:
    api, clocks = FakeLeases(), Clocks()
    changes: list[bool] = []
    a, b = elector(api, clocks, "a", changes), elector(api, clocks, "b")
    a.step()
    a.announce()
    api.fail = ApiError(0, "MaxRetryError", "connection refused")
    for _ in range(4):  # retries every 2 s
        clocks.seconds += leader.RETRY_EVERY_SECONDS
        a.step()
        a.announce()
    assert a.leading, "8 s without renewal: within the deadline"
    clocks.seconds += leader.RETRY_EVERY_SECONDS + 0.1
    a.step()
    a.announce()
    assert not a.leading and changes == [True, False]
    api.fail = None
    b.step()
    assert not b.leading, "the lease itself is still valid for a few seconds: nobody acts meanwhile"
    clocks.seconds += leader.LEASE_DURATION_SECONDS - leader.RENEW_DEADLINE_SECONDS
    b.step()
    assert b.leading


def test_the_deadline_is_watched_while_a_step_hangs() -> None:
    api, clocks = FakeLeases(), Clocks()
    a = elector(api, clocks, "a")
    a.step()
    clocks.seconds += leader.RENEW_DEADLINE_SECONDS + 1
    a.check_deadline()
    assert not a.leading


def test_release_lets_the_other_take_over_at_its_next_read() -> None:
    api, clocks = FakeLeases(), Clocks()
    a, b = elector(api, clocks, "a"), elector(api, clocks, "b")
    a.step()
    b.step()
    a.release()
    assert not a.leading and "holderIdentity" not in api.leases[NAME]["spec"]
    assert a.step() == leader.RETRY_EVERY_SECONDS and not a.leading, "a released elector never leads again"
    clocks.seconds += 0.5
    b.step()
    assert b.leading
    b.release()
    b.release()  # twice, or by a follower: nothing to give up
    assert api.writes == ["create a", "replace ", "replace b", "replace "]


def test_a_follower_is_ready_an_elector_without_answers_is_not() -> None:
    api, clocks = FakeLeases(), Clocks()
    a, b = elector(api, clocks, "a"), elector(api, clocks, "b")
    assert b.readiness() == "no answer about lease cronflow-system/cronflow-operator-abc yet"
    a.step()
    b.step()
    assert a.readiness() is None and b.readiness() is None
    api.fail = ApiError(403, "Forbidden", 'leases.coordination.k8s.io "x" is forbidden')
    b.step()
    clocks.seconds += 5
    assert b.readiness() is None, "one failure is not enough"
    clocks.seconds += leader.LEASE_DURATION_SECONDS
    reason = b.readiness()
    assert reason is not None and "Forbidden" in reason and "for 20 s" in reason
    fresh = elector(api, clocks, "c")
    fresh.step()
    assert "yet: 403 Forbidden" in (fresh.readiness() or "")


def test_run_announces_leadership_and_sets_the_metric() -> None:
    api = FakeLeases()
    changes: list[bool] = []
    a = leader.Elector(api, NS, NAME, "a", changes.append)

    async def scenario() -> None:
        task = asyncio.create_task(a.run())
        async with asyncio.timeout(5):
            while not changes:
                await asyncio.sleep(0.01)
        assert REGISTRY.get_sample_value("cronflow_leader") == 1
        task.cancel()
        await asyncio.to_thread(a.release)

    asyncio.run(scenario())
    assert changes == [True]
    assert REGISTRY.get_sample_value("cronflow_leader") == 0
    assert "holderIdentity" not in api.leases[NAME]["spec"]
