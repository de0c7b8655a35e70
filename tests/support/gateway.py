"""Test-side handles of cronflow-api: the app served in a thread (unit tier), the process (cluster tiers),
and the original API's documented script run against a gateway on the local cluster."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests
import uvicorn
from fastapi import FastAPI

from cronflow import names
from tests.support import scheduler_client as script
from tests.support.cluster import Cluster, free_port, wait_until
from tests.support.flow_server import Server
from tests.support.rbac import SCHEDULER_USER
from tests.support.scheduler_client import DAILY_JOB

AUTH_TOKEN = DAILY_JOB["flow_parameters"]["auth_token"]


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


def credential_free_kubeconfig(cluster: Cluster, path: Path) -> Path:
    """The cluster's address and CA only: the gateway must not be able to act on its own."""
    config = json.loads(cluster.kubectl("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout)
    config["users"] = [{"name": user["name"], "user": {}} for user in config["users"]]
    path.write_text(json.dumps(config))
    return path


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


def documented_script_round_trip(
    cluster: Cluster, namespace: str, url_base: str, user_token: str, flow_server: Server, logs: Callable[[], str]
) -> None:
    """The documented script creates, lists, triggers, polls, disables, enables and deletes a job at
    `url_base`, whose jobs live in `namespace`; the run calls `flow_server`'s /ok. The auth token is in no
    answer, status, Event or in `logs()` (the gateway's and the operator's), and the caller's token in none."""
    answers = []

    def call(answer: tuple[int, Any]) -> Any:
        answers.append(answer)
        assert answer[0] == 200, answer
        return answer[1]

    job_id = call(script.create_job(url_base, user_token, DAILY_JOB))["job_id"]
    [job] = call(script.list_jobs(url_base, user_token, job_id=job_id, username="*"))["jobs"]
    assert (job["name"], job["username"]) == ("Daily Job", f"system:serviceaccount:{namespace}:{SCHEDULER_USER}")
    [sj] = cluster.get_json("-n", namespace, "sj")["items"]
    assert sj["metadata"]["uid"] == job_id

    run_id = call(script.trigger_job(url_base, user_token, job_id))["run_id"]
    run = wait_until("the triggered run to finish", lambda: (
        finished if (finished := call(script.get_run(url_base, user_token, run_id)))["state"] in ("OK", "ERROR")
        else None), timeout=120, every=1)
    assert run["state"] == "OK", run
    assert run["result"]["http_result"]["status"] == "200"
    [received] = [r for r in flow_server.received if r.path == "/ok"]
    assert received.headers["Authorization"] == f"Bearer {AUTH_TOKEN}"  # the Secret reached the run only
    assert json.loads(received.body)["settings"] == DAILY_JOB["flow_parameters"]["settings"]
    [job] = call(script.list_jobs(url_base, user_token, job_id=job_id))["jobs"]
    assert job["results"] == [run["result"]]

    assert call(script.disable_job(url_base, user_token, job_id)) == {"status": "OK", "disabled_jobs": job_id}
    assert cluster.get_json("-n", namespace, "sj", sj["metadata"]["name"])["spec"]["enabled"] is False
    assert call(script.enable_job(url_base, user_token, job_id)) == {"status": "OK", "enabled_jobs": job_id}

    secret = cluster.get_json("-n", namespace, "secret", f"{sj['metadata']['name']}-auth-token")
    assert secret["metadata"]["ownerReferences"][0]["uid"] == job_id
    everything = json.dumps(
        [answers, cluster.get_json("-n", namespace, "sj"), cluster.get_json("-n", namespace, "events")]
    )
    logged = logs()
    assert AUTH_TOKEN not in everything and AUTH_TOKEN not in logged
    assert user_token not in logged

    assert call(script.delete_job(url_base, user_token, job_id)) == {"status": "OK", "deleted_jobs": job_id}
    wait_until("the job and its Secret to be gone", lambda: not (
        cluster.get_json("-n", namespace, "sj")["items"]
        or cluster.get_json("-n", namespace, "secret", "-l", f"{names.USABLE_LABEL}=true")["items"]), timeout=60)
