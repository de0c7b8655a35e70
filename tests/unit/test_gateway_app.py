"""cronflow-api's routes over the in-memory Cluster fake: the documented requests (JSON strings without a
Content-Type), the answers' shapes, 401/403/404, and an auth token that never comes back."""

import copy
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cronflow import names
from cronflow.gateway.app import create_app
from cronflow.gateway.mapping import REDACTED
from cronflow.gateway.runs import decode_run_id
from cronflow.gateway.settings import GatewaySettings
from tests.support import scheduler_client as script
from tests.support.fake_cluster import FakeApi
from tests.support.gateway import serving_app
from tests.support.scheduler_client import DAILY_JOB

ENDPOINT = "https://flows.example.com/api/v1/flow/run_binary_async"
API = "/api/v1/scheduler"
TOKEN = DAILY_JOB["flow_parameters"]["auth_token"]
ALICE = {"Authorization": "Bearer alice-token"}
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def api() -> FakeApi:
    made = FakeApi()
    made.add_user("alice-token", "alice", "default", "team-b")
    made.add_user("bob-token", "bob", "default")
    return made


@pytest.fixture
def client(api: FakeApi) -> Iterator[TestClient]:
    app = create_app(GatewaySettings(flow_endpoint=ENDPOINT, spool_claim="inbox"), api.connect, clock=lambda: NOW)
    with TestClient(app) as made:
        yield made


def post(client: TestClient, endpoint: str, body: Any, headers: dict[str, str] = ALICE, **params: str) -> Any:
    """A POST as the original API's scripts send it: the body a JSON string, no Content-Type."""
    answer = client.post(f"{API}/{endpoint}", content=json.dumps(body), headers=headers, params=params)
    assert "flow-service-token" not in answer.text
    return answer


def create(client: TestClient, **changes: Any) -> str:
    body = {**copy.deepcopy(DAILY_JOB), **changes}
    answer = post(client, "create_job", body)
    assert answer.status_code == 200, answer.text
    job_id: str = answer.json()["job_id"]
    return job_id


