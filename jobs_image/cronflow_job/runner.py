"""One run: the start call (with its retries), the success rules, then the follow of an async job."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cronflow_job.call import CallFailed, HttpAnswer, perform
from cronflow_job.config import JobConfig
from cronflow_job.follow import Followed, follow
from cronflow_job.request import PreparedCall, prepare_call, status_call
from cronflow_job.retry import Clock, Tries, attempt
from cronflow_job.success import judge


@dataclass(frozen=True)
class Outcome:
    """What the result document reports: OK or why not, the start tries, the answers."""

    ok: bool
    message: str
    attempts: int = 0
    answer: HttpAnswer | None = None  # the start call's last answer
    followed: Followed | None = None


def execute(config: JobConfig, clock: Clock, send: Callable[[PreparedCall], HttpAnswer] = perform) -> Outcome:
    """Make the run's calls; a 200 whose success.when is false is an ERROR, not retried."""
    call = prepare_call(config)
    tries = attempt(lambda: send(call), config.flow.retry, clock)
    last = tries.last
    if isinstance(last, CallFailed):
        return _failed(tries, last.reason, str(last), None)
    if verdict := judge(last, config.flow.success):
        return _failed(tries, verdict, verdict, last)
    completion = config.flow.completion
    if completion is None:
        return Outcome(True, "", tries.attempts, last)
    followed = follow(completion, last, lambda job_id: send(status_call(config, job_id)), clock)
    return Outcome(not followed.message, followed.message, tries.attempts, last, followed)


def _failed(tries: Tries, reason: str, message: str, answer: HttpAnswer | None) -> Outcome:
    """One try: its own message; more (or a retry refused): the list of tries."""
    summary = tries.summary(reason) if tries.attempts > 1 or tries.stopped else message
    return Outcome(False, summary, tries.attempts, answer)
