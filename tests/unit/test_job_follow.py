"""Following an async remote job: the job id, the poll loop (done, success, failure, timeout, transient
poll failures), timed with the fake clock."""

from __future__ import annotations

import json

import pytest

from cronflow_job.call import CallFailed, HttpAnswer
from cronflow_job.config import Completion
from cronflow_job.expr import compile_expression
from cronflow_job.follow import Followed, follow
from tests.unit.test_job_retry import FakeClock, answer

START = answer(200, json.dumps({"status": "OK", "data": {"job_id": "j-1"}}))
RUNNING = answer(200, '{"state": "RUNNING"}')
COMPLETE = answer(200, '{"state": "COMPLETE"}')
FAILED = answer(200, '{"state": "FAILED"}')
NO_ID = "completion.jobId `data.job_id` found no job id in the start answer"


def completion(interval: float = 10, timeout: float = 3600) -> Completion:
    return Completion(
        job_id=compile_expression("completion.jobId", "data.job_id"),
        status_url="https://h/status?job_id={jobId}",
        done_when=compile_expression("completion.doneWhen", "state != 'RUNNING'"),
        success_when=compile_expression("completion.successWhen", "state == 'COMPLETE'"),
        interval_seconds=interval,
        timeout_seconds=timeout,
    )


def run(
    *polls: HttpAnswer | CallFailed, start: HttpAnswer = START, spec: Completion | None = None
) -> tuple[Followed, FakeClock, list[str]]:
    fake, pending, asked = FakeClock(), list(polls), []

    def poll(job_id: str) -> HttpAnswer:
        asked.append(job_id)
        step = pending.pop(0) if pending else RUNNING
        if isinstance(step, CallFailed):
            raise step
        return step

    return follow(spec or completion(), start, poll, fake.clock()), fake, asked


def test_polls_every_interval_until_done_and_successful() -> None:
    followed, fake, asked = run(RUNNING, RUNNING, COMPLETE)

    assert followed == Followed("j-1", COMPLETE, "")
    assert asked == ["j-1"] * 3
    assert fake.sleeps == [10, 10, 10]  # the first poll too waits one interval


def test_a_done_job_without_success_is_an_error() -> None:
    followed, _, _ = run(RUNNING, FAILED)

    assert followed == Followed(
        "j-1", FAILED, "the remote job j-1 ended: completion.successWhen `state == 'COMPLETE'` was false"
    )


def test_a_job_still_running_at_the_timeout_is_an_error() -> None:
    followed, fake, asked = run(spec=completion(interval=10, timeout=35))

    assert followed.message == "the remote job j-1 was still running after 35 s (flow.completion.timeoutSeconds)"
    assert followed.answer == RUNNING
    assert fake.sleeps == [10, 10, 10, 5]  # the last poll at the deadline
    assert len(asked) == 4


def test_transient_poll_failures_are_polled_again_within_the_timeout() -> None:
    refused = CallFailed("connection refused", "https://h/status")
    busy = answer(503, "busy", [("Retry-After", "25")])
    followed, fake, _ = run(refused, busy, answer(429), COMPLETE)

    assert followed == Followed("j-1", COMPLETE, "")
    assert fake.sleeps == [10, 10, 25, 10]  # Retry-After lengthens the next wait


def test_a_timeout_after_transient_failures_names_the_last_one() -> None:
    followed, _, _ = run(*[answer(502)] * 5, spec=completion(interval=1, timeout=3))

    assert followed.message == (
        "the remote job j-1 was still running after 3 s (flow.completion.timeoutSeconds); last poll: HTTP 502"
    )


@pytest.mark.parametrize(
    ("poll", "message"),
    [
        (answer(404, "{}"), "the status poll of remote job j-1 answered HTTP 404"),
        (
            answer(200, "<html>", [("Content-Type", "text/html")]),
            "the status poll of remote job j-1 answered a body that is not JSON (text/html)",
        ),
    ],
)
def test_a_poll_answer_that_cannot_be_read_ends_the_follow(poll: HttpAnswer, message: str) -> None:
    followed, _, asked = run(poll)

    assert followed == Followed("j-1", poll, message)
    assert len(asked) == 1


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (answer(200, "{}"), f"{NO_ID} (got null)"),
        (answer(200, '{"data": {"job_id": ""}}'), f'{NO_ID} (got "")'),
        (answer(200, '{"data": {"job_id": {}}}'), f"{NO_ID} (got {{}})"),
        (answer(200, "accepted", [("Content-Type", "text/plain")]),
         "completion.jobId `data.job_id` needs a JSON start answer, got a body that is not JSON (text/plain)"),
    ],
)  # fmt: skip
def test_a_start_answer_without_a_job_id_is_an_error(start: HttpAnswer, message: str) -> None:
    followed, fake, asked = run(start=start)

    assert followed == Followed(None, None, message)
    assert asked == [] and fake.sleeps == []


def test_a_numeric_job_id_is_used_as_text() -> None:
    followed, _, asked = run(COMPLETE, start=answer(200, '{"data": {"job_id": 42}}'))

    assert followed.job_id == "42" and asked == ["42"]
