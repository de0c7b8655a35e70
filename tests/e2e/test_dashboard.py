"""The dashboard in headless Chromium against cronflow-api on the local cluster, with real ScheduledJobs and
real runs: the table, the failing job and the filter, the flow server's answer, markup shown as text, no
buttons without patch, and Run now starting exactly one Job. Its load time with 1,000 ScheduledJobs is
bench/dashboard.py's; screenshots go to tests/support/dashboard's ARTIFACTS (docs/images/dashboard.png is
the table from here).
"""

import functools
import json
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, expect

from cronflow import names
from cronflow.cli.dashboard import page_url
from tests.support.cluster import Cluster, OperatorProcess, free_port, wait_until
from tests.support.dashboard import SCRIPT, Dashboard, chromium
from tests.support.flow_server import Server
from tests.support.gateway import GatewayProcess, credential_free_kubeconfig
from tests.support.manifests import FAR_OFF, scheduledjob
from tests.support.rbac import SCHEDULER_USER, scheduler_user_rbac

pytestmark = pytest.mark.e2e
VIEWER = "dashboard-viewer"
JOBS = {  # name: (flow server path, schedule, runs before the browser looks)
    "nightly-report": ("/ok", FAR_OFF, 2),
    "broken-sync": ("/fail", "30 4 * * 1-5", 2),
    "echo-markup": ("/markup", "0 2 1 * *", 1),
}


def viewer_rbac(namespace: str) -> dict[str, Any]:
    """A ServiceAccount that may read ScheduledJobs in `namespace`, and change none."""
    meta = {"name": VIEWER, "namespace": namespace}
    rules = [{"apiGroups": [names.GROUP], "resources": [names.PLURAL], "verbs": ["get", "list", "watch"]}]
    return {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": VIEWER},
         "subjects": [{"kind": "ServiceAccount", "name": VIEWER, "namespace": namespace}]},
    ]}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as made:
        yield made


@pytest.fixture
def tokens(node: Cluster, namespace: str) -> dict[str, str]:
    for rbac in (scheduler_user_rbac(namespace), viewer_rbac(namespace)):
        node.kubectl("apply", "-f", "-", input=json.dumps(rbac))
    return {user: node.kubectl("-n", namespace, "create", "token", user, "--duration", "1h").stdout.strip()
            for user in (SCHEDULER_USER, VIEWER)}


@pytest.fixture
def gateway(node: Cluster, namespace: str, flow_server: Server, tmp_path: Path) -> Iterator[GatewayProcess]:
    kubeconfig = credential_free_kubeconfig(node, tmp_path / "gateway.kubeconfig")
    proc = GatewayProcess(kubeconfig, namespace, f"{flow_server.url}/ok", tmp_path / "gateway.log")
    proc.start()
    yield proc
    proc.stop()


