"""The gateway's pure mapping: create_job's body -> ScheduledJob and Secret, ScheduledJob -> list_jobs' entry,
status.results -> results[], run ids and run states."""

import copy
import re
from typing import Any

import pytest

from cronflow import names
from cronflow.api.models import parse_spec
from cronflow.gateway.mapping import (
    REDACTED,
    Refused,
    auth_secret_manifest,
    job_listing,
    object_name,
    result_listing,
    scheduledjob_manifest,
    spec_settings,
    time_in_ns,
)
from cronflow.gateway.runs import (
    REFUSED_MESSAGE,
    RunRef,
    UnknownRun,
    decode_run_id,
    encode_run_id,
    run_state,
)
from cronflow.gateway.shapes import CreateJob, FlowSettings
from tests.support.scheduler_client import DAILY_JOB

ENDPOINT = "https://flows.example.com/api/v1/flow/run_binary_async"
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
UID = "6bc58441-1f60-4265-99f1-881c90ac65df"


def request(**changes: Any) -> CreateJob:
    body = copy.deepcopy(DAILY_JOB)
    body["flow_parameters"].update(changes)
    return CreateJob.model_validate(body)


def created(manifest: dict[str, Any], **status: Any) -> dict[str, Any]:
    """The manifest as the API server answers it."""
    sj = copy.deepcopy(manifest)
    sj["metadata"].update(uid=UID, creationTimestamp="2022-08-12T13:14:11Z")
    if status:
        sj["status"] = status
    return sj


@pytest.mark.parametrize(("display", "expected"), [
    ("Daily Job", "daily-job-abcde"),
    ("  Nightly   import!! ", "nightly-import-abcde"),
    ("Café Ü-Bahn 2", "cafe-u-bahn-2-abcde"),
    ("日本語", "job-abcde"),
    ("---", "job-abcde"),
    ("x" * 100, "x" * 57 + "-abcde"),
    ("a" * 56 + "-b", "a" * 56 + "-abcde"),
])
def test_object_name_is_a_dns_label_of_at_most_63_characters(display: str, expected: str) -> None:
    name = object_name(display, "abcde")
    assert name == expected
    assert DNS_LABEL.match(name) and len(name) <= names.MAX_SCHEDULEDJOB_NAME


def test_documented_create_job_maps_onto_a_valid_spec_with_the_token_only_referenced() -> None:
    manifest = scheduledjob_manifest(request(), "daily-job-abcde", "team-a", "alice", ENDPOINT, None)
    assert manifest["metadata"] == {
        "name": "daily-job-abcde", "namespace": "team-a",
        "annotations": {names.DISPLAY_NAME_ANNOTATION: "Daily Job", names.CREATED_BY_ANNOTATION: "alice"},
    }
    assert manifest["spec"] == {
        "schedule": "@daily",
        "flow": {
            "endpoint": ENDPOINT,
            "verifySslCertificate": True,
            "binaryPath": "admin/repo/fs/Instabase Drive/files/flow/flow.ibflowbin",
            "inputDir": "admin/repo/fs/Instabase Drive/files/flow/input",
            "settings": {
                "tags": ["tag1"], "runtimeConfig": {}, "notificationEmails": "example@email.com",
                "webhookConfig": {"url": "https://example.com/webhook", "headers": {"Authorization": "Bearer 12345"}},
            },
            "authTokenSecretRef": {"name": "daily-job-abcde-auth-token", "key": "token"},
        },
    }
    parse_spec(manifest["spec"])  # what the CRD accepts
    assert "flow-service-token" not in repr(manifest)


