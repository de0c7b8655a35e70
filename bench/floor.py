"""The floor of the bulk part: a plain async client doing, for N ScheduledJobs, what any operator must.

In a namespace no operator watches, the benchmark creates the N ScheduledJobs exactly as in the bulk
part (48 requests in flight); a watch on them feeds `concurrency` workers (the operator's own number of
workers by default) that, for each ScheduledJob seen, create the CronJob cronflow builds for it and
merge-patch the status cronflow writes for it, as the operator's user (its RBAC, and the same API
priority and fairness flow as the operator's requests) (both computed before the clock starts by cronflow's own
reconcile against tests/support's fake writer, so the floor writes the same bytes and spends no CPU on
building them). Time runs from the first create until every CronJob and every status is seen, through
the same watches as the bulk part.
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from bench import apiserver, bulk
from bench.context import Context, part_result, scope
from bench.kube import ApiError, Kube, Obj, Watch, path_of, wait_for
from bench.manifests import scheduledjob, scheduledjob_of
from bench.track import FirstSeen, Progress, status_written
from cronflow.reconcile.scheduledjob import Memory, reconcile
from tests.support.fake_writer import FakeWriter

OPERATOR_WORKERS = 4
"""cronflow's Controller runs this many passes at once (its `workers` default; a unit test checks it)."""
PLACEHOLDER_UID = "00000000-0000-0000-0000-00000000b0b0"
RETRIED_STATUSES = {429, 500, 502, 503, 504}
"""Answers an operator retries (the API server's overload and handler timeout); the floor counts them."""
ATTEMPTS = 10

CronJobWrite = Literal["create", "apply"]


@dataclass(frozen=True)
class Writes:
    """What cronflow writes for one new ScheduledJob: its CronJob and its first status patch."""

    cronjob: Obj
    status: Obj


def cronflow_writes(sj: Obj, job_image: str, now: datetime | None = None) -> Writes:
    """The CronJob and the status patch cronflow's first pass writes for the new ScheduledJob `sj`
    (reconcile run against the fake writer; the CronJob without the fake's uid and status)."""
    world = FakeWriter(sj=copy.deepcopy(sj))
    reconcile(world.observed(), world, job_image, now or datetime.now(UTC), Memory())
    kinds = [w.rsplit("/", 1)[0] for w in world.writes]
    assert kinds == ["apply CronJob", "patch status"], f"a new ScheduledJob's first pass wrote {world.writes}"
    assert world.cronjob is not None
    cronjob = copy.deepcopy(world.cronjob)
    cronjob["metadata"].pop("uid", None)
    cronjob.pop("status", None)
    return Writes(cronjob=cronjob, status=world.status_patches[0])


def planned_writes(names_: list[str], namespace: str, job_image: str) -> dict[str, Writes]:
    """`cronflow_writes` of each bench ScheduledJob by name, with a placeholder owner uid filled in later."""
    now = datetime.now(UTC)
    planned: dict[str, Writes] = {}
    for name in names_:
        sj = scheduledjob(name, namespace)
        sj["metadata"].update(uid=PLACEHOLDER_UID, resourceVersion="1", generation=1)
        planned[name] = cronflow_writes(sj, job_image, now)
    return planned


def owned_by(cronjob: Obj, uid: str) -> Obj:
    """`cronjob` with its controller reference pointing at the ScheduledJob `uid` (a shallow copy)."""
    metadata = {
        **cronjob["metadata"],
        "ownerReferences": [{**ref, "uid": uid} for ref in cronjob["metadata"].get("ownerReferences") or []],
    }
    return {**cronjob, "metadata": metadata}


class Retrying:
    """Requests retried on overload answers, counted by status."""

    def __init__(self, kube: Kube):
        self.kube = kube
        self.retried: dict[int, int] = {}

    async def send(
        self, method: str, path: str, body: Obj, content_type: str, params: dict[str, str] | None = None
    ) -> None:
        for attempt in range(ATTEMPTS):
            try:
                await self.kube.request(method, path, body, content_type=content_type, params=params)
                return
            except ApiError as error:
                if error.status not in RETRIED_STATUSES or attempt == ATTEMPTS - 1:
                    raise
                self.retried[error.status] = self.retried.get(error.status, 0) + 1
                await asyncio.sleep(min(0.1 * 2**attempt, 5))


