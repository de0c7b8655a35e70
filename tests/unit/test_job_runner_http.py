"""The real runner (`python -m cronflow_job run`) against real HTTP and HTTPS servers on 127.0.0.1.

Proves the whole path the job pod takes: env in, HTTP call, result document in the termination log,
one log line on stdout, exit code. Every server and request here is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.flow_server import CJK_TEXT, Server, serve

JOBS_IMAGE = Path(__file__).resolve().parents[2] / "jobs_image"
TOKEN = "tok-3f9a7c21e5"


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not found")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def http_server() -> Iterator[Server]:
    yield from serve()


@pytest.fixture
def https_server(tls_context: ssl.SSLContext) -> Iterator[Server]:
    yield from serve(tls_context)


@dataclass
class Run:
    exit_code: int
    result: dict[str, Any]
    document: bytes
    stdout: str
    stderr: str
    seconds: float


def run_job(tmp_path: Path, flow: dict[str, Any] | str, **env: str) -> Run:
    """Run the runner as the pod does, with only the contract's environment (no proxies, no CA bundles)."""
    log = tmp_path / "termination-log"
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(JOBS_IMAGE),
        "PYTHONDONTWRITEBYTECODE": "1",
        "CRONFLOW_FLOW": flow if isinstance(flow, str) else json.dumps(flow),
        "CRONFLOW_TERMINATION_LOG": str(log),
        **env,
    }
    began = time.monotonic()
    process = subprocess.run(
        [sys.executable, "-m", "cronflow_job", "run"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    document = log.read_bytes() if log.exists() else b""
    assert len(document) <= 4096
    return Run(
        exit_code=process.returncode,
        result=json.loads(document.decode("utf-8")) if document else {},
        document=document,
        stdout=process.stdout,
        stderr=process.stderr,
        seconds=time.monotonic() - began,
    )


def assert_one_log_line(run: Run, status: str) -> None:
    lines = run.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cronflow-job status={status} ")
    assert TOKEN not in run.stdout
    assert run.stderr == ""


def test_200_posts_the_contract_body_with_bearer_and_records_the_answer(
    tmp_path: Path, http_server: Server
) -> None:
    flow = {
        "endpoint": f"{http_server.url}/ok",
        "binaryPath": "admin/flow.bin",
        "settings": {"runtimeConfig": {"maxPages": 2}, "tags": ["t"]},
    }
    run = run_job(tmp_path, flow, CRONFLOW_AUTH_TOKEN=TOKEN, CRONFLOW_INPUT_FILE="in/a.pdf")

    assert run.exit_code == 0
    [request] = http_server.received
    assert (request.method, request.path) == ("POST", "/ok")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "binary_path": "admin/flow.bin",
        "input_file": "in/a.pdf",
        "settings": {"runtime_config": {"max_pages": 2}, "tags": ["t"]},
    }
    result = run.result
    assert result["v"] == 1
    assert result["status"] == "OK"
    assert result["message"] == ""
    assert result["startedAt"].endswith("Z") and result["finishedAt"].endswith("Z")
    http = result["httpResult"]
    assert http["status"] == 200
    assert http["response"] == '{"accepted": true}'
    assert http["truncated"] is False
    headers = [(h["key"], h["value"]) for h in http["headers"]]
    assert ("Content-Type", "application/json") in headers
    assert ("X-Request-Id", "r-1") in headers
    # Repeated headers stay separate entries; cookies are never written.
    assert [value for key, value in headers if key == "Set-Cookie"] == ["<redacted>", "<redacted>"]
    assert_one_log_line(run, "OK")
    assert "http=200" in run.stdout
    assert "accepted" not in run.stdout


def test_get_sends_no_body(tmp_path: Path, http_server: Server) -> None:
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/ok", "method": "GET", "binaryPath": "x"})

    assert run.exit_code == 0
    [request] = http_server.received
    assert request.method == "GET"
    assert request.body == b""
    assert "Content-Length" not in request.headers


def test_a_token_echoed_by_the_server_never_reaches_the_result(tmp_path: Path, http_server: Server) -> None:
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/echo"}, CRONFLOW_AUTH_TOKEN=TOKEN)

    assert run.exit_code == 0
    assert http_server.received[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN.encode() not in run.document
    assert json.loads(run.result["httpResult"]["response"]) == {"authorization": "Bearer <redacted>"}
    assert_one_log_line(run, "OK")


def test_500_is_an_error_with_exit_code_1(tmp_path: Path, http_server: Server) -> None:
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/fail", "method": "PUT"})

    assert run.exit_code == 1
    assert run.result["status"] == "ERROR"
    assert run.result["httpResult"]["status"] == 500
    assert run.result["httpResult"]["response"] == "boom"
    assert_one_log_line(run, "ERROR")
    assert "http=500" in run.stdout


def test_get_follows_redirects_and_records_the_final_answer(tmp_path: Path, http_server: Server) -> None:
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/redirect", "method": "GET"})

    assert run.exit_code == 0
    assert [r.path for r in http_server.received] == ["/redirect", "/ok"]
    assert run.result["httpResult"]["status"] == 200
    assert run.result["httpResult"]["response"] == '{"accepted": true}'


def test_post_does_not_follow_redirects(tmp_path: Path, http_server: Server) -> None:
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/redirect"})

    assert run.exit_code == 1
    assert [r.path for r in http_server.received] == ["/redirect"]
    assert run.result["httpResult"]["status"] == 302


def test_big_multibyte_response_is_cut_to_a_valid_4096_byte_document(
    tmp_path: Path, http_server: Server
) -> None:
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/cjk"})

    assert run.exit_code == 0
    assert 4000 < len(run.document) <= 4096
    http = run.result["httpResult"]
    assert http["truncated"] is True
    assert CJK_TEXT.startswith(http["response"])


def test_slow_server_times_out_with_a_message(tmp_path: Path, http_server: Server) -> None:
    url = f"{http_server.url}/slow"
    run = run_job(tmp_path, {"endpoint": url, "timeoutSeconds": 1})

    assert run.exit_code == 1
    assert run.result["status"] == "ERROR"
    assert run.result["httpResult"] is None
    assert run.result["message"] == f"timeout after 1s calling {url}"
    assert run.seconds < 4
    assert_one_log_line(run, "ERROR")


def test_refused_port_is_an_error_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as bound_not_listening:  # the kernel answers with a reset: refused
        bound_not_listening.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{bound_not_listening.getsockname()[1]}/ok"
        run = run_job(tmp_path, {"endpoint": url, "timeoutSeconds": 5})

    assert run.exit_code == 1
    assert run.result["httpResult"] is None
    assert run.result["message"] == f"connection refused calling {url}"
    assert_one_log_line(run, "ERROR")


def test_self_signed_certificate_is_refused_by_default(tmp_path: Path, https_server: Server) -> None:
    url = f"{https_server.url}/ok"
    run = run_job(tmp_path, {"endpoint": url, "timeoutSeconds": 5}, CRONFLOW_AUTH_TOKEN=TOKEN)

    assert run.exit_code == 1
    assert run.result["httpResult"] is None
    assert run.result["message"] == (
        f"TLS certificate verification failed calling {url}: self-signed certificate"
    )
    assert https_server.received == []
    assert_one_log_line(run, "ERROR")


def test_self_signed_certificate_is_accepted_when_verification_is_off(
    tmp_path: Path, https_server: Server
) -> None:
    flow = {"endpoint": f"{https_server.url}/ok", "verifySslCertificate": False, "timeoutSeconds": 5}
    run = run_job(tmp_path, flow, CRONFLOW_AUTH_TOKEN=TOKEN)

    assert run.exit_code == 0
    assert run.result["status"] == "OK"
    assert https_server.received[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert_one_log_line(run, "OK")  # also: no InsecureRequestWarning on stderr


@pytest.mark.parametrize("flow", ["", "{broken", '{"endpoint": "file:///etc/passwd"}'])
def test_bad_flow_writes_an_error_result_not_a_traceback(tmp_path: Path, flow: str) -> None:
    run = run_job(tmp_path, flow)

    assert run.exit_code == 1
    assert run.result["status"] == "ERROR"
    assert run.result["httpResult"] is None
    assert run.result["message"].startswith(("CRONFLOW_FLOW", "flow.endpoint"))
    assert_one_log_line(run, "ERROR")


def test_unwritable_termination_log_fails_the_run_loudly(tmp_path: Path, http_server: Server) -> None:
    missing = tmp_path / "no-such-dir" / "termination-log"
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/ok"}, CRONFLOW_TERMINATION_LOG=str(missing))

    assert run.exit_code == 1
    assert f"cannot write the result to {missing}" in run.stderr


def test_server_closing_without_an_answer_is_an_error_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(10)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/ok"

        def hang_up() -> None:
            with contextlib.suppress(OSError):
                connection, _ = listener.accept()
                connection.recv(1)
                connection.close()

        closer = threading.Thread(target=hang_up, daemon=True)
        closer.start()
        run = run_job(tmp_path, {"endpoint": url, "timeoutSeconds": 5})
        closer.join(5)

    assert run.exit_code == 1
    assert run.result["httpResult"] is None
    assert run.result["message"].startswith(f"connection failed calling {url}: ")
    assert_one_log_line(run, "ERROR")


def test_a_flaky_service_is_retried_until_it_answers(tmp_path: Path, http_server: Server) -> None:
    flow = {"endpoint": f"{http_server.url}/flaky/a?fail=2&retryAfter=0", "retry": {"attempts": 3}}
    run = run_job(tmp_path, flow)

    assert run.exit_code == 0
    assert (run.result["status"], run.result["attempts"], run.result["httpResult"]["status"]) == ("OK", 3, 200)
    assert len(http_server.to("/flaky/a")) == 3
    assert_one_log_line(run, "OK")
    assert " attempts=3 " in run.stdout


@pytest.mark.parametrize(
    ("mode", "first"),
    [("", "HTTP 503"), ("&drop=1", "connection failed: "), ("&status=429&retryAfter=0", "HTTP 429")],
)
def test_exhausted_retries_are_an_error_listing_each_attempt(
    tmp_path: Path, http_server: Server, mode: str, first: str
) -> None:
    key = f"b{len(mode)}"
    flow = {
        "endpoint": f"{http_server.url}/flaky/{key}?fail=9{mode}",
        "retry": {"attempts": 2, "backoffSeconds": 0.05},
        "timeoutSeconds": 5,
    }
    run = run_job(tmp_path, flow)

    assert run.exit_code == 1
    assert run.result["attempts"] == 2
    assert run.result["message"].startswith(f"2 attempts failed: 1: {first}")
    assert "; 2: " in run.result["message"]
    assert len(http_server.to(f"/flaky/{key}")) == 2
    assert_one_log_line(run, "ERROR")


def test_a_200_with_an_error_body_fails_success_when(tmp_path: Path, http_server: Server) -> None:
    flow = {"endpoint": f"{http_server.url}/error", "success": {"when": "status == 'OK'"}, "retry": {"attempts": 3}}
    run = run_job(tmp_path, flow)

    assert run.exit_code == 1
    assert run.result["message"] == "flow.success.when `status == 'OK'` was false"
    assert run.result["attempts"] == 1
    assert json.loads(run.result["httpResult"]["response"])["msg"] == "the flow binary was not found"


@pytest.mark.parametrize(
    ("end", "status", "message"),
    [
        ("COMPLETE", "OK", ""),
        ("FAILED", "ERROR", "the remote job {key} ended: flow.completion.successWhen `state == 'COMPLETE'` was false"),
        ("NEVER", "ERROR", "the remote job {key} was still running after 0.5 s (flow.completion.timeoutSeconds)"),
    ],
)
def test_an_async_flow_is_followed_to_its_end(
    tmp_path: Path, http_server: Server, end: str, status: str, message: str
) -> None:
    key = f"job-{end.lower()}"
    flow = {
        "endpoint": f"{http_server.url}/async/start/{key}?polls=2&end={end}",
        "success": {"when": "status == 'OK'"},
        "completion": {
            "jobId": "data.job_id",
            "statusUrl": f"{http_server.url}/async/status?job_id={{jobId}}",
            "intervalSeconds": 0.05,
            "timeoutSeconds": 0.5,
            "doneWhen": "state != 'RUNNING'",
            "successWhen": "state == 'COMPLETE'",
        },
    }
    run = run_job(tmp_path, flow, CRONFLOW_AUTH_TOKEN=TOKEN)

    assert (run.result["status"], run.result["message"]) == (status, message.format(key=key))
    assert run.exit_code == (0 if status == "OK" else 1)
    assert json.loads(run.result["httpResult"]["response"])["data"]["job_id"] == key
    completion = run.result["completion"]
    assert completion["jobId"] == key
    assert json.loads(completion["httpResult"]["response"])["state"] == ("RUNNING" if end == "NEVER" else end)
    polls = http_server.to("/async/status")
    assert len(polls) == 3 if end != "NEVER" else 5 <= len(polls) <= 11
    assert all(poll.headers["Authorization"] == f"Bearer {TOKEN}" for poll in polls)
    assert_one_log_line(run, status)


def test_a_form_with_the_claimed_file_is_submitted_and_its_uuid_polled(tmp_path: Path, http_server: Server) -> None:
    claimed = tmp_path / "spool" / ".cronflow" / "processing" / "in.fasta"
    claimed.parent.mkdir(parents=True)
    claimed.write_bytes(b">seq1\r\nACGT\x00\xff\n" * 5000)
    flow = {
        "endpoint": f"{http_server.url}/submission",
        "query": {"polls": "1"},
        "form": {"fields": {"email": "ops@example.com", "submission_name": "nightly"}, "fileField": "input_data"},
        "completion": {
            "jobId": "UUID",
            "statusUrl": f"{http_server.url}/submission/{{jobId}}",
            "intervalSeconds": 0.05,
            "timeoutSeconds": 5,
            "doneWhen": "state != 'Running'",
            "successWhen": "state == 'Complete'",
        },
    }
    run = run_job(
        tmp_path, flow, CRONFLOW_INPUT_FILE=".cronflow/processing/in.fasta", CRONFLOW_INPUT_PATH=str(claimed)
    )

    assert run.exit_code == 0, run.result
    [submitted] = http_server.to("/submission")
    assert submitted.query == {"polls": ["1"]}
    assert submitted.part("email").data == b"ops@example.com"
    assert submitted.part("submission_name").data == b"nightly"
    file_part = submitted.part("input_data")
    assert (file_part.filename, file_part.data) == ("in.fasta", claimed.read_bytes())
    uuid = json.loads(run.result["httpResult"]["response"])["UUID"]
    assert run.result["completion"]["jobId"] == uuid
    assert [request.route() for request in http_server.received[1:]] == [f"/submission/{uuid}"] * 2
    assert json.loads(run.result["completion"]["httpResult"]["response"])["state"] == "Complete"


def test_a_form_without_a_file_sends_an_empty_file_part(tmp_path: Path, http_server: Server) -> None:
    flow = {
        "endpoint": f"{http_server.url}/submission",
        "form": {"fields": {"email": "ops@example.com", "submission_name": "n"}, "fileField": "input_data"},
    }
    run = run_job(tmp_path, flow)

    assert run.exit_code == 0 and run.result["httpResult"]["status"] == 201
    part = http_server.received[0].part("input_data")
    assert (part.filename, part.content_type, part.data) == ("empty.txt", "text/plain", b"")


def test_secret_headers_reach_the_server_and_never_the_result_or_the_log(tmp_path: Path, http_server: Server) -> None:
    secret = "hdr-PLANTED-5e2a9"
    flow = {"endpoint": f"{http_server.url}/echo-headers", "method": "DELETE", "headers": {"X-Api-Key": "spec"}}
    run = run_job(tmp_path, flow, **{"CRONFLOW_HEADER_X-Api-Key": secret, "CRONFLOW_HEADER_X-Tenant": "t-PLANTED"})

    assert run.exit_code == 0
    [request] = http_server.received
    assert request.method == "DELETE" and request.body == b""
    assert (request.headers["X-Api-Key"], request.headers["X-Tenant"]) == (secret, "t-PLANTED")  # the Secret wins
    assert b"PLANTED" not in run.document and "PLANTED" not in run.stdout + run.stderr
    echoed = {h["key"]: h["value"] for h in run.result["httpResult"]["headers"]}
    assert echoed["X-Echo-Api-Key"] == "<redacted>"


def test_a_bad_secret_header_value_is_an_error_that_does_not_show_it(tmp_path: Path, http_server: Server) -> None:
    run = run_job(tmp_path, {"endpoint": f"{http_server.url}/ok"}, **{"CRONFLOW_HEADER_X-Api-Key": "PLANTED\nX: y"})

    assert run.exit_code == 1 and http_server.received == []
    assert run.result["message"].startswith("spec.flow.headersSecretRef: the value of X-Api-Key must be one line")
    assert b"PLANTED" not in run.document and "PLANTED" not in run.stdout
