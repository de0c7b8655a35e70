"""The result document: status mapping, redaction, and always valid JSON within 4096 bytes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from cronflow_job.call import HttpAnswer, decode_body
from cronflow_job.follow import Followed
from cronflow_job.result import (
    MAX_MESSAGE_BYTES,
    MAX_RESULT_BYTES,
    REDACTED,
    Result,
    build_result,
    cut_json_text,
    encode_result,
    redact,
)
from cronflow_job.runner import Outcome

STARTED = datetime(2026, 11, 22, 12, 0, 0, 250000, tzinfo=UTC)
FINISHED = STARTED + timedelta(seconds=2)


def answer(status: int = 200, text: str = "", headers: list[tuple[str, str]] | None = None) -> HttpAnswer:
    return HttpAnswer(status=status, headers=headers or [], text=text, cut=False)


def result_of(
    answer: HttpAnswer | None, message: str = "", secrets: Sequence[str] = (), followed: Followed | None = None
) -> Result:
    """The document of a run whose status follows the answer (2xx OK), as the success rules decide."""
    ok = answer is not None and 200 <= answer.status <= 299 and not message
    outcome = Outcome(ok, message, 1 if answer else 0, answer, followed)
    return build_result(started=STARTED, finished=FINISHED, outcome=outcome, secrets=secrets)


def decoded(document: bytes) -> dict[str, object]:
    assert len(document) <= MAX_RESULT_BYTES
    parsed = json.loads(document.decode("utf-8"))  # strict: fails on any broken character
    assert isinstance(parsed, dict)
    return parsed


def test_ok_result_has_the_contract_shape() -> None:
    result = result_of(
        answer(200, '{"id": 7}', [("Content-Type", "application/json")]),
    )

    assert result == {
        "v": 1,
        "status": "OK",
        "startedAt": "2026-11-22T12:00:00Z",
        "finishedAt": "2026-11-22T12:00:02Z",
        "attempts": 1,
        "httpResult": {
            "status": 200,
            "headers": [{"key": "Content-Type", "value": "application/json"}],
            "response": '{"id": 7}',
            "truncated": False,
        },
        "completion": None,
        "message": "",
    }
    assert encode_result(result) == json.dumps(result, separators=(",", ":")).encode()


def test_times_are_written_in_utc_with_z() -> None:
    amsterdam = timezone(timedelta(hours=1))
    outcome = Outcome(False, "x")
    result = build_result(started=STARTED.astimezone(amsterdam), finished=FINISHED, outcome=outcome)

    assert result["startedAt"] == "2026-11-22T12:00:00Z"


@pytest.mark.parametrize(("ok", "status"), [(True, "OK"), (False, "ERROR")])
def test_status_is_the_outcome_s(ok: bool, status: str) -> None:
    outcome = Outcome(ok, "" if ok else "why", 3, answer(200))
    result = build_result(started=STARTED, finished=FINISHED, outcome=outcome)

    assert (result["status"], result["attempts"], result["message"]) == (status, 3, "" if ok else "why")


def test_failure_without_answer_is_an_error_with_message_and_null_http_result() -> None:
    result = result_of(answer=None, message="connection refused calling http://x"
    )

    assert result["status"] == "ERROR"
    assert result["httpResult"] is None
    assert decoded(encode_result(result))["message"] == "connection refused calling http://x"


def test_sensitive_header_values_are_redacted_case_insensitively() -> None:
    headers = [
        ("Set-Cookie", "session=1"),
        ("set-cookie", "other=2"),
        ("COOKIE", "c=3"),
        ("Authorization", "Bearer x"),
        ("Proxy-Authorization", "Basic y"),
        ("X-Request-Id", "r-1"),
    ]
    result = result_of(answer=answer(200, "", headers))

    http = result["httpResult"]
    assert http is not None
    assert [(h["key"], h["value"]) for h in http["headers"]] == [
        ("Set-Cookie", REDACTED),
        ("set-cookie", REDACTED),
        ("COOKIE", REDACTED),
        ("Authorization", REDACTED),
        ("Proxy-Authorization", REDACTED),
        ("X-Request-Id", "r-1"),
    ]


@pytest.mark.parametrize(("secret", "redacted"), [("x", False), ("1234567", False), ("12345678", True)])
def test_only_secrets_long_enough_to_be_secrets_are_redacted(secret: str, redacted: bool) -> None:
    text = f"calling flows.example.com with {secret} failed"
    assert redact(text, [secret]) == (text.replace(secret, REDACTED) if redacted else text)


def test_the_token_is_redacted_wherever_it_appears() -> None:
    token = "s3cr3t-token"
    result = result_of(
        answer(200, f'{{"headers": {{"Authorization": "Bearer {token}"}}}}', [("X-Echo", token)]),
        message=f"odd failure mentioning {token}",
        secrets=[token],
    )

    document = encode_result(result)
    assert token.encode() not in document
    assert document.count(REDACTED.encode()) == 3


@pytest.mark.parametrize("unit", ["日本語のテキスト", "🙂🚀👍🏽", "ü", 'a"\\\n\x01', "x"])
def test_big_response_is_cut_to_valid_json_within_4096_bytes(unit: str) -> None:
    text = unit * (10_240 // len(unit.encode()) + 1)
    result = result_of(answer(200, text, [("Content-Type", "text/plain")]))

    document = encode_result(result)
    parsed = decoded(document)
    http = parsed["httpResult"]
    assert isinstance(http, dict)
    assert http["truncated"] is True
    assert text.startswith(http["response"])
    assert len(http["response"]) > 0
    # Cut as late as possible: one more character (whichever of the unit's comes next) would not fit.
    assert len(document) > MAX_RESULT_BYTES - max(len(json.dumps(char, ensure_ascii=False).encode()) for char in unit)


def test_response_that_fits_is_kept_whole() -> None:
    text = "€" * 1000  # 3000 bytes
    document = encode_result(result_of(answer=answer(200, text)))

    http = decoded(document)["httpResult"]
    assert isinstance(http, dict)
    assert http["response"] == text
    assert http["truncated"] is False


def test_answer_longer_than_the_read_limit_is_marked_truncated_even_if_it_fits() -> None:
    cut_answer = HttpAnswer(status=200, headers=[], text="short", cut=True)
    http = decoded(encode_result(result_of(answer=cut_answer)))[
        "httpResult"
    ]

    assert isinstance(http, dict)
    assert http["truncated"] is True


def test_huge_headers_are_cut_then_dropped_and_the_document_still_fits() -> None:
    headers = [(f"X-Big-{index}", "ü" * 3000) for index in range(20)]
    result = result_of(answer=answer(500, "body " * 500, headers))

    parsed = decoded(encode_result(result))
    http = parsed["httpResult"]
    assert isinstance(http, dict)
    assert http["status"] == 500
    assert http["truncated"] is True
    kept = http["headers"]
    assert 0 < len(kept) < 20
    assert [h["key"] for h in kept] == [f"X-Big-{index}" for index in range(len(kept))]
    assert all(len(h["value"].encode()) <= 512 for h in kept)
    assert parsed["status"] == "ERROR"


def test_one_huge_header_value_is_cut_and_the_body_keeps_room() -> None:
    headers = [("Content-Type", "text/plain"), ("Content-Security-Policy", "default-src 'self' " * 400)]
    result = result_of(answer=answer(200, "x" * 10_000, headers))

    http = decoded(encode_result(result))["httpResult"]
    assert isinstance(http, dict)
    assert http["headers"][0] == {"key": "Content-Type", "value": "text/plain"}
    assert len(http["headers"][1]["value"]) == 512
    assert len(http["response"]) > 2000


def test_long_message_is_cut() -> None:
    result = result_of(answer=None, message="界" * 5000)

    message = decoded(encode_result(result))["message"]
    assert isinstance(message, str)
    assert 0 < len(message.encode()) <= MAX_MESSAGE_BYTES


@pytest.mark.parametrize(
    ("text", "budget", "expected"),
    [
        ("abc", 3, "abc"),
        ("abc", 2, "ab"),
        ("日本", 5, "日"),  # 3 bytes each: never half a character
        ('a"b', 2, "a"),  # the quote costs two bytes escaped
        ("\x01b", 5, ""),  # a control character costs six bytes
        ("🙂", 3, ""),
        ("", 0, ""),
    ],
)
def test_cut_json_text_counts_encoded_json_bytes(text: str, budget: int, expected: str) -> None:
    assert cut_json_text(text, budget) == expected


def test_decode_body_uses_the_charset_and_drops_a_character_split_by_the_cut() -> None:
    data = "größe".encode()

    assert decode_body(data, "application/json", complete=True) == "größe"
    assert decode_body(data[:3], "text/plain; charset=utf-8", complete=False) == "gr"
    assert decode_body("größe".encode("latin-1"), "text/plain; charset=ISO-8859-1", complete=True) == "größe"
    assert decode_body(b"\xff ok", None, complete=True) == "\ufffd ok"
    assert decode_body(b"ok", "text/plain; charset=base64", complete=True) == "ok"
    assert decode_body(b"ok", "text/plain; charset=no-such-charset", complete=True) == "ok"


def followed_run(start: HttpAnswer, status: HttpAnswer | None, job_id: str = "j-1") -> Result:
    return result_of(start, followed=Followed(job_id, status, ""))


def test_a_followed_job_is_recorded_under_completion() -> None:
    result = followed_run(answer(200, '{"job_id": "j-1"}'), answer(200, '{"state": "COMPLETE"}'))

    assert result["completion"] == {
        "jobId": "j-1",
        "httpResult": {"status": 200, "headers": [], "response": '{"state": "COMPLETE"}', "truncated": False},
    }
    assert decoded(encode_result(result))["completion"] == result["completion"]


def test_no_job_id_means_no_completion() -> None:
    assert result_of(answer(200), followed=Followed(None, None, "no id"))["completion"] is None


@pytest.mark.parametrize(("start_size", "status_size"), [(10_000, 10_000), (300, 10_000), (10_000, 300), (1900, 1900)])
def test_two_long_bodies_share_the_4096_bytes_fairly(start_size: int, status_size: int) -> None:
    start, status = "s" * start_size, "t" * status_size
    headers = [("Content-Type", "application/json"), ("X-Request-Id", "r" * 40)]
    document = encode_result(followed_run(answer(200, start, headers), answer(200, status, headers)))

    parsed = decoded(document)
    http, completion = parsed["httpResult"], parsed["completion"]
    assert isinstance(http, dict) and isinstance(completion, dict)
    kept_start, kept_status = http["response"], completion["httpResult"]["response"]
    assert start.startswith(kept_start) and status.startswith(kept_status)
    assert http["truncated"] is (kept_start != start)
    assert completion["httpResult"]["truncated"] is (kept_status != status)
    assert len(document) >= MAX_RESULT_BYTES - 1  # nothing left unused
    assert http["headers"] == completion["httpResult"]["headers"]
    assert len(http["headers"]) == 2
    if start_size == status_size:
        assert abs(len(kept_start) - len(kept_status)) <= 1
    else:  # the short one whole, the long one the rest
        short, long = sorted((kept_start, kept_status), key=len)
        assert len(short) == 300 and len(long) > 2500


def test_header_lists_of_both_answers_are_trimmed_when_they_alone_would_not_fit() -> None:
    headers = [(f"X-Big-{index}", "v" * 400) for index in range(12)]
    document = encode_result(followed_run(answer(200, "x" * 5000, headers), answer(200, "y" * 5000, headers)))

    parsed = decoded(document)
    http, completion = parsed["httpResult"], parsed["completion"]
    assert isinstance(http, dict) and isinstance(completion, dict)
    assert http["truncated"] is True and completion["httpResult"]["truncated"] is True
    assert 0 < len(http["headers"]) < 12 and 0 < len(completion["httpResult"]["headers"]) < 12


def test_secret_header_values_never_reach_the_document() -> None:
    key, token = "hdr-PLANTED-9c1", "tok-PLANTED-77"
    start = answer(200, f'{{"echo": "{key}"}}', [("X-Echo-Api-Key", key), ("Authorization", "Bearer x")])
    followed = Followed(f"id-{key}", answer(200, f"{token} {key}"), "")
    outcome = Outcome(False, f"failed with {key}", 1, start, followed)
    result = build_result(started=STARTED, finished=FINISHED, outcome=outcome, secrets=[token, key])

    document = encode_result(result)
    assert b"PLANTED" not in document
    assert decoded(document)["httpResult"]["headers"] == [  # type: ignore[index]
        {"key": "X-Echo-Api-Key", "value": REDACTED},
        {"key": "Authorization", "value": REDACTED},
    ]
