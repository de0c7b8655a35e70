"""Pure: the run's outcome -> the result document (redacted, and encoded to fit the termination log)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, TypedDict

from cronflow_job.call import HttpAnswer

RESULT_VERSION = 1
MAX_RESULT_BYTES = 4096  # what Kubernetes keeps of a termination message
MAX_MESSAGE_BYTES = 1024
MAX_HEADER_KEY_BYTES = 128
MAX_HEADER_VALUE_BYTES = 512
REDACTED = "<redacted>"
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


class Header(TypedDict):
    key: str
    value: str


class HttpResult(TypedDict):
    status: int
    headers: list[Header]
    response: str
    truncated: bool


class Result(TypedDict):
    v: int
    status: Literal["OK", "ERROR"]
    startedAt: str
    finishedAt: str
    httpResult: HttpResult | None
    message: str


def build_result(
    *,
    started: datetime,
    finished: datetime,
    answer: HttpAnswer | None,
    message: str = "",
    secrets: Sequence[str] = (),
) -> Result:
    """OK only for a 2xx answer; sensitive header values and every occurrence of a secret are redacted."""
    http: HttpResult | None = None
    if answer is not None:
        http = HttpResult(
            status=answer.status,
            headers=[
                Header(key=key, value=_header_value(key, value, secrets)) for key, value in answer.headers
            ],
            response=redact(answer.text, secrets),
            truncated=answer.cut,
        )
    return Result(
        v=RESULT_VERSION,
        status="OK" if answer is not None and 200 <= answer.status < 300 else "ERROR",
        startedAt=rfc3339(started),
        finishedAt=rfc3339(finished),
        httpResult=http,
        message=redact(message, secrets),
    )


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace every occurrence of each secret (e.g. a token echoed back by the server)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _header_value(key: str, value: str, secrets: Sequence[str]) -> str:
    return REDACTED if key.lower() in SENSITIVE_HEADERS else redact(value, secrets)


def rfc3339(moment: datetime) -> str:
    """UTC with a Z suffix at second precision, as Kubernetes writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_result(result: Result, limit: int = MAX_RESULT_BYTES) -> bytes:
    """Compact UTF-8 JSON of `result`, never longer than `limit` bytes.

    The message is always cut to MAX_MESSAGE_BYTES. If the document is still too large: header keys and
    values are cut to MAX_HEADER_KEY_BYTES / MAX_HEADER_VALUE_BYTES, then headers are dropped from the end
    while even an empty response would not fit, then the response is cut to the room left. Every cut is
    at a character boundary, measured in encoded JSON bytes, and sets httpResult.truncated.
    """
    message = cut_json_text(result["message"], MAX_MESSAGE_BYTES)
    http = result["httpResult"]
    fitted = _with(result, message, http)
    encoded = _dump(fitted)
    if http is None or len(encoded) <= limit:
        return encoded

    headers = [
        Header(
            key=cut_json_text(header["key"], MAX_HEADER_KEY_BYTES),
            value=cut_json_text(header["value"], MAX_HEADER_VALUE_BYTES),
        )
        for header in http["headers"]
    ]
    while True:
        empty = HttpResult(status=http["status"], headers=headers, response="", truncated=True)
        room = limit - len(_dump(_with(result, message, empty)))
        if room >= 0 or not headers:
            break
        headers.pop()
    cut = HttpResult(
        status=http["status"], headers=headers, response=cut_json_text(http["response"], room), truncated=True
    )
    return _dump(_with(result, message, cut))


def cut_json_text(text: str, budget: int) -> str:
    """The longest prefix of `text` whose JSON string body (without quotes) takes at most `budget` bytes."""
    if len(_dump(text)) - 2 <= budget:
        return text
    used = 0
    for index, char in enumerate(text):
        used += _json_char_bytes(char)
        if used > budget:
            return text[:index]
    return text


@functools.lru_cache(maxsize=4096)
def _json_char_bytes(char: str) -> int:
    return len(_dump(char)) - 2


def _dump(value: object) -> bytes:
    # errors="replace": a lone surrogate (only possible from odd input) becomes "?" instead of failing.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", errors="replace")


def _with(result: Result, message: str, http: HttpResult | None) -> Result:
    return Result(
        v=result["v"],
        status=result["status"],
        startedAt=result["startedAt"],
        finishedAt=result["finishedAt"],
        httpResult=http,
        message=message,
    )
