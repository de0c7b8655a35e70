"""What every part gets: the cluster, an admin client, where logs go; a scope with namespaces and an operator."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cluster import AuditLog, create_namespace, delete_namespaces
from bench.kube import Kube
from bench.operator import Operator
from tests.support.cluster import Cluster
from tests.support.rbac import operator_rbac


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages (/proc/loadavg)."""
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


@dataclass
class Context:
    """Shared by all parts of one benchmark run."""

    cluster: Cluster
    kube: Kube
    """The admin's client: creates what users would, watches what is measured."""
    operator_kube: Kube
    """A client as the operator's user (`operator.kubeconfig`): the floors' writes go through the same API
    priority and fairness flow, and the same RBAC, as the operator's."""
    log_dir: Path
    profile_dir: Path | None
    smoke: bool
    warnings: list[str] = field(default_factory=list)

    def audit(self, namespaces: list[str]) -> AuditLog:
        """An audit log reader from now on, for the operator's requests in `namespaces`."""
        assert self.cluster.audit_log is not None, "the benchmark reads the local cluster's audit log"
        return AuditLog(self.cluster.audit_log, set(namespaces))


@dataclass
class Scope:
    """The namespaces of one part and the operator watching the first `watched` of them."""

    namespaces: list[str]
    operator: Operator
    load_before: list[float]


@contextlib.asynccontextmanager
async def scope(
    ctx: Context, label: str, namespaces: int = 1, watched: int = 1, start: bool = True, cleanup_seconds: float = 90
) -> AsyncIterator[Scope]:
    """Fresh namespaces, an operator for the first `watched` (started unless not `start`), the operator's RBAC
    in all of them (the floors write as its user); all removed after (waiting up to `cleanup_seconds` for
    the namespaces to go, so that the next part does not share the machine with their deletion)."""
    names: list[str] = []
    operator: Operator | None = None
    try:
        for _ in range(namespaces):
            names.append(await create_namespace(ctx.kube, label))
        operator = Operator(ctx.cluster, names[:watched], ctx.log_dir, label, ctx.profile_dir)
        await asyncio.to_thread(operator.grant_rbac)
        for namespace in names[watched:]:
            rbac = json.dumps(operator_rbac(namespace))
            await asyncio.to_thread(ctx.cluster.kubectl, "apply", "-f", "-", input=rbac)
        if start:
            await operator.start_measured()
        yield Scope(names, operator, loadavg())
    finally:
        if operator is not None:
            operator.stop()
        left = await delete_namespaces(ctx.kube, names, timeout=cleanup_seconds)
        if left:
            ctx.warnings.append(f"{label}: namespaces still terminating after cleanup: {', '.join(left)}")


def part_result(scope_: Scope, began: float, **figures: Any) -> dict[str, Any]:
    """A part's JSON with its duration and the load average before and after."""
    return {**figures, "seconds": round(time.monotonic() - began, 1),
            "loadavg_before": scope_.load_before, "loadavg_after": loadavg()}
