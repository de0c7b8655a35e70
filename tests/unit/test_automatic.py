"""Automatic mode on the operator side: the watcher Deployment, file Jobs, and the decisions of a sync pass."""

import base64
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronflow import names
from cronflow.api.models import ScheduledJobSpec, parse_spec
from cronflow.automatic.plan import (
    Claim,
    WatcherState,
    automatic_status,
    plan_claims,
    watcher_availability,
)
from cronflow.children.cronjob import Owner, build_file_job, build_trigger_job
from cronflow.children.watcher import TOKEN_ENV, build_token_secret, build_watcher, token_hash
from cronflow.reconcile.scheduledjob import Memory, reconcile
from tests.support.fake_writer import FakeWriter

OWNER = Owner(name="inbox", namespace="team-a", uid="0b3c9f2e-1111-2222-3333-444455556666")
IMAGE = "cronflow-job:dev"
TOKEN = "PLANTED-watcher-token-3f9a"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
AUTOMATIC = {
    "enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}},
    "path": "input", "pattern": "*.pdf", "pollSeconds": 2, "maxParallel": 3,
}
RAW_SPEC: dict[str, Any] = {
    "schedule": "0 3 * * *",
    "flow": {"endpoint": "https://flows.example.com/run", "authTokenSecretRef": {"name": "flow-token", "key": "t"}},
    "automatic": AUTOMATIC,
}


def spec(**changes: Any) -> ScheduledJobSpec:
    raw = copy.deepcopy(RAW_SPEC)
    raw.update(changes)
    return parse_spec(raw)


def watcher(**changes: Any) -> dict[str, Any]:
    return build_watcher(OWNER, spec(**changes), IMAGE, TOKEN)


