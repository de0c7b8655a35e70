"""A small asyncio client of the Kubernetes API (aiohttp, admin kubeconfig): requests, concurrent creates, watches.

The benchmark drives the API server itself instead of running kubectl per object, so what it measures
is the operator and the API server, not process start-up of a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes import client, config

from cronflow import names

Obj = dict[str, Any]

TOO_MANY_REQUESTS_RETRIES = 30


class ApiError(Exception):
    """A non-2xx answer of the API server."""

    def __init__(self, status: int, method: str, path: str, body: str):
        super().__init__(f"{method} {path}: HTTP {status}: {body[:300]}")
        self.status = status


def path_of(resource: str, namespace: str | None = None, name: str | None = None) -> str:
    """The URL path of `resource` ('cronjobs', 'jobs', 'scheduledjobs', 'namespaces', 'pods')."""
    prefix = {
        "cronjobs": "/apis/batch/v1",
        "jobs": "/apis/batch/v1",
        names.PLURAL: f"/apis/{names.API_VERSION}",
    }.get(resource, "/api/v1")
    path = prefix + (f"/namespaces/{namespace}" if namespace else "") + f"/{resource}"
    return path + (f"/{name}" if name else "")


class Kube:
    """One aiohttp session to the API server, authenticated by the kubeconfig's client certificate or token."""

    def __init__(self, kubeconfig: Path, connections: int = 64):
        cfg = client.Configuration()
        config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)  # type: ignore[no-untyped-call]
        self.host = cfg.host.rstrip("/")
        context = ssl.create_default_context(cafile=cfg.ssl_ca_cert)
        if cfg.cert_file:
            context.load_cert_chain(cfg.cert_file, cfg.key_file)
        self._headers = {"Accept": "application/json"}
        token = (cfg.api_key or {}).get("authorization")
        if token:
            self._headers["Authorization"] = token
        self._ssl = context
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Kube:
        connector = aiohttp.TCPConnector(ssl=self._ssl, limit=self._connections)
        self._session = aiohttp.ClientSession(connector=connector, headers=self._headers)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use `async with Kube(...)`"
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        params: dict[str, str] | None = None,
        ok_statuses: Iterable[int] = (),
    ) -> Obj:
        """One request; the parsed answer (an empty dict for an accepted error status in `ok_statuses`)."""
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": content_type} if body is not None else {}
        timeout = aiohttp.ClientTimeout(total=60)
        for attempt in range(TOO_MANY_REQUESTS_RETRIES + 1):
            async with self.session.request(
                method, self.host + path, data=data, headers=headers, params=params, timeout=timeout
            ) as response:
                text = await response.text()
                if response.status == 429 and attempt < TOO_MANY_REQUESTS_RETRIES:
                    # e.g. "storage is (re)initializing" right after the CRD was installed
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                if response.status >= 400:
                    if response.status in ok_statuses:
                        return {}
                    raise ApiError(response.status, method, path, text)
                return json.loads(text) if text else {}
        raise AssertionError("unreachable")

    async def get_text(self, path: str) -> str:
        """GET a plain-text answer (e.g. /metrics)."""
        async with self.session.get(self.host + path, headers={"Accept": "text/plain"},
                                    timeout=aiohttp.ClientTimeout(total=60)) as response:
            text = await response.text()
            if response.status >= 400:
                raise ApiError(response.status, "GET", path, text)
            return text

    async def get(self, path: str, **params: str) -> Obj:
        """GET, parsed."""
        return await self.request("GET", path, params=params or None)

    async def create(self, resource: str, namespace: str | None, obj: Obj) -> Obj:
        """POST a new object."""
        return await self.request("POST", path_of(resource, namespace), obj)

    async def apply(self, resource: str, namespace: str | None, obj: Obj, manager: str = "cronflow-bench") -> Obj:
        """Server-side apply (what `kubectl apply --server-side` sends)."""
        return await self.request(
            "PATCH", path_of(resource, namespace, obj["metadata"]["name"]), obj,
            content_type="application/apply-patch+yaml", params={"fieldManager": manager, "force": "true"},
        )

    async def merge_patch(self, resource: str, namespace: str | None, name: str, patch: Obj) -> Obj:
        """A JSON merge patch (what `kubectl patch --type merge` sends)."""
        return await self.request(
            "PATCH", path_of(resource, namespace, name), patch, content_type="application/merge-patch+json"
        )

    async def delete(self, resource: str, namespace: str | None, name: str) -> None:
        """DELETE, ignoring a missing object."""
        await self.request("DELETE", path_of(resource, namespace, name), ok_statuses=(404,))

    async def list_items(self, resource: str, namespace: str | None = None, **params: str) -> list[Obj]:
        """All items (one page)."""
        items: list[Obj] = (await self.get(path_of(resource, namespace), **params)).get("items") or []
        return items

    async def create_many(self, resource: str, namespace: str, objs: list[Obj], concurrency: int = 48) -> None:
        """Create `objs` with `concurrency` requests in flight (an empty object list is fine)."""
        queue: asyncio.Queue[Obj] = asyncio.Queue()
        for obj in objs:
            queue.put_nowait(obj)

        async def worker() -> None:
            while not queue.empty():
                obj = queue.get_nowait()
                for attempt in range(5):
                    try:
                        await self.create(resource, namespace, obj)
                        break
                    except ApiError as error:
                        if error.status == 409:
                            break
                        if error.status != 429 or attempt == 4:
                            raise
                        await asyncio.sleep(0.2 * (attempt + 1))

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(objs)))))


