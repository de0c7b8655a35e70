"""Part 3: with N ScheduledJobs reconciled, restart the operator: how soon it watches again, what it writes.

Times are from the new process's start: its liveness endpoint answering (polled every 20 ms), its first
list and watch of ScheduledJobs in the audit log, and every object resumed (the reconcile counter on
/metrics reaching N). Requests are counted until the operator has been quiet for 5 s.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.cluster import quiet_after, request_counts
from bench.context import Context, Scope


async def after_bulk(ctx: Context, sc: Scope) -> dict[str, Any]:
    """Restart `sc`'s operator over the ScheduledJobs it has reconciled; resumes and requests."""
    ns = sc.namespaces[0]
    operator = sc.operator
    objects = len(await ctx.kube.list_items("scheduledjobs", ns))
    audit = ctx.audit([ns])
    stopped_at = time.time()
    stop_seconds = operator.stop()
    started, alive = await operator.start_measured()
    resumed = time.monotonic()
    deadline = time.monotonic() + 60 + objects * 0.2
    while (done := await asyncio.to_thread(operator.metric, "cronflow_reconciles_total")) < objects:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the restarted operator resumed {done:.0f} of {objects} ScheduledJobs in "
                               f"{time.monotonic() - started:.0f} s (stuck?); see {operator.log_path}")
        await asyncio.sleep(0.05)
        resumed = time.monotonic()
    # The old process's watches are logged when they end (after the mark): leave them out.
    requests = [r for r in await quiet_after(audit, quiet=5, timeout=120) if r.received >= stopped_at]

    def first(verb: str, resource: str) -> float | None:
        times = [r.received for r in requests if r.verb == verb and r.resource == resource]
        return round(min(times) - operator.started_at, 2) if times else None

    writes = [f"{r.verb} {r.resource}/{r.name}" for r in requests if r.write]
    return {
        "objects": objects,
        "stop_seconds": stop_seconds,
        "alive_seconds": round(alive - started, 2),
        "first_list_seconds": first("list", "scheduledjobs"),
        "first_watch_seconds": first("watch", "scheduledjobs"),
        "all_resumed_seconds": round(resumed - started, 2),
        "writes": len(writes),
        "write_examples": writes[:10],
        "requests": request_counts(requests, per=objects),
        "operator_rss_mb": operator.rss_mb(),
        "operator_rss_mb_peak": operator.rss_peak_mb(),
        "operator_cpu_seconds": operator.cpu_seconds(),
    }
