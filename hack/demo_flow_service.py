"""A stand-in flow service for the demo: answers every POST/PUT/GET with a small JSON document.

Usage: python3 hack/demo_flow_service.py HOST PORT   (runs until killed)
"""

import json
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FlowService(BaseHTTPRequestHandler):
    """Accepts a flow run and says so, like a job-submission service would."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}") if length else {}
        body = json.dumps({"run_id": uuid.uuid4().hex[:12], "accepted": True, "received": request}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer


if __name__ == "__main__":
    ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), FlowService).serve_forever()
