"""The production writer against a local HTTP/1.1 server that answers like the API server (a JSON body on
every write): writes whose answers cronflow does not need still read them to the end, so the next request
on the same pooled connection gets its own answer, and one connection serves them all."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client

from cronflow import kube

ANSWER = json.dumps({"kind": "CronJob", "metadata": {"managedFields": [{"f:spec": "x" * 4000}]}}).encode()


class _ApiServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the API server's
    connections: set[int] = set()
    requests: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).connections.add(self.client_address[1])
        type(self).requests.append(f"{self.command} {self.path.split('?')[0]}")
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    do_PATCH = do_POST = do_DELETE = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_ApiServer]]:
    _ApiServer.connections, _ApiServer.requests = set(), []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ApiServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    configuration = client.Configuration()
    configuration.host = f"http://127.0.0.1:{httpd.server_address[1]}"
    api = client.ApiClient(configuration)
    monkeypatch.setattr(kube, "api_client", lambda: api)
    yield _ApiServer
    httpd.shutdown()
    api.close()  # type: ignore[no-untyped-call]


CRONJOB = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "team-a"}}
SJ = {"metadata": {"name": "nightly", "namespace": "team-a", "resourceVersion": "7"}}
JOB = {"apiVersion": "batch/v1", "kind": "Job",
       "metadata": {"name": "nightly-manual-1", "namespace": "team-a", "resourceVersion": "8"}}


def test_writes_read_their_answers_so_one_pooled_connection_serves_every_request(
    api_server: type[_ApiServer],
) -> None:
    writer = kube.KubeWriter()
    for _ in range(3):
        writer.apply(CRONJOB)
        writer.patch_status(SJ, {"state": "ENABLED"})
    assert writer.create_job(JOB) is True
    writer.patch_job_metadata(JOB, [])
    writer.delete_job("team-a", "nightly-manual-1")
    leases = kube.KubeLeases()
    leases.replace("team-a", "cronflow", {"metadata": {"name": "cronflow", "resourceVersion": "9"}})
    assert len(api_server.requests) == 10, api_server.requests
    assert len(api_server.connections) == 1, f"{len(api_server.connections)} connections for 10 requests"
