"""The run's environment, the goals judged against the figures, and the Markdown table."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.kube import Kube
from tests.support.cluster import REPO


def machine() -> dict[str, Any]:
    """CPU model and count, memory, kernel."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": platform.release()}


async def versions(kube: Kube) -> dict[str, Any]:
    """Kubernetes (server), Python, kopf, and the commit of the code measured."""
    server = await kube.get("/version")

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    return {
        "kubernetes": server.get("gitVersion"),
        "python": platform.python_version(),
        "kopf": importlib.metadata.version("kopf"),
        "kubernetes_client": importlib.metadata.version("kubernetes"),
        "commit": git("rev-parse", "--short", "HEAD"),
        "operator_dirty": bool(git("status", "--porcelain", "operator")),
        # Set when the operator measured is not this checkout's (e.g. a patched copy under test).
        "operator_pythonpath": os.environ.get("PYTHONPATH") or None,
    }


@dataclass(frozen=True)
class Goals:
    """The goals judged against the figures (a missed one never fails the run)."""

    bulk_ratio: float = 1.3
    """All statuses of a bulk of 1,000 or 10,000 within this many times the floor's time."""
    apply_ratio_p99: float = 2.0
    writes_per_scheduledjob: float = 2.0
    restart_resumed_seconds: float = 30.0
    rss_mb: dict[int, float] = field(default_factory=lambda: {1000: 150.0, 10000: 250.0})
    """Peak operator RSS by bulk size."""
    trigger_p99_ms: float = 1000.0
    result_p99_ms: float = 500.0


GOALS = Goals()
BULK_GOAL_SIZES = (1000, 10000)


def _bulks(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in results.get("bulk") or [] if "error" not in b]


