"""`bench/run [--smoke] [--sizes 100,1000,5000] [--out FILE]`: the cronflow benchmarks on the local cluster.

Exits non-zero only when the benchmark itself broke (a part failed or timed out), never on a missed goal.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bench import apply, bulk, floor, memory, oracle, restart, results, skew, trigger
from bench.cluster import ensure_job_image
from bench.context import Context, loadavg
from bench.kube import Kube
from bench.report import goals, machine, table, versions
from tests.support.cluster import REPO, local_cluster

PARTS = ("apply", "bulk", "restart", "trigger", "results", "skew", "oracle", "memory")
DEFAULT_PARTS = PARTS[:-2]
"""The oracle (validation, not performance; about a minute for 2,000 cases) and memory (tracemalloc slows the
operator it measures; at the bulk sizes) run only when named."""
RESTART_SIZE = 1000
"""The restart part runs after every bulk of at least this many ScheduledJobs (smoke: after the largest)."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--smoke", action="store_true",
                        help="quick check for CI: N=20 (restart over 100), fewer samples, no skew part, no 5,000 size")
    parser.add_argument("--sizes", help="bulk sizes, comma-separated (default 100,1000,5000; smoke: 20,100)")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/<UTC date-time>.json)")
    parser.add_argument("--parts", default=",".join(DEFAULT_PARTS),
                        help=f"subset of {','.join(PARTS)} (default: all but oracle and memory)")
    parser.add_argument("--floor-concurrency", type=int, default=floor.OPERATOR_WORKERS,
                        help=f"requests in flight of the bulk floor's workers (default {floor.OPERATOR_WORKERS}, "
                             "as many as the operator's workers)")
    parser.add_argument("--floor-writes", default="create",
                        help="how the bulk floor writes each CronJob: create, apply (server-side), or both "
                             "comma-separated (ratios use the first)")
    parser.add_argument("--samples", type=int, help="samples of apply and trigger (default 100; smoke: 20)")
    parser.add_argument("--runs", type=int, help="runs of the result part (default 50; smoke: 10)")
    parser.add_argument("--skew-minutes", type=int, default=3, help="scheduled minutes of the skew part")
    parser.add_argument("--oracle-examples", type=int, default=oracle.EXAMPLES,
                        help=f"generated ScheduledJobs of the oracle part (default {oracle.EXAMPLES})")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="sample every operator with py-spy (raw stacks into DIR); slows it down")
    parser.add_argument("--logs", type=Path, metavar="DIR", help="operator logs (default: a temporary folder)")
    args = parser.parse_args(argv)
    unknown = set(args.parts.split(",")) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if not args.floor_writes or set(args.floor_writes.split(",")) - {"create", "apply"}:
        parser.error("--floor-writes: create, apply or both")
    return args


async def main_async(args: argparse.Namespace) -> int:
    """Run the selected parts; print the table; write the JSON."""
    parts = [p for p in PARTS if p in args.parts.split(",")]
    if args.smoke:
        parts = [p for p in parts if p != "skew"]
    # Smoke: the restart runs over 100 objects, more than kopf's per-resource worker limit would hold.
    sizes = [int(s) for s in (args.sizes or ("20,100" if args.smoke else "100,1000,5000")).split(",")]
    samples = args.samples or (20 if args.smoke else 100)
    runs = args.runs or (10 if args.smoke else 50)
    started = datetime.now(UTC)
    out: Path = args.out or REPO / "bench" / "results" / (
        started.strftime("%Y-%m-%dT%H%M%SZ") + ("-smoke" if args.smoke else "") + ".json")
    log_dir = args.logs or Path(tempfile.mkdtemp(prefix="cronflow-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"bench: operator logs in {log_dir}", file=sys.stderr)

    cluster = await asyncio.to_thread(local_cluster, "results" in parts, 3600)  # a first `up` builds it
    await asyncio.to_thread(cluster.install_crd)
    report: dict[str, Any] = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "mode": "smoke" if args.smoke else "full",
                              "machine": machine(), "loadavg_start": loadavg()}
    failed = False
    async with Kube(cluster.kubeconfig) as kube, Kube(cluster.operator_kubeconfig) as operator_kube:
        report["versions"] = await versions(kube)
        ctx = Context(cluster=cluster, kube=kube, operator_kube=operator_kube, log_dir=log_dir,
                      profile_dir=args.profile, smoke=args.smoke)
        restart_sizes = [size for size in sizes if size >= RESTART_SIZE] or [max(sizes)]
        floor_writes = [cast(floor.CronJobWrite, write) for write in args.floor_writes.split(",")]

        async def part(name: str, body: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
            nonlocal failed
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            began = time.monotonic()
            try:
                figures = await body()
            except Exception as error:
                failed = True
                traceback.print_exc()
                figures = {"error": f"{type(error).__name__}: {error}"}
            brief = json.dumps(_without_samples(figures))
            print(f"bench: {name} done in {time.monotonic() - began:.0f} s: {brief}", file=sys.stderr, flush=True)
            return figures

        if "apply" in parts:
            report["apply"] = await part("apply", lambda: apply.run(ctx, samples))
        if "bulk" in parts or "restart" in parts:
            report["bulk"], report["restart"] = [], []
            for size in sizes if "bulk" in parts else restart_sizes:
                if "bulk" in parts:
                    floors = [await part(f"floor {size} ({write})", functools.partial(
                        floor.run, ctx, size, args.floor_concurrency, write)) for write in floor_writes]
                with_restart = "restart" in parts and size in restart_sizes
                figures = await part(f"bulk {size}", functools.partial(
                    bulk.run, ctx, size, restart.after_bulk if with_restart else None))
                if with_restart:
                    report["restart"].append(
                        figures.pop("after", None) or {"objects": size, "error": figures.get("error", "not run")})
                    failed = failed or "error" in report["restart"][-1]
                if "bulk" in parts:
                    figures = bulk.with_floor(figures, floors[0])
                    figures["other_floors"] = floors[1:]
                    report["bulk"].append(figures)
        if "trigger" in parts:
            report["trigger"] = await part("trigger", lambda: trigger.run(ctx, samples))
        if "results" in parts:
            async def results_part() -> dict[str, Any]:
                await ensure_job_image(kube)
                return await results.run(ctx, runs)
            report["results"] = await part("results", results_part)
        if "skew" in parts:
            report["skew"] = await part("skew", lambda: skew.run(ctx, minutes=args.skew_minutes))
        if "oracle" in parts:
            report["oracle"] = await part("oracle", lambda: oracle.run(ctx, args.oracle_examples))
        if "memory" in parts:
            report["memory"] = await part("memory", lambda: memory.run(ctx, sizes))
        report["loadavg_end"] = loadavg()
        report["warnings"] = ctx.warnings
    report["goals"] = goals(report)
    report["table"] = table(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(report["table"])
    print(f"\nbench: results in {out}", file=sys.stderr)
    return 1 if failed else 0


def _without_samples(value: Any) -> Any:
    """The figures without the per-sample lists (for the progress lines)."""
    if isinstance(value, dict):
        return {k: _without_samples(v) for k, v in value.items() if k != "samples"}
    return value


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # a CI timeout's SIGTERM cleans up like Ctrl-C: operators stopped, namespaces deleted


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    signal.signal(signal.SIGTERM, _interrupt)
    return asyncio.run(main_async(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())
