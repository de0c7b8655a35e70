"""Finished Job and pod -> the status.results entry: the result document, or what Kubernetes says."""

import json
from typing import Any

import pytest

from cronflow.api.models import RunResult
from cronflow.results import build_result

HTTP = {"status": 202, "headers": [{"key": "Content-Type", "value": "application/json"}], "response": "{}",
        "truncated": False}
FOLLOWED = {"status": 200, "headers": [], "response": '{"state": "COMPLETE"}', "truncated": False}


def job(conditions: list[dict[str, Any]], deadline: int = 1260) -> dict[str, Any]:
    return {
        "metadata": {"name": "nightly-29001", "annotations": {"cronflow.dev/trigger": "Schedule"}},
        "spec": {"activeDeadlineSeconds": deadline},
        "status": {"startTime": "2026-11-22T02:30:01Z", "conditions": conditions},
    }


COMPLETE = [{"type": "Complete", "status": "True"}]
FAILED = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the "
           "specified backoff limit"}]
DEADLINE = [{"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
             "message": "Job was active longer than specified deadline"}]


def pod(message: str | None = None, exit_code: int = 0, reason: str = "Completed") -> dict[str, Any]:
    terminated = {"exitCode": exit_code, "reason": reason, "finishedAt": "2026-11-22T02:51:01Z"}
    if message is not None:
        terminated["message"] = message
    return {"status": {"containerStatuses": [{"state": {"terminated": terminated}}]}}


def document(**fields: Any) -> str:
    return json.dumps({"v": 1, "status": "OK", "finishedAt": "2026-11-22T02:31:05Z", "httpResult": HTTP,
                       "message": "", **fields})


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (document(attempts=3), {"attempts": 3}),
        (document(attempts=1, completion={"jobId": "5f0c", "httpResult": FOLLOWED}),
         {"attempts": 1, "completion": {"jobId": "5f0c", "httpResult": FOLLOWED}}),
        (document(completion={"jobId": "5f0c"}), {"completion": {"jobId": "5f0c"}}),
        (document(), {}),
        (document(attempts=0, completion={"jobId": 5, "httpResult": "x"}), {}),
        (document(attempts=True, completion="5f0c"), {}),
        (document(attempts="2"), {}),
    ],
    ids=["attempts", "completion", "completion-without-answer", "older-image", "wrong-types", "bool-and-string",
         "string-attempts"],
)
def test_attempts_and_completion_come_from_the_result_document(message: str, expected: dict[str, Any]) -> None:
    entry = build_result(job(COMPLETE), pod(message))
    assert {key: entry[key] for key in ("attempts", "completion") if key in entry} == expected
    assert (entry["status"], entry["httpResult"]) == ("OK", HTTP)
    RunResult.model_validate(entry)  # what status accepts


@pytest.mark.parametrize(
    ("conditions", "the_pod", "message"),
    [
        (DEADLINE, pod(exit_code=143, reason="Error"),
         "the run was stopped at its deadline (activeDeadlineSeconds: 1260 s, retries, backoff and completion "
         "timeout included)"),
        (DEADLINE, None, "the run was stopped at its deadline (activeDeadlineSeconds: 1260 s, retries, backoff and "
         "completion timeout included)"),
        (FAILED, pod(exit_code=137, reason="OOMKilled"),
         "the job container ended without a result: OOMKilled (exit code 137)"),
        (FAILED, None, "the Job failed: BackoffLimitExceeded: Job has reached the specified backoff limit"),
    ],
    ids=["deadline-pod-killed", "deadline-pod-gone", "oom", "failed-without-pod"],
)
def test_a_run_without_a_result_document_is_an_error_saying_what_kubernetes_did(
    conditions: list[dict[str, Any]], the_pod: dict[str, Any] | None, message: str
) -> None:
    entry = build_result(job(conditions), the_pod)
    assert (entry["status"], entry["message"]) == ("ERROR", message)
    assert "attempts" not in entry and "completion" not in entry


def test_a_result_document_wins_over_the_deadline() -> None:
    entry = build_result(job(DEADLINE), pod(document(status="ERROR", message="still running after 3600 s"), 1))
    assert (entry["status"], entry["message"]) == ("ERROR", "still running after 3600 s")
