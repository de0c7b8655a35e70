"""Retrying a call: which failures are transient, how long to wait between tries, what to report."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from cronflow_job.call import CallFailed, HttpAnswer
from cronflow_job.config import Retry


@dataclass(frozen=True)
class Clock:
    """Time as the runner sees it; tests pass their own to check every wait without sleeping."""

    monotonic: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform


def transient(status: int) -> bool:
    """An answer worth trying again: 408, 429 and 5xx (never another 4xx)."""
    return status in (408, 429) or 500 <= status <= 599


def retry_after(answer: HttpAnswer, now: float) -> float | None:
    """The answer's Retry-After in seconds from `now` (wall clock): delta seconds or an HTTP date."""
    value = next((v.strip() for k, v in answer.headers if k.lower() == "retry-after"), None)
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def backoff(policy: Retry, tries: int, clock: Clock) -> float:
    """The wait after `tries` tries: full jitter over min(maxBackoffSeconds, backoffSeconds * 2**(tries-1))."""
    return clock.uniform(0, min(policy.max_backoff_seconds, policy.backoff_seconds * 2 ** (tries - 1)))


@dataclass(frozen=True)
class Tries:
    """The tries made: the last one's answer or failure, each try's reason, why retrying stopped early."""

    attempts: int
    last: HttpAnswer | CallFailed
    reasons: list[str] = field(default_factory=list)
    stopped: str = ""

    def summary(self, last: str) -> str:
        """ "3 attempts failed: 1: connection refused; 2: HTTP 503; 3: <last>" (and why retrying stopped)."""
        reasons = [*self.reasons[:-1], last]
        listed = "; ".join(f"{number}: {reason}" for number, reason in enumerate(reasons, 1))
        plural = "s" if self.attempts > 1 else ""
        return f"{self.attempts} attempt{plural} failed: {listed}" + (f"; {self.stopped}" if self.stopped else "")


def attempt(send: Callable[[], HttpAnswer], policy: Retry, clock: Clock) -> Tries:
    """Call `send` until it answers with a non-transient status or `policy.attempts` tries are made.

    Between tries: the backoff, or the answer's Retry-After when that is at most maxBackoffSeconds; a
    longer Retry-After ends the retrying.
    """
    reasons: list[str] = []
    for tries in range(1, policy.attempts + 1):
        last: HttpAnswer | CallFailed
        try:
            last = send()
            reasons.append(f"HTTP {last.status}")
        except CallFailed as exc:
            last = exc
            reasons.append(exc.reason)
        if (isinstance(last, HttpAnswer) and not transient(last.status)) or tries == policy.attempts:
            break
        wait = backoff(policy, tries, clock)
        if isinstance(last, HttpAnswer) and (asked := retry_after(last, clock.wall())) is not None:
            if asked > policy.max_backoff_seconds:
                stopped = (
                    f"not retried: Retry-After asks for {asked:g} s, more than retry.maxBackoffSeconds "
                    f"({policy.max_backoff_seconds:g} s)"
                )
                return Tries(tries, last, reasons, stopped)
            wait = asked
        clock.sleep(wait)
    return Tries(tries, last, reasons)
