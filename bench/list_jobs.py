"""`python -m bench.list_jobs [--jobs 1000] [--samples 20]`: cronflow-api's list_jobs over N ScheduledJobs
(each with a full ring of 10 results), p50/p99, beside two floors measured in the same run on the same
objects and with the same caller token: `kubectl get sj -o json` of the namespace (what a user would run
instead; it includes kubectl's start-up) and the API server's own list request (what the gateway cannot
avoid doing).

The gateway runs as users run it on the host (`cronflow-api`, a kubeconfig without credentials, the
caller's ServiceAccount token); its list_jobs lists the namespace and maps every ScheduledJob. Progress
goes to stderr; the figures are printed as JSON and, with --out, written to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from kubernetes import client, config

from bench.kube import Kube, path_of
from bench.manifests import scheduledjob
from bench.report import machine
from bench.track import summary
from cronflow import names
from tests.support.cluster import local_cluster
from tests.support.gateway import GatewayProcess, credential_free_kubeconfig
from tests.support.rbac import SCHEDULER_USER, scheduler_user_rbac

RESULTS = 10
"""Results per ScheduledJob: a full ring of the default historyLimit."""


def result_entry(name: str, number: int, response_bytes: int = 0) -> dict[str, Any]:
    """One status.results entry as the operator records it (a 200 with a JSON answer of at least
    `response_bytes`)."""
    return {
        "job": f"{name}-manual-{number:010x}",
        "trigger": "Manual",
        "startTime": f"2026-12-01T0{number % 10}:00:01Z",
        "finishedAt": f"2026-12-01T0{number % 10}:00:02Z",
        "status": "OK",
        "attempts": 1,
        "httpResult": {
            "status": 200,
            "headers": [{"key": "Content-Type", "value": "application/json"}],
            "response": json.dumps({"run_id": f"{number:012x}", "accepted": True, "log": "x" * response_bytes}),
            "truncated": False,
        },
    }


async def populate(kube: Kube, namespace: str, count: int, response_bytes: int = 0) -> None:
    """`count` ScheduledJobs, each with RESULTS results in its status; progress every 250."""
    objs = [scheduledjob(f"list-{i:05d}", namespace) for i in range(count)]
    await kube.create_many(names.PLURAL, namespace, objs)
    done = 0
    semaphore = asyncio.Semaphore(32)

    async def patch(obj: dict[str, Any]) -> None:
        nonlocal done
        name = obj["metadata"]["name"]
        recorded = [result_entry(name, n, response_bytes) for n in range(RESULTS)]
        status = {"status": {"results": recorded, "state": "ENABLED"}}
        async with semaphore:
            await kube.merge_patch(names.PLURAL, namespace, f"{name}/status", status)
        done += 1
        if done % 250 == 0:
            print(f"bench: {done} of {count} statuses written", file=sys.stderr)

    await asyncio.gather(*(patch(obj) for obj in objs))


def timed(samples: int, call: Callable[[], None]) -> dict[str, Any]:
    """Seconds of `samples` sequential calls, after one warm-up call, as a summary in ms."""
    call()
    seconds = []
    for _ in range(samples):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    return summary(seconds)


def measure(gateway: GatewayProcess, token: str, count: int, samples: int) -> dict[str, Any]:
    """list_jobs and its two floors, each `samples` times, all with the caller's token alone."""
    auth = {"Authorization": f"Bearer {token}"}
    server = client.Configuration()
    config.load_kube_config(config_file=str(gateway.kubeconfig), client_configuration=server)  # type: ignore[no-untyped-call]
    namespace = gateway.namespace

    def list_jobs() -> None:
        answer = requests.get(f"{gateway.url}/api/v1/scheduler/list_jobs", params={"username": "*"}, headers=auth,
                              timeout=300)
        assert answer.status_code == 200 and len(answer.json()["jobs"]) == count, answer.text[:300]

    def kubectl_get() -> None:
        out = subprocess.run(
            ["kubectl", "--kubeconfig", str(gateway.kubeconfig), "--token", token, "-n", namespace, "get",
             names.PLURAL, "-o", "json"], capture_output=True, text=True, check=True, timeout=300,
        ).stdout
        assert len(json.loads(out)["items"]) == count

    def api_list() -> None:
        answer = requests.get(server.host + path_of(names.PLURAL, namespace), headers=auth, timeout=300,
                              verify=server.ssl_ca_cert)
        assert answer.status_code == 200 and len(answer.json()["items"]) == count

    figures: dict[str, Any] = {}
    for label, call in (("list_jobs", list_jobs), ("kubectl_get_sj_json", kubectl_get), ("api_list", api_list)):
        print(f"list_jobs: timing {label} ({samples} samples)", file=sys.stderr)
        figures[label] = timed(samples, call)
    for floor in ("kubectl_get_sj_json", "api_list"):
        for q in ("p50", "p99"):
            figures[f"ratio_{q}_to_{floor}"] = round(figures["list_jobs"][q] / figures[floor][q], 2)
    return figures


@contextlib.contextmanager
def gateway_over(count: int, response_bytes: int = 0) -> Iterator[tuple[GatewayProcess, str]]:
    """A namespace of `count` ScheduledJobs (10 results each, answers padded to `response_bytes`) on the local
    cluster, cronflow-api over it and a caller token with a Role there; all removed afterwards."""
    cluster = local_cluster()
    cluster.install_crd()
    namespace = f"bench-list-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "namespace", namespace)
    try:
        began = time.monotonic()

        async def fill() -> None:
            async with Kube(cluster.kubeconfig) as kube:
                await populate(kube, namespace, count, response_bytes)

        asyncio.run(fill())
        print(f"bench: {count} ScheduledJobs in {time.monotonic() - began:.1f} s", file=sys.stderr)
        cluster.kubectl("apply", "-f", "-", input=json.dumps(scheduler_user_rbac(namespace)))
        token = cluster.kubectl("-n", namespace, "create", "token", SCHEDULER_USER).stdout.strip()
        with tempfile.TemporaryDirectory() as tmp:
            kubeconfig = credential_free_kubeconfig(cluster, Path(tmp) / "gateway.kubeconfig")
            gateway = GatewayProcess(kubeconfig, namespace, "http://flows.invalid/run", Path(tmp) / "gateway.log")
            gateway.start()
            try:
                yield gateway, token
            finally:
                gateway.stop()
    finally:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)


def report(figures: dict[str, Any], out: Path | None) -> None:
    """Print the figures as JSON with the date and machine; also into `out`."""
    text = json.dumps({"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(), **figures},
                      indent=2)
    if out:
        out.write_text(text + "\n")
    print(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.list_jobs", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000, help="ScheduledJobs in the namespace (default 1000)")
    parser.add_argument("--samples", type=int, default=20, help="timed calls of each (default 20)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    with gateway_over(args.jobs) as (gateway, token):
        figures = measure(gateway, token, args.jobs, args.samples)
    report({"jobs": args.jobs, "results_per_job": RESULTS, **figures}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
