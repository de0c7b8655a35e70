"""The dashboard's JSON endpoints over the in-memory Cluster fake: the namespaces offered, pages of jobs (the
list API's chunks), the failing-now filter, one job's results, actions only with patch, and the page itself."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cronflow.gateway.app import create_app
from cronflow.gateway.runs import decode_run_id
from cronflow.gateway.settings import GatewaySettings
from tests.support.dashboard import SCRIPT, add_job, result
from tests.support.fake_cluster import FakeApi

API = "/api/v1/dashboard"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ALICE = {"Authorization": "Bearer alice-token"}
VIEWER = {"Authorization": "Bearer viewer-token"}
ADMIN = {"Authorization": "Bearer admin-token"}


@pytest.fixture
def api() -> FakeApi:
    made = FakeApi(namespaces=["default", "kube-system", "team-b", "team-c"])
    made.add_user("alice-token", "alice", "default", "team-b")
    made.add_user("viewer-token", "viewer", "default", verbs=frozenset({"get", "list"}))
    made.add_user("admin-token", "admin")
    made.admins.add("admin")
    return made


@pytest.fixture
def client(api: FakeApi) -> Iterator[TestClient]:
    settings = GatewaySettings(dashboard_namespaces=["team-b", "team-c"])
    with TestClient(create_app(settings, api.connect, clock=lambda: NOW)) as made:
        yield made


def get(client: TestClient, path: str, headers: dict[str, str] = ALICE, **params: Any) -> Any:
    answer = client.get(f"{API}{path}", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_picker_offers_the_configured_namespaces_the_viewer_may_list_jobs_in(client: TestClient) -> None:
    assert get(client, "/session") == {"username": "alice", "namespace": "default", "namespaces": ["default", "team-b"]}
    assert get(client, "/session", VIEWER)["namespaces"] == ["default"]


def test_a_viewer_who_may_list_namespaces_and_jobs_everywhere_is_offered_every_namespace(client: TestClient) -> None:
    assert get(client, "/session", ADMIN)["namespaces"] == ["default", "kube-system", "team-b", "team-c"]


def test_a_row_has_the_schedule_state_next_runs_and_results_oldest_first(api: FakeApi, client: TestClient) -> None:
    add_job(api, "default", "nightly", [result("nightly-3", "ERROR", 500, finished="2026-11-22T11:45:05Z"),
                                        result("nightly-2"), result("nightly-1", trigger="Manual")],
            schedule="*/15 * * * *", timeZone="Europe/Amsterdam")
    page = get(client, "/jobs")
    [row] = page["jobs"]
    assert (row["name"], row["schedule"], row["time_zone"], row["state"]) == (
        "nightly", "*/15 * * * *", "Europe/Amsterdam", "ENABLED")
    assert row["next_run_times"] == ["2026-11-22T12:15:00Z", "2026-11-22T12:30:00Z", "2026-11-22T12:45:00Z"]
    assert [(m["job"], m["status"], m["http_status"]) for m in row["results"]] == [
        ("nightly-1", "OK", 200), ("nightly-2", "OK", 200), ("nightly-3", "ERROR", 500)]
    assert row["results"][0]["trigger"] == "Manual"
    assert (row["failing"], row["consecutive_failures"]) == (True, 1)
    assert (page["can_act"], page["more"], page["total"]) == (True, False, 1)


def test_disabled_and_unreconciled_jobs_have_no_next_runs(api: FakeApi, client: TestClient) -> None:
    add_job(api, "default", "off", [], enabled=False)
    api.scheduledjobs[("default", "new")] = {"metadata": {"name": "new", "namespace": "default", "uid": "u"},
                                             "spec": {"schedule": "@daily", "enabled": False}}
    rows = {row["name"]: row for row in get(client, "/jobs")["jobs"]}
    assert [(rows[n]["state"], rows[n]["next_run_times"], rows[n]["results"]) for n in ("new", "off")] == [
        ("DISABLED", [], []), ("DISABLED", [], [])]


def test_pages_are_chunks_of_the_list_in_name_order(api: FakeApi, client: TestClient) -> None:
    for i in range(250):
        add_job(api, "default", f"job-{i:04d}", [result(f"job-{i:04d}-1")])
    first, third = get(client, "/jobs", limit=100), get(client, "/jobs", limit=100, page=3)
    assert [len(first["jobs"]), first["more"], first["total"]] == [100, True, 250]
    assert first["jobs"][0]["name"] == "job-0000"
    assert [third["jobs"][0]["name"], len(third["jobs"]), third["more"], third["total"]] == ["job-0200", 50, False, 250]
    assert get(client, "/jobs", limit=100, page=4)["jobs"] == []


def test_the_failing_filter_finds_failing_jobs_on_every_page(api: FakeApi, client: TestClient) -> None:
    for i in range(1200):
        failing = i in (7, 1100)
        add_job(api, "default", f"job-{i:04d}", [result(f"j{i}", "ERROR" if failing else "OK"), result(f"j{i}-0")])
    page = get(client, "/jobs", failing=True, limit=100)
    assert [row["name"] for row in page["jobs"]] == ["job-0007", "job-1100"]
    assert (page["total"], page["more"]) == (2, False)


def test_the_job_shows_every_result_with_its_answer(api: FakeApi, client: TestClient) -> None:
    add_job(api, "default", "echo", [result("echo-2", "ERROR", 502, SCRIPT, message="flow said no"),
                                     result("echo-1")])
    detail = get(client, "/jobs/echo")
    newest = detail["runs"][0]
    assert (newest["job"], newest["status"], newest["http_status"], newest["response"], newest["message"]) == (
        "echo-2", "ERROR", 502, SCRIPT, "flow said no")
    assert (newest["attempts"], newest["start_time"], newest["finished_at"]) == (
        1, "2026-11-22T11:00:00Z", "2026-11-22T11:00:05Z")
    assert newest["headers"] == [{"key": "Content-Type", "value": "application/json"}]
    assert detail["conditions"][0]["type"] == "Ready" and detail["can_act"] is True
    answer = client.get(f"{API}/jobs/nothing", headers=ALICE)
    assert (answer.status_code, answer.json()["status"]) == (404, "ERROR")


def test_trigger_patches_one_new_token_and_answers_a_run_id(api: FakeApi, client: TestClient) -> None:
    add_job(api, "default", "echo", [])
    answer = client.post(f"{API}/jobs/echo/trigger", headers=ALICE)
    assert answer.status_code == 200, answer.text
    [(namespace, name, patch)] = api.patches
    assert (namespace, name, list(patch)) == ("default", "echo", ["trigger"])
    ref = decode_run_id(answer.json()["run_id"])
    assert (ref.name, ref.uid, ref.token) == ("echo", "uid-default-echo", patch["trigger"])


@pytest.mark.parametrize(("action", "patched"), [("enable", {"enabled": True}), ("disable", {"enabled": False})])
def test_enable_and_disable_patch_enabled(api: FakeApi, client: TestClient, action: str, patched: Any) -> None:
    add_job(api, "team-b", "echo", [])
    assert client.post(f"{API}/jobs/echo/{action}", params={"namespace": "team-b"}, headers=ALICE).status_code == 200
    assert api.patches == [("team-b", "echo", patched)]


def test_resume_patches_a_resume_token(api: FakeApi, client: TestClient) -> None:
    add_job(api, "default", "echo", [])
    assert client.post(f"{API}/jobs/echo/resume", headers=ALICE).json()["run_id"] is None
    [(_, _, patch)] = api.patches
    assert list(patch) == ["resume"] and patch["resume"].startswith("2026-11-22T12:00:00Z-")


def test_a_viewer_without_patch_is_told_so_and_cannot_act(api: FakeApi, client: TestClient) -> None:
    add_job(api, "default", "echo", [])
    assert get(client, "/jobs", VIEWER)["can_act"] is False
    assert get(client, "/jobs/echo", VIEWER)["can_act"] is False
    answer = client.post(f"{API}/jobs/echo/trigger", headers=VIEWER)
    assert (answer.status_code, answer.json()["status"]) == (403, "ERROR")
    assert api.patches == []


def test_an_unknown_action_is_refused(api: FakeApi, client: TestClient) -> None:
    add_job(api, "default", "echo", [])
    assert client.post(f"{API}/jobs/echo/delete", headers=ALICE).status_code == 422
    assert api.patches == []


def test_no_token_is_401_and_another_namespace_403(client: TestClient) -> None:
    assert client.get(f"{API}/jobs").status_code == 401
    assert client.get(f"{API}/jobs", params={"namespace": "team-c"}, headers=ALICE).status_code == 403


def test_the_page_is_served_without_a_token_and_may_run_only_its_own_script(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe" not in policy
    assert '<script src="/dashboard.js" defer></script>' in page.text
    for path, kind in (("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")):
        assert client.get(path).headers["content-type"].startswith(kind)
    script = client.get("/dashboard.js").text
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
