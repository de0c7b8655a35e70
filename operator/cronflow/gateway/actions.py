"""The spec changes behind trigger, enable, disable and resume, in one place for the REST API and the dashboard."""

from datetime import datetime
from typing import Any

from cronflow.cli.plugin import new_trigger_token
from cronflow.gateway.dashboard.shapes import Action


def spec_change(action: Action, now: datetime) -> dict[str, Any]:
    """The merge patch of spec that does `action`; trigger and resume set a new token, as the plugin does."""
    if action == "enable":
        return {"enabled": True}
    if action == "disable":
        return {"enabled": False}
    return {action: new_trigger_token(now)}