async def run(
    ctx: Context, size: int, concurrency: int = OPERATOR_WORKERS, cronjob_write: CronJobWrite = "create"
) -> dict[str, Any]:
    """Time the floor for `size` ScheduledJobs: every CronJob created (or applied) and every status patched."""
    began = time.monotonic()
    async with scope(ctx, f"floor{size}", start=False, cleanup_seconds=bulk.cleanup_seconds(size)) as sc:
        ns = sc.namespaces[0]
        names_ = [f"bulk-{i}" for i in range(size)]
        planned = await asyncio.to_thread(planned_writes, names_, ns, sc.operator.job_image)
        queue: asyncio.Queue[Obj] = asyncio.Queue()
        owned = FirstSeen(lambda o: [scheduledjob_of(o)])
        statuses = FirstSeen(status_written)
        seen: set[str] = set()

        def on_scheduledjob(type_: str, obj: Obj, received: float) -> None:
            name = obj["metadata"]["name"]
            if type_ == "ADDED" and name not in seen:
                seen.add(name)
                queue.put_nowait(obj)

        client = Retrying(ctx.operator_kube)

        async def worker() -> None:
            while True:
                sj = await queue.get()
                meta = sj["metadata"]
                writes = planned[meta["name"]]
                cronjob = owned_by(writes.cronjob, meta["uid"])
                if cronjob_write == "create":
                    await client.send("POST", path_of("cronjobs", ns), cronjob, "application/json")
                else:
                    await client.send(
                        "PATCH",
                        path_of("cronjobs", ns, cronjob["metadata"]["name"]),
                        cronjob,
                        "application/apply-patch+yaml",
                        {"fieldManager": "floor", "force": "true"},
                    )
                await client.send(
                    "PATCH",
                    path_of("scheduledjobs", ns, meta["name"]) + "/status",
                    {"metadata": {"resourceVersion": meta["resourceVersion"]}, "status": writes.status},
                    "application/merge-patch+json",
                )
                queue.task_done()

        watches = [
            await Watch(ctx.kube, "cronjobs", ns, owned).start(),
            await Watch(ctx.kube, "scheduledjobs", ns, statuses).start(),
            await Watch(ctx.operator_kube, "scheduledjobs", ns, on_scheduledjob).start(),
        ]
        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        timeout = 120 + size * 0.3
        progress = Progress(
            f"floor {size}",
            {"created": lambda: len(seen), "CronJobs": lambda: len(owned), "statuses": lambda: len(statuses)},
        )
        metrics_before = await apiserver.scrape(ctx.kube)
        try:
            start = time.monotonic()
            progress.start()
            await ctx.kube.create_many("scheduledjobs", ns, [scheduledjob(n, ns) for n in names_])
            created = time.monotonic()
            pending: asyncio.Future[Any] = asyncio.gather(
                wait_for(f"{size} CronJobs", owned.has_all(names_), timeout=timeout, every=0.05),
                wait_for(f"{size} statuses", statuses.has_all(names_), timeout=timeout, every=0.05),
            )
            waiting: set[asyncio.Future[Any]] = {pending, *workers}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if pending not in done:
                pending.cancel()
            for finished in done:
                finished.result()  # a worker's failure (workers never end otherwise), or a timeout
        finally:
            await progress.stop()
            for task in workers:
                task.cancel()
            for watch in watches:
                await watch.stop()
        metrics = apiserver.summary(metrics_before, await apiserver.scrape(ctx.kube))
        all_cronjobs = max(owned.times[n] for n in names_) - start
        all_statuses = max(statuses.times[n] for n in names_) - start
        return part_result(
            sc,
            began,
            size=size,
            concurrency=concurrency,
            cronjob_write=cronjob_write,
            create_seconds=round(created - start, 2),
            all_cronjobs_seconds=round(all_cronjobs, 2),
            all_statuses_seconds=round(all_statuses, 2),
            per_second=round(size / all_statuses, 1),
            retried=client.retried,
            apiserver=metrics,
        )
