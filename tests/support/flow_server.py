"""A flow service stand-in for tests: real HTTP(S) on a local address, recording every request.

Paths: /ok (200 JSON with cookies), /echo (echoes the Authorization header), /echo-headers (echoes every
request header in the body, and each X-* one as a response header X-Echo-<name>), /fail (500), /redirect
(302 to /ok), /slow (answers when released or after 5 s), /cjk (10 KB of multi-byte text), /error (200
with {"status": "ERROR", "msg"}: a flow API's failure), /markup (200 text/html <script>alert(1)</script>:
what a dashboard must show as text), and, each with its own state per key so that
tests can share one server:

- /flaky/<key>?fail=N[&status=503][&retryAfter=S][&drop=1]: the first N requests of <key> fail (that
  status, with that Retry-After, or a connection closed without an answer), then 200 {"status": "OK"}.
- /async/start/<key>?polls=K[&end=COMPLETE|FAILED|NEVER]: an async flow: {"status": "OK", "data":
  {"job_id": <key>}}; then /async/status?job_id=<key> answers {"status": "OK", "state": "RUNNING"} K
  times, then the end state (NEVER: RUNNING forever).
- POST /submission[?polls=K&end=Complete|Error]: a job-submission service: a multipart form with the
  fields email and submission_name and a file part input_data (400 otherwise) answers {"UUID",
  "submission_name", "message"}; GET /submission/<UUID> answers {"UUID", "submission_name", "state",
  "results"}, state Running K times, then the end state (default Complete).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CJK_TEXT = "日本語のテキスト🙂" * 400  # about 10 KB of UTF-8
MARKUP = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Received:
    """One request as the server got it: `path` with its query string, `query` parsed, `parts` of a form."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, list[str]] = field(default_factory=dict)
    parts: list[Part] | None = None

    def route(self) -> str:
        return urlsplit(self.path).path

    def part(self, name: str) -> Part:
        [found] = [part for part in self.parts or [] if part.name == name]
        return found


@dataclass
class Job:
    """A remote job of /async or /submission: RUNNING for `polls` more polls, then `end`."""

    polls: int
    end: str
    name: str = ""


@dataclass
class Server:
    """A running server: its URL and what it received."""

    url: str
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    failures: dict[str, int] = field(default_factory=dict)  # /flaky: requests seen per key
    jobs: dict[str, Job] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, route: str) -> list[Received]:
        """The requests received on `route` (the path without the query string)."""
        return [request for request in self.received if request.route() == route]