def listed(client: TestClient, headers: dict[str, str] = ALICE, **params: str) -> list[dict[str, Any]]:
    answer = client.get(f"{API}/list_jobs", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    assert TOKEN not in answer.text
    jobs: list[dict[str, Any]] = answer.json()["jobs"]
    return jobs


def test_the_documented_script_runs_unchanged_against_the_gateway(api: FakeApi) -> None:
    app = create_app(GatewaySettings(flow_endpoint=ENDPOINT), api.connect)
    with serving_app(app) as url_base:
        status, created = script.create_job(url_base, "alice-token", DAILY_JOB)
        assert (status, created["status"]) == (200, "OK")
        job_id = created["job_id"]
        status, found = script.list_jobs(url_base, "alice-token", job_id=job_id, username="alice")
        assert status == 200 and [job["job_id"] for job in found["jobs"]] == [job_id]
        assert script.disable_job(url_base, "alice-token", job_id) == (200, {"status": "OK", "disabled_jobs": job_id})
        assert script.enable_job(url_base, "alice-token", job_id) == (200, {"status": "OK", "enabled_jobs": job_id})
        status, triggered = script.trigger_job(url_base, "alice-token", job_id)
        assert (status, triggered["triggered_job"]) == (200, job_id)
        status, run = script.get_run(url_base, "alice-token", triggered["run_id"])
        assert (status, run["state"]) == (200, "PENDING")
        assert script.delete_job(url_base, "alice-token", job_id) == (200, {"status": "OK", "deleted_jobs": job_id})
        assert script.list_jobs(url_base, "alice-token") == (200, {"status": "OK", "jobs": []})


def test_create_job_makes_a_scheduledjob_and_its_owned_secret(client: TestClient, api: FakeApi) -> None:
    job_id = create(client)
    [sj] = api.scheduledjobs.values()
    assert sj["metadata"]["uid"] == job_id and sj["metadata"]["name"].startswith("daily-job-")
    [secret] = api.secrets.values()
    assert secret["metadata"]["ownerReferences"][0]["uid"] == job_id
    assert secret["metadata"]["labels"][names.USABLE_LABEL] == "true"
    assert secret["stringData"] == {"token": TOKEN}
    assert TOKEN not in json.dumps(sj)
    assert api.closed >= 1


def test_list_jobs_answers_the_documented_shape_with_the_token_redacted(client: TestClient) -> None:
    job_id = create(client)
    [job] = listed(client, job_id=job_id, username="alice")
    assert set(job) == {"job_id", "name", "username", "status", "created_on_ns", "job_parameters", "results"}
    assert (job["name"], job["username"], job["status"]) == ("Daily Job", "alice", "ENABLED")
    assert job["created_on_ns"].isdigit()
    assert job["job_parameters"]["flow_parameters"]["auth_token"] == REDACTED
    assert job["job_parameters"]["flow_parameters"]["settings"] == DAILY_JOB["flow_parameters"]["settings"]


def test_list_jobs_shows_the_callers_jobs_unless_username_says_otherwise(client: TestClient) -> None:
    mine = create(client)
    bobs = post(client, "create_job", DAILY_JOB, headers={"Authorization": "Bearer bob-token"}).json()["job_id"]
    assert [j["job_id"] for j in listed(client)] == [mine]
    assert [j["job_id"] for j in listed(client, username="bob")] == [bobs]
    assert {j["job_id"] for j in listed(client, username="*")} == {mine, bobs}
    assert [j["job_id"] for j in listed(client, job_id=bobs)] == [bobs]
    assert listed(client, job_id=bobs, username="alice") == []


def test_unknown_job_ids_are_404(client: TestClient) -> None:
    create(client)
    for endpoint in ("enable_job", "disable_job", "trigger_job", "delete_job"):
        answer = post(client, endpoint, {"job_id": "no-such-id"})
        assert answer.status_code == 404
        assert answer.json() == {"status": "ERROR", "msg": "no job no-such-id in namespace default"}
    assert client.get(f"{API}/list_jobs", params={"job_id": "no-such-id"}, headers=ALICE).status_code == 404


def test_enable_and_disable_set_the_spec(client: TestClient, api: FakeApi) -> None:
    job_id = create(client)
    assert post(client, "disable_job", {"job_id": job_id}).json() == {"status": "OK", "disabled_jobs": job_id}
    [sj] = api.scheduledjobs.values()
    assert sj["spec"]["enabled"] is False and listed(client)[0]["status"] == "DISABLED"
    assert post(client, "enable_job", {"job_id": job_id}).json() == {"status": "OK", "enabled_jobs": job_id}
    assert sj["spec"]["enabled"] is True and listed(client)[0]["status"] == "ENABLED"


def test_a_triggered_run_is_pending_then_running_then_its_result(client: TestClient, api: FakeApi) -> None:
    job_id = create(client)
    answer = post(client, "trigger_job", {"job_id": job_id}).json()
    assert set(answer) == {"status", "triggered_job", "run_id"} and answer["triggered_job"] == job_id
    [(key, sj)] = api.scheduledjobs.items()
    ref = decode_run_id(answer["run_id"])
    assert sj["spec"]["trigger"] == ref.token and ref.token.startswith("2026-11-22T12:00:00Z-")

    def state() -> dict[str, Any]:
        got = client.get(f"{API}/runs/{answer['run_id']}", headers=ALICE)
        assert got.status_code == 200, got.text
        return dict(got.json())

    assert state()["state"] == "PENDING"
    api.set_status(*key, lastTrigger=ref.token, active=[{"name": ref.job_name()}])
    assert state()["state"] == "RUNNING"
    result = {"job": ref.job_name(), "trigger": "Manual", "status": "OK", "startTime": "2026-11-22T12:00:01Z",
              "finishedAt": "2026-11-22T12:00:02Z",
              "httpResult": {"status": 200, "headers": [{"key": "Content-Type", "value": "application/json"}],
                             "response": '{"status": "OK"}'}}
    api.set_status(*key, active=[], results=[result])
    finished = state()
    assert finished["state"] == "OK" and finished["job_id"] == job_id
    expected = {"timeInNS": "1795348802000000000", "status": "OK", "message": "",
                "http_result": {"status": "200", "headers": [{"key": "Content-Type", "value": "application/json"}],
                                "response": '{"status": "OK"}'}}
    assert finished["result"] == expected
    assert listed(client)[0]["results"] == [expected]


def test_unknown_runs_are_404(client: TestClient) -> None:
    job_id = create(client)
    run_id = post(client, "trigger_job", {"job_id": job_id}).json()["run_id"]
    assert client.get(f"{API}/runs/not-a-run", headers=ALICE).status_code == 404
    post(client, "delete_job", {"job_id": job_id})
    gone = client.get(f"{API}/runs/{run_id}", headers=ALICE)
    assert gone.status_code == 404 and gone.json()["msg"] == "the job of this run was deleted"


def test_delete_all_deletes_the_callers_jobs_only(client: TestClient, api: FakeApi) -> None:
    mine = [create(client), create(client)]
    post(client, "create_job", DAILY_JOB, headers={"Authorization": "Bearer bob-token"})
    answer = post(client, "delete_job", {"delete_all": True}).json()
    assert answer["status"] == "OK" and sorted(answer["deleted_jobs"].split(",")) == sorted(mine)
    assert [sj["metadata"]["annotations"][names.CREATED_BY_ANNOTATION] for sj in api.scheduledjobs.values()] == ["bob"]
    assert len(api.secrets) == 1  # the deleted jobs' Secrets went with them


def test_delete_job_needs_job_id_or_delete_all(client: TestClient) -> None:
    answer = post(client, "delete_job", {})
    assert answer.status_code == 400 and answer.json() == {"status": "ERROR", "msg": "give job_id, or delete_all: true"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer "}])
def test_no_bearer_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    answer = post(client, "create_job", DAILY_JOB, headers=headers)
    assert answer.status_code == 401 and answer.json()["status"] == "ERROR"
    assert client.get(f"{API}/list_jobs", headers=headers).status_code == 401


def test_a_token_the_api_server_does_not_know_is_401(client: TestClient) -> None:
    answer = client.get(f"{API}/list_jobs", headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401 and answer.json() == {"status": "ERROR", "msg": "Unauthorized"}


def test_what_rbac_forbids_is_403_with_the_api_servers_message(client: TestClient, api: FakeApi) -> None:
    bob = {"Authorization": "Bearer bob-token"}
    for answer in (post(client, "create_job", DAILY_JOB, headers=bob, namespace="team-b"),
                   client.get(f"{API}/list_jobs", headers=bob, params={"namespace": "team-b"})):
        assert answer.status_code == 403
        assert answer.json()["msg"].startswith("scheduledjobs.cronflow.dev is forbidden: User \"bob\" cannot")
    assert api.scheduledjobs == {}


def test_a_secret_the_caller_may_not_create_undoes_the_job(client: TestClient, api: FakeApi) -> None:
    api.secrets_forbidden = True
    answer = post(client, "create_job", DAILY_JOB)
    assert answer.status_code == 403
    assert answer.json()["msg"].startswith("the auth_token Secret could not be created, so the job was not either: ")
    assert api.scheduledjobs == {}


def test_namespace_can_be_chosen_per_request(client: TestClient, api: FakeApi) -> None:
    job_id = post(client, "create_job", DAILY_JOB, namespace="team-b").json()["job_id"]
    assert [ns for ns, _ in api.scheduledjobs] == ["team-b"]
    assert listed(client) == []
    assert [j["job_id"] for j in listed(client, namespace="team-b")] == [job_id]
    run_id = post(client, "trigger_job", {"job_id": job_id}, namespace="team-b").json()["run_id"]
    assert client.get(f"{API}/runs/{run_id}", headers=ALICE).json()["state"] == "PENDING"
    assert client.get(f"{API}/list_jobs", params={"namespace": "Not_A_Namespace"}, headers=ALICE).status_code == 422


def test_an_invalid_cron_is_refused_with_the_api_servers_message(client: TestClient) -> None:
    answer = post(client, "create_job", {**DAILY_JOB, "schedule": "every day"})
    assert answer.status_code == 422
    assert "is invalid: spec.schedule: schedule must be 5 cron fields" in answer.json()["msg"]


@pytest.mark.parametrize(("body", "problem"), [
    ({"name": "x", "flow_parameters": {}}, "body/schedule: Field required"),
    ({**DAILY_JOB, "flow_parameters": {"settings": {"tags": "not-a-list"}}},
     "body/flow_parameters/settings/tags: Input should be a valid list"),
    ([1, 2], "body: Input should be a valid dictionary or object to extract fields from"),
])
def test_malformed_bodies_are_422_naming_the_field(client: TestClient, body: Any, problem: str) -> None:
    answer = post(client, "create_job", body)
    assert answer.status_code == 422 and answer.json() == {"status": "ERROR", "msg": problem}


def test_a_body_that_is_not_json_is_422(client: TestClient) -> None:
    answer = client.post(f"{API}/create_job", content="{not json", headers=ALICE)
    assert answer.status_code == 422 and answer.json()["status"] == "ERROR"


def test_unknown_fields_are_ignored_and_unknown_settings_forwarded(client: TestClient, api: FakeApi) -> None:
    body = copy.deepcopy(DAILY_JOB)
    body["owner_team"] = "ops"
    body["flow_parameters"]["priority"] = 3
    body["flow_parameters"]["settings"]["output_dir"] = "out"
    create(client, **body)
    [sj] = api.scheduledjobs.values()
    assert "ownerTeam" not in json.dumps(sj) and "priority" not in json.dumps(sj)
    assert sj["spec"]["flow"]["settings"]["outputDir"] == "out"
    assert listed(client)[0]["job_parameters"]["flow_parameters"]["settings"]["output_dir"] == "out"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json"])
def test_bodies_are_json_whatever_the_content_type_says(client: TestClient, content_type: str) -> None:
    answer = client.post(f"{API}/create_job", content=json.dumps(DAILY_JOB),
                         headers={**ALICE, "Content-Type": content_type})
    assert answer.status_code == 200, answer.text


def test_bodies_larger_than_the_limit_are_413(client: TestClient) -> None:
    body = {**DAILY_JOB, "name": "x" * (2 << 20)}
    answer = post(client, "create_job", body)
    assert answer.status_code == 413 and answer.json()["status"] == "ERROR"


def test_spooled_mode_without_a_configured_volume_is_refused(api: FakeApi) -> None:
    body = copy.deepcopy(DAILY_JOB)
    body["flow_parameters"]["settings"]["spooled_mode"] = True
    with TestClient(create_app(GatewaySettings(flow_endpoint=ENDPOINT), api.connect)) as bare:
        answer = post(bare, "create_job", body)
    assert answer.status_code == 400 and "spooled_mode (automatic mode) needs a volume" in answer.json()["msg"]


def test_the_token_and_bodies_stay_out_of_the_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    job_id = create(client)
    post(client, "trigger_job", {"job_id": job_id})
    assert job_id in caplog.text
    assert TOKEN not in caplog.text and "alice-token" not in caplog.text


def test_unknown_paths_and_methods_answer_in_the_error_shape(client: TestClient) -> None:
    assert client.get("/nowhere").json() == {"status": "ERROR", "msg": "Not Found"}
    answer = client.get(f"{API}/create_job", headers=ALICE)
    assert answer.status_code == 405 and answer.json()["status"] == "ERROR"


def test_healthz_needs_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "OK"}


def test_openapi_documents_the_endpoints_bodies_and_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    dashboard = {f"/api/v1/dashboard/{e}" for e in ("session", "jobs", "jobs/{name}", "jobs/{name}/{action}")}
    assert set(spec["paths"]) == {f"{API}/{e}" for e in ("create_job", "list_jobs", "delete_job", "enable_job",
                                                          "disable_job", "trigger_job", "runs/{run_id}")} | {
        "/healthz", *dashboard}
    create_op = spec["paths"][f"{API}/create_job"]["post"]
    assert create_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CreateJob")
    assert {"200", "401", "403", "404", "422"} <= set(create_op["responses"])
    assert set(spec["components"]["schemas"]["Result"]["properties"]) >= {"timeInNS", "status", "http_result"}
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
