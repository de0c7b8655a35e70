"""The production writer against a local HTTP/1.1 server that answers like the API server (a JSON body on
every write): writes whose answers cronflow does not need still read them to the end, so the next request
on the same pooled connection gets its own answer, and one connection serves them all."""

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from cronflow import kube
from tests.support.api_standin import StandInApi, standin_api

ANSWER = {"kind": "CronJob", "metadata": {"managedFields": [{"f:spec": "x" * 4000}]}}


class _ApiServer(StandInApi):
    def answer(self) -> tuple[int, dict[str, Any]]:
        return (201 if self.command == "POST" else 200), ANSWER


@contextlib.contextmanager
def serving_the_writer(handler: type[StandInApi], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """`handler` as the writer's API server; yields the requests it receives."""
    with standin_api(handler) as url:
        api = client.ApiClient(client.Configuration(host=url))
        monkeypatch.setattr(kube, "api_client", lambda: api)
        yield handler.requests
        api.close()  # type: ignore[no-untyped-call]


@pytest.fixture
def api_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The stand-in as the writer's API server; yields the requests it received."""
    with serving_the_writer(_ApiServer, monkeypatch) as requests:
        yield requests


CRONJOB = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "team-a"}}
SJ = {"metadata": {"name": "nightly", "namespace": "team-a", "resourceVersion": "7"}}
JOB = {"apiVersion": "batch/v1", "kind": "Job",
       "metadata": {"name": "nightly-manual-1", "namespace": "team-a", "resourceVersion": "8"}}


def test_writes_read_their_answers_so_one_pooled_connection_serves_every_request(
    api_server: list[dict[str, Any]],
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
    assert len(api_server) == 10, [f"{r['method']} {r['path']}" for r in api_server]
    connections = {r["port"] for r in api_server}
    assert len(connections) == 1, f"{len(connections)} connections for 10 requests"


class _GoneApiServer(StandInApi):
    def answer(self) -> tuple[int, dict[str, Any]]:
        return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}


def test_deleting_what_is_gone_already_is_fine_and_keeps_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    with serving_the_writer(_GoneApiServer, monkeypatch) as requests:
        writer = kube.KubeWriter()
        writer.delete_job("team-a", "nightly-manual-1")
        writer.delete_deployment("team-a", "nightly-watcher")
    assert [r["method"] for r in requests] == ["DELETE", "DELETE"]