class FlowHandler(BaseHTTPRequestHandler):
    """A flow service stand-in; routes by path, records every request it gets."""

    server: _RecordingServer
    timeout = 5

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        kind = self.headers.get("Content-Type", "")
        parts = parse_form(kind, body) if kind.startswith("multipart/form-data") else None
        state = self.server.state
        with state.lock:
            state.received.append(Received(self.command, self.path, dict(self.headers), body, query, parts))
        param = {key: values[-1] for key, values in query.items()}
        route = url.path
        if route.startswith("/flaky/"):
            self._flaky(route.removeprefix("/flaky/"), param)
        elif route.startswith("/async/start/"):
            key = route.removeprefix("/async/start/")
            with state.lock:
                state.jobs[key] = Job(int(param.get("polls", "0")), param.get("end", "COMPLETE"))
            self._json(200, {"status": "OK", "data": {"job_id": key, "output_folder": f"out/{key}"}})
        elif route == "/async/status":
            found = self._poll(param.get("job_id", ""), "RUNNING")
            self._json(200, {"status": "OK", "state": found} if found else {"status": "ERROR", "msg": "no such job"})
        elif route == "/submission" and self.command == "POST":
            self._submit(parts, param)
        elif route.startswith("/submission/"):
            self._submission(route.removeprefix("/submission/"))
        elif route == "/echo-headers":
            mirrored = [(f"X-Echo-{key[2:]}", value) for key, value in self.headers.items() if key[:2].lower() == "x-"]
            self._send(200, json.dumps(dict(self.headers)).encode(), mirrored)
        elif route == "/error":
            self._json(200, {"status": "ERROR", "msg": "the flow binary was not found"})
        elif route == "/ok":
            cookies = [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
            self._send(200, b'{"accepted": true}', [*cookies, ("X-Request-Id", "r-1")])
        elif route == "/echo":
            echoed = json.dumps({"authorization": self.headers.get("Authorization")}).encode()
            self._send(200, echoed)
        elif route == "/fail":
            self._send(500, b"boom", content_type="text/plain")
        elif route == "/markup":
            self._send(200, MARKUP.encode(), content_type="text/html")
        elif route == "/redirect":
            self._send(302, b"", [("Location", "/ok")])
        elif route == "/slow":
            self.server.state.release.wait(5)
            self._send(200, b"late")
        elif route == "/cjk":
            self._send(200, CJK_TEXT.encode(), content_type="text/plain; charset=utf-8")
        else:
            self._send(404, b"no such path", content_type="text/plain")

    def _flaky(self, key: str, param: dict[str, str]) -> None:
        state = self.server.state
        with state.lock:
            seen = state.failures[key] = state.failures.get(key, 0) + 1
        if seen > int(param.get("fail", "0")):
            self._json(200, {"status": "OK", "data": {"key": key, "requests": seen}})
        elif param.get("drop"):
            self.close_connection = True  # no answer at all: the client sees the connection closed
        else:
            after = [("Retry-After", param["retryAfter"])] if "retryAfter" in param else []
            self._send(int(param.get("status", "503")), b"try again later", after, content_type="text/plain")

    def _poll(self, key: str, running: str) -> str | None:
        """The state of job `key` at this poll (None: no such job)."""
        with self.server.state.lock:
            job = self.server.state.jobs.get(key)
            if job is None:
                return None
            if job.end == "NEVER" or job.polls > 0:
                job.polls -= 1
                return running
            return job.end

    def _submit(self, parts: list[Part] | None, param: dict[str, str]) -> None:
        named = {part.name: part for part in parts or []}
        missing = [name for name in ("email", "submission_name", "input_data") if name not in named]
        if missing or named["input_data"].filename is None:
            self._json(400, {"error": f"missing form fields: {', '.join(missing) or 'input_data (a file)'}"})
            return
        key, name = str(uuid.uuid4()), named["submission_name"].data.decode()
        with self.server.state.lock:
            self.server.state.jobs[key] = Job(int(param.get("polls", "0")), param.get("end", "Complete"), name)
        self._json(201, {"UUID": key, "submission_name": name, "message": "Request Received"})

    def _submission(self, key: str) -> None:
        state_name = self._poll(key, "Running")
        if state_name is None:
            self._json(404, {"error": f"no submission {key}"})
            return
        name = self.server.state.jobs[key].name
        results = [f"/submission/{key}/results/output.txt"] if state_name == "Complete" else []
        self._json(200, {"UUID": key, "submission_name": name, "state": state_name, "results": results})

    def _json(self, status: int, value: object) -> None:
        self._send(status, json.dumps(value).encode())

    def _send(
        self,
        status: int,
        body: bytes,
        headers: Sequence[tuple[str, str]] = (),
        content_type: str = "application/json",
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers:
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (timeout test)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _RecordingServer(ThreadingHTTPServer):
    daemon_threads = True
    state: Server

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed TLS handshakes are expected in the verification tests


def parse_form(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart/form-data body (the standard library's MIME parser does the work)."""
    message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts: list[Part] = []
    for item in message.get_payload() if message.is_multipart() else []:
        assert isinstance(item, Message)
        payload = item.get_payload(decode=True)
        parts.append(
            Part(
                name=str(item.get_param("name", header="content-disposition")),
                filename=item.get_filename(),
                content_type=item.get_content_type(),
                data=payload if isinstance(payload, bytes) else b"",
            )
        )
    return parts


def serve(tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> Iterator[Server]:
    """Run a flow service stand-in on `host` (a free port) until the generator is closed."""
    httpd = _RecordingServer((host, 0), FlowHandler)
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    port = httpd.server_address[1]
    httpd.state = Server(url=f"{'https' if tls else 'http'}://{host}:{port}")
    with serving(httpd, httpd.state.release):
        yield httpd.state


@contextlib.contextmanager
def serving(httpd: ThreadingHTTPServer, release: threading.Event) -> Iterator[None]:
    """Serve `httpd` in a thread until the block ends; then `release` held requests and shut it down."""
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
