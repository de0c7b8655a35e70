"""Part 6: scheduling skew of `* * * * *` ScheduledJobs against plain CronJobs in the same run.

Both kinds share one spec (the plain ones are built by cronflow's own `build_cronjob`, in a namespace
the operator does not watch); their pods stay Pending. For every Job of the measured minutes: creation
minus the scheduled minute (the CronJob controller's `batch.kubernetes.io/cronjob-scheduled-timestamp`),
from creationTimestamp (whole seconds) and from the moment a watch delivered the Job (milliseconds).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from bench.cluster import parse_time
from bench.context import Context, part_result, scope
from bench.kube import Obj, Watch, wait_for
from bench.manifests import plain_cronjob, scheduledjob
from bench.track import FirstSeen, name_of, status_written, summary

SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"


class Created:
    """Watch callback: per Job, (scheduled, created, seen) as Unix times."""

    def __init__(self) -> None:
        self.jobs: dict[str, tuple[float, float, float]] = {}
        self._offset = time.time() - time.monotonic()

    def __call__(self, type_: str, obj: Obj, received: float) -> None:
        meta = obj["metadata"]
        scheduled = (meta.get("annotations") or {}).get(SCHEDULED_ANNOTATION)
        if type_ != "DELETED" and scheduled and meta["name"] not in self.jobs:
            self.jobs[meta["name"]] = (
                parse_time(scheduled), parse_time(meta["creationTimestamp"]), received + self._offset)

    def skew(self, since: float) -> dict[str, Any]:
        """Skews of the Jobs scheduled at or after `since`."""
        measured = [job for job in self.jobs.values() if job[0] >= since]
        return {
            "jobs": len(measured),
            "created_minus_scheduled_ms": summary([created - scheduled for scheduled, created, _ in measured]),
            "seen_minus_scheduled_ms": summary([seen - scheduled for scheduled, _, seen in measured]),
        }


async def run(ctx: Context, each: int = 10, minutes: int = 3) -> dict[str, Any]:
    """`each` ScheduledJobs and `each` plain CronJobs every minute, over `minutes` scheduled minutes."""
    began = time.monotonic()
    async with scope(ctx, "skew", namespaces=2, watched=1) as sc:
        ns, plain_ns = sc.namespaces
        owned, plain = Created(), Created()
        cronjobs = FirstSeen(name_of)
        statuses = FirstSeen(status_written)
        watches = [await Watch(ctx.kube, "jobs", ns, owned).start(),
                   await Watch(ctx.kube, "jobs", plain_ns, plain).start(),
                   await Watch(ctx.kube, "cronjobs", ns, cronjobs).start(),
                   await Watch(ctx.kube, "scheduledjobs", ns, statuses).start()]
        try:
            sjs = [scheduledjob(f"skew-{i}", ns, schedule="* * * * *", concurrencyPolicy="Allow") for i in range(each)]
            names = [sj["metadata"]["name"] for sj in sjs]
            await ctx.kube.create_many("scheduledjobs", ns, sjs)
            await wait_for("statuses", statuses.has_all(names), timeout=60)
            await wait_for("CronJobs", cronjobs.has_all(names), timeout=60)
            await ctx.kube.create_many("cronjobs", plain_ns, [
                plain_cronjob(sjs[0], f"plain-{i}", plain_ns, sc.operator.job_image) for i in range(each)])
            first = math.ceil((time.time() + 1) / 60) * 60
            await asyncio.sleep(first + (minutes - 1) * 60 + 20 - time.time())
        finally:
            for watch in watches:
                await watch.stop()
        expected = each * minutes
        return part_result(
            sc, began,
            minutes=minutes,
            expected_jobs_each=expected,
            scheduledjobs=owned.skew(first),
            plain_cronjobs=plain.skew(first),
        )
