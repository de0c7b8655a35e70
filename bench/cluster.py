"""Per-part namespaces, the job image on the node, and the audit log read incrementally.

The cluster itself (hack/cluster, kubectl, the CRD) and the operator's RBAC come from tests/support.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.kube import ApiError, Kube, path_of
from cronflow import names
from tests.support.cluster import JOB_IMAGE, REPO, WRITE_VERBS
from tests.support.rbac import OPERATOR_USER

READ_VERBS = {"get", "list", "watch"}
BENCH_LABEL = f"{names.GROUP}/bench"


async def ensure_job_image(kube: Kube, image: str = JOB_IMAGE) -> None:
    """Build and load the job image with hack/images unless the node has it already."""
    node = await kube.get("/api/v1/nodes/localhost")
    loaded = {n for i in (node.get("status") or {}).get("images") or [] for n in i.get("names") or []}
    if not any(n.endswith("/" + image) or n == image for n in loaded):
        await asyncio.to_thread(subprocess.run, [str(REPO / "hack" / "images")], check=True, timeout=1800)


async def create_namespace(kube: Kube, prefix: str) -> str:
    """A fresh namespace (restricted Pod Security), labelled as the benchmark's."""
    name = f"bench-{prefix}-{uuid.uuid4().hex[:5]}"
    await kube.create("namespaces", None, {"metadata": {"name": name, "labels": {
        BENCH_LABEL: "true", "pod-security.kubernetes.io/enforce": "restricted"}}})
    return name


async def delete_namespaces(kube: Kube, namespaces: list[str], timeout: float = 90) -> list[str]:
    """Delete the namespaces without waiting on them forever; Jobs' result finalizers are dropped (the
    operator is stopped by then). Returns the namespaces still present after `timeout`."""
    for namespace in namespaces:
        await kube.delete("namespaces", None, namespace)
    deadline = time.monotonic() + timeout
    left = list(namespaces)
    while left and time.monotonic() < deadline:
        for namespace in list(left):
            try:
                jobs = await kube.list_items("jobs", namespace)
            except ApiError as error:
                if error.status == 404:
                    left.remove(namespace)
                    continue
                raise
            for job in jobs:
                if job["metadata"].get("finalizers"):
                    await kube.request(
                        "PATCH", path_of("jobs", namespace, job["metadata"]["name"]),
                        {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json",
                        ok_statuses=(404, 409),
                    )
            if (await kube.request("GET", path_of("namespaces", None, namespace), ok_statuses=(404,))) == {}:
                left.remove(namespace)
        if left:
            await asyncio.sleep(2)
    return left


def parse_time(value: str) -> float:
    """An RFC 3339 time (audit: microseconds; objects: seconds) as a Unix timestamp."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class Request:
    """One API request as the audit log recorded it."""

    verb: str
    resource: str
    namespace: str
    name: str
    received: float
    code: int

    @property
    def write(self) -> bool:
        return self.verb in WRITE_VERBS

    @property
    def kind(self) -> str:
        return f"{self.verb} {self.resource}"


class AuditLog:
    """The API server's audit log (JSON lines, Metadata level): requests of the operator's user.

    Other people's operators run under the same user on this cluster, so only requests in the
    benchmark's own namespaces are counted; cluster-scoped ones (namespaces, CRDs) are left out, and
    so is the leader election's Lease (its steady reads and renewals are not work on ScheduledJobs).
    Reading is incremental from a mark; a rotation since is followed into the rotated file.
    """

    def __init__(self, path: Path, namespaces: set[str], since: int | None = None, user: str = OPERATOR_USER):
        self.path = path
        self.namespaces = namespaces
        self.offset = self.size() if since is None else since
        self._needle = f'"username":"{user}"'.encode()
        self._found: dict[str, Request] = {}

    def size(self) -> int:
        """The current end of the log."""
        return self.path.stat().st_size if self.path.exists() else 0

    def read(self) -> list[Request]:
        """All the operator's requests in the namespaces since the mark, each once (a watch is logged twice)."""
        size = self.size()
        sources: list[tuple[Path, int]] = []
        if size < self.offset:
            rotated = sorted(self.path.parent.glob(self.path.stem + "-*" + self.path.suffix))
            if rotated:
                sources.append((rotated[-1], self.offset))
            self.offset = 0
        sources.append((self.path, self.offset))
        for path, offset in sources:
            with path.open("rb") as log:
                log.seek(offset)
                for line in log:
                    if not line.endswith(b"\n"):
                        break  # being written; read it next time
                    if path == self.path:
                        self.offset += len(line)
                    if self._needle in line:
                        self._add(json.loads(line))
        return sorted(self._found.values(), key=lambda r: r.received)

    def _add(self, event: dict[str, Any]) -> None:
        ref = event.get("objectRef") or {}
        if ref.get("namespace") not in self.namespaces or event["auditID"] in self._found:
            return
        if ref.get("resource") == "leases":  # the leader election's, read and renewed every few seconds
            return
        resource = ref.get("resource", "") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        self._found[event["auditID"]] = Request(
            verb=event["verb"], resource=resource, namespace=ref.get("namespace", ""),
            name=ref.get("name", ""), received=parse_time(event["requestReceivedTimestamp"]),
            code=int((event.get("responseStatus") or {}).get("code") or 0),
        )


def request_counts(requests: list[Request], per: int = 1) -> dict[str, Any]:
    """Reads, writes and a breakdown by verb and resource; `per` divides (requests per ScheduledJob)."""
    reads = [r for r in requests if r.verb in READ_VERBS]
    writes = [r for r in requests if r.write]
    breakdown = Counter(r.kind + ("" if r.code < 400 else f" ({r.code})") for r in requests)
    return {
        "reads": len(reads),
        "writes": len(writes),
        "reads_per_object": round(len(reads) / per, 2),
        "writes_per_object": round(len(writes) / per, 2),
        "by_kind": dict(sorted(breakdown.items(), key=lambda kv: -kv[1])),
    }


async def quiet_after(audit: AuditLog, quiet: float = 5.0, timeout: float = 120.0) -> list[Request]:
    """Wait until the operator has made no new request in the namespaces for `quiet` seconds (watches aside);
    returns all its requests since the mark."""
    deadline = time.monotonic() + timeout
    while True:
        requests = await asyncio.to_thread(audit.read)
        last = max((r.received for r in requests if r.verb != "watch"), default=0.0)
        if time.time() - last >= quiet or time.monotonic() > deadline:
            return requests
        await asyncio.sleep(1)
