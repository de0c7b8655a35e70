"""Part 5: a Job finished -> its result is in the ScheduledJob's status.results (real pods on the node).

A flow server on the pod gateway answers at once. Runs go in 5 lanes (one ScheduledJob each, triggered
again when its previous result is in). "Finished" is the moment a watch on Jobs delivers the Job with a
Complete (or Failed) condition; "result in" is the moment a watch on ScheduledJobs delivers the status
whose results name that Job: both are client-side receive times of the same kind (millisecond
resolution). The same latency against the Job's completionTime (whole seconds) is reported beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from bench.cluster import parse_time
from bench.context import Context, part_result, scope
from bench.kube import Obj, Watch, wait_for
from bench.manifests import scheduledjob, trigger_token
from bench.track import FirstSeen, status_written, summary
from tests.support.flow_server import serve

LANES = 5


class Jobs:
    """Watch callback: each manual Job's name by token, and when it was first seen finished."""

    def __init__(self) -> None:
        self.by_token: dict[str, str] = {}
        self.finished: dict[str, float] = {}
        self.completion: dict[str, str] = {}
        self.outcome: dict[str, str] = {}

    def __call__(self, type_: str, obj: Obj, received: float) -> None:
        name = obj["metadata"]["name"]
        if token := trigger_token(obj):
            self.by_token.setdefault(token, name)
        for condition in (obj.get("status") or {}).get("conditions") or []:
            finished = condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True"
            if finished and name not in self.finished:
                self.finished[name] = received
                self.outcome[name] = condition["type"]
                self.completion[name] = (obj.get("status") or {}).get("completionTime") or condition.get(
                    "lastTransitionTime", "")

    def created(self, token: str) -> Callable[[], bool]:
        """A probe: the Job of `token` exists."""
        return lambda: token in self.by_token

    def has_finished(self, job: str) -> Callable[[], bool]:
        """A probe: `job` has finished."""
        return lambda: job in self.finished


def results_of(obj: Obj) -> list[str]:
    """The Job names in a ScheduledJob's status.results."""
    return [r["job"] for r in (obj.get("status") or {}).get("results") or []]


async def run(ctx: Context, runs: int) -> dict[str, Any]:
    """p50/p99 of Job finished -> result in status, over `runs` runs."""
    began = time.monotonic()
    with contextlib.contextmanager(serve)(host=ctx.cluster.pod_gateway) as server:
        async with scope(ctx, "results") as sc:
            ns = sc.namespaces[0]
            jobs = Jobs()
            recorded = FirstSeen(results_of)
            statuses = FirstSeen(status_written)
            watches = [await Watch(ctx.kube, "jobs", ns, jobs).start(),
                       await Watch(ctx.kube, "scheduledjobs", ns, recorded).start(),
                       await Watch(ctx.kube, "scheduledjobs", ns, statuses).start()]
            names = [f"results-{i}" for i in range(LANES)]
            done: list[str] = []
            try:
                await ctx.kube.create_many("scheduledjobs", ns, [
                    scheduledjob(n, ns, endpoint=f"{server.url}/ok", pods_run=True, historyLimit=50) for n in names])
                await wait_for("statuses", statuses.has_all(names), timeout=60)

                async def lane(index: int) -> None:
                    for round_ in range(index, runs, LANES):
                        token = f"run-{round_}"
                        await ctx.kube.merge_patch(
                            "scheduledjobs", ns, names[index], {"spec": {"trigger": token}})
                        await wait_for(f"Job of {token}", jobs.created(token), timeout=60)
                        job = jobs.by_token[token]
                        await wait_for(f"{job} finished", jobs.has_finished(job), timeout=180)
                        await wait_for(f"result of {job}", recorded.has(job), timeout=60)
                        done.append(job)

                await asyncio.gather(*(lane(i) for i in range(LANES)))
            finally:
                for watch in watches:
                    await watch.stop()
            latency = [recorded.times[j] - jobs.finished[j] for j in done]
            offset = time.time() - time.monotonic()
            vs_completion = [recorded.times[j] + offset - parse_time(jobs.completion[j]) for j in done]
            failed = sorted(j for j in done if jobs.outcome[j] != "Complete")
            return part_result(
                sc, began,
                finished_to_result_ms=summary(latency),
                completion_time_to_result_ms=summary(vs_completion),
                runs=len(done),
                failed_runs=len(failed),
                flow_requests=len(server.received),
            )
