"""Test-side handles of cronflow-api: the app served in a thread (unit tier), the process (cluster tiers)."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import requests
import uvicorn
from fastapi import FastAPI

from tests.support.cluster import free_port, wait_until


@contextlib.contextmanager
def serving_app(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until("uvicorn to listen", lambda: server.started, timeout=10, every=0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class GatewayProcess:
    """`cronflow-api` as users run it, against `kubeconfig` (whose credentials it must not use)."""

    def __init__(self, kubeconfig: Path, namespace: str, flow_endpoint: str, log_path: Path) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.flow_endpoint = flow_endpoint
        self.log_path = log_path
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """URL_BASE of the original API's scripts."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start it and wait until /healthz answers."""
        self.port = free_port()
        script = Path(sys.executable).with_name("cronflow-api")
        args = [str(script), "--namespace", self.namespace, "--host", "127.0.0.1", "--port", str(self.port),
                "--flow-endpoint", self.flow_endpoint]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)

        def healthy() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"cronflow-api exited with {self.proc.returncode}:\n{self.log()}")
            try:
                return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(f"cronflow-api to answer (log: {self.log_path})", healthy, timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log(self) -> str:
        """What it printed so far."""
        return self.log_path.read_text(errors="replace")