@pytest.mark.parametrize(("given", "expected"), [
    ({"tags": ["a"]}, {"tags": ["a"]}),
    ({"runtime_config": {"max_workers": 2, "someKey": 1}}, {"runtimeConfig": {"max_workers": 2, "someKey": 1}}),
    ({"spooled_mode": False, "tags": None}, {}),
    ({"custom_flag": True, "a1_b2": 1, "X-Odd": "x"}, {"customFlag": True, "a1_b2": 1, "X-Odd": "x"}),
])
def test_settings_top_level_words_become_camel_case_and_anything_else_stays(
    given: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert spec_settings(FlowSettings.model_validate(given)) == expected


@pytest.mark.parametrize(("changes", "claim", "endpoint", "refusal"), [
    ({}, None, None, "no flow endpoint configured"),
    ({"settings": {"spooled_mode": True}}, None, ENDPOINT, "has none configured"),
    ({"settings": {"spooled_mode": True}, "input_dir": None}, "inbox", ENDPOINT, "spooled_mode needs input_dir"),
])
def test_requests_the_gateway_cannot_carry_out_are_refused_with_the_reason(
    changes: dict[str, Any], claim: str | None, endpoint: str | None, refusal: str
) -> None:
    with pytest.raises(Refused, match=refusal):
        scheduledjob_manifest(request(**changes), "j-abcde", "ns", "alice", endpoint, claim)


def test_spooled_mode_is_automatic_mode_on_the_configured_claim_with_input_dir_as_the_path() -> None:
    manifest = scheduledjob_manifest(request(settings={"spooled_mode": True, "tags": ["t"]}), "j-abcde", "ns",
                                     "alice", ENDPOINT, "inbox")
    assert manifest["spec"]["automatic"] == {
        "enabled": True, "volume": {"persistentVolumeClaim": {"claimName": "inbox"}},
        "path": "admin/repo/fs/Instabase Drive/files/flow/input",
    }
    assert manifest["spec"]["flow"]["settings"] == {"tags": ["t"]}
    parse_spec(manifest["spec"])
    listed = job_listing(created(manifest)).job_parameters.flow_parameters
    assert listed["settings"] == {"tags": ["t"], "spooled_mode": True}


def test_without_auth_token_no_secret_is_referenced() -> None:
    for token in (None, ""):
        manifest = scheduledjob_manifest(request(auth_token=token), "j-abcde", "ns", "alice", ENDPOINT, None)
        assert "authTokenSecretRef" not in manifest["spec"]["flow"]
        assert "auth_token" not in job_listing(created(manifest)).job_parameters.flow_parameters


def test_auth_secret_is_owned_by_the_scheduledjob_labelled_usable_and_holds_the_token() -> None:
    sj = created(scheduledjob_manifest(request(), "daily-job-abcde", "team-a", "alice", ENDPOINT, None))
    secret = auth_secret_manifest(sj, "s3cret")
    assert secret["metadata"]["name"] == sj["spec"]["flow"]["authTokenSecretRef"]["name"]
    assert secret["metadata"]["namespace"] == "team-a"
    assert secret["metadata"]["labels"][names.USABLE_LABEL] == "true"
    assert secret["metadata"]["ownerReferences"] == [
        {"apiVersion": names.API_VERSION, "kind": names.KIND, "name": "daily-job-abcde", "uid": UID,
         "controller": True},
    ]
    assert secret["stringData"] == {sj["spec"]["flow"]["authTokenSecretRef"]["key"]: "s3cret"}


def test_listing_gives_back_the_documented_job_parameters_with_the_token_redacted() -> None:
    sj = created(scheduledjob_manifest(request(), "daily-job-abcde", "team-a", "alice", ENDPOINT, None))
    job = job_listing(sj).model_dump(by_alias=True)
    expected_parameters = copy.deepcopy(DAILY_JOB)
    expected_parameters["flow_parameters"]["auth_token"] = REDACTED
    assert job == {
        "job_id": UID, "name": "Daily Job", "username": "alice", "status": "ENABLED",
        "created_on_ns": "1660310051000000000", "job_parameters": expected_parameters, "results": [],
    }


def test_a_scheduledjob_made_with_kubectl_is_listed_under_its_object_name_and_no_user() -> None:
    sj = {"metadata": {"name": "nightly", "uid": UID, "creationTimestamp": "2026-11-22T12:00:00Z"},
          "spec": {"schedule": "0 2 * * *", "enabled": False, "flow": {"endpoint": "https://x.example/run"}}}
    job = job_listing(sj)
    assert (job.name, job.username, job.status) == ("nightly", "", "DISABLED")
    assert job.job_parameters.model_dump() == {
        "schedule": "0 2 * * *", "name": "nightly", "flow_parameters": {"verify_ssl_certificate": True},
    }


def test_listing_shows_the_last_ten_results_newest_first() -> None:
    results = [{"job": f"j-{i}", "trigger": "Schedule", "status": "OK", "finishedAt": f"2026-11-22T12:{i:02d}:00Z"}
               for i in range(12)]
    sj = created(scheduledjob_manifest(request(), "j-abcde", "ns", "alice", ENDPOINT, None), results=results)
    listed = job_listing(sj).results
    assert [r.time_in_ns for r in listed] == [time_in_ns(r["finishedAt"]) for r in results[:10]]


RESULT_OK = {
    "job": "daily-job-abcde-manual-1234567890", "trigger": "Manual", "status": "OK", "attempts": 1,
    "startTime": "2022-10-11T00:00:01Z", "finishedAt": "2022-10-11T00:00:03.651243Z",
    "httpResult": {"status": 200, "headers": [{"key": "Content-Type", "value": "application/json"}],
                   "response": '{"status": "OK", "data": {"job_id": "462eeed8"}}', "truncated": False},
    "message": "",
}


@pytest.mark.parametrize(("result", "expected"), [
    (RESULT_OK, {"timeInNS": "1665446403651243000", "status": "OK", "message": "",
                 "http_result": {"status": "200", "headers": [{"key": "Content-Type", "value": "application/json"}],
                                 "response": '{"status": "OK", "data": {"job_id": "462eeed8"}}'}}),
    ({"job": "j", "trigger": "Schedule", "status": "ERROR", "startTime": "2022-10-11T00:00:01Z",
      "finishedAt": "2022-10-11T00:01:01Z", "message": "no HTTP answer: connection refused"},
     {"timeInNS": "1665446461000000000", "status": "ERROR", "message": "no HTTP answer: connection refused",
      "http_result": {"status": "", "headers": [], "response": ""}}),
    ({"job": "j", "trigger": "Schedule", "status": "ERROR", "startTime": "2022-10-11T00:00:01Z",
      "message": "the Job was deleted before it finished"},
     {"timeInNS": "1665446401000000000", "status": "ERROR", "message": "the Job was deleted before it finished",
      "http_result": {"status": "", "headers": [], "response": ""}}),
])
def test_results_take_the_original_shape(result: dict[str, Any], expected: dict[str, Any]) -> None:
    assert result_listing(result).model_dump(by_alias=True) == expected


@pytest.mark.parametrize(("timestamp", "nanoseconds"), [
    ("1970-01-01T00:00:00Z", "0"),
    ("2022-08-12T13:14:11Z", "1660310051000000000"),
    ("2022-10-11T00:00:03.651243Z", "1665446403651243000"),
    ("2022-10-11T02:00:03+02:00", "1665446403000000000"),
    ("2022-10-11T00:00:03", "1665446403000000000"),
])
def test_time_in_ns_is_exact(timestamp: str, nanoseconds: str) -> None:
    assert time_in_ns(timestamp) == nanoseconds


REF = RunRef(namespace="team-a", name="daily-job-abcde", uid=UID, token="2026-11-22T12:00:00Z-0a1b2c3d4e")
JOB = REF.job_name()


def test_run_ids_are_url_safe_and_name_their_run() -> None:
    run_id = encode_run_id(REF)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", run_id)
    assert decode_run_id(run_id) == REF


@pytest.mark.parametrize("run_id", ["", "!!", "bm90IGEgcnVu", "YS9iL2M", "Ly8v", "_w"])
def test_what_is_not_a_run_id_is_an_unknown_run(run_id: str) -> None:
    with pytest.raises(UnknownRun):
        decode_run_id(run_id)


@pytest.mark.parametrize(("spec", "status", "expected"), [
    ({"trigger": REF.token}, {}, ("PENDING", None, "")),
    ({"trigger": REF.token}, {"lastTrigger": "earlier"}, ("PENDING", None, "")),
    ({"trigger": REF.token}, {"lastTrigger": REF.token, "active": [{"name": JOB}]}, ("RUNNING", None, "")),
    ({"trigger": REF.token}, {"lastTrigger": REF.token, "results": [{**RESULT_OK, "job": JOB}]},
     ("OK", result_listing(RESULT_OK), "")),
    ({"trigger": "later"}, {"lastTrigger": "later", "results": [{**RESULT_OK, "job": JOB, "status": "ERROR"}]},
     ("ERROR", result_listing({**RESULT_OK, "status": "ERROR"}), "")),
    ({"trigger": REF.token}, {"lastTrigger": REF.token, "active": [], "results": []}, ("ERROR", None, REFUSED_MESSAGE)),
])
def test_run_state_follows_the_scheduledjob(
    spec: dict[str, Any], status: dict[str, Any], expected: tuple[str, Any, str]
) -> None:
    sj = {"metadata": {"name": REF.name, "uid": UID}, "spec": spec, "status": status}
    assert run_state(sj, REF) == expected


@pytest.mark.parametrize(("uid", "spec", "status", "reason"), [
    ("another-uid", {"trigger": REF.token}, {}, "deleted"),
    (UID, {"trigger": "later"}, {"lastTrigger": "later"}, "a later trigger replaced it"),
])
def test_runs_that_cannot_be_found_say_why(uid: str, spec: dict[str, Any], status: dict[str, Any], reason: str) -> None:
    with pytest.raises(UnknownRun, match=reason):
        run_state({"metadata": {"name": REF.name, "uid": uid}, "spec": spec, "status": status}, REF)
