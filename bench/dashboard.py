"""`python -m bench.dashboard [--jobs 1000] [--samples 5]`: the dashboard's load time in headless Chromium
over N ScheduledJobs (10 results each with 4 KiB answers) on the local cluster, beside its floor measured
in the same run: the same page's JSON answer fetched by a plain client (what the page cannot avoid waiting
for), so the ratio is what rendering and the page's own requests add.

Times: sign-in to the first page's 100 rows, the next page, and the failing-now filter (every job read).
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import expect

from bench.list_jobs import gateway_over, report
from bench.track import summary
from tests.support.dashboard import Dashboard, chromium

RESPONSE_BYTES = 4000


def seconds(call: Callable[[], None]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def first_page(board: Dashboard, jobs: int) -> None:
    board.page.reload()
    expect(board.rows()).to_have_count(100)


def next_page(board: Dashboard, jobs: int) -> None:
    board.page.get_by_role("button", name="Next page").click()
    expect(board.page.locator("#page-info")).to_have_text(f"Page 2: jobs 101 to 200 of {jobs}")


def failing_now(board: Dashboard, jobs: int) -> None:
    board.filter_failing()
    expect(board.rows()).to_have_count(0)  # every job is OK: the whole namespace is read to find none


VIEWS: dict[str, Callable[[Dashboard, int], None]] = {
    "first_page": first_page, "next_page": next_page, "failing_now": failing_now,
}
"""Each view and how the page gets there from the one before."""


def measure(url: str, namespace: str, token: str, jobs: int, samples: int) -> dict[str, Any]:
    """Each view `samples` times in a fresh browser context, and the floors with `requests`."""
    times: dict[str, list[float]] = {"first_page": [], "next_page": [], "failing_now": []}
    floors: dict[str, list[float]] = {"first_page": [], "next_page": [], "failing_now": []}
    auth = {"Authorization": f"Bearer {token}"}
    queries = {"first_page": {"page": "1"}, "next_page": {"page": "2"}, "failing_now": {"failing": "true"}}
    def fetch(params: dict[str, str]) -> None:
        answer = requests.get(f"{url}/api/v1/dashboard/jobs", params={"namespace": namespace, **params},
                              headers=auth, timeout=120)
        answer.raise_for_status()

    with chromium() as browser:
        for sample in range(samples):
            print(f"bench: dashboard sample {sample + 1} of {samples}", file=sys.stderr)
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            board = Dashboard(context.new_page(), url)
            board.page.goto(url + "/")
            board.page.evaluate(f"sessionStorage.setItem('cronflow.token', {token!r})")

            for view, step in VIEWS.items():
                times[view].append(seconds(functools.partial(step, board, jobs)))
            context.close()
            for view, params in queries.items():
                floors[view].append(seconds(functools.partial(fetch, params)))
    figures: dict[str, Any] = {}
    for view in times:
        figures[view] = summary(times[view])
        figures[f"{view}_floor"] = summary(floors[view])
        figures[f"{view}_ratio_p50"] = round(figures[view]["p50"] / figures[f"{view}_floor"]["p50"], 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000, help="ScheduledJobs in the namespace (default 1000)")
    parser.add_argument("--samples", type=int, default=5, help="page loads of each view (default 5)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    with gateway_over(args.jobs, RESPONSE_BYTES) as (gateway, token):
        figures = measure(gateway.url, gateway.namespace, token, args.jobs, args.samples)
    report({"jobs": args.jobs, "response_bytes": RESPONSE_BYTES, **figures}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
