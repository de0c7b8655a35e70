"""Part `oracle` (not in the default set): the validation oracle over many generated ScheduledJobs.

The same strategies and judge as tests/integration/test_oracle.py (tests/support/oracle.py), with more
examples (default 2,000) and without stopping at the first disagreement: every case is a server-side
dry-run create (nothing is stored) in a fresh namespace, and the figures count how many were tried, how
many the API server accepted and refused, each kind of outcome, and the disagreements, each class with
its first specs and both verdicts ("samples").

`python -m bench.oracle [--examples N] [--seed S] [--namespace NS]` runs it alone against the running
local cluster, without starting anything or installing the CRD (`--namespace` names an existing
namespace to use instead of creating one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from kubernetes import client, config

from bench.cluster import create_namespace, delete_namespaces
from bench.context import Context, loadavg
from tests.support import oracle
from tests.support.cluster import hack_cluster

EXAMPLES = 2000
KEPT_PER_CLASS = 3


def explore(api: client.ApiClient, namespace: str, examples: int, seed_: int = 0) -> dict[str, Any]:
    """Judge `examples` generated cases; the figures (JSON-ready)."""
    dry_run = oracle.DryRun(api, namespace)
    kinds: Counter[str] = Counter()
    server: Counter[str] = Counter()
    found: dict[str, list[str]] = {}
    server_seconds = [0.0]

    @seed(seed_)
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(oracle.cases())
    def probe(case: oracle.Case) -> None:
        model = oracle.model_verdict(case)
        asked = time.monotonic()
        verdict = dry_run.verdict(case)
        server_seconds[0] += time.monotonic() - asked
        outcome = oracle.judge(case, model, verdict)
        kinds[outcome.kind] += 1
        server["accepted" if verdict.accepted else "refused"] += 1
        if outcome.failed or outcome.kind.startswith("known:"):
            key = outcome.kind if outcome.kind.startswith("known:") else f"{outcome.kind}: {outcome.detail[:80]}"
            kept = found.setdefault(key, [])
            if len(kept) < KEPT_PER_CLASS:
                kept.append(outcome.report())

    began = time.monotonic()
    probe()
    tried = sum(kinds.values())
    failed = sum(n for kind, n in kinds.items() if kind in ("disagreement", "crash"))
    return {
        "tried": tried,
        "server_accepted": server["accepted"],
        "server_refused": server["refused"],
        "kinds": dict(sorted(kinds.items())),
        "disagreements": failed,
        "known_disagreements": sum(n for kind, n in kinds.items() if kind.startswith("known:")),
        "samples": found,  # (bench/run's progress line leaves "samples" out; the JSON keeps them)
        "seed": seed_,
        "seconds": round(time.monotonic() - began, 1),
        "server_ms_per_case": round(1000 * server_seconds[0] / max(tried, 1), 1),
    }


async def run(ctx: Context, examples: int = EXAMPLES) -> dict[str, Any]:
    """The part, as `bench/run --parts oracle` runs it: a fresh namespace, deleted after."""
    load_before = loadavg()
    namespace = await create_namespace(ctx.kube, "oracle")
    try:
        api = config.new_client_from_config(config_file=str(ctx.cluster.kubeconfig))  # type: ignore[no-untyped-call]
        figures = await asyncio.to_thread(explore, api, namespace, examples)
    finally:
        left = await delete_namespaces(ctx.kube, [namespace])
        if left:
            ctx.warnings.append(f"oracle: namespace still terminating after cleanup: {namespace}")
    return {**figures, "loadavg_before": load_before, "loadavg_after": loadavg()}


def summary(figures: dict[str, Any]) -> str:
    """The figures as text: the counts, then each class of disagreement with its first cases."""
    lines = [
        f"oracle: {figures['tried']} tried, API server accepted {figures['server_accepted']}, refused "
        f"{figures['server_refused']}; disagreements {figures['disagreements']} (+ {figures['known_disagreements']} "
        f"known); {figures['seconds']} s ({figures['server_ms_per_case']} ms per dry run), seed {figures['seed']}",
        "kinds: " + ", ".join(f"{kind} {n}" for kind, n in figures["kinds"].items()),
    ]
    for key, reports in figures["samples"].items():
        lines += ["", f"== {key}", *reports]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Alone, against the running local cluster: exit 1 when there is a disagreement not known yet."""
    parser = argparse.ArgumentParser(prog="python -m bench.oracle", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=EXAMPLES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--namespace", help="an existing namespace (default: a fresh one, deleted after)")
    parser.add_argument("--kubeconfig", type=Path, help="default: the local cluster's (hack/cluster kubeconfig)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    kubeconfig = args.kubeconfig or Path(hack_cluster("kubeconfig"))
    api = config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    namespace = args.namespace or f"bench-oracle-{uuid.uuid4().hex[:5]}"
    core = client.CoreV1Api(api)
    if not args.namespace:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    print(f"bench: oracle ... ({args.examples} examples in namespace {namespace})", file=sys.stderr, flush=True)
    try:
        figures = explore(api, namespace, args.examples, args.seed)
    finally:
        if not args.namespace:
            core.delete_namespace(namespace)
    brief = {k: v for k, v in figures.items() if k != "samples"}
    print(f"bench: oracle done in {figures['seconds']:.0f} s: {json.dumps(brief)}", file=sys.stderr, flush=True)
    print(summary(figures))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if figures["disagreements"] else 0


if __name__ == "__main__":
    sys.exit(main())