WatchCallback = Callable[[str, Obj, float], None]


@dataclass
class Watch:
    """A background watch of one resource in one namespace; calls `on_event(type, obj, monotonic time)`.

    The receive time is taken when the event's line arrives, before parsing, so it is the client-side
    moment the change became visible to any watcher (which is also how the operator learns of it).
    """

    kube: Kube
    resource: str
    namespace: str
    on_event: WatchCallback
    started: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> Watch:
        """Start watching from the current state (existing objects arrive as ADDED); returns once established."""
        self._task = asyncio.create_task(self._run())
        waiter = asyncio.create_task(self.started.wait())
        done, _ = await asyncio.wait({waiter, self._task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            self._task.result()
        if not self.started.is_set():
            waiter.cancel()
            raise TimeoutError(f"watch of {self.resource} in {self.namespace} did not start")
        return self

    async def stop(self) -> None:
        """Cancel the watch."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        listing = await self.kube.get(path_of(self.resource, self.namespace))
        now = time.monotonic()
        for item in listing.get("items") or []:
            self.on_event("ADDED", item, now)
        version = listing["metadata"]["resourceVersion"]
        while True:
            params = {"watch": "1", "resourceVersion": version, "allowWatchBookmarks": "true",
                      "timeoutSeconds": "1800"}
            timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
            async with self.kube.session.get(
                self.kube.host + path_of(self.resource, self.namespace), params=params, timeout=timeout
            ) as response:
                if response.status != 200:
                    raise ApiError(response.status, "WATCH", self.resource, await response.text())
                self.started.set()
                buffer = b""
                async for chunk in response.content.iter_any():
                    received = time.monotonic()
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        obj = event["object"]
                        if event["type"] == "ERROR":
                            raise ApiError(obj.get("code", 0), "WATCH", self.resource, obj.get("message", ""))
                        version = obj["metadata"]["resourceVersion"]
                        if event["type"] != "BOOKMARK":
                            self.on_event(event["type"], obj, received)


async def wait_for(what: str, probe: Callable[[], bool], timeout: float, every: float = 0.01) -> float:
    """Wait until `probe()` is true; returns the monotonic time it was first seen true."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)
    return time.monotonic()


async def wait_async(what: str, probe: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.25) -> None:
    """Wait until the coroutine `probe()` answers true."""
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)
