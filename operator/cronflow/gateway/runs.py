"""Pure: run ids, and a triggered run's state read from its ScheduledJob's spec and status alone.

The operator acknowledges a trigger token (status.lastTrigger) in the same status write that lists the
run's Job in status.active, and moves it from active to status.results in one write when it finishes;
so the ScheduledJob alone tells the state, and callers need no right on Jobs.
"""

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cronflow import names
from cronflow.gateway.mapping import result_listing
from cronflow.gateway.shapes import Result

RunState = Literal["PENDING", "RUNNING", "OK", "ERROR"]
REFUSED_MESSAGE = ("the trigger was acknowledged but started no Job: it was refused (see the ScheduledJob's "
                   f"{names.TRIGGER_FAILED} Event), or its result is older than the results kept")


@dataclass(frozen=True)
class RunRef:
    """What finds a run: its ScheduledJob (name and uid, so a new one of the same name is not taken for it)
    and the trigger token that started it."""

    namespace: str
    name: str
    uid: str
    token: str

    def job_name(self) -> str:
        """The Job the trigger starts."""
        return names.trigger_job_name(self.name, self.token)


class UnknownRun(LookupError):
    """A run id that names no run (the message says why)."""


def encode_run_id(ref: RunRef) -> str:
    """An opaque, URL-safe run id."""
    raw = "/".join((ref.namespace, ref.name, ref.uid, ref.token)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_run_id(run_id: str) -> RunRef:
    """The run an id names; UnknownRun when it is not one this gateway made."""
    try:
        raw = base64.urlsafe_b64decode(run_id + "=" * (-len(run_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise UnknownRun("not a run id") from None
    parts = raw.split("/", 3)
    if len(parts) != 4 or not all(parts):
        raise UnknownRun("not a run id")
    return RunRef(*parts)


def run_state(sj: Mapping[str, Any], ref: RunRef) -> tuple[RunState, Result | None, str]:
    """PENDING until the operator starts the run's Job, RUNNING while the Job is active, then its result."""
    if sj["metadata"].get("uid") != ref.uid:
        raise UnknownRun("the job of this run was deleted")
    spec, status = sj.get("spec") or {}, sj.get("status") or {}
    job = ref.job_name()
    result = next((r for r in status.get("results") or [] if r.get("job") == job), None)
    if result is not None:
        return result["status"], result_listing(result), ""
    if any(run.get("name") == job for run in status.get("active") or []):
        return "RUNNING", None, ""
    if status.get("lastTrigger") == ref.token:
        return "ERROR", None, REFUSED_MESSAGE
    if spec.get("trigger") == ref.token:
        return "PENDING", None, ""
    raise UnknownRun("no such run: a later trigger replaced it before it started, or its result is no longer kept")
