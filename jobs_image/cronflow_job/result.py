"""Pure: the run's outcome -> the result document (redacted, and encoded to fit the termination log)."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal, TypedDict

from cronflow_job.call import HttpAnswer
from cronflow_job.runner import Outcome

RESULT_VERSION = 1
MAX_RESULT_BYTES = 4096  # what Kubernetes keeps of a termination message
MAX_MESSAGE_BYTES = 1024
MAX_HEADER_KEY_BYTES = 128
MAX_HEADER_VALUE_BYTES = 512
REDACTED = "<redacted>"
MIN_REDACTED_LENGTH = 8
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


class Header(TypedDict):
    key: str
    value: str


class HttpResult(TypedDict):
    status: int
    headers: list[Header]
    response: str
    truncated: bool


class Completion(TypedDict):
    jobId: str
    httpResult: HttpResult | None


class Result(TypedDict):
    v: int
    status: Literal["OK", "ERROR"]
    startedAt: str
    finishedAt: str
    attempts: int
    httpResult: HttpResult | None
    completion: Completion | None
    message: str


def build_result(*, started: datetime, finished: datetime, outcome: Outcome, secrets: Sequence[str] = ()) -> Result:
    """The document of `outcome`; sensitive header values and every occurrence of a secret are redacted.

    `completion` is null unless the run followed a remote job (a job id was found).
    """
    followed = outcome.followed
    completion = None
    if followed is not None and followed.job_id is not None:
        completion = Completion(jobId=redact(followed.job_id, secrets), httpResult=_http(followed.answer, secrets))
    return Result(
        v=RESULT_VERSION,
        status="OK" if outcome.ok else "ERROR",
        startedAt=rfc3339(started),
        finishedAt=rfc3339(finished),
        attempts=outcome.attempts,
        httpResult=_http(outcome.answer, secrets),
        completion=completion,
        message=redact(outcome.message, secrets),
    )


def _http(answer: HttpAnswer | None, secrets: Sequence[str]) -> HttpResult | None:
    if answer is None:
        return None
    return HttpResult(
        status=answer.status,
        headers=[Header(key=key, value=_header_value(key, value, secrets)) for key, value in answer.headers],
        response=redact(answer.text, secrets),
        truncated=answer.cut,
    )


def redact(text: str, secrets: Sequence[str]) -> str:
    """Replace every occurrence of each secret (e.g. a token echoed back by the server).

    Secrets shorter than MIN_REDACTED_LENGTH are left alone: a value that short is no secret, and
    replacing it would mangle unrelated text (a token `x` would turn `example.com` into `e<redacted>ample.com`).
    """
    for secret in secrets:
        if len(secret) >= MIN_REDACTED_LENGTH:
            text = text.replace(secret, REDACTED)
    return text


def _header_value(key: str, value: str, secrets: Sequence[str]) -> str:
    return REDACTED if key.lower() in SENSITIVE_HEADERS else redact(value, secrets)


def rfc3339(moment: datetime) -> str:
    """UTC with a Z suffix at second precision, as Kubernetes writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_result(result: Result, limit: int = MAX_RESULT_BYTES) -> bytes:
    """Compact UTF-8 JSON of `result`, never longer than `limit` bytes.

    The message is always cut to MAX_MESSAGE_BYTES. If the document is still too large, in both HTTP
    results (the start answer, the last status answer): header keys and values are cut to
    MAX_HEADER_KEY_BYTES / MAX_HEADER_VALUE_BYTES, then headers are dropped from the end of the longer
    list while even empty responses would not fit, then the room left is shared by the responses (each
    gets what it needs or half, the shorter one's rest goes to the other). Every cut is at a character
    boundary, measured in encoded JSON bytes, and sets that result's `truncated`.
    """
    document = copy.deepcopy(result)
    document["message"] = cut_json_text(result["message"], MAX_MESSAGE_BYTES)
    encoded = _dump(document)
    completion = document["completion"]
    slots = [http for http in (document["httpResult"], completion and completion["httpResult"]) if http]
    if not slots or len(encoded) <= limit:
        return encoded

    for http in slots:
        headers = [_cut_header(header) for header in http["headers"]]
        http["truncated"] |= headers != http["headers"]
        http["headers"] = headers
    texts = [http["response"] for http in slots]
    for http in slots:
        http["response"] = ""
    while len(_dump(document)) > limit and any(http["headers"] for http in slots):
        fullest = max(slots, key=lambda http: len(_dump(http["headers"])))
        fullest["headers"].pop()
        fullest["truncated"] = True
    needs = [_json_text_bytes(text) for text in texts]
    for _ in range(2):  # a response that will be cut is marked first: `true` is a byte shorter than `false`
        budgets = _shares(needs, max(0, limit - len(_dump(document))))
        for http, need, budget in zip(slots, needs, budgets, strict=True):
            http["truncated"] |= budget < need
    for http, text, budget in zip(slots, texts, budgets, strict=True):
        http["response"] = cut_json_text(text, budget)
    return _dump(document)


def _cut_header(header: Header) -> Header:
    return Header(
        key=cut_json_text(header["key"], MAX_HEADER_KEY_BYTES),
        value=cut_json_text(header["value"], MAX_HEADER_VALUE_BYTES),
    )


def _shares(needs: list[int], room: int) -> list[int]:
    """Split `room`: smallest need first, each gets its need or an equal share of what is left."""
    budgets = [0] * len(needs)
    left = room
    order = sorted(range(len(needs)), key=lambda index: needs[index])
    for rank, index in enumerate(order):
        budgets[index] = min(needs[index], left // (len(needs) - rank))
        left -= budgets[index]
    return budgets


def _json_text_bytes(text: str) -> int:
    return len(_dump(text)) - 2


def cut_json_text(text: str, budget: int) -> str:
    """The longest prefix of `text` whose JSON string body (without quotes) takes at most `budget` bytes."""
    if _json_text_bytes(text) <= budget:
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
