"""Following an async remote job: its id from the start answer, then status polls until it ends."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from cronflow_job.call import CallFailed, HttpAnswer
from cronflow_job.config import Completion
from cronflow_job.retry import Clock, retry_after, transient
from cronflow_job.success import not_json


@dataclass(frozen=True)
class Followed:
    """The remote job's id (None when the start answer held none), its last status answer, and why it
    failed ("" when it ended with successWhen true)."""

    job_id: str | None
    answer: HttpAnswer | None
    message: str


def follow(completion: Completion, start: HttpAnswer, poll: Callable[[str], HttpAnswer], clock: Clock) -> Followed:
    """Poll every intervalSeconds (the first poll too) until doneWhen holds or timeoutSeconds have passed.

    A transient poll failure (no answer, 408, 429, 5xx) is polled again, after at least its Retry-After;
    another non-2xx answer, or one that is not JSON, ends the follow.
    """
    try:
        job_id = find_job_id(completion, start)
    except NoJobId as exc:
        return Followed(None, None, str(exc))
    deadline = clock.monotonic() + completion.timeout_seconds
    answer: HttpAnswer | None = None
    trouble = ""  # the last poll's transient failure
    wait = completion.interval_seconds
    while (remaining := deadline - clock.monotonic()) > 0:
        clock.sleep(min(wait, remaining))
        wait = completion.interval_seconds
        try:
            answer = poll(job_id)
        except CallFailed as exc:
            trouble = exc.reason
            continue
        if transient(answer.status):
            trouble = f"HTTP {answer.status}"
            wait = max(wait, retry_after(answer, clock.wall()) or 0)
            continue
        trouble = ""
        where = f"the status poll of remote job {job_id}"
        if not 200 <= answer.status <= 299:
            return Followed(job_id, answer, f"{where} answered HTTP {answer.status}")
        try:
            data = json.loads(answer.text)
        except ValueError:
            return Followed(job_id, answer, f"{where} answered {not_json(answer)}")
        if completion.done_when.holds(data):
            if completion.success_when.holds(data):
                return Followed(job_id, answer, "")
            ended = f"the remote job {job_id} ended: {completion.success_when.describe()} was false"
            return Followed(job_id, answer, ended)
    message = (
        f"the remote job {job_id} was still running after {completion.timeout_seconds:g} s "
        "(flow.completion.timeoutSeconds)"
    )
    return Followed(job_id, answer, message + (f"; last poll: {trouble}" if trouble else ""))


class NoJobId(ValueError):
    """The start answer holds no job id; str() says why."""


def find_job_id(completion: Completion, start: HttpAnswer) -> str:
    """completion.jobId on the start answer, as text (a number too); NoJobId when it is not there."""
    try:
        data = json.loads(start.text)
    except ValueError:
        raise NoJobId(f"{completion.job_id.describe()} needs a JSON start answer, got {not_json(start)}") from None
    value = completion.job_id.search(data)
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        got = json.dumps(value)[:80]
        raise NoJobId(f"{completion.job_id.describe()} found no job id in the start answer (got {got})")
    return str(value)