def pod_of(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


# The watcher Deployment

def test_watcher_is_an_owned_labelled_deployment_named_after_the_cronjob() -> None:
    deployment = watcher()
    assert (deployment["apiVersion"], deployment["kind"]) == ("apps/v1", "Deployment")
    meta = deployment["metadata"]
    assert (meta["name"], meta["namespace"]) == ("inbox-watcher", "team-a")
    assert meta["labels"] == {
        "app.kubernetes.io/managed-by": "cronflow",
        "cronflow.dev/scheduledjob": "inbox",
        "cronflow.dev/role": "watcher",
    }
    assert meta["ownerReferences"][0]["uid"] == OWNER.uid and meta["ownerReferences"][0]["controller"] is True
    body = deployment["spec"]
    assert body["selector"] == {"matchLabels": meta["labels"]}
    assert body["template"]["metadata"]["labels"] == meta["labels"]
    assert body["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize("sj_name", ["a" * 63, "reports.eu-west." + "b" * 47])
def test_watcher_name_fits_63_characters(sj_name: str) -> None:
    assert len(names.watcher_name(sj_name)) <= 63
    assert names.watcher_name(sj_name).endswith("-watcher")


@pytest.mark.parametrize(
    ("changes", "replicas"),
    [
        ({}, 1),
        ({"enabled": False}, 0),
        ({"automatic": {**AUTOMATIC, "enabled": False}}, 0),
    ],
)
def test_one_replica_only_while_the_scheduledjob_and_automatic_mode_are_enabled(
    changes: dict[str, Any], replicas: int
) -> None:
    assert watcher(**changes)["spec"]["replicas"] == replicas


def test_watcher_runs_the_job_image_in_watch_mode_on_the_volume() -> None:
    pod = pod_of(watcher())
    [container] = pod["containers"]
    assert (container["image"], container["args"]) == (IMAGE, ["watch"])
    assert env_of(container) == {
        "CRONFLOW_WATCH_DIR": "/spool/input", "CRONFLOW_WATCH_PATTERN": "*.pdf",
        "CRONFLOW_WATCH_POLL_SECONDS": "2", "CRONFLOW_WATCH_MAX_PARALLEL": "3",
        "CRONFLOW_WATCH_TOKEN": {"secretKeyRef": {"name": "inbox-watcher-token", "key": "token"}},
        "CRONFLOW_WATCH_PORT": "8080",
    }
    assert {"name": "spool", "persistentVolumeClaim": {"claimName": "inbox"}} in pod["volumes"]
    assert {"name": "spool", "mountPath": "/spool"} in container["volumeMounts"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    assert "CRONFLOW_FLOW" not in env_of(container)  # the watcher never calls the flow service


def test_watcher_dir_is_the_volume_root_without_a_path() -> None:
    [container] = pod_of(watcher(automatic={**AUTOMATIC, "path": ""}))["containers"]
    assert env_of(container)["CRONFLOW_WATCH_DIR"] == "/spool"


def test_watcher_pod_meets_the_restricted_pod_security_standard() -> None:
    pod = pod_of(watcher())
    assert pod["automountServiceAccountToken"] is False
    assert pod["restartPolicy"] == "Always"
    assert pod["securityContext"] == {
        "runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
        "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"},
    }
    [container] = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_watcher_is_placed_like_the_runs() -> None:
    placement = {"nodeSelector": {"disk": "ssd"}, "tolerations": [{"key": "batch", "operator": "Exists"}]}
    pod = pod_of(watcher(jobTemplate=placement))
    assert (pod["nodeSelector"], pod["tolerations"]) == (placement["nodeSelector"], placement["tolerations"])


def test_the_token_is_not_in_the_deployment_but_in_an_owned_secret_the_pod_reads() -> None:
    deployment = watcher()
    assert TOKEN not in json.dumps(deployment)
    [container] = pod_of(deployment)["containers"]
    assert env_of(container)[TOKEN_ENV] == {"secretKeyRef": {"name": "inbox-watcher-token", "key": "token"}}
    assert deployment["spec"]["template"]["metadata"]["annotations"][names.TOKEN_HASH_ANNOTATION] == token_hash(TOKEN)
    secret = build_token_secret(OWNER, TOKEN)
    assert secret["metadata"]["ownerReferences"][0]["uid"] == OWNER.uid
    assert base64.b64decode(secret["data"]["token"]).decode() == TOKEN


# File Jobs

def test_file_job_is_named_by_its_claim_annotated_with_the_file_and_finalized() -> None:
    job = build_file_job(OWNER, spec(), IMAGE, "a.pdf", "a.pdf@123")
    meta = job["metadata"]
    assert meta["name"] == names.file_job_name("inbox", "a.pdf@123")
    assert meta["annotations"] == {"cronflow.dev/trigger": "File", "cronflow.dev/input-file": "a.pdf"}
    assert meta["finalizers"] == ["cronflow.dev/result"]
    assert job["spec"]["ttlSecondsAfterFinished"] == 3600
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert env_of(container)["CRONFLOW_INPUT_FILE"] == ".cronflow/processing/a.pdf"


def test_file_job_runs_the_trigger_pod_plus_the_input_file() -> None:
    file_pod = build_file_job(OWNER, spec(), IMAGE, "a.pdf", "a.pdf@1")["spec"]["template"]["spec"]
    manual_pod = build_trigger_job(OWNER, spec(), IMAGE, "t")["spec"]["template"]["spec"]
    [container] = file_pod["containers"]
    container["env"] = [e for e in container["env"] if e["name"] != "CRONFLOW_INPUT_FILE"]
    assert file_pod == manual_pod


# Decisions of a sync pass

def job(claim_id: str, finished: str | None = None, recorded: bool = False) -> dict[str, Any]:
    conditions = [{"type": finished, "status": "True"}] if finished else []
    annotations = {"cronflow.dev/recorded": "true"} if recorded else {}
    return {
        "metadata": {"name": names.file_job_name("inbox", claim_id), "annotations": annotations},
        "status": {"conditions": conditions},
    }


def jobs(*items: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["metadata"]["name"]: item for item in items}


def test_a_claim_without_a_job_gets_one() -> None:
    claim = Claim("a.pdf", "a.pdf@1")
    plan = plan_claims("inbox", [claim], {}, [])
    assert (plan.create, plan.complete) == ([claim], [])


def test_a_running_or_unrecorded_job_is_waited_for() -> None:
    claims = [Claim("a.pdf", "a.pdf@1"), Claim("b.pdf", "b.pdf@1")]
    plan = plan_claims("inbox", claims, jobs(job("a.pdf@1"), job("b.pdf@1", "Complete")), [])
    assert (plan.create, plan.complete) == ([], [])


def test_a_recorded_job_completes_its_file_with_the_recorded_status() -> None:
    claims = [Claim("a.pdf", "a.pdf@1"), Claim("b.pdf", "b.pdf@1"), Claim("c.pdf", "c.pdf@1")]
    results = [{"job": names.file_job_name("inbox", "a.pdf@1"), "status": "ERROR"}]
    found = jobs(job("b.pdf@1", "Complete", recorded=True), job("c.pdf@1", "Failed", recorded=True))
    plan = plan_claims("inbox", claims, found, results)
    assert plan.create == []
    assert plan.complete == [(claims[0], "ERROR"), (claims[1], "OK"), (claims[2], "ERROR")]


def test_a_new_file_of_the_same_name_is_a_new_claim_and_a_new_job() -> None:
    results = [{"job": names.file_job_name("inbox", "a.pdf@1"), "status": "OK"}]
    plan = plan_claims("inbox", [Claim("a.pdf", "a.pdf@2")], {}, results)
    assert plan.create == [Claim("a.pdf", "a.pdf@2")]


def test_status_counts_come_from_the_watcher_state() -> None:
    state = WatcherState([Claim("a", "a@1")], pending=7, done=3, failed=1, last_file="a")
    assert automatic_status(state) == {"pending": 7, "processing": 1, "done": 3, "failed": 1, "lastFile": "a"}
    assert "lastFile" not in automatic_status(WatcherState([], 0, 0, 0, None))


# Watcher availability

DEPLOYMENT: dict[str, Any] = {"status": {}}


def pod(**status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "inbox-watcher-x", "creationTimestamp": "2026-11-22T11:00:00Z"}, "status": status}


def test_ready_watcher_gives_its_pod_ip() -> None:
    ready = pod(podIP="10.244.0.7", conditions=[{"type": "Ready", "status": "True"}])
    assert watcher_availability(DEPLOYMENT, [ready], NOW).pod_ip == "10.244.0.7"


@pytest.mark.parametrize(
    "pods",
    [
        [],
        [pod(phase="Pending")],
        [pod(containerStatuses=[{"state": {"waiting": {"reason": "ContainerCreating"}}}])],
        [pod(containerStatuses=[{"ready": False, "state": {"running": {"startedAt": "2026-11-22T11:59:30Z"}}}])],
    ],
)
def test_a_starting_watcher_is_neither_ready_nor_a_problem(pods: list[dict[str, Any]]) -> None:
    assert watcher_availability(DEPLOYMENT, pods, NOW) == watcher_availability(None, [], NOW)
    assert watcher_availability(DEPLOYMENT, pods, NOW).problem is None


@pytest.mark.parametrize(
    ("message", "claims", "expected"),
    [
        ('0/1 nodes are available: persistentvolumeclaim "nope" not found.', ["nope"],
         '0/1 nodes are available: persistentvolumeclaim "nope" not found. (PersistentVolumeClaim nope must exist '
         "in namespace team-a and be Bound)"),
        ("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found", ["inbox"],
         "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. (PersistentVolumeClaim inbox "
         "not found in namespace team-a)"),
        ("0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.", ["inbox"],
         "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. (PersistentVolumeClaim inbox "
         "must exist in namespace team-a and be Bound)"),
        ("0/1 nodes are available: 1 Insufficient memory.", [], "0/1 nodes are available: 1 Insufficient memory."),
    ],
    ids=["claim named", "bare not found", "unbound", "no claim"],
)
def test_an_unschedulable_watcher_is_reported_with_its_claim(message: str, claims: list[str], expected: str) -> None:
    unschedulable = pod(conditions=[
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}])
    unschedulable["metadata"]["namespace"] = "team-a"
    unschedulable["spec"] = {"volumes": [{"name": "spool", "persistentVolumeClaim": {"claimName": c}} for c in claims]}
    problem = watcher_availability(DEPLOYMENT, [unschedulable], NOW).problem
    assert problem == f"the watcher pod cannot be scheduled: {expected}"


