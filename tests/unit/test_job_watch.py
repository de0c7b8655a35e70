"""The watcher (`python3 -m cronflow_job watch`): configuration, the HTTP API and its auth, and the
operator's client against the real thing on 127.0.0.1."""

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from cronflow.automatic.client import WatcherClient
from cronflow.automatic.plan import Claim, WatcherError
from cronflow_job import watch as watch_module
from cronflow_job.config import ConfigError
from cronflow_job.spool import NOT_UTF8
from cronflow_job.watch import load_watch_config, startup_failure, watch
from tests.support.cluster import free_port, wait_until

TOKEN = "watch-token-5d1c"


@dataclass
class Watcher:
    url: str
    port: int
    directory: Path
    thread: threading.Thread


@contextmanager
def running_watcher(directory: Path) -> Iterator[Watcher]:
    """`watch` in a thread on a free port, polling every 0.1 s, two runs at a time."""
    port = free_port()
    env = {
        "CRONFLOW_WATCH_DIR": str(directory), "CRONFLOW_WATCH_PATTERN": "*.pdf",
        "CRONFLOW_WATCH_POLL_SECONDS": "0.1", "CRONFLOW_WATCH_MAX_PARALLEL": "2",
        "CRONFLOW_WATCH_TOKEN": TOKEN, "CRONFLOW_WATCH_PORT": str(port),
    }
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(env, stop), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until("the watcher to answer", healthy, timeout=10, every=0.05)
    yield Watcher(url, port, directory, thread)
    stop.set()
    thread.join(5)


@pytest.fixture
def watcher(tmp_path: Path) -> Iterator[Watcher]:
    with running_watcher(tmp_path) as running:
        yield running


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get_state(watcher: Watcher) -> dict[str, Any]:
    state: dict[str, Any] = requests.get(f"{watcher.url}/state", headers=auth(), timeout=5).json()
    return state


def complete(watcher: Watcher, body: dict[str, str]) -> int:
    return requests.post(f"{watcher.url}/complete", json=body, headers=auth(), timeout=5).status_code


def test_healthz_needs_no_token_and_everything_else_does(watcher: Watcher) -> None:
    assert requests.get(f"{watcher.url}/healthz", timeout=5).text == "ok"
    for headers in ({}, auth("wrong"), {"Authorization": TOKEN}):
        response = requests.get(f"{watcher.url}/state", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert TOKEN not in response.text
        posted = requests.post(f"{watcher.url}/complete", json={"file": "a.pdf", "status": "OK"},
                               headers=headers, timeout=5)
        assert posted.status_code == 401
    assert requests.get(f"{watcher.url}/state", headers=auth(), timeout=5).status_code == 200


def test_state_lists_claims_and_counts(watcher: Watcher) -> None:
    for name in ("a.pdf", "b.pdf", "c.pdf", "skip.txt"):
        (watcher.directory / name).write_bytes(b"x")

    def two_claims() -> dict[str, Any] | None:
        state: dict[str, Any] = requests.get(f"{watcher.url}/state", headers=auth(), timeout=5).json()
        return state if len(state["processing"]) == 2 else None

    state = wait_until("two claims", two_claims, timeout=10)
    assert state["pending"] == 1
    assert (state["done"], state["failed"]) == (0, 0)
    assert state["lastFile"] in {"a.pdf", "b.pdf", "c.pdf"}
    assert len({claim["claimId"] for claim in state["processing"]}) == 2
    assert get_state(watcher)["processing"] == state["processing"]


def test_complete_answers_by_outcome(watcher: Watcher) -> None:
    (watcher.directory / "a.pdf").write_bytes(b"x")
    client = WatcherClient("127.0.0.1", TOKEN, port=watcher.port)
    [claim] = wait_until("a claim", lambda: client.state().processing, timeout=10)

    def post(body: object) -> int:
        return requests.post(f"{watcher.url}/complete", json=body, headers=auth(), timeout=5).status_code

    assert post({"file": "a.pdf", "status": "OK", "claimId": "a.pdf@1"}) == 409
    assert post({"file": "../a.pdf", "status": "OK"}) == 400
    assert post({"file": "a.pdf", "status": "MAYBE"}) == 400
    assert post(["a.pdf"]) == 400
    assert post({"file": "never.pdf", "status": "OK"}) == 404
    client.complete(claim, "OK")
    client.complete(claim, "OK")  # again: already done, still fine
    assert (watcher.directory / ".cronflow" / "done" / "a.pdf").exists()
    state = client.state()
    assert (state.processing, state.done, state.last_file) == ([], 1, "a.pdf")


def test_client_reports_a_wrong_token_without_showing_it(watcher: Watcher) -> None:
    client = WatcherClient("127.0.0.1", "not-the-token", port=watcher.port)
    with pytest.raises(WatcherError, match="HTTP 401") as raised:
        client.state()
    assert "not-the-token" not in str(raised.value)


def test_client_errors_are_bounded_when_nothing_listens() -> None:
    started = time.monotonic()
    with pytest.raises(WatcherError, match="failed"):
        WatcherClient("127.0.0.1", TOKEN, port=free_port()).complete(Claim("a", "a@1"), "OK")
    assert time.monotonic() - started < 6


GOOD = {"CRONFLOW_WATCH_DIR": "/spool/in", "CRONFLOW_WATCH_TOKEN": TOKEN}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**GOOD, "CRONFLOW_WATCH_DIR": "relative/in"}, "must be an absolute path"),
        ({**GOOD, "CRONFLOW_WATCH_TOKEN": " "}, "CRONFLOW_WATCH_TOKEN is not set"),
        ({**GOOD, "CRONFLOW_WATCH_POLL_SECONDS": "soon"}, "must be a number"),
        ({**GOOD, "CRONFLOW_WATCH_MAX_PARALLEL": "0"}, "must be positive"),
    ],
)
def test_bad_configuration_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_watch_config(env)


