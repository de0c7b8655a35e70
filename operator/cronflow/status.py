"""Pure status helpers: conditions with stable transition times, and the smallest status patch."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cronflow.schedule import format_time

READY_MESSAGE = "CronJob is up to date"


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    type_: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
    generation: int,
) -> list[dict[str, Any]]:
    """Return `conditions` with the condition of `type_` set; its transition time moves only on a change."""
    previous = next((c for c in conditions if c.get("type") == type_), None)
    transition = format_time(now)
    if previous is not None and previous.get("status") == status and previous.get("lastTransitionTime"):
        transition = previous["lastTransitionTime"]
    updated = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
        "observedGeneration": generation,
    }
    return [dict(c) for c in conditions if c.get("type") != type_] + [updated]


def status_patch(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """Keys of `desired` whose value differs from `current` (None removes a key that is present)."""
    patch: dict[str, Any] = {}
    for key, value in desired.items():
        if value is None:
            if current.get(key) is not None:
                patch[key] = None
        elif current.get(key) != value:
            patch[key] = value
    return patch
