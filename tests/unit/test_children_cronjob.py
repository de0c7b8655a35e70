"""The CronJob and trigger Job manifests: the job-image contract, security, ownership, state."""

import copy
import json
from typing import Any

from cronflow import names
from cronflow.api.models import ScheduledJobSpec, parse_spec
from cronflow.children.cronjob import Owner, build_cronjob, build_job_template, build_trigger_job, flow_json

OWNER = Owner(name="nightly-import", namespace="team-a", uid="0b3c9f2e-1111-2222-3333-444455556666")
IMAGE = "cronflow-job:dev"
RAW_SPEC: dict[str, Any] = {
    "schedule": "*/5 * * * *",
    "timeZone": "Europe/Amsterdam",
    "flow": {
        "endpoint": "https://flows.example.com/api/v1/flow/run_binary_async",
        "binaryPath": "admin/repo/fs/Drive/files/flow/flow.ibflowbin",
        "authTokenSecretRef": {"name": "flow-token", "key": "token"},
        "settings": {"tags": ["tag1"], "runtimeConfig": {}},
    },
}
MANAGED_LABELS = {"app.kubernetes.io/managed-by": "cronflow", "cronflow.dev/scheduledjob": "nightly-import"}


def spec(**changes: Any) -> ScheduledJobSpec:
    raw = copy.deepcopy(RAW_SPEC)
    raw.update(changes)
    return parse_spec(raw)


