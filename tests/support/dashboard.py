"""The dashboard under test: status results for the fake API, headless Debian Chromium, and the page's
controls as the browser tests (unit tier on the fake, e2e on the local cluster) drive them."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Dialog, Locator, Page, expect, sync_playwright

from cronflow import names
from tests.support.fake_cluster import FakeApi
from tests.support.flow_server import MARKUP
from tests.support.manifests import scheduledjob

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CRONFLOW_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("CRONFLOW_ARTIFACTS", REPO / "build" / "test-artifacts")) / "dashboard"
"""Where the browser tests save their screenshots (build/ is not tracked)."""
SCRIPT = MARKUP


def result(job: str, status: str = "OK", http_status: int | None = 200, response: str = '{"ok": true}',
           finished: str = "2026-11-22T11:00:05Z", trigger: str = "Schedule", message: str = "") -> dict[str, Any]:
    """A status.results entry as the operator records it."""
    entry: dict[str, Any] = {"job": job, "trigger": trigger, "startTime": "2026-11-22T11:00:00Z",
                             "finishedAt": finished, "status": status, "attempts": 1, "message": message}
    if http_status is not None:
        entry["httpResult"] = {"status": http_status, "headers": [{"key": "Content-Type", "value": "application/json"}],
                               "response": response, "truncated": False}
    return entry


def add_job(api: FakeApi, namespace: str, name: str, results: list[dict[str, Any]], **spec: Any) -> None:
    """A ScheduledJob the operator has reconciled, with `results` newest first."""
    manifest = scheduledjob(name, namespace, **spec)
    manifest["metadata"].update(uid=f"uid-{namespace}-{name}", creationTimestamp="2026-11-22T10:00:00Z")
    state = "ENABLED" if manifest["spec"].get("enabled", True) else "DISABLED"
    manifest["status"] = {
        "state": state, "results": results,
        "consecutiveFailures": next((i for i, r in enumerate(results) if r["status"] == "OK"), len(results)),
        "conditions": [{"type": names.READY, "status": "True", "reason": names.RECONCILED, "message": "",
                        "observedGeneration": 1}],
    }
    api.scheduledjobs[(namespace, name)] = manifest


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium (hack/setup installs it) under Playwright: no browser download."""
    if not CHROMIUM.exists():
        raise AssertionError(f"no {CHROMIUM}: hack/setup python installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


class Dashboard:
    """One browser tab on the dashboard: its controls, and every dialog the page opened (none, ever)."""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.url = url
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def sign_in(self, token: str, namespace: str | None = None) -> None:
        """Through the sign-in form; then wait for the table."""
        self.page.goto(self.url + "/")
        self.page.get_by_label("Your Kubernetes token").fill(token)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#page-info")).to_contain_text("Page 1")
        if namespace is not None:
            self.choose_namespace(namespace)

    def choose_namespace(self, namespace: str) -> None:
        """Pick it and wait for its first page."""
        wanted = f"/api/v1/dashboard/jobs?namespace={namespace}&"
        with self.page.expect_response(lambda r: wanted in r.url):
            self.page.get_by_label("Namespace").select_option(namespace)

    def row(self, name: str) -> Locator:
        return self.page.locator(f'#jobs tbody tr[data-name="{name}"]')

    def rows(self) -> Locator:
        return self.page.locator("#jobs tbody tr")

    def open(self, name: str) -> None:
        self.row(name).locator("button.link").click()
        expect(self.page.locator("#detail")).to_be_visible()

    def back(self) -> None:
        self.page.get_by_role("button", name="Back to all jobs").click()
        expect(self.page.locator("#list")).to_be_visible()

    def filter_failing(self, on: bool = True) -> None:
        self.page.get_by_label("Failing now").set_checked(on)

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in ARTIFACTS."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
