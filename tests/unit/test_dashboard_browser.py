"""The dashboard in headless Chromium against the gateway served in a thread over the Cluster fake: the table,
the failing-now filter, a job's answer, a script in a response shown as text, buttons only with patch, one
patch per trigger, refresh without reload, and paging of 1,000 ScheduledJobs (screenshots in ARTIFACTS).
"""

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from cronflow import names
from cronflow.gateway.app import create_app
from cronflow.gateway.settings import GatewaySettings
from tests.support.dashboard import SCRIPT, Dashboard, add_job, chromium, result
from tests.support.fake_cluster import FakeApi
from tests.support.gateway import serving_app

ANSWER = {"flow_id": "f-123", "state": "failed", "detail": {"step": "load", "rows": 0}}
HOSTILE_NAME = '<img src=x onerror="alert(2)">'


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as made:
        yield made


@pytest.fixture
def api() -> FakeApi:
    made = FakeApi(namespaces=["default", "team-b"])
    made.add_user("alice-token", "alice", "default", "team-b")
    made.add_user("viewer-token", "viewer", "default", verbs=frozenset({"get", "list"}))
    add_job(made, "default", "nightly-report", [result(f"nightly-report-{i}") for i in range(5, 0, -1)],
            schedule="0 2 * * *", timeZone="Europe/Amsterdam")
    add_job(made, "default", "broken-sync", [
        result("broken-sync-3", "ERROR", 500, json.dumps(ANSWER), message="HTTP 500 is not a success"),
        result("broken-sync-2", "ERROR", None, "", message="connection refused"),
        result("broken-sync-1", trigger="Manual"),
    ], schedule="*/5 * * * *")
    add_job(made, "default", "echo-markup", [result("echo-markup-1", response=SCRIPT)])
    made.scheduledjobs[("default", "echo-markup")]["metadata"]["annotations"] = {
        names.DISPLAY_NAME_ANNOTATION: HOSTILE_NAME}
    add_job(made, "team-b", "team-b-job", [])
    return made


@pytest.fixture
def url(api: FakeApi) -> Iterator[str]:
    with serving_app(create_app(GatewaySettings(dashboard_namespaces=["team-b"]), api.connect)) as served:
        yield served


@pytest.fixture
def board(browser: Browser, url: str) -> Iterator[Dashboard]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield Dashboard(context.new_page(), url)
    context.close()


def test_the_table_shows_each_job_and_the_failing_one_is_marked_and_found_by_the_filter(board: Dashboard) -> None:
    board.sign_in("alice-token")
    expect(board.rows()).to_have_count(3)
    nightly = board.row("nightly-report")
    expect(nightly).to_contain_text("0 2 * * *")
    expect(nightly).to_contain_text("Europe/Amsterdam")
    expect(nightly).to_contain_text("ENABLED")
    expect(nightly.locator("time")).to_have_count(3)  # the next runs
    expect(nightly.locator(".mark.ok")).to_have_count(5)
    broken = board.row("broken-sync")
    expect(broken).to_contain_text("✗ failing (2 in a row)")
    marks = broken.locator(".mark")
    expect(marks).to_have_count(3)  # oldest first: the newest is on the right
    expect(marks.first).to_have_attribute("aria-label", re.compile(r"^OK, Manual run, finished .+, HTTP 200$"))
    expect(marks.nth(1)).to_have_attribute("aria-label", re.compile(r"^ERROR, .+, no HTTP answer$"))
    expect(marks.last).to_have_attribute("aria-label", re.compile(r"^ERROR, Schedule run, finished .+, HTTP 500$"))
    marks.last.focus()  # keyboard focus shows its time, trigger and HTTP status, as hover does
    expect(marks.last.locator(".tip")).to_be_visible()
    expect(marks.last.locator(".tip")).to_contain_text("HTTP 500")
    expect(marks.first.locator(".tip")).to_be_hidden()
    board.screenshot("table")
    board.filter_failing()
    expect(board.rows()).to_have_count(1)
    expect(board.rows().first).to_have_attribute("data-name", "broken-sync")
    board.screenshot("failing-now")
    assert board.dialogs == []


def test_the_job_shows_its_results_with_the_answer_pretty_printed(board: Dashboard) -> None:
    board.sign_in("alice-token")
    board.open("broken-sync")
    runs = board.page.locator("#detail-runs details")
    expect(runs).to_have_count(3)
    newest = runs.first
    expect(newest).to_contain_text("broken-sync-3")
    expect(newest).to_contain_text("HTTP 500 is not a success")
    expect(newest.locator("table.headers")).to_contain_text("Content-Type")
    assert newest.locator("pre.response").text_content() == json.dumps(ANSWER, indent=2)
    runs.nth(1).locator("summary").click()
    expect(runs.nth(1)).to_contain_text("connection refused")
    expect(runs.nth(1)).to_contain_text("no HTTP answer")
    board.screenshot("job")
    board.back()