def _restarts(results: dict[str, Any]) -> list[dict[str, Any]]:
    restart = results.get("restart") or []
    return [r for r in ([restart] if isinstance(restart, dict) else restart) if "writes" in r]


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with the measured figure and whether it is met (None: not measured in this run)."""
    found: list[dict[str, Any]] = []

    def add(goal: str, measured: str | None, met: bool | None) -> None:
        found.append({"goal": goal, "measured": measured, "met": met})

    apply = results.get("apply") or {}
    if "ratio_p99" in apply:
        limit = GOALS.apply_ratio_p99
        add(f"apply -> CronJob p99 within {limit}x of a direct create", f"{apply['ratio_p99']}x "
            f"({apply['apply_to_cronjob_ms']['p99']} ms vs {apply['create_cronjob_floor_ms']['p99']} ms)",
            apply["ratio_p99"] <= limit)
    for bulk in _bulks(results):
        size = bulk["size"]
        if size in BULK_GOAL_SIZES and "ratio_all_statuses" in bulk:
            limit = GOALS.bulk_ratio
            add(f"bulk {size:,}: all statuses within {limit}x of the floor",
                f"{bulk['ratio_all_statuses']}x ({bulk['all_statuses_seconds']} s vs "
                f"{bulk['floor']['all_statuses_seconds']} s)", bulk["ratio_all_statuses"] <= limit)
        writes = bulk.get("writes_per_scheduledjob")
        if writes and size >= 100:
            limit = GOALS.writes_per_scheduledjob
            add(f"bulk {size:,}: at most {limit:g} writes per created ScheduledJob",
                f"{writes['all']} ({writes['accepted']} accepted, {writes['refused']} refused and retried)",
                writes["all"] <= limit)
        rss_limit = GOALS.rss_mb.get(size)
        if rss_limit is not None:
            peak = bulk.get("operator_rss_mb_peak", bulk["operator_rss_mb"])
            after = next((r for r in _restarts(results) if r["objects"] == size), None)
            restart_peak = after.get("operator_rss_mb_peak", after["operator_rss_mb"]) if after else None
            highest = max(peak, restart_peak or 0)
            seen = f"{peak} MB bulk peak" + (f", {restart_peak} MB after the restart" if restart_peak else "")
            add(f"operator RSS at most {rss_limit:g} MB at {size:,}", seen, highest <= rss_limit)
    for restart in _restarts(results):
        limit = GOALS.restart_resumed_seconds
        add(f"restart over {restart['objects']:,}: 0 writes and all resumed within {limit:g} s",
            f"{restart['writes']} writes, all resumed in {restart['all_resumed_seconds']} s",
            restart["writes"] == 0 and restart["all_resumed_seconds"] <= limit)
    trigger = results.get("trigger") or {}
    if "trigger_to_job_ms" in trigger:
        p99 = trigger["trigger_to_job_ms"]["p99"]
        floor = f", {trigger['ratio_p99']}x the direct create" if "ratio_p99" in trigger else ""
        add(f"trigger -> Job p99 < {GOALS.trigger_p99_ms:g} ms", f"{p99} ms{floor}", p99 < GOALS.trigger_p99_ms)
    runs = results.get("results") or {}
    if "finished_to_result_ms" in runs:
        p99 = runs["finished_to_result_ms"]["p99"]
        limit = GOALS.result_p99_ms
        add(f"Job finished -> result p99 within {limit:g} ms", f"{p99} ms", p99 <= limit)
    skew = results.get("skew") or {}
    if "scheduledjobs" in skew:
        sj, plain = skew["scheduledjobs"], skew["plain_cronjobs"]
        complete = sj["jobs"] == plain["jobs"] == skew["expected_jobs_each"]
        diff = sj["seen_minus_scheduled_ms"].get("p99", 0) - plain["seen_minus_scheduled_ms"].get("p99", 0)
        add("schedule skew: cronflow adds nothing over plain CronJobs",
            f"p99 {sj['seen_minus_scheduled_ms'].get('p99')} vs {plain['seen_minus_scheduled_ms'].get('p99')} ms, "
            f"jobs {sj['jobs']}/{plain['jobs']} of {skew['expected_jobs_each']}", complete and diff <= 500)
    return found


def _ms(summary: dict[str, Any]) -> str:
    return f"{summary['p50']:.0f} / {summary['p99']:.0f}" if summary.get("n") else "-"


def table(results: dict[str, Any]) -> str:
    """The Markdown table for README's Performance section."""
    env, ver = results["machine"], results["versions"]
    lines = [
        f"Measured {results['date']} ({results['mode']} run) on {env['cores']} cores ({env['cpu']}), "
        f"{env['memory_gb']} GB, Linux {env['kernel']}; Kubernetes {ver['kubernetes']} (local, hack/cluster), "
        f"Python {ver['python']}, kopf {ver['kopf']}, cronflow {ver['commit']}"
        f"{' + uncommitted operator changes' if ver['operator_dirty'] else ''}"
        f"{' (operator from PYTHONPATH=' + ver['operator_pythonpath'] + ')' if ver.get('operator_pythonpath') else ''}"
        f"; load average (1/5/15 min) at "
        f"start {' '.join(str(v) for v in results['loadavg_start'])}, at end "
        f"{' '.join(str(v) for v in results.get('loadavg_end') or [])} (the machine is shared with other test runs).",
        "",
        "| Measurement | Result | Goal |",
        "| --- | --- | --- |",
    ]

    def row(what: str, value: str, goal: str = "") -> None:
        lines.append(f"| {what} | {value} | {goal} |")

    apply = results.get("apply") or {}
    if "ratio_p99" in apply:
        n = apply["apply_to_cronjob_ms"]["n"]
        row(f"apply ScheduledJob -> CronJob exists, p50 / p99 ms (n={n})", _ms(apply["apply_to_cronjob_ms"]))
        row("floor: create the same CronJob directly, p50 / p99 ms", _ms(apply["create_cronjob_floor_ms"]))
        row("ratio to the floor, p50 / p99", f"{apply['ratio_p50']}x / {apply['ratio_p99']}x",
            f"p99 <= {GOALS.apply_ratio_p99:g}x")
        row("apply -> status written, p50 / p99 ms", _ms(apply["apply_to_status_ms"]))
    for bulk in _bulks(results):
        size = bulk["size"]
        req = bulk["requests"]
        row(f"bulk {size:,}: all CronJobs / all statuses, s",
            f"{bulk['all_cronjobs_seconds']} / {bulk['all_statuses_seconds']} ({bulk['per_second']}/s)")
        floor = bulk.get("floor") or {}
        if "ratio_all_statuses" in bulk:
            row(f"bulk {size:,} floor ({floor['concurrency']} in flight, {floor['cronjob_write']} CronJob + "
                "merge-patch status): all CronJobs / all statuses, s",
                f"{floor['all_cronjobs_seconds']} / {floor['all_statuses_seconds']}")
            row(f"bulk {size:,}: ratio to the floor, all CronJobs / all statuses",
                f"{bulk['ratio_all_cronjobs']}x / {bulk['ratio_all_statuses']}x",
                f"<= {GOALS.bulk_ratio:g}x" if size in BULK_GOAL_SIZES else "")
        for other in bulk.get("other_floors") or []:
            if "all_statuses_seconds" in other:
                row(f"bulk {size:,} floor with {other['cronjob_write']} CronJob: all CronJobs / all statuses, s",
                    f"{other['all_cronjobs_seconds']} / {other['all_statuses_seconds']}")
        per_sj = 1000 * bulk["operator_cpu_seconds_until_done"] / size
        rss_goal = GOALS.rss_mb.get(size)
        row(f"bulk {size:,}: operator RSS MB after / peak; CPU s (ms per ScheduledJob)",
            f"{bulk['operator_rss_mb']} / {bulk.get('operator_rss_mb_peak', '-')}; "
            f"{bulk['operator_cpu_seconds']} ({per_sj:.0f})", f"peak <= {rss_goal:g} MB" if rss_goal else "")
        writes = bulk.get("writes_per_scheduledjob")
        row(f"bulk {size:,}: API requests per ScheduledJob, reads / writes (refused)",
            f"{req['reads_per_object']} / {req['writes_per_object']}"
            + (f" ({writes['refused']})" if writes else ""), f"<= {GOALS.writes_per_scheduledjob:g} writes")
    for restart in _restarts(results):
        objects = restart["objects"]
        row(f"restart with {objects:,}: liveness / first list / all resumed, s",
            f"{restart['alive_seconds']} / {restart['first_list_seconds']} / {restart['all_resumed_seconds']}",
            f"all resumed <= {GOALS.restart_resumed_seconds:g} s")
        row(f"restart with {objects:,}: writes / reads", f"{restart['writes']} / {restart['requests']['reads']}",
            "0 writes")
    trigger = results.get("trigger") or {}
    if "trigger_to_job_ms" in trigger:
        row(f"trigger -> Job created, p50 / p99 ms (n={trigger['trigger_to_job_ms']['n']})",
            _ms(trigger["trigger_to_job_ms"]), f"p99 < {GOALS.trigger_p99_ms:g}")
        if "create_job_floor_ms" in trigger:
            row("floor: create the same Job directly, p50 / p99 ms", _ms(trigger["create_job_floor_ms"]))
            row("ratio to the floor, p50 / p99", f"{trigger['ratio_p50']}x / {trigger['ratio_p99']}x")
    runs = results.get("results") or {}
    if "finished_to_result_ms" in runs:
        row(f"Job finished -> result in status, p50 / p99 ms (n={runs['finished_to_result_ms']['n']})",
            _ms(runs["finished_to_result_ms"]), f"p99 <= {GOALS.result_p99_ms:g}")
        row("completionTime (whole s) -> result in status, p50 / p99 ms",
            _ms(runs["completion_time_to_result_ms"]))
    skew = results.get("skew") or {}
    if "scheduledjobs" in skew:
        for kind, label in (("scheduledjobs", "ScheduledJob"), ("plain_cronjobs", "plain CronJob")):
            s = skew[kind]
            row(f"schedule skew, {label} `* * * * *`: Job seen - scheduled minute, p50 / p99 ms ({s['jobs']} Jobs)",
                _ms(s["seen_minus_scheduled_ms"]), "same as plain" if kind == "scheduledjobs" else "")
    memory = results.get("memory") or {}
    if "imports" in memory:
        imports = memory["imports"]
        row("operator import alone (no cluster): RSS MB; bare Python", f"{imports['operator_import_rss_mb']}; "
            f"{imports['python_rss_mb']}")
        for key, figures in memory.items():
            if key.startswith("at_"):
                top = ", ".join(f"{name} {mb}" for name, mb in list(figures["by_package_mb"].items())[:4])
                row(f"operator with {int(key[3:]):,} ScheduledJobs (tracemalloc on): RSS / traced MB; largest",
                    f"{figures['rss_mb']} / {figures['traced_mb']}; {top}")
    lines.append("")
    for goal in results.get("goals") or []:
        mark = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
        lines.append(f"- {goal['goal']}: {goal['measured']} — {mark}")
    return "\n".join(lines)