def test_a_crash_loop_is_reported_with_a_stable_message() -> None:
    def crashing(backoff: str) -> dict[str, Any]:
        return pod(containerStatuses=[{
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": f"back-off {backoff} restarting"}},
            "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}},
        }])

    first = watcher_availability(DEPLOYMENT, [crashing("10s")], NOW).problem
    assert first == "the watcher container cannot run: CrashLoopBackOff (last exit code 2, Error)"
    assert watcher_availability(DEPLOYMENT, [crashing("40s")], NOW).problem == first


def test_a_crash_loop_quotes_why_the_watcher_stopped() -> None:
    said = "cannot write /spool/input/.cronflow: permission denied (the watched directory must be writable by UID 65532"
    crashing = pod(containerStatuses=[{
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 2, "reason": "Error", "message": f"{said}\n"}},
    }])
    assert watcher_availability(DEPLOYMENT, [crashing], NOW).problem == (
        f"the watcher container cannot run: CrashLoopBackOff (last exit code 2, Error): {said}")


def test_pods_that_cannot_be_created_are_reported() -> None:
    failing = {"status": {"conditions": [
        {"type": "ReplicaFailure", "status": "True", "message": "pods are forbidden: violates PodSecurity"}]}}
    assert "violates PodSecurity" in str(watcher_availability(failing, [], NOW).problem)


