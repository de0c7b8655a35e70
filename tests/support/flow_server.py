"""A flow service stand-in for tests: real HTTP(S) on a local address, recording every request.

Paths: /ok (200 JSON with cookies), /echo (echoes the Authorization header), /fail (500), /redirect
(302 to /ok), /slow (answers when released or after 5 s), /cjk (10 KB of multi-byte text).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CJK_TEXT = "日本語のテキスト🙂" * 400  # about 10 KB of UTF-8


@dataclass
class Received:
    """One request as the server got it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    """A running server: its URL and what it received."""

    url: str
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


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

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.state.received.append(Received(self.command, self.path, dict(self.headers), body))
        if self.path == "/ok":
            cookies = [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
            self._send(200, b'{"accepted": true}', [*cookies, ("X-Request-Id", "r-1")])
        elif self.path == "/echo":
            echoed = json.dumps({"authorization": self.headers.get("Authorization")}).encode()
            self._send(200, echoed)
        elif self.path == "/fail":
            self._send(500, b"boom", content_type="text/plain")
        elif self.path == "/redirect":
            self._send(302, b"", [("Location", "/ok")])
        elif self.path == "/slow":
            self.server.state.release.wait(5)
            self._send(200, b"late")
        elif self.path == "/cjk":
            self._send(200, CJK_TEXT.encode(), content_type="text/plain; charset=utf-8")
        else:
            self._send(404, b"no such path", content_type="text/plain")

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
