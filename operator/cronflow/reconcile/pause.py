"""Pure: the failure streak and the pause of `pauseAfterFailures`, from the status and the results a pass records.

The streak is `status.consecutiveFailures`, counted as results are recorded (in the same status patch),
so it survives restarts. The pause is the `Paused` condition: set when the streak reaches N while the
schedule is enabled; cleared by a new `spec.resume` token, by a pass that sees `enabled: false` (so a
disable and enable clears it: the operator never writes spec), or by `pauseAfterFailures: 0`. Clearing it
starts the streak from 0.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cronflow import names
from cronflow.api.models import ScheduledJobSpec

Event = tuple[str, str, str]


@dataclass(frozen=True)
class Pause:
    """The pause after this pass: the status fields, the `Paused` condition and the one Event of a change."""

    paused: bool
    consecutive_failures: int
    last_resume: str | None
    reason: str
    message: str
    event: Event | None = None


def decide_pause(
    spec: ScheduledJobSpec, status: Mapping[str, Any], new: Sequence[Mapping[str, Any]],
    results: Sequence[Mapping[str, Any]],
) -> Pause:
    """`new` are this pass's results (oldest first), `results` the status ring after them (newest first)."""
    previous: Mapping[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == names.PAUSED), {}
    )
    was_paused = previous.get("status") == "True"
    streak = failure_streak(status, new)
    last_resume = status.get("lastResume")
    limit = spec.pause_after_failures

    cleared = None
    if spec.resume and spec.resume != last_resume:
        last_resume, streak = spec.resume, 0
        cleared = f"resumed by spec.resume token {spec.resume!r}"
    elif was_paused and not spec.enabled:
        streak, cleared = 0, "resumed: spec.enabled was set to false"
    elif was_paused and not limit:
        streak, cleared = 0, "resumed: pauseAfterFailures is 0"
    if cleared is not None and was_paused:
        return Pause(False, streak, last_resume, names.RESUMED, cleared, ("Normal", names.RESUMED, cleared))
    if was_paused:
        return Pause(True, streak, last_resume, names.TOO_MANY_FAILURES, str(previous.get("message", "")))
    if spec.enabled and limit and streak >= limit:
        message = (f"paused after {streak} consecutive failed runs (pauseAfterFailures: {limit}); last error: "
                   f"{_last_error(results)}; clear it with a new spec.resume token (kubectl cronflow resume)")
        return Pause(True, streak, last_resume, names.TOO_MANY_FAILURES, message,
                     ("Warning", names.TOO_MANY_FAILURES, message))
    if previous.get("status") == "False":
        return Pause(False, streak, last_resume, str(previous.get("reason")), str(previous.get("message", "")))
    return Pause(False, streak, last_resume, names.NOT_PAUSED, "not paused")


def failure_streak(status: Mapping[str, Any], new: Sequence[Mapping[str, Any]]) -> int:
    """status.consecutiveFailures after this pass's results (oldest first): each ERROR adds one, OK resets."""
    streak = int(status.get("consecutiveFailures") or 0)
    for result in new:
        streak = streak + 1 if result["status"] == "ERROR" else 0
    return streak


def _last_error(results: Sequence[Mapping[str, Any]]) -> str:
    error = next((r for r in results if r.get("status") == "ERROR"), None)
    if error is None:
        return "-"
    http = (error.get("httpResult") or {}).get("status")
    detail = error.get("message") or (f"HTTP {http}" if http else "")
    return f"Job {error['job']} ({error.get('trigger')}): {detail}".rstrip(": ")
