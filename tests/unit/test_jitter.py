"""jitterSeconds: only scheduled runs wait, the wait is stable per Job name, and the deadline covers it."""

from typing import Any

import pytest

from cronflow import names
from cronflow.children.cronjob import (
    JITTER_ENV,
    JOB_NAME_ENV,
    build_backfill_job,
    build_cronjob,
    build_file_job,
    build_trigger_job,
    run_deadline_seconds,
)
from cronflow_job import jitter
from cronflow_job.__main__ import run
from cronflow_job.config import ConfigError
from tests.unit.test_children_cronjob import IMAGE, OWNER, container_of, spec


def env_of(job_spec: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in container_of(job_spec)["env"]}


def test_a_scheduled_run_gets_the_jitter_and_its_job_name_from_the_pod_label() -> None:
    template = build_cronjob(OWNER, spec(jitterSeconds=600), IMAGE)["spec"]["jobTemplate"]["spec"]
    env = env_of(template)
    assert env[JITTER_ENV] == {"name": JITTER_ENV, "value": "600"}
    field = env[JOB_NAME_ENV]["valueFrom"]["fieldRef"]["fieldPath"]
    assert field == f"metadata.labels['{names.JOB_NAME_LABEL}']"
    assert template["activeDeadlineSeconds"] == run_deadline_seconds(spec().flow) + 600


@pytest.mark.parametrize("job", [
    build_trigger_job(OWNER, spec(jitterSeconds=600), IMAGE, "now"),
    build_file_job(OWNER, spec(jitterSeconds=600), IMAGE, "a.pdf", "a.pdf@1"),
    build_backfill_job(OWNER, spec(jitterSeconds=600), IMAGE, "2026-11-01T00:00:00Z"),
], ids=["manual", "file", "backfill"])
def test_runs_the_operator_starts_do_not_wait(job: dict[str, Any]) -> None:
    assert JITTER_ENV not in env_of(job["spec"]) and JOB_NAME_ENV not in env_of(job["spec"])
    assert job["spec"]["activeDeadlineSeconds"] == run_deadline_seconds(spec().flow)


def test_no_jitter_adds_no_env_so_existing_cronjobs_do_not_drift() -> None:
    assert JITTER_ENV not in env_of(build_cronjob(OWNER, spec(), IMAGE)["spec"]["jobTemplate"]["spec"])


@pytest.mark.parametrize(("limit", "name"), [(60, "nightly-29012345"), (3600, "nightly-29012346"), (1, "x")])
def test_the_wait_is_the_same_for_every_pod_of_a_job_and_within_the_bound(limit: int, name: str) -> None:
    env = {jitter.JITTER_ENV: str(limit), jitter.JOB_NAME_ENV: name, "HOSTNAME": "pod-a"}
    waits = {jitter.jitter_seconds({**env, "HOSTNAME": pod}) for pod in ("pod-a", "pod-b")}
    assert len(waits) == 1 and 0 <= waits.pop() <= limit


def test_the_waits_of_many_jobs_spread_over_the_range() -> None:
    waits = [jitter.jitter_seconds({jitter.JITTER_ENV: "59", jitter.JOB_NAME_ENV: f"sj-{i}"}) for i in range(600)]
    assert min(waits) == 0 and max(waits) == 59 and len(set(waits)) == 60


@pytest.mark.parametrize("raw", ["-1", "3601", "ten", "1.5"])
def test_a_bad_jitter_value_is_a_config_error(raw: str) -> None:
    with pytest.raises(ConfigError, match="CRONFLOW_JITTER_SECONDS must be a whole number"):
        jitter.jitter_seconds({jitter.JITTER_ENV: raw})


def test_the_wait_is_one_log_line_and_none_without_jitter() -> None:
    slept: list[float] = []
    lines: list[str] = []
    env = {jitter.JITTER_ENV: "3600", jitter.JOB_NAME_ENV: "nightly-29012345"}
    jitter.wait_jitter(env, slept.append, lines.append)
    assert slept == [jitter.jitter_seconds(env)]
    assert lines == [f"cronflow-job jitter={slept[0]}s of 3600s job=nightly-29012345"]
    jitter.wait_jitter({}, slept.append, lines.append)
    assert len(slept) == 1 and len(lines) == 1


def test_a_run_waits_before_its_config_is_read(tmp_path: Any) -> None:
    slept: list[float] = []
    log = tmp_path / "termination-log"
    env = {jitter.JITTER_ENV: "30", jitter.JOB_NAME_ENV: "nightly-1", "CRONFLOW_TERMINATION_LOG": str(log)}
    assert run(env, slept.append) == 1  # no CRONFLOW_FLOW: an ERROR result, after the wait
    assert slept == [jitter.jitter_seconds(env)]
    assert "CRONFLOW_FLOW is not set" in log.read_text()
