"""The run's environment, the goals judged against the figures, and the Markdown table."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
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


def _bulk(results: dict[str, Any], size: int) -> dict[str, Any] | None:
    return next((b for b in results.get("bulk") or [] if b.get("size") == size and "error" not in b), None)


def goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with the measured figure and whether it is met (None: not measured in this run)."""
    found: list[dict[str, Any]] = []

    def add(goal: str, measured: str | None, met: bool | None) -> None:
        found.append({"goal": goal, "measured": measured, "met": met})

    apply = results.get("apply") or {}
    if "ratio_p99" in apply:
        add("apply -> CronJob p99 within 3x the floor", f"{apply['ratio_p99']}x "
            f"({apply['apply_to_cronjob_ms']['p99']} ms vs {apply['create_cronjob_floor_ms']['p99']} ms)",
            apply["ratio_p99"] <= 3)
    for size, limit in ((1000, 30), (5000, 180)):
        bulk = _bulk(results, size)
        if bulk:
            add(f"{size} reconciled in < {limit} s", f"{bulk['all_statuses_seconds']} s",
                bulk["all_statuses_seconds"] < limit)
    restart = results.get("restart") or {}
    if "writes" in restart:
        add("0 writes on a no-op restart", f"{restart['writes']} writes ({restart['objects']} objects)",
            restart["writes"] == 0)
    bulk = _bulk(results, 1000)
    if bulk:
        add("RSS < 150 MB at 1,000", f"{bulk['operator_rss_mb']} MB", bulk["operator_rss_mb"] < 150)
    trigger = results.get("trigger") or {}
    if "trigger_to_job_ms" in trigger:
        p99 = trigger["trigger_to_job_ms"]["p99"]
        add("trigger -> Job p99 < 1 s", f"{p99} ms", p99 < 1000)
    runs = results.get("results") or {}
    if "finished_to_result_ms" in runs:
        p99 = runs["finished_to_result_ms"]["p99"]
        add("finished -> result p99 < 2 s", f"{p99} ms", p99 < 2000)
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
        row("ratio to the floor, p50 / p99", f"{apply['ratio_p50']}x / {apply['ratio_p99']}x", "p99 <= 3x")
        row("apply -> status written, p50 / p99 ms", _ms(apply["apply_to_status_ms"]))
    for bulk in results.get("bulk") or []:
        if "error" in bulk:
            continue
        size = bulk["size"]
        goal = {1000: "< 30 s", 5000: "< 180 s"}.get(size, "")
        req = bulk["requests"]
        row(f"bulk {size:,}: all CronJobs / all statuses, s",
            f"{bulk['all_cronjobs_seconds']} / {bulk['all_statuses_seconds']} ({bulk['per_second']}/s)", goal)
        per_sj = 1000 * bulk["operator_cpu_seconds_until_done"] / size
        row(f"bulk {size:,}: operator RSS MB; CPU s (ms per ScheduledJob)",
            f"{bulk['operator_rss_mb']}; {bulk['operator_cpu_seconds']} ({per_sj:.0f})",
            "RSS < 150 MB" if size == 1000 else "")
        row(f"bulk {size:,}: API requests per ScheduledJob, reads / writes",
            f"{req['reads_per_object']} / {req['writes_per_object']}")
    restart = results.get("restart") or {}
    if "writes" in restart:
        row(f"restart with {restart['objects']:,}: liveness / first list / all resumed, s",
            f"{restart['alive_seconds']} / {restart['first_list_seconds']} / {restart['all_resumed_seconds']}")
        row("restart: writes / reads", f"{restart['writes']} / {restart['requests']['reads']}", "0 writes")
    trigger = results.get("trigger") or {}
    if "trigger_to_job_ms" in trigger:
        row(f"trigger -> Job created, p50 / p99 ms (n={trigger['trigger_to_job_ms']['n']})",
            _ms(trigger["trigger_to_job_ms"]), "p99 < 1000")
    runs = results.get("results") or {}
    if "finished_to_result_ms" in runs:
        row(f"Job finished -> result in status, p50 / p99 ms (n={runs['finished_to_result_ms']['n']})",
            _ms(runs["finished_to_result_ms"]), "p99 < 2000")
        row("completionTime (whole s) -> result in status, p50 / p99 ms",
            _ms(runs["completion_time_to_result_ms"]))
    skew = results.get("skew") or {}
    if "scheduledjobs" in skew:
        for kind, label in (("scheduledjobs", "ScheduledJob"), ("plain_cronjobs", "plain CronJob")):
            s = skew[kind]
            row(f"schedule skew, {label} `* * * * *`: Job seen - scheduled minute, p50 / p99 ms ({s['jobs']} Jobs)",
                _ms(s["seen_minus_scheduled_ms"]), "same as plain" if kind == "scheduledjobs" else "")
    lines.append("")
    for goal in results.get("goals") or []:
        mark = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
        lines.append(f"- {goal['goal']}: {goal['measured']} — {mark}")
    return "\n".join(lines)