def pod_of(job_spec: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = job_spec["template"]["spec"]
    return pod


def container_of(job_spec: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any]
    (container,) = pod_of(job_spec)["containers"]
    return container


def env_of(job_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container_of(job_spec)["env"]}


def test_cronjob_carries_schedule_zone_policy_and_a_history_that_outlasts_an_outage() -> None:
    cronjob = build_cronjob(OWNER, spec(concurrencyPolicy="Replace", startingDeadlineSeconds=300), IMAGE)
    assert (cronjob["apiVersion"], cronjob["kind"]) == ("batch/v1", "CronJob")
    assert cronjob["metadata"]["name"] == "nightly-import"
    assert cronjob["metadata"]["namespace"] == "team-a"
    body = cronjob["spec"]
    assert (body["schedule"], body["timeZone"], body["suspend"]) == ("*/5 * * * *", "Europe/Amsterdam", False)
    assert (body["concurrencyPolicy"], body["startingDeadlineSeconds"]) == ("Replace", 300)
    assert (body["successfulJobsHistoryLimit"], body["failedJobsHistoryLimit"]) == (100, 100)


def test_starting_deadline_is_left_out_when_not_set() -> None:
    assert "startingDeadlineSeconds" not in build_cronjob(OWNER, spec(), IMAGE)["spec"]


def test_cronjob_is_suspended_when_disabled_or_in_automatic_mode() -> None:
    assert build_cronjob(OWNER, spec(enabled=False), IMAGE)["spec"]["suspend"] is True
    automatic = {"enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}}}
    assert build_cronjob(OWNER, spec(automatic=automatic), IMAGE)["spec"]["suspend"] is True
    assert build_cronjob(OWNER, spec(automatic={"enabled": False}), IMAGE)["spec"]["suspend"] is False


def test_every_child_is_labelled_and_owned_by_the_scheduledjob() -> None:
    cronjob = build_cronjob(OWNER, spec(), IMAGE)
    job = build_trigger_job(OWNER, spec(), IMAGE, "t1")
    owner_reference = {
        "apiVersion": "cronflow.dev/v1alpha1",
        "kind": "ScheduledJob",
        "name": "nightly-import",
        "uid": OWNER.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
    for child in (cronjob, job):
        assert child["metadata"]["ownerReferences"] == [owner_reference]
        assert child["metadata"]["labels"] == MANAGED_LABELS
    template = cronjob["spec"]["jobTemplate"]
    assert template["metadata"]["labels"] == MANAGED_LABELS
    for job_spec in (template["spec"], job["spec"]):
        assert job_spec["template"]["metadata"]["labels"] == MANAGED_LABELS


def test_scheduled_jobs_are_annotated_with_their_trigger() -> None:
    template = build_cronjob(OWNER, spec(), IMAGE)["spec"]["jobTemplate"]
    assert template["metadata"]["annotations"] == {"cronflow.dev/trigger": "Schedule"}


def test_trigger_job_is_named_by_token_annotated_finalized_and_cleaned_up() -> None:
    job = build_trigger_job(OWNER, spec(), IMAGE, "2026-11-22T12:00:00Z")
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    assert job["metadata"]["name"] == names.trigger_job_name("nightly-import", "2026-11-22T12:00:00Z")
    assert job["metadata"]["namespace"] == "team-a"
    assert job["metadata"]["annotations"] == {
        "cronflow.dev/trigger": "Manual",
        "cronflow.dev/trigger-token": "2026-11-22T12:00:00Z",
    }
    assert job["metadata"]["finalizers"] == ["cronflow.dev/result"]
    assert job["spec"]["ttlSecondsAfterFinished"] == 3600
    assert "ttlSecondsAfterFinished" not in build_cronjob(OWNER, spec(), IMAGE)["spec"]["jobTemplate"]["spec"]


def test_trigger_job_runs_the_same_pod_as_the_schedule() -> None:
    scheduled = build_cronjob(OWNER, spec(), IMAGE)["spec"]["jobTemplate"]["spec"]
    manual = build_trigger_job(OWNER, spec(), IMAGE, "t1")["spec"]
    assert {k: v for k, v in manual.items() if k != "ttlSecondsAfterFinished"} == scheduled


def test_a_run_is_never_retried_and_cannot_outlive_its_timeout_by_much() -> None:
    job_spec = build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"]
    assert job_spec["backoffLimit"] == 0
    assert job_spec["activeDeadlineSeconds"] == 60 + 300
    assert pod_of(job_spec)["restartPolicy"] == "Never"


def test_container_follows_the_job_image_contract() -> None:
    job_spec = build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"]
    container = container_of(job_spec)
    assert (container["name"], container["image"], container["args"]) == ("run", IMAGE, ["run"])
    assert "command" not in container
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"


def test_flow_env_is_the_camel_case_flow_without_the_secret_reference() -> None:
    env = env_of(build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"])
    assert json.loads(env["CRONFLOW_FLOW"]["value"]) == {
        "endpoint": "https://flows.example.com/api/v1/flow/run_binary_async",
        "method": "POST",
        "binaryPath": "admin/repo/fs/Drive/files/flow/flow.ibflowbin",
        "verifySslCertificate": True,
        "timeoutSeconds": 60,
        "settings": {"tags": ["tag1"], "runtimeConfig": {}},
    }
    assert "flow-token" not in env["CRONFLOW_FLOW"]["value"]


def test_flow_env_is_byte_for_byte_stable_whatever_the_key_order() -> None:
    reordered = copy.deepcopy(RAW_SPEC)
    reordered["flow"]["settings"] = {"runtimeConfig": {}, "tags": ["tag1"]}
    assert flow_json(parse_spec(reordered).flow) == flow_json(spec().flow)


def test_auth_token_comes_from_the_referenced_secret_key() -> None:
    env = env_of(build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"])
    assert env["CRONFLOW_AUTH_TOKEN"] == {
        "name": "CRONFLOW_AUTH_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "flow-token", "key": "token"}},
    }


def test_no_auth_token_env_without_a_secret_reference() -> None:
    raw_flow = {k: v for k, v in RAW_SPEC["flow"].items() if k != "authTokenSecretRef"}
    env = env_of(build_job_template(OWNER, spec(flow=raw_flow), IMAGE, "Schedule")["spec"])
    assert set(env) == {"CRONFLOW_FLOW"}


def test_pod_runs_locked_down_with_a_writable_tmp_only() -> None:
    job_spec = build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"]
    pod, container = pod_of(job_spec), container_of(job_spec)
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    (volume,) = pod["volumes"]
    assert volume["emptyDir"] == {"sizeLimit": "64Mi"}
    assert container["volumeMounts"] == [{"name": volume["name"], "mountPath": "/tmp"}]


def test_small_default_resources_unless_the_job_template_sets_them() -> None:
    default = container_of(build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"])["resources"]
    assert default == {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    custom = {"limits": {"memory": "1Gi"}}
    job_spec = build_job_template(OWNER, spec(jobTemplate={"resources": custom}), IMAGE, "Schedule")["spec"]
    assert container_of(job_spec)["resources"] == custom


def test_default_resources_are_a_fresh_copy_per_manifest() -> None:
    first = build_cronjob(OWNER, spec(), IMAGE)
    container_of(first["spec"]["jobTemplate"]["spec"])["resources"]["limits"]["cpu"] = "8"
    second = build_cronjob(OWNER, spec(), IMAGE)
    assert container_of(second["spec"]["jobTemplate"]["spec"])["resources"]["limits"]["cpu"] == "500m"


def test_job_template_places_the_pods() -> None:
    placement = {
        "nodeSelector": {"disk": "ssd"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "serviceAccountName": "flows",
    }
    pod = pod_of(build_job_template(OWNER, spec(jobTemplate=placement), IMAGE, "Schedule")["spec"])
    assert {key: pod[key] for key in placement} == placement
    bare = pod_of(build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"])
    assert not set(placement) & set(bare)


def test_long_scheduledjob_name_gives_a_short_cronjob_but_keeps_the_full_name_in_labels() -> None:
    owner = Owner(name="n" * 63, namespace="team-a", uid="u")
    cronjob = build_cronjob(owner, spec(), IMAGE)
    assert len(cronjob["metadata"]["name"]) <= 52
    assert cronjob["metadata"]["labels"]["cronflow.dev/scheduledjob"] == "n" * 63
    assert cronjob["metadata"]["ownerReferences"][0]["name"] == "n" * 63
    assert len(build_trigger_job(owner, spec(), IMAGE, "t")["metadata"]["name"]) <= 63


def test_builders_are_deterministic() -> None:
    assert build_cronjob(OWNER, spec(), IMAGE) == build_cronjob(OWNER, spec(), IMAGE)
    assert json.dumps(build_trigger_job(OWNER, spec(), IMAGE, "t")) == json.dumps(
        build_trigger_job(OWNER, spec(), IMAGE, "t")
    )
