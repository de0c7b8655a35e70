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
