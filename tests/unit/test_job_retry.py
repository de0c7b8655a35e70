"""Retries (which failures, how long each wait, what the message lists) and the success rules, timed with a
fake clock: no test here sleeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest

from cronflow_job.call import CallFailed, HttpAnswer
from cronflow_job.config import Flow, JobConfig, Retry, Success
from cronflow_job.expr import compile_expression
from cronflow_job.request import PreparedCall
from cronflow_job.retry import Clock, retry_after
from cronflow_job.runner import Outcome, execute
from cronflow_job.success import judge

REFUSED = CallFailed("connection refused", "https://h/run")
WHEN_OK = compile_expression("flow.success.when", "status == 'OK'")


@dataclass
class FakeClock:
    """Time that moves only when slept; a jitter draw answers the middle of its range."""

    now: float = 1000.0
    wall_now: float = 1_800_000_000.0
    sleeps: list[float] = field(default_factory=list)
    draws: list[tuple[float, float]] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall_now += seconds

    def uniform(self, low: float, high: float) -> float:
        self.draws.append((low, high))
        return (low + high) / 2

    def clock(self) -> Clock:
        return Clock(monotonic=lambda: self.now, wall=lambda: self.wall_now, sleep=self.sleep, uniform=self.uniform)


def answer(status: int = 200, text: str = "{}", headers: list[tuple[str, str]] | None = None) -> HttpAnswer:
    return HttpAnswer(status=status, headers=headers or [("Content-Type", "application/json")], text=text, cut=False)


def scripted(*steps: HttpAnswer | CallFailed) -> tuple[Callable[[PreparedCall], HttpAnswer], list[PreparedCall]]:
    """A send() that answers (or fails) with `steps` in turn, and the calls it was given."""
    pending, calls = list(steps), []

    def send(call: PreparedCall) -> HttpAnswer:
        calls.append(call)
        step = pending.pop(0)
        if isinstance(step, CallFailed):
            raise step
        return step

    return send, calls


def run(retry: Retry, *steps: HttpAnswer | CallFailed, success: Success | None = None) -> tuple[Outcome, FakeClock]:
    fake = FakeClock()
    send, calls = scripted(*steps)
    config = JobConfig(flow=Flow(endpoint="https://h/run", retry=retry, success=success or Success()))
    outcome = execute(config, fake.clock(), send)
    assert len(calls) == outcome.attempts
    return outcome, fake


def test_retries_until_an_answer_with_doubling_jittered_waits() -> None:
    retry = Retry(attempts=4, backoff_seconds=1, max_backoff_seconds=300)
    outcome, fake = run(retry, REFUSED, answer(503), answer(429), answer(200))

    assert (outcome.ok, outcome.message, outcome.attempts) == (True, "", 4)
    assert fake.draws == [(0, 1), (0, 2), (0, 4)]  # full jitter: uniform(0, backoff * 2**(n-1))
    assert fake.sleeps == [0.5, 1, 2]  # the draws, slept


def test_waits_are_capped_by_max_backoff() -> None:
    steps = [answer(500)] * 4 + [answer(200)]
    outcome, fake = run(Retry(attempts=5, backoff_seconds=10, max_backoff_seconds=15), *steps)

    assert outcome.ok and fake.draws == [(0, 10), (0, 15), (0, 15), (0, 15)]


def test_exhausted_retries_list_every_attempt() -> None:
    outcome, fake = run(Retry(attempts=3, backoff_seconds=1), REFUSED, answer(503), answer(503, "busy"))

    assert not outcome.ok and outcome.attempts == 3
    assert outcome.message == (
        "3 attempts failed: 1: connection refused; 2: HTTP 503; 3: unexpected HTTP status 503 (expected 2xx)"
    )
    assert outcome.answer is not None and outcome.answer.text == "busy"
    assert len(fake.sleeps) == 2


def test_exhausted_retries_without_any_answer() -> None:
    outcome, _ = run(Retry(attempts=2, backoff_seconds=0), REFUSED, REFUSED)

    assert outcome.message == "2 attempts failed: 1: connection refused; 2: connection refused"
    assert outcome.answer is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_4xx_answers_are_never_retried(status: int) -> None:
    outcome, fake = run(Retry(attempts=5), answer(status))

    assert outcome.attempts == 1 and fake.sleeps == []
    assert outcome.message == f"unexpected HTTP status {status} (expected 2xx)"


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_answers_are_retried(status: int) -> None:
    outcome, _ = run(Retry(attempts=2, backoff_seconds=0), answer(status), answer(200))

    assert outcome.ok and outcome.attempts == 2


def test_a_single_try_keeps_the_failure_s_own_message() -> None:
    outcome, _ = run(Retry(), REFUSED)

    assert (outcome.message, outcome.attempts) == ("connection refused calling https://h/run", 1)


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        ("3", 3),
        ("0", 0),
        ("120", 120),
        (formatdate(1_800_000_007, usegmt=True), 7),
        (formatdate(1_700_000_000, usegmt=True), 0),  # a date past: at once
    ],
)
def test_retry_after_seconds_or_date_replaces_the_backoff(header: str, wait: float) -> None:
    busy = answer(503, headers=[("Retry-After", header)])
    outcome, fake = run(Retry(attempts=2, backoff_seconds=1, max_backoff_seconds=120), busy, answer(200))

    assert outcome.ok and fake.sleeps == [wait]


@pytest.mark.parametrize("header", ["soon", "-5", "1.5", ""])
def test_an_unreadable_retry_after_is_ignored(header: str) -> None:
    busy = answer(429, headers=[("Retry-After", header)])
    outcome, fake = run(Retry(attempts=2, backoff_seconds=4), busy, answer(200))

    assert outcome.ok and fake.sleeps == [2]


def test_a_retry_after_longer_than_max_backoff_stops_the_retries() -> None:
    busy = answer(503, headers=[("Retry-After", "600")])
    outcome, fake = run(Retry(attempts=5, max_backoff_seconds=300), busy)

    assert (outcome.ok, outcome.attempts, fake.sleeps) == (False, 1, [])
    assert outcome.message == (
        "1 attempt failed: 1: unexpected HTTP status 503 (expected 2xx); not retried: Retry-After asks for 600 s, "
        "more than retry.maxBackoffSeconds (300 s)"
    )


def test_retry_after_is_read_regardless_of_case() -> None:
    assert retry_after(answer(503, headers=[("retry-after", " 9 ")]), 0) == 9
    assert retry_after(answer(503), 0) is None


def test_a_200_whose_when_is_false_is_an_error_and_not_retried() -> None:
    failed = answer(200, '{"status": "ERROR", "msg": "no binary"}')
    outcome, fake = run(Retry(attempts=3), failed, success=Success(when=WHEN_OK))

    assert (outcome.ok, outcome.attempts, fake.sleeps) == (False, 1, [])
    assert outcome.message == "flow.success.when `status == 'OK'` was false"
    assert outcome.answer is not None and "no binary" in outcome.answer.text


@pytest.mark.parametrize(
    ("success", "reply", "message"),
    [
        (Success(), answer(200), ""),
        (Success(), answer(204, ""), ""),
        (Success(), answer(302), "unexpected HTTP status 302 (expected 2xx)"),
        (Success(status_codes=(200, 202)), answer(202), ""),
        (Success(status_codes=(200, 202)), answer(201), "unexpected HTTP status 201 (expected one of 200, 202)"),
        (Success(status_codes=(404,)), answer(404), ""),
        (Success(when=WHEN_OK), answer(200, '{"status": "OK"}'), ""),
        (Success(when=WHEN_OK), answer(200, '{"status": "ERROR"}'), "flow.success.when `status == 'OK'` was false"),
        (Success(when=WHEN_OK), answer(500, '{"status": "OK"}'), "unexpected HTTP status 500 (expected 2xx)"),
        (
            Success(when=WHEN_OK),
            answer(200, "<html>", [("Content-Type", "text/html")]),
            "flow.success.when `status == 'OK'` needs a JSON answer, got a body that is not JSON (text/html)",
        ),
        (
            Success(when=WHEN_OK),
            HttpAnswer(200, [], '{"status": "OK", "pad": "', cut=True),
            "flow.success.when `status == 'OK'` needs a JSON answer, got a body too long to read whole",
        ),
    ],
)
def test_success_rules(success: Success, reply: HttpAnswer, message: str) -> None:
    assert judge(reply, success) == message


@pytest.mark.parametrize(
    ("expression", "data", "holds"),
    [
        ("items", {"items": []}, False),
        ("items", {"items": [0]}, True),
        ("count", {"count": 0}, True),  # JMESPath truthiness: numbers are true, even 0
        ("name", {"name": ""}, False),
        ("missing", {}, False),
        ("flag", {"flag": False}, False),
        ("obj", {"obj": {}}, False),
    ],
)
def test_when_uses_jmespath_truthiness(expression: str, data: object, holds: bool) -> None:
    assert compile_expression("w", expression).holds(data) is holds
