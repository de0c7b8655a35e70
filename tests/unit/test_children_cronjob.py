"""The CronJob and trigger Job manifests: the job-image contract, security, ownership, state."""

import copy
import json
from typing import Any

import pytest

from cronflow import names
from cronflow.api.models import Flow, ScheduledJobSpec, parse_spec
from cronflow.children.cronjob import (
    Owner,
    build_cronjob,
    build_file_job,
    build_job_template,
    build_trigger_job,
    flow_json,
    run_deadline_seconds,
)

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


def test_a_run_is_never_retried_by_kubernetes_and_cannot_outlive_its_timeout_by_much() -> None:
    job_spec = build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"]
    assert job_spec["backoffLimit"] == 0
    assert job_spec["activeDeadlineSeconds"] == 60 + 300
    assert pod_of(job_spec)["restartPolicy"] == "Never"


_FOLLOW = {"jobId": "id", "statusUrl": "https://flows.example.com/jobs/{jobId}", "doneWhen": "done",
           "successWhen": "ok"}


@pytest.mark.parametrize(
    ("flow", "deadline"),
    [
        ({}, 60 + 300),
        ({"timeoutSeconds": 5, "retry": {}}, 5 + 300),
        ({"timeoutSeconds": 5, "retry": {"attempts": 3}}, 3 * 5 + 2 * 300 + 300),
        ({"timeoutSeconds": 30, "retry": {"attempts": 4, "backoffSeconds": 1, "maxBackoffSeconds": 8}},
         4 * 30 + 3 * 8 + 300),
        ({"timeoutSeconds": 20, "completion": _FOLLOW}, 20 + 3600 + 20 + 300),
        ({"timeoutSeconds": 20, "completion": {**_FOLLOW, "timeoutSeconds": 600}, "retry": {"attempts": 2}},
         2 * 20 + 300 + 600 + 20 + 300),
        ({"timeoutSeconds": 3600, "retry": {"attempts": 10, "backoffSeconds": 3600, "maxBackoffSeconds": 3600},
          "completion": {**_FOLLOW, "timeoutSeconds": 86400}}, 10 * 3600 + 9 * 3600 + 86400 + 3600 + 300),
    ],
    ids=["defaults", "one-attempt", "three-attempts", "short-backoff", "completion", "retry-and-completion", "max"],
)
def test_the_deadline_covers_every_try_wait_and_the_whole_follow(flow: dict[str, Any], deadline: int) -> None:
    parsed = Flow.model_validate({"endpoint": "https://flows.example.com/run", **flow})
    assert run_deadline_seconds(parsed) == deadline
    raw = {**RAW_SPEC, "flow": {**RAW_SPEC["flow"], **flow}}
    assert build_cronjob(OWNER, parse_spec(raw), IMAGE)["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == (
        deadline
    )


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


def test_flow_env_carries_the_new_flow_fields_but_no_secret_reference() -> None:
    flow = {
        **RAW_SPEC["flow"],
        "headers": {"X-Team": "a"},
        "headersSecretRef": {"name": "flow-headers"},
        "query": {"dryRun": "false"},
        "retry": {"attempts": 3},
        "success": {"statusCodes": [202], "when": "status == 'OK'"},
        "completion": _FOLLOW,
    }
    value = env_of(build_job_template(OWNER, spec(flow=flow), IMAGE, "Schedule")["spec"])["CRONFLOW_FLOW"]["value"]
    document = json.loads(value)
    assert "headersSecretRef" not in document and "authTokenSecretRef" not in document
    assert "flow-headers" not in value and "flow-token" not in value
    assert document["headers"] == {"X-Team": "a"} and document["query"] == {"dryRun": "false"}
    assert document["retry"] == {"attempts": 3, "backoffSeconds": 10, "maxBackoffSeconds": 300}
    assert document["completion"] == {**_FOLLOW, "intervalSeconds": 10, "timeoutSeconds": 3600}