def test_a_watcher_not_ready_long_after_it_started_is_reported() -> None:
    started = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    stuck = pod(containerStatuses=[{"ready": False, "state": {"running": {"startedAt": started}}}])
    assert "readiness probe" in str(watcher_availability(DEPLOYMENT, [stuck], NOW).problem)


def test_the_newest_live_pod_counts() -> None:
    old = pod(podIP="10.244.0.2", conditions=[{"type": "Ready", "status": "True"}])
    old["metadata"]["deletionTimestamp"] = "2026-11-22T11:59:00Z"
    new = pod(phase="Pending")
    new["metadata"]["creationTimestamp"] = "2026-11-22T11:59:00Z"
    assert watcher_availability(DEPLOYMENT, [old, new], NOW).pod_ip is None


# Reconcile: the watcher Deployment is applied when it differs from what exists, with one token for life

def automatic_world(raw: dict[str, Any]) -> FakeWriter:
    sj = {"apiVersion": "cronflow.dev/v1alpha1", "kind": "ScheduledJob", "spec": copy.deepcopy(raw), "status": {},
          "metadata": {"name": OWNER.name, "namespace": OWNER.namespace, "uid": OWNER.uid, "generation": 1,
                       "resourceVersion": "1"}}
    return FakeWriter(sj=sj, secrets={"flow-token": {names.USABLE_LABEL: "true"}})


def run_reconcile(world: FakeWriter) -> None:
    reconcile(world.observed(), world, IMAGE, NOW, Memory())


def deployment_token_hash(deployment: dict[str, Any] | None) -> str:
    assert deployment is not None
    annotations: dict[str, str] = deployment["spec"]["template"]["metadata"]["annotations"]
    return annotations[names.TOKEN_HASH_ANNOTATION]


def test_reconcile_creates_the_watcher_with_a_fresh_token_and_keeps_it() -> None:
    world = automatic_world(RAW_SPEC)
    run_reconcile(world)
    secret = world.owned_secrets["inbox-watcher-token"]
    token = base64.b64decode(secret["data"]["token"]).decode()
    assert len(token) >= 32
    assert deployment_token_hash(world.watcher_deployment) == token_hash(token)

    world.sj["spec"]["enabled"] = False
    run_reconcile(world)
    scaled = world.watcher_deployment
    assert scaled is not None
    assert (deployment_token_hash(scaled), scaled["spec"]["replicas"]) == (token_hash(token), 0)
    assert world.writes.count("create Secret/inbox-watcher-token") == 1


def test_a_token_secret_of_that_name_not_owned_by_the_scheduledjob_is_not_trusted() -> None:
    world = automatic_world(RAW_SPEC)
    planted = build_token_secret(OWNER, "known-to-someone-else")
    planted["metadata"]["ownerReferences"] = []
    world.owned_secrets["inbox-watcher-token"] = planted
    run_reconcile(world)
    assert world.watcher_deployment is None
    ready = world.sj["status"]["conditions"][0]
    assert (ready["reason"], "not owned" in ready["message"]) == (names.WATCHER_UNAVAILABLE, True)


def test_reconcile_leaves_an_unchanged_watcher_alone() -> None:
    world = automatic_world(RAW_SPEC)
    run_reconcile(world)
    world.writes.clear()
    run_reconcile(world)
    assert not any("Deployment" in write for write in world.writes)
    assert not any("Deployment" in event[2] for event in world.events)


def test_reconcile_deletes_the_watcher_when_automatic_mode_is_removed() -> None:
    world = automatic_world(RAW_SPEC)
    run_reconcile(world)
    world.sj["status"]["automatic"] = {"pending": 1}
    world.sj["spec"]["automatic"] = None
    run_reconcile(world)
    assert "delete Deployment/inbox-watcher" in world.writes
    assert "automatic" not in world.sj["status"]
    world.writes.clear()
    run_reconcile(world)
    assert not any("Deployment" in write for write in world.writes)


def test_reconcile_keeps_watcher_unavailable_until_the_watcher_says_otherwise() -> None:
    world = automatic_world(RAW_SPEC)
    run_reconcile(world)
    down = {"type": "Ready", "status": "False", "reason": names.WATCHER_UNAVAILABLE, "message": "no PVC",
            "lastTransitionTime": "2026-11-22T11:00:00Z", "observedGeneration": 1}
    world.sj["status"]["conditions"] = [down]
    run_reconcile(world)  # the watcher pod is still starting: no verdict
    assert world.sj["status"]["conditions"][0] == down
    world.sj["spec"]["enabled"] = False
    run_reconcile(world)
    assert world.sj["status"]["conditions"][0]["reason"] == "Reconciled"
