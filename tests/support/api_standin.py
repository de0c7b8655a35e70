"""A stand-in API server for unit tests of the clients: a local HTTP/1.1 (keep-alive) server that records
each request and answers it with JSON; subclasses say what to answer."""

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from tests.support.flow_server import serving


class StandInApi(BaseHTTPRequestHandler):
    """Records `requests` (method, path, headers, parsed body, the client's port) and answers `answer()`."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the API server's
    requests: ClassVar[list[dict[str, Any]]] = []

    def answer(self) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for the request being served."""
        return 200, {}

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                              "body": json.loads(body) if body else None, "port": self.client_address[1]})
        status, document = self.answer()
        encoded = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def standin_api(handler: type[StandInApi]) -> Iterator[str]:
    """Serve `handler` on a free loopback port with its `requests` emptied; yields the base URL."""
    handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    with serving(httpd, threading.Event()):
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
