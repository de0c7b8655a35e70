"""Webhook notifications against real HTTP servers on 127.0.0.1 (http.server in threads).

The Kubernetes side is injected: `kube.read_secret` returns the test's Secret data and `kube.post_event`
records the Events (any other API call fails the test). Each test waits until every queued
notification is done, so nothing runs on after it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cronflow import kube
from cronflow.notify import deliver
from cronflow.notify.lanes import Lanes
from cronflow.settings import OperatorSettings
from tests.support.flow_server import serving

PLANTED = "s3cr3t-PLANTED-value"
SECRET_NAME = "hook-headers"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Hook:
    """A webhook receiver: answers per path from `script`, records every request."""

    url: str = ""
    script: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    received: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def paths(self) -> list[str]:
        return [r.path for r in self.received]


class HookHandler(BaseHTTPRequestHandler):
    server: HookServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        hook = self.server.hook
        hook.received.append(Request(self.path, dict(self.headers), time.monotonic()))
        path = self.path.split("?")[0]
        if path == "/hang":
            hook.release.wait(30)
            status, headers = 204, {}
        elif path == "/reflect":  # puts the request's X-Token into the redirect target
            status, headers = 302, {"Location": f"/landing?token={self.headers.get('X-Token')}"}
        else:
            answers = hook.script.get(path) or [(204, {})]
            status, headers = answers.pop(0) if len(answers) > 1 else answers[0]
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
        except OSError:
            pass  # the client gave up (timeout)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HookServer(ThreadingHTTPServer):
    daemon_threads = True
    hook: Hook


def serve_hook() -> Iterator[Hook]:
    httpd = HookServer(("127.0.0.1", 0), HookHandler)
    httpd.hook = Hook(url=f"http://127.0.0.1:{httpd.server_address[1]}")
    with serving(httpd, httpd.hook.release):
        yield httpd.hook


@pytest.fixture
def hook() -> Iterator[Hook]:
    yield from serve_hook()


@pytest.fixture
def other_hook() -> Iterator[Hook]:
    yield from serve_hook()


@dataclass
class FakeKube:
    secrets: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    events: list[tuple[str, str, str, str]] = field(default_factory=list)  # (namespace, type, reason, message)

    def read_secret(self, namespace: str, name: str) -> dict[str, str]:
        return dict(self.secrets[(namespace, name)])

    def post_event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        self.events.append((obj["metadata"]["namespace"], type_, reason, message))

    def messages(self) -> list[str]:
        return [event[3] for event in self.events]


@pytest.fixture(autouse=True)
def fake_kube(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    fake = FakeKube()
    monkeypatch.setattr(kube, "read_secret", fake.read_secret)
    monkeypatch.setattr(kube, "post_event", fake.post_event)

    def no_api() -> Any:
        raise AssertionError("a unit test must not call the Kubernetes API")

    monkeypatch.setattr(kube, "core_api", no_api)
    monkeypatch.setattr(deliver, "FIRST_BACKOFF_SECONDS", 0.01)
    yield fake
    assert deliver.join(60), "notifications still running after the test"


def wait_until(what: str, check: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def sj(url: str, namespace: str = "team-a", name: str = "nightly", **webhook: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}"},
        "spec": {"notifications": {"on": ["Failure"], "webhook": {"url": url, **webhook}}},
    }


def result(job: str = "nightly-1") -> dict[str, Any]:
    return {"job": job, "status": "ERROR", "trigger": "schedule"}


SETTINGS = OperatorSettings()


def deliver_and_wait(fake: FakeKube, scheduledjob: Mapping[str, Any], job: str = "nightly-1") -> None:
    deliver.notify(scheduledjob, result(job), SETTINGS)
    assert deliver.join(30)


# --- delivery and the idempotency key ---------------------------------------------------------------


def test_delivered_with_spec_and_secret_headers_and_the_idempotency_key(hook: Hook, fake_kube: FakeKube) -> None:
    fake_kube.secrets[("team-a", SECRET_NAME)] = {"X-Token": PLANTED}
    deliver_and_wait(fake_kube, sj(f"{hook.url}/ok", headers={"X-Team": "data"},
                                   headersSecretRef={"name": SECRET_NAME}))
    [request] = hook.received
    assert request.headers["X-Team"] == "data"
    assert request.headers["X-Token"] == PLANTED
    assert request.headers["Idempotency-Key"] == "uid-team-a-nightly/nightly-1"
    assert request.headers["Content-Type"] == "application/json"
    assert fake_kube.events == []


def test_5xx_is_retried_with_the_same_idempotency_key_until_delivered(hook: Hook, fake_kube: FakeKube) -> None:
    hook.script["/flaky"] = [(500, {}), (503, {}), (204, {})]
    deliver_and_wait(fake_kube, sj(f"{hook.url}/flaky"))
    assert hook.paths() == ["/flaky"] * 3
    assert {r.headers["Idempotency-Key"] for r in hook.received} == {"uid-team-a-nightly/nightly-1"}
    assert fake_kube.events == []


def test_a_connection_error_is_retried_then_reported(fake_kube: FakeKube, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cronflow")
    deliver_and_wait(fake_kube, sj("http://127.0.0.1:9/nothing-listens"))
    assert len([r for r in caplog.records if "failed (attempt" in r.getMessage()]) == deliver.ATTEMPTS - 1
    [message] = fake_kube.messages()
    assert message.startswith("webhook notification for nightly-1 failed: ConnectionError")


# --- redirects ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_is_a_final_failure(
    status: int, hook: Hook, other_hook: Hook, fake_kube: FakeKube
) -> None:
    fake_kube.secrets[("team-a", SECRET_NAME)] = {"X-Token": PLANTED}
    hook.script["/moved"] = [(status, {"Location": f"{other_hook.url}/elsewhere"})]
    deliver_and_wait(fake_kube, sj(f"{hook.url}/moved", headersSecretRef={"name": SECRET_NAME}))
    assert hook.paths() == ["/moved"]  # once: not retried
    assert other_hook.received == []  # the secret header never went to the redirect target
    [message] = fake_kube.messages()
    assert f"answered {status} " in message
    assert "redirects are not followed" in message
    assert f"{other_hook.url}/elsewhere" in message


# --- 4xx ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_a_4xx_is_not_retried(status: int, hook: Hook, fake_kube: FakeKube) -> None:
    hook.script["/no"] = [(status, {})]
    deliver_and_wait(fake_kube, sj(f"{hook.url}/no"))
    assert hook.paths() == ["/no"]
    [message] = fake_kube.messages()
    assert f"answered {status} " in message
    assert "not retried" in message


def test_408_is_retried(hook: Hook, fake_kube: FakeKube) -> None:
    hook.script["/slowly"] = [(408, {}), (204, {})]
    deliver_and_wait(fake_kube, sj(f"{hook.url}/slowly"))
    assert hook.paths() == ["/slowly"] * 2
    assert fake_kube.events == []


def test_429_waits_the_retry_after_seconds_then_delivers(hook: Hook, fake_kube: FakeKube) -> None:
    hook.script["/busy"] = [(429, {"Retry-After": "2"}), (204, {})]
    deliver_and_wait(fake_kube, sj(f"{hook.url}/busy"))
    first, second = hook.received
    assert second.at - first.at >= 1.9  # the backoff alone would be 0.01 s
    assert fake_kube.events == []


def test_a_retry_after_beyond_the_bound_fails_at_once(hook: Hook, fake_kube: FakeKube) -> None:
    hook.script["/later"] = [(429, {"Retry-After": "3600"})]
    started = time.monotonic()
    deliver_and_wait(fake_kube, sj(f"{hook.url}/later"))
    assert time.monotonic() - started < 5
    assert hook.paths() == ["/later"]
    [message] = fake_kube.messages()
    assert "Retry-After 3600 s" in message
    assert "not retried" in message


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert deliver.retry_after_seconds("7", now) == 7
    assert deliver.retry_after_seconds("Wed, 01 Jan 2025 12:00:30 GMT", now) == 30
    assert deliver.retry_after_seconds("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0
    assert deliver.retry_after_seconds("soon", now) is None
    assert deliver.retry_after_seconds(None, now) is None


# --- Secret values never in messages ------------------------------------------------------------------


def all_logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"{PLANTED}\n", "ends with a newline"),
        (f"{PLANTED}\r\n", "ends with a newline"),
        (f"Bearer {PLANTED}\nX-Evil: 1", "holds a line break"),
        (f" {PLANTED}", "leading or trailing whitespace"),
        (f"{PLANTED} ", "leading or trailing whitespace"),
        (f"{PLANTED}\x00", "control character"),
        (f"{PLANTED}é", "outside printable ASCII"),
    ],
)
def test_a_bad_secret_header_value_is_refused_by_secret_name_and_key_never_echoed(
    value: str, problem: str, hook: Hook, fake_kube: FakeKube, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_kube.secrets[("team-a", SECRET_NAME)] = {"X-Token": value}
    deliver_and_wait(fake_kube, sj(f"{hook.url}/ok", headersSecretRef={"name": SECRET_NAME}))
    [message] = fake_kube.messages()
    for text in [message, all_logged(caplog)]:
        assert "PLANTED" not in text
        assert "s3cr3t" not in text
    assert f"Secret {SECRET_NAME} key X-Token" in message
    assert problem in message
    assert hook.received == []  # not called without the header


def test_a_value_the_server_reflects_into_its_answer_is_redacted(
    hook: Hook, fake_kube: FakeKube, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_kube.secrets[("team-a", SECRET_NAME)] = {"X-Token": PLANTED}
    deliver_and_wait(fake_kube, sj(f"{hook.url}/reflect", headersSecretRef={"name": SECRET_NAME}))
    [message] = fake_kube.messages()
    assert "token=<redacted>" in message
    for text in [message, all_logged(caplog)]:
        assert PLANTED not in text


def test_a_bad_spec_header_is_refused_before_any_request(hook: Hook, fake_kube: FakeKube) -> None:
    deliver_and_wait(fake_kube, sj(f"{hook.url}/ok", headers={"X-Team": "data\n"}))
    assert hook.received == []
    [message] = fake_kube.messages()
    assert "webhook.headers[X-Team]: the header value ends with a newline" in message


# --- isolation ----------------------------------------------------------------------------------------


def test_a_hanging_target_does_not_delay_other_targets_or_tenants(
    hook: Hook, other_hook: Hook, fake_kube: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six notifications to a target that answers only after the timeout, each tried twice, then one
    to another host of the same tenant and one of another tenant: those two arrive at once."""
    monkeypatch.setattr(deliver, "WEBHOOK_TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(deliver, "ATTEMPTS", 2)
    for n in range(6):
        deliver.notify(sj(f"{hook.url}/hang", name=f"dead{n}"), result(f"dead{n}-1"), SETTINGS)
    wait_until("the hanging target's first requests", lambda: hook.received)
    started = time.monotonic()
    deliver.notify(sj(f"{other_hook.url}/ok", name="alive"), result("alive-1"), SETTINGS)
    deliver.notify(sj(f"{other_hook.url}/ok", namespace="team-b", name="alive"), result("alive-2"), SETTINGS)
    wait_until("the other notifications", lambda: len(other_hook.received) == 2, timeout=15)
    assert time.monotonic() - started < 0.8
    assert deliver.join(60)
    assert len(hook.received) == 12  # each dead notification was tried twice
    messages = fake_kube.messages()
    assert len(messages) == 6
    assert all(re.search(r"failed: (ConnectionError|ReadTimeout)", m) for m in messages), messages


def test_a_full_lane_drops_the_notification_with_an_event(
    hook: Hook, other_hook: Hook, fake_kube: FakeKube, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliver, "_lanes", Lanes(per_lane=1, queue_per_lane=1, max_workers=8, max_queued=100))
    monkeypatch.setattr(deliver, "LANE_QUEUE", 1)
    deliver.notify(sj(f"{hook.url}/hang", name="a"), result("a-1"), SETTINGS)
    wait_until("the first request", lambda: hook.received)
    deliver.notify(sj(f"{hook.url}/hang", name="b"), result("b-1"), SETTINGS)  # waits
    deliver.notify(sj(f"{hook.url}/hang", name="c"), result("c-1"), SETTINGS)  # dropped
    deliver.notify(sj(f"{other_hook.url}/ok", name="d"), result("d-1"), SETTINGS)  # another lane: delivered
    wait_until("the drop Event", lambda: fake_kube.events)
    wait_until("the other lane's delivery", lambda: other_hook.received)
    hook.release.set()
    assert deliver._lanes.join(30)
    assert fake_kube.messages() == [
        "webhook notification for c-1 dropped: the queue is full (1 waiting for this target, or 2000 for all)"
    ]
    assert hook.paths() == ["/hang", "/hang"]


# --- the lanes themselves -----------------------------------------------------------------------------


def blocker(started: threading.Event, release: threading.Event, done: list[str], name: str) -> Callable[[], None]:
    def task() -> None:
        started.set()
        release.wait(10)
        done.append(name)

    return task


def test_lanes_bound_the_waiting_tasks_per_lane_and_keep_other_lanes_going() -> None:
    lanes = Lanes(per_lane=1, queue_per_lane=2, max_workers=4, max_queued=100)
    started, release = threading.Event(), threading.Event()
    done: list[str] = []
    assert lanes.submit("slow", blocker(started, release, done, "s1"))
    assert started.wait(5)
    assert lanes.submit("slow", lambda: done.append("s2"))
    assert lanes.submit("slow", lambda: done.append("s3"))
    assert not lanes.submit("slow", lambda: done.append("s4"))  # full
    other = threading.Event()
    assert lanes.submit("fast", other.set)
    assert other.wait(5)
    assert not lanes.join(0.1)
    release.set()
    assert lanes.join(5)
    assert done == ["s1", "s2", "s3"]


def test_lanes_bound_the_threads_and_the_total_queue() -> None:
    lanes = Lanes(per_lane=2, queue_per_lane=10, max_workers=2, max_queued=3)
    release = threading.Event()
    done: list[str] = []
    started = [threading.Event(), threading.Event()]
    assert lanes.submit("a", blocker(started[0], release, done, "a"))
    assert lanes.submit("b", blocker(started[1], release, done, "b"))
    assert all(event.wait(5) for event in started)
    assert lanes.submit("c", lambda: done.append("c"))  # no thread free: waits
    assert lanes.submit("c", lambda: done.append("c2"))
    assert lanes.submit("d", lambda: done.append("d"))
    assert not lanes.submit("e", lambda: done.append("e"))  # 3 waiting in all
    time.sleep(0.1)
    assert done == []
    release.set()
    assert lanes.join(5)
    assert sorted(done) == ["a", "b", "c", "c2", "d"]


def test_a_failing_task_is_logged_and_the_lane_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    lanes = Lanes(per_lane=1, queue_per_lane=5, max_workers=1, max_queued=5)
    done: list[str] = []

    def boom() -> None:
        raise RuntimeError("boom")

    lanes.submit("x", boom)
    lanes.submit("x", lambda: done.append("after"))
    assert lanes.join(5)
    assert done == ["after"]
    assert "notification task on lane x failed" in caplog.text
