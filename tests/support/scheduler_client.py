"""A client script of the original scheduler API, as its documentation writes one: `requests` with a JSON
string as the body (so no Content-Type) and the bearer token; only `url_base` and the token change.

Each call returns the HTTP status and the parsed answer.
"""

import json
from typing import Any

import requests

DAILY_JOB: dict[str, Any] = {
    "schedule": "@daily",
    "name": "Daily Job",
    "flow_parameters": {
        "auth_token": "flow-service-token-0f3c9a",
        "binary_path": "admin/repo/fs/Instabase Drive/files/flow/flow.ibflowbin",
        "input_dir": "admin/repo/fs/Instabase Drive/files/flow/input",
        "verify_ssl_certificate": True,
        "settings": {
            "tags": ["tag1"],
            "runtime_config": {},
            "notification_emails": "example@email.com",
            "webhook_config": {"url": "https://example.com/webhook", "headers": {"Authorization": "Bearer 12345"}},
        },
    },
}
"""create_job's documented example (with an auth token of ours, to look for in every answer)."""
TIMEOUT = 30


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


def post(url_base: str, token: str | None, endpoint: str, args: dict[str, Any], **params: str) -> tuple[int, Any]:
    """A POST as the documentation's examples make it (`params`: cronflow's query parameters, e.g. namespace)."""
    answer = requests.post(f"{url_base}/api/v1/scheduler/{endpoint}", data=json.dumps(args), params=params,
                           headers=_headers(token), timeout=TIMEOUT)
    return answer.status_code, json.loads(answer.content)


def create_job(url_base: str, token: str | None, args: dict[str, Any]) -> tuple[int, Any]:
    return post(url_base, token, "create_job", args)


def list_jobs(url_base: str, token: str | None, **args: str) -> tuple[int, Any]:
    answer = requests.get(f"{url_base}/api/v1/scheduler/list_jobs", params=args, headers=_headers(token),
                          timeout=TIMEOUT)
    return answer.status_code, json.loads(answer.content)


def delete_job(url_base: str, token: str | None, job_id: str) -> tuple[int, Any]:
    return post(url_base, token, "delete_job", {"job_id": job_id})


def enable_job(url_base: str, token: str | None, job_id: str) -> tuple[int, Any]:
    return post(url_base, token, "enable_job", {"job_id": job_id})


def disable_job(url_base: str, token: str | None, job_id: str) -> tuple[int, Any]:
    return post(url_base, token, "disable_job", {"job_id": job_id})


def trigger_job(url_base: str, token: str | None, job_id: str) -> tuple[int, Any]:
    return post(url_base, token, "trigger_job", {"job_id": job_id})


def get_run(url_base: str, token: str | None, run_id: str) -> tuple[int, Any]:
    answer = requests.get(f"{url_base}/api/v1/scheduler/runs/{run_id}", headers=_headers(token), timeout=TIMEOUT)
    return answer.status_code, json.loads(answer.content)
