"""Part 4: a trigger (merge patch of spec.trigger) -> its Job exists, against the floor of creating that Job directly.

Triggers go round-robin over 10 ScheduledJobs, one at a time. Latency is from just before the patch is
sent to a watch on Jobs delivering the Job carrying that token; pods stay Pending (no node matches).
Samples alternate with the floor: `create` of the Job cronflow builds for such a trigger (its own
`build_trigger_job`, without the owner reference) in a namespace the operator does not watch, as the
operator's user.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.context import Context, part_result, scope
from bench.kube import Watch, wait_for
from bench.manifests import plain_trigger_job, scheduledjob, trigger_token
from bench.track import FirstSeen, status_written, summary

SCHEDULEDJOBS = 10


async def run(ctx: Context, samples: int) -> dict[str, Any]:
    """p50/p99 of trigger -> Job created and trigger -> status.lastTrigger; of create Job -> Job seen."""
    began = time.monotonic()
    async with scope(ctx, "trigger", namespaces=2, watched=1) as sc:
        ns, floor_ns = sc.namespaces
        jobs = FirstSeen(lambda o: [t] if (t := trigger_token(o)) else [])
        plain = FirstSeen(lambda o: [t] if (t := trigger_token(o)) else [])
        last = FirstSeen(lambda o: [str((o.get("status") or {}).get("lastTrigger") or "")])
        statuses = FirstSeen(status_written)
        watches = [await Watch(ctx.kube, "jobs", ns, jobs).start(),
                   await Watch(ctx.kube, "scheduledjobs", ns, last).start(),
                   await Watch(ctx.kube, "scheduledjobs", ns, statuses).start(),
                   await Watch(ctx.kube, "jobs", floor_ns, plain).start()]
        names = [f"trigger-{i}" for i in range(SCHEDULEDJOBS)]
        to_job: list[float] = []
        floor: list[float] = []
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

                job = plain_trigger_job(scheduledjob(names[i % SCHEDULEDJOBS], floor_ns), token, sc.operator.job_image)
                sent = time.monotonic()
                await ctx.operator_kube.create("jobs", floor_ns, job)
                await wait_for(f"Job {job['metadata']['name']}", plain.has(token), timeout=60)
                floor.append(plain.times[token] - sent)
                await asyncio.sleep(0.1)
        finally:
            for watch in watches:
                await watch.stop()
        job_ms, floor_ms = summary(to_job), summary(floor)
        return part_result(
            sc, began,
            trigger_to_job_ms=job_ms,
            trigger_to_status_ms=summary(to_status),
            create_job_floor_ms=floor_ms,
            ratio_p50=round(job_ms["p50"] / floor_ms["p50"], 2),
            ratio_p99=round(job_ms["p99"] / floor_ms["p99"], 2),
        )
