"""Readiness (`/readyz`): ready only while the controller runs, the API server answers every list
that the operator's watches make, with the operator's own credentials, and it answers about the
leader-election lease (a follower is Ready too: see Readiness.election).

Liveness stays kopf's `/healthz` (the event loop answers): an unreachable API server makes the pod
not Ready, not restarted. A watch is a list that stays open, so a failed list means that watch cannot
be (re-)established either: the API server is down or unreachable, or RBAC denies it.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import urllib3
from aiohttp import web
from kubernetes.client.exceptions import ApiException

from cronflow import kube, names

CHECK_EVERY_SECONDS = 5.0
"""Pause between two rounds of lists (one round at a time, in the background; a probe reads the last)."""
STALE_SECONDS = 20.0
"""A check older than this (the last round still waits for its answers) counts as no answer."""
REQUEST_TIMEOUT_SECONDS = (2.0, 3.0)  # connect, read
log = logging.getLogger(__name__)

# (API path prefix, plural, label selector) of each kind the operator watches (handlers.py).
_MANAGED = f"{names.MANAGED_BY_LABEL}={names.MANAGED_BY_VALUE}"
WATCHED = (
    (f"/apis/{names.GROUP}/{names.VERSION}", names.PLURAL, ""),
    ("/apis/batch/v1", "cronjobs", _MANAGED),
    ("/apis/batch/v1", "jobs", _MANAGED),
    ("/apis/apps/v1", "deployments", f"{_MANAGED},{names.ROLE_LABEL}={names.WATCHER_ROLE}"),
)


def watch_lists(namespaces: Sequence[str]) -> list[tuple[str, str]]:
    """(path, label selector) of the list behind each of the operator's watches."""
    scopes = [f"/namespaces/{ns}" for ns in namespaces] or [""]
    return [(f"{prefix}{scope}/{plural}", selector) for prefix, plural, selector in WATCHED for scope in scopes]


def list_once(path: str, selector: str) -> None:
    """One list of at most one object; raises ApiException on a non-2xx answer, urllib3's or OSError
    when none comes."""
    query = [("limit", 1)] + ([("labelSelector", selector)] if selector else [])
    api = kube.api_client()
    request = api.param_serialize("GET", path, query_params=query, auth_settings=["BearerToken"])
    response = api.call_api(*request, _request_timeout=REQUEST_TIMEOUT_SECONDS)
    if not 200 <= response.status < 300:
        raise ApiException(status=response.status, reason=response.reason)


def describe(error: Exception) -> str:
    """A short reason for the probe's answer (no response body: it could be large)."""
    if isinstance(error, ApiException):
        return f"HTTP {error.status} {error.reason}"
    return f"{type(error).__name__}: {error}"


@dataclass
class Readiness:
    """The operator's readiness: the controller started and every watch list answered lately."""

    lists: Iterable[tuple[str, str]]
    lister: Callable[[str, str], None] = list_once
    clock: Callable[[], float] = time.monotonic
    controller_running: bool = False
    election: Callable[[], str | None] | None = None
    """Why the leader election is not sound (leader.Elector.readiness), None when it is. A follower is
    Ready: it watches, keeps its cache and takes over when the leader goes (the client-go and
    controller-runtime convention); only an operator that cannot read its lease is not."""
    _checked_at: float | None = None
    _reason: str | None = field(default="not checked yet")

    def refresh(self) -> None:
        """Ask the API server once for every watch list (blocking: run it in a thread)."""
        reason = None
        for path, selector in self.lists:
            try:
                self.lister(path, selector)
            except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
                reason = f"GET {path}: {describe(error)}"
                break
        if reason is not None and reason != self._reason:
            log.info("not ready: %s", reason)
        self._reason, self._checked_at = reason, self.clock()

    def answer(self) -> str | None:
        """None when ready, else why not."""
        if not self.controller_running:
            return "the controller has not started"
        if self.election is not None and (reason := self.election()) is not None:
            return f"leader election: {reason}"
        if self._checked_at is None:
            return "the API server has not been asked yet"
        age = self.clock() - self._checked_at
        if age > STALE_SECONDS:
            return f"no answer from the API server for {age:.0f} s"
        return self._reason


async def serve(readiness: Readiness, port: int) -> None:
    """Check every CHECK_EVERY_SECONDS and serve GET /readyz on `port` (200 ready, 503 with the
    reason) until cancelled; a probe never waits for the API server."""

    async def readyz(_: web.Request) -> web.Response:
        reason = readiness.answer()
        if reason is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=f"not ready: {reason}\n")

    app = web.Application()
    app.add_routes([web.get("/readyz", readyz)])
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()  # the kubelet probes the pod's address
    try:
        while True:
            await asyncio.to_thread(readiness.refresh)
            await asyncio.sleep(CHECK_EVERY_SECONDS)
    finally:
        await asyncio.shield(runner.cleanup())
