"""`kubectl cronflow` against a real API server: it patches the ScheduledJob and reads its status."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cluster import Cluster, OperatorProcess, wait_until

pytestmark = pytest.mark.integration

PLUGIN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kubectl-cronflow"
SCHEDULED_JOB: dict[str, Any] = {
    "apiVersion": "cronflow.dev/v1alpha1",
    "kind": "ScheduledJob",
    "metadata": {"name": "nightly-import"},
    "spec": {
        "schedule": "0 3 * * *",
        "timeZone": "Europe/Amsterdam",
        "flow": {"endpoint": "https://app.example.com/cronjob/biosamples/import"},
    },
}
RESULTS = [
    {
        "job": "nightly-import-manual-0a1b2c3d4e",
        "trigger": "Manual",
        "startTime": "2026-11-22T12:00:01Z",
        "finishedAt": "2026-11-22T12:00:02Z",
        "status": "ERROR",
        "httpResult": {"status": 503, "headers": [], "response": "maintenance until 13:00", "truncated": False},
    },
    {
        "job": "nightly-import-29012345",
        "trigger": "Schedule",
        "startTime": "2026-11-22T02:00:03Z",
        "finishedAt": "2026-11-22T02:00:04Z",
        "status": "OK",
        "httpResult": {"status": 200, "response": '{"accepted": true}'},
    },
]


def plugin(cluster: Cluster, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed console script, as kubectl would run it, against the session's cluster."""
    return subprocess.run(
        [str(PLUGIN), *args, "-n", namespace, "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def scheduled_job(cluster: Cluster, crd: None, namespace: str) -> str:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(SCHEDULED_JOB))
    return str(SCHEDULED_JOB["metadata"]["name"])


def spec(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    return dict(cluster.get_json("-n", namespace, "scheduledjob", name)["spec"])


def test_disable_and_enable_patch_spec_enabled(cluster: Cluster, namespace: str, scheduled_job: str) -> None:
    disabled = plugin(cluster, namespace, "disable", scheduled_job)
    assert disabled.returncode == 0, disabled.stderr
    assert disabled.stdout == f"scheduledjobs.cronflow.dev/{scheduled_job} disabled\n"
    assert spec(cluster, namespace, scheduled_job)["enabled"] is False

    enabled = plugin(cluster, namespace, "enable", scheduled_job)
    assert enabled.returncode == 0, enabled.stderr
    assert spec(cluster, namespace, scheduled_job)["enabled"] is True


def test_trigger_sets_a_new_token_each_time(cluster: Cluster, namespace: str, scheduled_job: str) -> None:
    tokens = []
    for _ in range(2):
        result = plugin(cluster, namespace, "trigger", scheduled_job)
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip().removesuffix(")").rsplit(" ", 1)[-1]
        assert spec(cluster, namespace, scheduled_job)["trigger"] == token
        tokens.append(token)
    assert tokens[0] != tokens[1]
    assert spec(cluster, namespace, scheduled_job)["schedule"] == "0 3 * * *", "only spec.trigger changes"


def test_results_prints_the_status_results_as_a_table(cluster: Cluster, namespace: str, scheduled_job: str) -> None:
    empty = plugin(cluster, namespace, "results", scheduled_job)
    assert (empty.returncode, empty.stdout) == (0, "")
    assert "no results yet" in empty.stderr

    cluster.kubectl(
        "patch",
        "-n",
        namespace,
        "scheduledjob",
        scheduled_job,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({"status": {"results": RESULTS}}),
    )
    result = plugin(cluster, namespace, "results", scheduled_job)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "JOB", "TRIGGER", "STARTED", "FINISHED", "STATUS", "ATTEMPTS", "HTTP", "MESSAGE/RESPONSE"
    ]
    assert lines[1].split()[:7] == [
        "nightly-import-manual-0a1b2c3d4e",
        "Manual",
        "2026-11-22T12:00:01Z",
        "2026-11-22T12:00:02Z",
        "ERROR",
        "-",
        "503",
    ]
    assert lines[1].endswith("maintenance until 13:00")
    assert lines[2].split()[4:7] == ["OK", "-", "200"]


def test_next_prints_run_times_in_the_schedule_zone(cluster: Cluster, namespace: str, scheduled_job: str) -> None:
    result = plugin(cluster, namespace, "next", scheduled_job, "--count", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("TIME (Europe/Amsterdam)")
    assert len(lines) == 4
    assert all(" 03:00 " in line for line in lines[1:])


def test_kubectl_finds_the_plugin_on_path(cluster: Cluster, namespace: str, scheduled_job: str) -> None:
    env = {**os.environ, "PATH": f"{PLUGIN.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["kubectl", "cronflow", "disable", scheduled_job, "-n", namespace, "--kubeconfig", str(cluster.kubeconfig)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert spec(cluster, namespace, scheduled_job)["enabled"] is False


def test_unknown_scheduledjob_fails_with_a_kubectl_like_message(cluster: Cluster, crd: None, namespace: str) -> None:
    result = plugin(cluster, namespace, "trigger", "no-such-job")
    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): scheduledjobs.cronflow.dev "no-such-job" not found'


def test_imported_crontab_applies_and_reconciles(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    crontab = Path(__file__).resolve().parents[2] / "samples" / "webapp.crontab"
    imported = plugin(cluster, namespace, "import", "crontab", str(crontab))
    assert imported.returncode == 1, "the sample's `find` line is skipped"
    assert "line 14: skipped: runs 'find'" in imported.stderr
    cluster.kubectl("apply", "-f", "-", input=imported.stdout)

    jobs = [doc for doc in yaml.safe_load_all(imported.stdout) if doc["kind"] == "ScheduledJob"]
    assert len(jobs) == 5
    for job in jobs:
        name = job["metadata"]["name"]

        def ready(name: str = name) -> dict[str, Any] | None:
            status = cluster.get_json("-n", namespace, "sj", name).get("status") or {}
            conditions = {c["type"]: c for c in status.get("conditions") or []}
            return status if conditions.get("Ready", {}).get("status") == "True" else None

        status = wait_until(f"{name} Ready", ready, timeout=30)
        cronjob = cluster.get_json("-n", namespace, "cronjob", status["cronJobName"])
        assert (cronjob["spec"]["schedule"], cronjob["spec"]["timeZone"]) == (job["spec"]["schedule"], "Europe/London")
    lineage = cluster.get_json("-n", namespace, "sj", "helpers-add-lineage")
    assert lineage["spec"]["flow"]["headersSecretRef"] == {"name": "helpers-add-lineage-credentials"}
    assert "change-me" not in json.dumps(lineage)


def test_status_says_when_no_operator_has_reconciled_the_scheduledjob(
    cluster: Cluster, namespace: str, scheduled_job: str
) -> None:
    unwatched = plugin(cluster, namespace, "status", scheduled_job)
    assert unwatched.returncode == 0, unwatched.stderr
    assert f"no operator has reconciled {scheduled_job} yet" in unwatched.stderr
    assert f"watches namespace {namespace}?" in unwatched.stderr
    assert ["STATE", "<none>"] in [line.split() for line in unwatched.stdout.splitlines()]


def test_status_shows_the_ready_condition_once_an_operator_reconciled_it(
    cluster: Cluster, namespace: str, scheduled_job: str, operator: OperatorProcess
) -> None:
    def ready() -> bool:
        return bool(plugin(cluster, namespace, "status", scheduled_job).stdout.count("READY"))

    wait_until("the operator to set Ready", ready, timeout=60)
    result = plugin(cluster, namespace, "status", scheduled_job)
    assert result.stderr == ""
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert rows["STATE"] == ["ENABLED"]
    assert rows["READY"] == ["True", "Reconciled:", "CronJob", "is", "up", "to", "date"]
