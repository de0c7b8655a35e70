"""Whether the start answer is OK: its status (default any 2xx, or success.statusCodes), then success.when."""

from __future__ import annotations

import json

from cronflow_job.call import HttpAnswer
from cronflow_job.config import Success


def judge(answer: HttpAnswer, success: Success) -> str:
    """"" when the answer counts as OK, else why not (success.when needs a JSON answer)."""
    codes = success.status_codes
    if not (200 <= answer.status <= 299 if codes is None else answer.status in codes):
        expected = "2xx" if codes is None else "one of " + ", ".join(map(str, codes))
        return f"unexpected HTTP status {answer.status} (expected {expected})"
    if success.when is None:
        return ""
    try:
        data = json.loads(answer.text)
    except ValueError:
        return f"{success.when.describe()} needs a JSON answer, got {not_json(answer)}"
    return "" if success.when.holds(data) else f"{success.when.describe()} was false"


def not_json(answer: HttpAnswer) -> str:
    """How to name an answer that did not parse as JSON, for messages."""
    if answer.cut:
        return "a body too long to read whole"
    kind = next((value for key, value in answer.headers if key.lower() == "content-type"), "")
    return f"a body that is not JSON ({kind})" if kind else "a body that is not JSON"
