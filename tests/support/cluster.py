"""Test-side handles: the cluster (kubectl, audit log) and an operator process."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from tests.support.rbac import OPERATOR_USER, operator_rbac

REPO = Path(__file__).resolve().parents[2]
HACK_CLUSTER = REPO / "hack" / "cluster"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
T = TypeVar("T")


def wait_until(what: str, probe: Callable[[], T | None], timeout: float = 60, every: float = 0.25) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


@dataclass
class Cluster:
    """The session's cluster."""

    kubeconfig: Path
    operator_kubeconfig: Path
    audit_log: Path | None
    pod_gateway: str
    managed: bool

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster; output captured as text."""
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            input=input, text=True, capture_output=True, timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def get_json(self, *args: str) -> Any:
        """`kubectl get ... -o json`, parsed."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def audit_offset(self) -> int:
        """A mark in the audit log; `operator_requests(since=mark)` reads what came after it."""
        assert self.audit_log is not None, "this check needs the local cluster's audit log"
        return self.audit_log.stat().st_size if self.audit_log.exists() else 0

    def operator_requests(self, since: int, namespace: str) -> list[dict[str, Any]]:
        """Audit events of requests by the operator's user in `namespace` after the mark."""
        assert self.audit_log is not None, "this check needs the local cluster's audit log"
        events = []
        with self.audit_log.open("rb") as log:
            log.seek(since)
            for line in log:
                event = json.loads(line)
                if event.get("user", {}).get("username") != OPERATOR_USER:
                    continue
                if event.get("objectRef", {}).get("namespace") != namespace:
                    continue
                events.append(event)
        return events

    def operator_writes(self, since: int, namespace: str) -> list[str]:
        """The operator's write requests in `namespace` after the mark, as 'verb resource/name'."""
        return [
            f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('subresource', '')}"
            f"{e['objectRef'].get('name', '')}"
            for e in self.operator_requests(since, namespace)
            if e["verb"] in WRITE_VERBS
        ]


def hack_cluster(*args: str) -> str:
    """Run `hack/cluster ARGS` (progress goes to stderr); returns what it printed on stdout."""
    return subprocess.run(
        [str(HACK_CLUSTER), *args], check=True, stdout=subprocess.PIPE, text=True, timeout=1800
    ).stdout.strip()


def hack_cluster_env() -> dict[str, str]:
    """The variables `hack/cluster env` exports (PATH with the pinned binaries first)."""
    values: dict[str, str] = {}
    for line in hack_cluster("env").splitlines():
        for pair in line.removeprefix("export ").split():
            key, _, value = pair.partition("=")
            values[key] = value.replace("$PATH", os.environ.get("PATH", ""))
    return values


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OperatorProcess:
    """`python -m cronflow` as users run it, watching one namespace, under the operator's own user."""

    def __init__(self, cluster: Cluster, namespace: str, log_path: Path, job_image: str = "cronflow-job:dev"):
        self.env: dict[str, str] = {}
        """Extra CRONFLOW_* settings for the next start."""
        self.cluster = cluster
        self.namespace = namespace
        self.log_path = log_path
        self.job_image = job_image
        self.proc: subprocess.Popen[bytes] | None = None
        self.metrics_port = 0

    def grant_rbac(self) -> None:
        """The chart's rules for namespace scope: a Role in the namespace, the small ClusterRole."""
        self.cluster.kubectl("apply", "-f", "-", input=json.dumps(operator_rbac(self.namespace)))

    def start(self) -> None:
        """Start and wait until kopf reports itself alive."""
        port = free_port()
        self.metrics_port = free_port()
        env = {**os.environ, **self.env, "KUBECONFIG": str(self.cluster.operator_kubeconfig)}
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cronflow", "--namespace", self.namespace, "--job-image", self.job_image,
             "--liveness-port", str(port), "--metrics-port", str(self.metrics_port), "--verbose"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )

        def alive() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"operator exited with {self.proc.returncode}:\n{self.log()}")
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until("the operator's liveness endpoint", alive, timeout=60)

    def stop(self, kill: bool = False) -> None:
        """Stop it (SIGKILL when `kill`, as a crash would)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        """Stop and start again."""
        self.stop()
        self.start()

    def metrics(self) -> str:
        """What /metrics serves now."""
        return requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def log(self) -> str:
        """What the operator printed so far."""
        return self.log_path.read_text(errors="replace")