def test_markup_from_the_cluster_is_shown_as_text_and_runs_nothing(board: Dashboard) -> None:
    board.sign_in("alice-token")
    row = board.row("echo-markup")
    expect(row.locator("button.link")).to_have_text(HOSTILE_NAME)
    board.open("echo-markup")
    expect(board.page.locator("#detail-title")).to_have_text(HOSTILE_NAME)
    response = board.page.locator("#detail-runs pre.response").first
    assert response.text_content() == SCRIPT
    assert board.page.locator("main script, main img").count() == 0
    board.page.wait_for_timeout(300)
    assert board.dialogs == []


def test_a_viewer_without_patch_sees_no_buttons(board: Dashboard) -> None:
    board.sign_in("viewer-token")
    expect(board.rows()).to_have_count(3)
    expect(board.page.locator("button.action")).to_have_count(0)
    expect(board.page.locator("#actions-heading")).to_be_hidden()
    board.open("broken-sync")
    expect(board.page.locator("#detail-actions button")).to_have_count(0)
    board.screenshot("viewer-without-patch")


def test_run_now_patches_the_job_exactly_once(api: FakeApi, board: Dashboard) -> None:
    board.sign_in("alice-token")
    board.row("nightly-report").get_by_role("button", name="Run now").click()
    expect(board.page.locator("#message")).to_contain_text("nightly-report: the run you started is PENDING")
    assert [(ns, name, list(patch)) for ns, name, patch in api.patches] == [("default", "nightly-report", ["trigger"])]
    expect(board.row("broken-sync").get_by_role("button", name="Disable")).to_be_visible()
    expect(board.row("broken-sync").get_by_role("button", name="Resume")).to_have_count(0)


def test_the_page_refreshes_without_a_reload_and_keeps_the_namespace(api: FakeApi, board: Dashboard) -> None:
    board.page.clock.install()
    board.sign_in("alice-token", namespace="team-b")
    expect(board.rows()).to_have_count(1)
    add_job(api, "team-b", "team-b-job", [result("team-b-job-1", "ERROR", 503)])
    board.page.clock.run_for(11_000)
    expect(board.row("team-b-job")).to_contain_text("✗ failing")
    assert board.page.evaluate("sessionStorage.getItem('cronflow.namespace')") == "team-b"


def test_a_token_in_the_fragment_signs_in_and_leaves_the_url(board: Dashboard) -> None:
    board.page.goto(f"{board.url}/#token=alice-token&namespace=team-b")
    expect(board.row("team-b-job")).to_be_visible()
    assert "#" not in board.page.url
    board.page.get_by_role("button", name="Sign out").click()
    expect(board.page.get_by_label("Your Kubernetes token")).to_be_visible()
    assert board.page.evaluate("sessionStorage.getItem('cronflow.token')") is None


def test_a_refused_token_is_said_so_on_the_sign_in_form(board: Dashboard) -> None:
    board.page.goto(board.url + "/")
    board.page.get_by_label("Your Kubernetes token").fill("no-such-token")
    board.page.get_by_role("button", name="Sign in").click()
    expect(board.page.locator("#message")).to_contain_text("Unauthorized")
    expect(board.page.get_by_label("Your Kubernetes token")).to_be_visible()


def test_1000_jobs_are_paged_by_100_and_the_filter_finds_the_failing_ones(browser: Browser) -> None:
    """1,000 ScheduledJobs, each with 10 results of 4 KiB answers: page 1 (100 rows), the next page, and the
    failing-now filter (every job read). Its load time is measured in bench/dashboard.py, not here."""
    api = FakeApi()
    api.add_user("alice-token", "alice", "default")
    for i in range(1000):
        status = "ERROR" if i % 100 == 7 else "OK"
        add_job(api, "default", f"job-{i:04d}", [result(f"job-{i:04d}-{r}", status if r == 10 else "OK",
                                                        response="x" * 4000) for r in range(10, 0, -1)])
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    with serving_app(create_app(GatewaySettings(), api.connect)) as url:
        board = Dashboard(context.new_page(), url)
        board.page.goto(url + "/")
        board.page.evaluate("sessionStorage.setItem('cronflow.token', 'alice-token')")
        board.page.reload()
        expect(board.rows()).to_have_count(100)
        board.page.get_by_role("button", name="Next page").click()
        expect(board.page.locator("#page-info")).to_have_text("Page 2: jobs 101 to 200 of 1000")
        board.filter_failing()
        expect(board.rows()).to_have_count(10)
        board.screenshot("1000-jobs-failing")
    context.close()