def test_flow_env_keeps_a_json_body_as_written() -> None:
    flow = {"endpoint": "https://flows.example.com/run", "json": {"b": None, "a": [1, {"snake_case": True}]}}
    env = env_of(build_job_template(OWNER, spec(flow=flow), IMAGE, "Schedule")["spec"])
    assert json.loads(env["CRONFLOW_FLOW"]["value"])["json"] == {"a": [1, {"snake_case": True}], "b": None}


def test_headers_secret_is_passed_as_prefixed_env_from_the_secret() -> None:
    flow = {**RAW_SPEC["flow"], "headersSecretRef": {"name": "flow-headers"}}
    container = container_of(build_job_template(OWNER, spec(flow=flow), IMAGE, "Schedule")["spec"])
    assert container["envFrom"] == [{"prefix": "CRONFLOW_HEADER_", "secretRef": {"name": "flow-headers"}}]
    assert "envFrom" not in container_of(build_job_template(OWNER, spec(), IMAGE, "Schedule")["spec"])


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


_INBOX = {"enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}}, "path": "in/box/"}
_FORM_FLOW = {"endpoint": "https://jobs.example.com/submit", "form": {"fields": {"a": "b"}, "fileField": "input_data"}}


def test_form_file_job_mounts_the_input_directory_read_only_and_names_the_claimed_file() -> None:
    job_spec = build_file_job(OWNER, spec(flow=_FORM_FLOW, automatic=_INBOX), IMAGE, "a.pdf", "a.pdf@1")["spec"]
    pod, container = pod_of(job_spec), container_of(job_spec)
    assert env_of(job_spec)["CRONFLOW_INPUT_PATH"] == {
        "name": "CRONFLOW_INPUT_PATH", "value": "/input/.cronflow/processing/a.pdf"
    }
    assert env_of(job_spec)["CRONFLOW_INPUT_FILE"]["value"] == ".cronflow/processing/a.pdf"
    assert container["volumeMounts"] == [
        {"name": "input", "mountPath": "/input", "readOnly": True, "subPath": "in/box"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    assert pod["volumes"][0] == {"persistentVolumeClaim": {"claimName": "inbox"}, "name": "input"}
    assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["automountServiceAccountToken"] is False


def test_form_file_job_on_the_volume_root_has_no_sub_path() -> None:
    automatic = {**_INBOX, "path": ""}
    job_spec = build_file_job(OWNER, spec(flow=_FORM_FLOW, automatic=automatic), IMAGE, "a.pdf", "a.pdf@1")["spec"]
    assert container_of(job_spec)["volumeMounts"][0] == {"name": "input", "mountPath": "/input", "readOnly": True}


@pytest.mark.parametrize(
    "flow",
    [RAW_SPEC["flow"], {"endpoint": "https://jobs.example.com/submit", "json": {"a": 1}}],
    ids=["flow-body", "json-body"],
)
def test_only_a_form_file_job_gets_the_input_volume(flow: dict[str, Any]) -> None:
    job_spec = build_file_job(OWNER, spec(flow=flow, automatic=_INBOX), IMAGE, "a.pdf", "a.pdf@1")["spec"]
    assert "CRONFLOW_INPUT_PATH" not in env_of(job_spec)
    assert [volume["name"] for volume in pod_of(job_spec)["volumes"]] == ["tmp"]
    assert "fsGroupChangePolicy" not in pod_of(job_spec)["securityContext"]


def test_scheduled_and_manual_form_runs_get_no_input_volume() -> None:
    form_spec = spec(flow=_FORM_FLOW, automatic={**_INBOX, "enabled": False})
    for job_spec in (build_cronjob(OWNER, form_spec, IMAGE)["spec"]["jobTemplate"]["spec"],
                     build_trigger_job(OWNER, form_spec, IMAGE, "t")["spec"]):
        assert [volume["name"] for volume in pod_of(job_spec)["volumes"]] == ["tmp"]
        assert "CRONFLOW_INPUT_PATH" not in env_of(job_spec)


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