def test_a_directory_it_cannot_write_is_named_in_the_termination_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwritable(directory: str, *args: object) -> None:
        raise PermissionError(13, "Permission denied", f"{directory}/.cronflow")

    monkeypatch.setattr(watch_module, "Spool", unwritable)  # root (the test user) may write anywhere
    log = tmp_path / "termination-log"
    assert watch({**GOOD, "CRONFLOW_TERMINATION_LOG": str(log)}) == 2
    assert log.read_text().startswith("cannot write /spool/in/.cronflow: permission denied")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(13, "Permission denied", "/in/.cronflow"), "cannot write /in/.cronflow: permission denied"),
        (FileNotFoundError(2, "No such file or directory", "/in"), "cannot use /in: no such file or directory"),
        (ConfigError("CRONFLOW_WATCH_DIR must be an absolute path"), "CRONFLOW_WATCH_DIR must be an absolute path"),
    ],
)
def test_startup_failures_are_worded_for_users(error: Exception, message: str) -> None:
    assert startup_failure(error).startswith(message)


def test_configuration_defaults() -> None:
    config = load_watch_config(GOOD)
    assert (config.pattern, config.poll_seconds, config.max_parallel, config.port) == (None, 10, 4, 8080)


def test_a_failed_file_moved_back_is_claimed_again_under_a_new_id(watcher: Watcher) -> None:
    (watcher.directory / "a.pdf").write_bytes(b"x")
    [first] = wait_until("a claim", lambda: get_state(watcher)["processing"], timeout=10)
    assert complete(watcher, {**first, "status": "ERROR"}) == 200
    os.rename(watcher.directory / ".cronflow" / "failed" / "a.pdf", watcher.directory / "a.pdf")

    [again] = wait_until("a new claim", lambda: get_state(watcher)["processing"], timeout=10)
    assert again["file"] == "a.pdf"
    assert again["claimId"] != first["claimId"]
    assert complete(watcher, {**first, "status": "OK"}) == 409
    assert complete(watcher, {**again, "status": "OK"}) == 200
    assert (get_state(watcher)["done"], get_state(watcher)["failed"]) == (1, 1)


def test_a_restarted_watcher_reports_the_same_claim_ids(tmp_path: Path) -> None:
    for name in ("a.pdf", "b.pdf"):
        (tmp_path / name).write_bytes(b"x")
    with running_watcher(tmp_path) as first:
        claims = wait_until("two claims", lambda: (p if len(p := get_state(first)["processing"]) == 2 else None),
                            timeout=10)
    with running_watcher(tmp_path) as restarted:
        time.sleep(0.3)  # a few polls
        assert get_state(restarted)["processing"] == claims


def test_a_file_name_that_is_not_utf8_goes_to_failed_and_the_watcher_keeps_running(
    watcher: Watcher, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = b"rapport-\xe9t\xe9.pdf"
    with open(os.path.join(os.fsencode(watcher.directory), latin1), "wb") as file:
        file.write(b"%PDF")
    (watcher.directory / "good.pdf").write_bytes(b"x")

    def failed_and_claimed() -> dict[str, Any] | None:
        state = get_state(watcher)
        return state if state["failed"] == 1 and state["processing"] else None

    state = wait_until("the Latin-1 name in failed/ and good.pdf claimed", failed_and_claimed, timeout=10)
    assert [claim["file"] for claim in state["processing"]] == ["good.pdf"]
    assert os.listdir(os.fsencode(watcher.directory / ".cronflow" / "failed")) == [latin1]
    answer = requests.get(f"{watcher.url}/state", headers=auth(), timeout=5).content
    json.loads(answer.decode("utf-8"))
    assert b"\\udc" not in answer
    assert [line for line in capsys.readouterr().out.splitlines() if "rejected" in line] == [
        f"cronflow-watch rejected file={latin1!r} reason={json.dumps(NOT_UTF8)}"]

    (watcher.directory / "later.pdf").write_bytes(b"x")
    wait_until("later.pdf claimed", lambda: "later.pdf" in {c["file"] for c in get_state(watcher)["processing"]},
               timeout=10)
    assert watcher.thread.is_alive()
