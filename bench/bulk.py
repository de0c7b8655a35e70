"""Part 2: N ScheduledJobs created at once -> every CronJob exists and every status is written.

The objects are created through the API with 48 requests in flight (not one kubectl per object). Time
runs from the first create; CronJobs and statuses are seen through watches. At the end: the operator's
RSS and CPU time (/proc) and its API requests in the namespace (audit log), per ScheduledJob.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench import apiserver
from bench.cluster import Request, quiet_after, request_counts
from bench.context import Context, Scope, part_result, scope
from bench.kube import Watch, wait_for
from bench.manifests import scheduledjob, scheduledjob_of
from bench.track import FirstSeen, Progress, status_written

After = Callable[[Context, Scope], Awaitable[dict[str, Any]]]


async def run(ctx: Context, size: int, after: After | None = None) -> dict[str, Any]:
    """Bulk-create `size` ScheduledJobs; with `after`, run that (the restart part) on them before cleanup."""
    began = time.monotonic()
    async with scope(ctx, f"bulk{size}", cleanup_seconds=cleanup_seconds(size)) as sc:
        ns = sc.namespaces[0]
        operator = sc.operator
        audit = ctx.audit([ns])
        cpu_before, rss_before = operator.cpu_seconds(), operator.rss_mb()
        owned = FirstSeen(lambda o: [scheduledjob_of(o)])
        statuses = FirstSeen(status_written)
        watches = [await Watch(ctx.kube, "cronjobs", ns, owned).start(),
                   await Watch(ctx.kube, "scheduledjobs", ns, statuses).start()]
        names = [f"bulk-{i}" for i in range(size)]
        timeout = 120 + size * 0.3
        progress = Progress(f"bulk {size}", {"CronJobs": lambda: len(owned), "statuses": lambda: len(statuses),
                                             "operator MB": lambda: round(operator.rss_mb())})
        metrics_before = await apiserver.scrape(ctx.kube)
        try:
            start = time.monotonic()
            progress.start()
            await ctx.kube.create_many("scheduledjobs", ns, [scheduledjob(n, ns) for n in names])
            created = time.monotonic()
            await wait_for(f"{size} CronJobs", owned.has_all(names), timeout=timeout, every=0.05)
            await wait_for(f"{size} statuses", statuses.has_all(names), timeout=timeout, every=0.05)
        finally:
            await progress.stop()
            for watch in watches:
                await watch.stop()
        metrics = apiserver.summary(metrics_before, await apiserver.scrape(ctx.kube))
        all_cronjobs = max(owned.times[n] for n in names) - start
        all_statuses = max(statuses.times[n] for n in names) - start
        cpu_busy = operator.cpu_seconds() - cpu_before
        requests = await quiet_after(audit, quiet=5, timeout=60 + size * 0.05)
        rss_peak = operator.rss_peak_mb()
        figures: dict[str, Any] = {
            "size": size,
            "create_seconds": round(created - start, 2),
            "all_cronjobs_seconds": round(all_cronjobs, 2),
            "all_statuses_seconds": round(all_statuses, 2),
            "per_second": round(size / all_statuses, 1),
            "operator_rss_mb_idle": rss_before,
            "operator_rss_mb": operator.rss_mb(),
            "operator_rss_mb_peak": rss_peak,
            "operator_cpu_seconds": operator.cpu_seconds(),
            "operator_cpu_seconds_until_done": round(cpu_busy, 2),
            "operator_cpu_share_until_done": round(cpu_busy / all_statuses, 2),
            "requests": request_counts(requests, per=size),
            "writes_per_scheduledjob": writes_per_scheduledjob(requests, size),
            "apiserver": metrics,
        }
        if after is not None:
            try:
                figures["after"] = await after(ctx, sc)
            except Exception as error:  # keep the bulk's figures: the restart's failure is its own
                figures["after"] = {"objects": size, "error": f"{type(error).__name__}: {error}"}
        return part_result(sc, began, **figures)


def cleanup_seconds(size: int) -> float:
    """How long to wait for a bulk namespace to be deleted (its ScheduledJobs and CronJobs go one by one)."""
    return 90 + size * 0.1


def writes_per_scheduledjob(requests: list[Request], size: int) -> dict[str, float]:
    """The operator's writes per created ScheduledJob: all, those answered 2xx/3xx, and those refused (retried)."""
    writes = [r for r in requests if r.write]
    failed = [r for r in writes if r.code >= 400]
    return {"all": round(len(writes) / size, 2), "accepted": round((len(writes) - len(failed)) / size, 2),
            "refused": round(len(failed) / size, 3)}


def with_floor(bulk: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """The bulk figures with the floor's beside them and each time as a ratio to the floor's."""
    if "error" in bulk or "error" in floor:
        return {**bulk, "floor": floor}
    return {
        **bulk,
        "floor": floor,
        "ratio_all_cronjobs": round(bulk["all_cronjobs_seconds"] / floor["all_cronjobs_seconds"], 2),
        "ratio_all_statuses": round(bulk["all_statuses_seconds"] / floor["all_statuses_seconds"], 2),
    }
