"""Test-side handles: the cluster (kubectl, audit log) and an operator process."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from cronflow import names
from tests.support.rbac import OPERATOR_USER, operator_rbac

REPO = Path(__file__).resolve().parents[2]
HACK_CLUSTER = REPO / "hack" / "cluster"
WRITE_VERBS = {"create", "update", "patch", "delete", "deletecollection"}
JOB_IMAGE = "cronflow-job:dev"
"""The job image `hack/images` builds and loads into the node."""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
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

    def install_crd(self) -> None:
        """The ScheduledJob CRD from crds/, as users install it; returns once the API serves ScheduledJobs."""
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
        self.kubectl("wait", "--for", "condition=Established", "--timeout", "60s", f"crd/{names.PLURAL}.{names.GROUP}")
        # Established comes before the storage is ready: until then requests get 429 "(re)initializing".
        wait_until(
            "the ScheduledJob API to be served",
            lambda: self.kubectl("get", names.PLURAL, "-A", check=False).returncode == 0, timeout=60, every=0.5,
        )

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
        """The operator's write requests in `namespace` after the mark, as 'verb resource/name'; not its
        leader-election Lease, which it renews every few seconds whatever else it does."""
        return [
            f"{e['verb']} {e['objectRef'].get('resource')}/{e['objectRef'].get('subresource', '')}"
            f"{e['objectRef'].get('name', '')}"
            for e in self.operator_requests(since, namespace)
            if e["verb"] in WRITE_VERBS and e["objectRef"].get("resource") != "leases"
        ]


def hack_cluster(*args: str, timeout: float = 1800) -> str:
    """Run `hack/cluster ARGS` (progress goes to stderr); returns what it printed on stdout."""
    return subprocess.run(
        [str(HACK_CLUSTER), *args], check=True, stdout=subprocess.PIPE, text=True, timeout=timeout
    ).stdout.strip()


def hack_cluster_env() -> dict[str, str]:
    """The variables `hack/cluster env` exports (PATH with the pinned binaries first)."""
    values: dict[str, str] = {}
    for line in hack_cluster("env").splitlines():
        for pair in line.removeprefix("export ").split():
            key, _, value = pair.partition("=")
            values[key] = value.replace("$PATH", os.environ.get("PATH", ""))
    return values


def local_cluster(with_node: bool = False, timeout: float = 1800) -> Cluster:
    """Start the local cluster (`hack/cluster up`, which builds it first when needed, and reuses a running
    one) and put its pinned binaries first on this process's PATH."""
    kubeconfig = Path(hack_cluster("up", *(["--with-node"] if with_node else []), timeout=timeout).splitlines()[-1])
    env = hack_cluster_env()
    os.environ["PATH"] = env["PATH"]
    return Cluster(
        kubeconfig=kubeconfig,
        operator_kubeconfig=kubeconfig.parent / "operator.kubeconfig",
        audit_log=Path(env["CRONFLOW_AUDIT_LOG"]),
        pod_gateway=env["CRONFLOW_POD_GATEWAY"],
        managed=True,
    )


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OperatorProcess:
    """`python -m cronflow` as users run it, watching one namespace or several, under the operator's own user.

    The child gets this process's environment (so a PYTHONPATH set here chooses the cronflow it runs),
    the operator's kubeconfig and `env`. `verbose` runs it with `--verbose` (debug logs).
    """

    def __init__(
        self,
        cluster: Cluster,
        namespace: str | Sequence[str],
        log_path: Path,
        job_image: str = JOB_IMAGE,
        verbose: bool = True,
    ):
        self.env: dict[str, str] = {}
        """Extra CRONFLOW_* settings for the next start."""
        self.cluster = cluster
        self.namespaces = [namespace] if isinstance(namespace, str) else list(namespace)
        self.namespace = self.namespaces[0]
        """The (first) namespace it watches."""
        self.lease_namespace = min(self.namespaces)
        """Where its leader-election Lease lives (the operator's default for a local run, given explicitly)."""
        self.log_path = log_path
        self.job_image = job_image
        self.verbose = verbose
        self.proc: subprocess.Popen[bytes] | None = None
        self.liveness_port = 0
        self.metrics_port = 0
        self.started_at = 0.0
        """time.time() when the process was last launched (to compare with audit-log times)."""

    def grant_rbac(self) -> None:
        """The chart's rules for namespace scope: a Role in each namespace, the small ClusterRole."""
        for namespace in self.namespaces:
            rbac = operator_rbac(namespace, leases=namespace == self.lease_namespace)
            self.cluster.kubectl("apply", "-f", "-", input=json.dumps(rbac))

    def launch(self) -> float:
        """Start the process without waiting for it; returns the monotonic time it was started."""
        self.liveness_port, self.metrics_port = free_port(), free_port()
        env = {**os.environ, **self.env, "KUBECONFIG": str(self.cluster.operator_kubeconfig)}
        args = [sys.executable, "-m", "cronflow"]
        for namespace in self.namespaces:
            args += ["--namespace", namespace]
        args += ["--lease-namespace", self.lease_namespace]
        args += ["--job-image", self.job_image, "--liveness-port", str(self.liveness_port),
                 "--metrics-port", str(self.metrics_port), *(["--verbose"] if self.verbose else [])]
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.started_at = time.time()
            started = time.monotonic()
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        return started

    def wait_alive(self, timeout: float = 60, every: float = 0.25) -> float:
        """Poll the liveness endpoint every `every` seconds; the monotonic time it first answered 200."""

        def alive() -> float | None:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"operator exited with {self.proc.returncode}:\n{self.log()}")
            try:
                answer = requests.get(f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=1)
            except requests.RequestException:
                return None
            return time.monotonic() if answer.status_code == 200 else None

        return wait_until(f"the operator's liveness endpoint (log: {self.log_path})", alive, timeout, every)

    def start(self) -> None:
        """Start and wait until kopf reports itself alive."""
        self.launch()
        self.wait_alive()

    @property
    def pid(self) -> int:
        """The process id of the running (or last) process."""
        assert self.proc is not None, "not started"
        return self.proc.pid

    def stop(self, kill: bool = False) -> float:
        """Stop it (SIGKILL when `kill`, as a crash would; after SIGTERM, SIGKILL at 20 s); seconds it took."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        began = time.monotonic()
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return round(time.monotonic() - began, 2)

    def restart(self) -> None:
        """Stop and start again."""
        self.stop()
        self.start()

    def metrics(self) -> str:
        """What /metrics serves now."""
        return requests.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def metric(self, name: str) -> float:
        """The sum of all samples of metric `name` on /metrics now (0 when absent)."""
        pattern = re.compile(rf"^{re.escape(name)}(?:{{[^}}]*}})? ([0-9.e+-]+)$", re.MULTILINE)
        return sum(float(value) for value in pattern.findall(self.metrics()))

    def rss_mb(self) -> float:
        """Its resident set size now (/proc/PID/status VmRSS), MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def cpu_seconds(self) -> float:
        """Its user + system CPU time so far (/proc/PID/stat), seconds."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / CLOCK_TICKS, 2)

    def log(self) -> str:
        """What the operator printed so far."""
        return self.log_path.read_text(errors="replace")


def two_operators(cluster: Cluster, namespace: str, logs: Path) -> Iterator[list[OperatorProcess]]:
    """Two `python -m cronflow` for the same namespace, started one after the other, stopped at the end."""
    procs = [OperatorProcess(cluster, namespace, logs / f"operator-{n}.log") for n in ("a", "b")]
    procs[0].grant_rbac()
    for proc in procs:
        proc.start()
    yield procs
    for proc in procs:
        proc.stop()