def results(node: Cluster, namespace: str, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (node.get_json("-n", namespace, "sj", name).get("status") or {}).get("results") or []
    return found


def trigger(node: Cluster, namespace: str, name: str) -> None:
    patch = {"spec": {"trigger": secrets.token_hex(8)}}
    node.kubectl("-n", namespace, "patch", "sj", name, "--type=merge", "-p", json.dumps(patch))


def run_jobs(node: Cluster, namespace: str, flow_server: Server) -> None:
    """The three ScheduledJobs, each triggered (one run at a time) until it has its runs."""
    for name, (path, schedule, _) in JOBS.items():
        manifest = scheduledjob(name, namespace, schedule=schedule, timeZone="Europe/Amsterdam",
                                flow={"endpoint": f"{flow_server.url}{path}"})
        node.kubectl("apply", "-f", "-", input=json.dumps(manifest))
    for round_ in range(1, max(runs for _, _, runs in JOBS.values()) + 1):
        due = [name for name, (_, _, runs) in JOBS.items() if runs >= round_]
        for name in due:
            trigger(node, namespace, name)
        wait_until(f"run {round_} of {', '.join(due)}", functools.partial(have_runs, node, namespace, due, round_),
                   timeout=180, every=1)


def have_runs(node: Cluster, namespace: str, due: list[str], count: int) -> bool:
    return all(len(results(node, namespace, name)) >= count for name in due)


def jobs_of(node: Cluster, namespace: str, name: str) -> set[str]:
    found = node.get_json("-n", namespace, "jobs", "-l", f"{names.SCHEDULEDJOB_LABEL}={name}")["items"]
    return {job["metadata"]["name"] for job in found}


def test_the_dashboard_shows_real_runs_and_run_now_starts_exactly_one_job(
    node: Cluster, namespace: str, operator: OperatorProcess, flow_server: Server, gateway: GatewayProcess,
    tokens: dict[str, str], browser: Browser,
) -> None:
    run_jobs(node, namespace, flow_server)
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    board = Dashboard(context.new_page(), gateway.url)
    board.sign_in(tokens[SCHEDULER_USER])
    expect(board.rows()).to_have_count(3)
    expect(board.row("nightly-report").locator(".mark.ok")).to_have_count(2)
    expect(board.row("broken-sync")).to_contain_text("✗ failing (2 in a row)")
    expect(board.row("broken-sync").locator(".mark.error")).to_have_count(2)
    expect(board.row("broken-sync")).to_contain_text("30 4 * * 1-5")
    expect(board.row("broken-sync")).to_contain_text("Europe/Amsterdam")
    expect(board.row("broken-sync").locator("time")).to_have_count(3)  # the next runs
    board.screenshot("cluster-table")
    newest = board.row("broken-sync").locator(".mark").last
    newest.hover()
    expect(newest.locator(".tip")).to_contain_text("HTTP 500")
    board.screenshot("cluster-table-tip")

    board.filter_failing()
    expect(board.rows()).to_have_count(1)
    expect(board.rows().first).to_have_attribute("data-name", "broken-sync")
    board.screenshot("cluster-failing-now")
    board.filter_failing(False)
    expect(board.rows()).to_have_count(3)

    board.open("broken-sync")
    newest = board.page.locator("#detail-runs details").first
    expect(newest).to_contain_text("HTTP 500")
    assert newest.locator("pre.response").text_content() == "boom"
    board.screenshot("cluster-job")
    board.back()
    board.open("echo-markup")
    assert board.page.locator("#detail-runs pre.response").first.text_content() == SCRIPT
    assert board.page.locator("main script").count() == 0
    board.back()

    before = jobs_of(node, namespace, "nightly-report")
    board.row("nightly-report").get_by_role("button", name="Run now").click()
    expect(board.page.locator("#message")).to_contain_text("the run you started is OK", timeout=120_000)
    expect(board.row("nightly-report").locator(".mark.ok")).to_have_count(3)
    board.page.wait_for_timeout(3000)  # a second Job, had one been started, would be there by now
    assert len(jobs_of(node, namespace, "nightly-report") - before) == 1
    assert [r["trigger"] for r in results(node, namespace, "nightly-report")] == ["Manual"] * 3
    assert board.dialogs == []
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    viewer = Dashboard(context.new_page(), gateway.url)
    viewer.sign_in(tokens[VIEWER])
    expect(viewer.rows()).to_have_count(3)
    expect(viewer.page.locator("button.action")).to_have_count(0)
    viewer.open("nightly-report")
    expect(viewer.page.locator("#detail-actions button")).to_have_count(0)
    viewer.screenshot("cluster-viewer")
    context.close()
    assert tokens[SCHEDULER_USER] not in gateway.log() and tokens[VIEWER] not in gateway.log()


def test_kubectl_cronflow_dashboard_local_serves_the_page_for_the_kubeconfigs_token(
    node: Cluster, crd: None, namespace: str, tokens: dict[str, str], browser: Browser, tmp_path: Path,
) -> None:
    node.kubectl("apply", "-f", "-", input=json.dumps(scheduledjob("nightly-report", namespace)))
    kubeconfig = credential_free_kubeconfig(node, tmp_path / "viewer.kubeconfig")
    config = json.loads(kubeconfig.read_text())
    config["users"] = [{"name": user["name"], "user": {"token": tokens[VIEWER]}} for user in config["users"]]
    kubeconfig.write_text(json.dumps(config))
    port = free_port()
    plugin = Path(sys.executable).with_name("kubectl-cronflow")
    with subprocess.Popen([str(plugin), "dashboard", "--local", "--no-browser", "--port", str(port), "-n", namespace,
                           "--kubeconfig", str(kubeconfig)], stderr=subprocess.PIPE, text=True) as served:
        try:
            wait_until("the plugin's gateway", lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=30)
            context = browser.new_context()
            page = context.new_page()
            page.goto(page_url(port, tokens[VIEWER], namespace))
            expect(page.locator('#jobs tbody tr[data-name="nightly-report"]')).to_be_visible()
            expect(page.locator("#who")).to_contain_text(f"system:serviceaccount:{namespace}:{VIEWER}")
            context.close()
        finally:
            served.send_signal(signal.SIGINT)
            _, errors = served.communicate(timeout=15)
    assert served.returncode == 0, errors
    assert tokens[VIEWER] not in errors


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False
