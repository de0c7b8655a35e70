"""Part 4: a trigger (merge patch of spec.trigger) -> its Job exists.

Triggers go round-robin over 10 ScheduledJobs, one at a time. Latency is from just before the patch is
sent to a watch on Jobs delivering the Job carrying that token; pods stay Pending (no node matches).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.context import Context, part_result, scope
from bench.kube import Watch, wait_for
from bench.manifests import scheduledjob, trigger_token
from bench.track import FirstSeen, status_written, summary

SCHEDULEDJOBS = 10


async def run(ctx: Context, samples: int) -> dict[str, Any]:
    """p50/p99 of trigger -> Job created and trigger -> status.lastTrigger."""
    began = time.monotonic()
    async with scope(ctx, "trigger") as sc:
        ns = sc.namespaces[0]
        jobs = FirstSeen(lambda o: [t] if (t := trigger_token(o)) else [])
        last = FirstSeen(lambda o: [str((o.get("status") or {}).get("lastTrigger") or "")])
        statuses = FirstSeen(status_written)
        watches = [await Watch(ctx.kube, "jobs", ns, jobs).start(),
                   await Watch(ctx.kube, "scheduledjobs", ns, last).start(),
                   await Watch(ctx.kube, "scheduledjobs", ns, statuses).start()]
        names = [f"trigger-{i}" for i in range(SCHEDULEDJOBS)]
        to_job: list[float] = []
        to_status: list[float] = []
        try:
            await ctx.kube.create_many("scheduledjobs", ns, [scheduledjob(n, ns) for n in names])
            await wait_for("statuses", statuses.has_all(names), timeout=60)
            for i in range(samples):
                token = f"bench-{i}"
                sent = time.monotonic()
                await ctx.kube.merge_patch("scheduledjobs", ns, names[i % SCHEDULEDJOBS], {"spec": {"trigger": token}})
                await wait_for(f"Job of trigger {token}", jobs.has(token), timeout=60)
                await wait_for(f"lastTrigger {token}", last.has(token), timeout=60)
                to_job.append(jobs.times[token] - sent)
                to_status.append(last.times[token] - sent)
                await asyncio.sleep(0.1)
        finally:
            for watch in watches:
                await watch.stop()
        return part_result(sc, began, trigger_to_job_ms=summary(to_job), trigger_to_status_ms=summary(to_status))
