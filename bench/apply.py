"""Part 1: one ScheduledJob applied -> its CronJob exists, against the floor of creating that CronJob directly.

Samples alternate (ScheduledJob, plain CronJob, ...) so load from others on the machine hits both alike.
Each latency is from just before the request is sent to the moment a watch on CronJobs delivers the new
object (the same watch for both). The plain CronJobs live in a namespace the operator does not watch and
are created as the operator's user (the same API priority and fairness flow as its writes).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.context import Context, part_result, scope
from bench.kube import Watch, wait_for
from bench.manifests import plain_cronjob, scheduledjob, scheduledjob_of
from bench.track import FirstSeen, name_of, status_written, summary


async def run(ctx: Context, samples: int) -> dict[str, Any]:
    """p50/p99 of apply -> CronJob, apply -> status, and create CronJob -> CronJob seen."""
    began = time.monotonic()
    async with scope(ctx, "apply", namespaces=2, watched=1) as sc:
        ns, floor_ns = sc.namespaces
        owned = FirstSeen(lambda o: [scheduledjob_of(o)])
        plain = FirstSeen(name_of)
        statuses = FirstSeen(status_written)
        watches = [await Watch(ctx.kube, "cronjobs", ns, owned).start(),
                   await Watch(ctx.kube, "cronjobs", floor_ns, plain).start(),
                   await Watch(ctx.kube, "scheduledjobs", ns, statuses).start()]
        to_cronjob: list[float] = []
        to_status: list[float] = []
        floor: list[float] = []
        try:
            for i in range(samples):
                name = f"apply-{i}"
                sj = scheduledjob(name, ns)
                sent = time.monotonic()
                await ctx.kube.apply("scheduledjobs", ns, sj)
                await wait_for(f"CronJob of {name}", owned.has(name), timeout=60)
                await wait_for(f"status of {name}", statuses.has(name), timeout=60)
                to_cronjob.append(owned.times[name] - sent)
                to_status.append(statuses.times[name] - sent)
                await asyncio.sleep(0.1)

                plain_name = f"floor-{i}"
                plain_cj = plain_cronjob(sj, plain_name, floor_ns, sc.operator.job_image)
                sent = time.monotonic()
                await ctx.operator_kube.create("cronjobs", floor_ns, plain_cj)
                await wait_for(f"CronJob {plain_name}", plain.has(plain_name), timeout=60)
                floor.append(plain.times[plain_name] - sent)
                await asyncio.sleep(0.1)
        finally:
            for watch in watches:
                await watch.stop()
        apply_ms, floor_ms = summary(to_cronjob), summary(floor)
        return part_result(
            sc, began,
            apply_to_cronjob_ms=apply_ms,
            apply_to_status_ms=summary(to_status),
            create_cronjob_floor_ms=floor_ms,
            ratio_p50=round(apply_ms["p50"] / floor_ms["p50"], 2),
            ratio_p99=round(apply_ms["p99"] / floor_ms["p99"], 2),
        )
