"""The benchmark's pure parts: what the bulk floor writes, how goals are judged, the table, progress lines."""

import inspect
import json
from pathlib import Path
from typing import Any

from bench import apiserver, bulk, floor, memory
from bench.cluster import Request
from bench.manifests import plain_trigger_job, scheduledjob, trigger_token
from bench.report import GOALS, goals, table
from bench.track import Progress, status_written
from cronflow import names
from cronflow.api.models import parse_spec
from cronflow.children.cronjob import Owner, build_cronjob
from cronflow.controller import Controller

IMAGE = "cronflow-job:dev"


def test_floor_writes_the_cronjob_and_status_cronflow_writes() -> None:
    sj = scheduledjob("bulk-7", "bench-floor")
    sj["metadata"].update(uid="u-1", resourceVersion="5", generation=1)
    writes = floor.cronflow_writes(sj, IMAGE)
    assert writes.cronjob == build_cronjob(Owner("bulk-7", "bench-floor", "u-1"), parse_spec(sj["spec"]), IMAGE)
    written = {**sj, "status": writes.status}
    assert list(status_written(written)) == ["bulk-7"]


def test_floor_fills_in_the_owner_uid_without_changing_the_plan() -> None:
    planned = floor.planned_writes(["bulk-0", "bulk-1"], "bench-floor", IMAGE)
    owned = floor.owned_by(planned["bulk-1"].cronjob, "real-uid")
    assert [ref["uid"] for ref in owned["metadata"]["ownerReferences"]] == ["real-uid"]
    assert planned["bulk-1"].cronjob["metadata"]["ownerReferences"][0]["uid"] == floor.PLACEHOLDER_UID
    assert owned["metadata"]["labels"][names.SCHEDULEDJOB_LABEL] == "bulk-1"


def test_floor_concurrency_is_the_operators_number_of_workers() -> None:
    assert inspect.signature(Controller).parameters["workers"].default == floor.OPERATOR_WORKERS


def test_trigger_floor_job_is_cronflows_trigger_job_without_an_owner() -> None:
    job = plain_trigger_job(scheduledjob("trigger-3", "bench-floor"), "bench-9", IMAGE)
    assert trigger_token(job) == "bench-9"
    assert "ownerReferences" not in job["metadata"]
    assert job["metadata"]["finalizers"] == [names.RESULT_FINALIZER]


def request(verb: str, code: int = 200) -> Request:
    return Request(verb=verb, resource="cronjobs", namespace="ns", name="x", received=0.0, code=code)


def test_writes_per_scheduledjob_counts_refused_writes_apart() -> None:
    requests = [request("patch")] * 200 + [request("patch", 504)] * 5 + [request("list")] * 3
    assert bulk.writes_per_scheduledjob(requests, 100) == {"all": 2.05, "accepted": 2.0, "refused": 0.05}


def bulk_figures(size: int, seconds: float, rss_peak: float, writes: float = 2.0) -> dict[str, Any]:
    return {
        "size": size,
        "create_seconds": 1.0,
        "all_cronjobs_seconds": seconds - 1,
        "all_statuses_seconds": seconds,
        "per_second": round(size / seconds, 1),
        "operator_rss_mb_idle": 90.0,
        "operator_rss_mb": rss_peak - 5,
        "operator_rss_mb_peak": rss_peak,
        "operator_cpu_seconds": 20.0,
        "operator_cpu_seconds_until_done": 10.0,
        "operator_cpu_share_until_done": 0.5,
        "requests": {
            "reads": 1,
            "writes": int(writes * size),
            "reads_per_object": 0.0,
            "writes_per_object": writes,
            "by_kind": {},
        },
        "writes_per_scheduledjob": {"all": writes, "accepted": writes, "refused": 0.0},
    }


def floor_figures(size: int, seconds: float) -> dict[str, Any]:
    return {
        "size": size,
        "concurrency": 4,
        "cronjob_write": "create",
        "create_seconds": 1.0,
        "all_cronjobs_seconds": seconds - 1,
        "all_statuses_seconds": seconds,
        "per_second": 1.0,
        "retried": {},
    }


def report() -> dict[str, Any]:
    return {
        "date": "2026-12-02 07:00 UTC",
        "mode": "full",
        "loadavg_start": [1.0, 1.0, 1.0],
        "loadavg_end": [2.0, 2.0, 2.0],
        "machine": {"cpu": "AMD EPYC", "cores": 2, "memory_gb": 23.5, "kernel": "6.1"},
        "versions": {
            "kubernetes": "v1.34.4",
            "python": "3.11.7",
            "kopf": "1.45.2",
            "commit": "abc1234",
            "operator_dirty": False,
        },
        "apply": {
            "apply_to_cronjob_ms": {"n": 100, "p50": 20.0, "p99": 30.0},
            "create_cronjob_floor_ms": {"n": 100, "p50": 8.0, "p99": 10.0},
            "apply_to_status_ms": {"n": 100, "p50": 40.0, "p99": 60.0},
            "ratio_p50": 2.5,
            "ratio_p99": 3.0,
        },
        "bulk": [
            bulk.with_floor(bulk_figures(1000, 12.0, 140.0), floor_figures(1000, 10.0)),
            bulk.with_floor(bulk_figures(10000, 200.0, 300.0, writes=2.1), floor_figures(10000, 100.0)),
        ],
        "restart": [
            {
                "objects": 1000,
                "alive_seconds": 2.0,
                "first_list_seconds": 2.1,
                "all_resumed_seconds": 12.0,
                "writes": 0,
                "requests": {"reads": 8},
                "operator_rss_mb": 158.0,
                "operator_rss_mb_peak": 160.0,
            },
            {
                "objects": 10000,
                "alive_seconds": 2.0,
                "first_list_seconds": 2.1,
                "all_resumed_seconds": 45.0,
                "writes": 0,
                "requests": {"reads": 8},
                "operator_rss_mb": 238.0,
                "operator_rss_mb_peak": 240.0,
            },
        ],
        "results": {
            "finished_to_result_ms": {"n": 50, "p50": 100.0, "p99": 450.0},
            "completion_time_to_result_ms": {"n": 50, "p50": 900.0, "p99": 1400.0},
        },
    }


def test_goals_are_judged_against_the_floor_and_the_issues_limits() -> None:
    judged = {g["goal"]: g["met"] for g in goals(report())}
    assert judged == {
        "apply -> CronJob p99 within 2.0x of a direct create": False,
        "bulk 1,000: all statuses within 1.3x of the floor": True,
        "bulk 1,000: at most 2 writes per created ScheduledJob": True,
        "operator RSS at most 150 MB at 1,000": False,
        "bulk 10,000: all statuses within 1.3x of the floor": False,
        "bulk 10,000: at most 2 writes per created ScheduledJob": False,
        "operator RSS at most 250 MB at 10,000": False,
        "restart over 1,000: 0 writes and all resumed within 30 s": True,
        "restart over 10,000: 0 writes and all resumed within 30 s": False,
        "Job finished -> result p99 within 500 ms": True,
    }
    assert GOALS.bulk_ratio == 1.3


def test_table_shows_each_bulk_beside_its_floor() -> None:
    results = report()
    results["goals"] = goals(results)
    text = table(results)
    assert "| bulk 1,000: ratio to the floor, all CronJobs / all statuses | 1.22x / 1.2x | <= 1.3x |" in text
    assert (
        "| bulk 10,000 floor (4 in flight, create CronJob + merge-patch status): all CronJobs / all statuses, s "
        "| 99.0 / 100.0 |  |" in text
    )
    assert "- operator RSS at most 250 MB at 10,000: 300.0 MB bulk peak, 240.0 MB after the restart — MISSED" in text


def test_a_failed_floor_leaves_the_bulk_without_ratios() -> None:
    figures = bulk.with_floor(bulk_figures(1000, 12.0, 140.0), {"error": "TimeoutError: ..."})
    assert "ratio_all_statuses" not in figures
    assert not [g for g in goals({"bulk": [figures]}) if "floor" in g["goal"]]


def test_progress_line_names_each_count() -> None:
    progress = Progress("bulk 10000", {"CronJobs": lambda: 1234, "statuses": lambda: 56})
    assert progress.line().startswith("bench: bulk 10000: CronJobs 1,234, statuses 56 (")


def test_memory_is_grouped_by_the_package_of_the_allocating_file() -> None:
    site = "/work/main/.venv/lib/python3.11/site-packages"
    assert memory.package_of(f"{site}/kopf/_core/engines/indexing.py") == "kopf"
    assert memory.package_of("/work/main/operator/cronflow/kube.py") == "cronflow"
    assert memory.package_of(str(Path(json.__file__).parent / "decoder.py")) == "stdlib:json"
    assert memory.package_of("<frozen importlib._bootstrap_external>") == "<frozen importlib._bootstrap_external>"
    assert memory.short_path(f"{site}/kopf/_core/engines/indexing.py") == "kopf/_core/engines/indexing.py"


METRICS_BEFORE = """# HELP apiserver_request_duration_seconds x
apiserver_request_duration_seconds_sum{resource="cronjobs",subresource="",verb="APPLY"} 1.0
apiserver_request_duration_seconds_count{resource="cronjobs",subresource="",verb="APPLY"} 10
apiserver_request_total{code="504",resource="cronjobs",verb="APPLY"} 1
apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="true",flow_schema="gd",priority_level="gd"} 0
apiserver_flowcontrol_request_wait_duration_seconds_count{execute="true",flow_schema="gd",priority_level="gd"} 0
apiserver_flowcontrol_nominal_limit_seats{priority_level="gd"} 49
"""
METRICS_AFTER = """
apiserver_request_duration_seconds_sum{resource="cronjobs",subresource="",verb="APPLY"} 31.0
apiserver_request_duration_seconds_count{resource="cronjobs",subresource="",verb="APPLY"} 110
apiserver_request_duration_seconds_count{resource="pods",subresource="",verb="GET"} 99
apiserver_request_total{code="504",resource="cronjobs",verb="APPLY"} 6
apiserver_request_total{code="201",resource="cronjobs",verb="APPLY"} 100
apiserver_flowcontrol_request_wait_duration_seconds_sum{execute="true",flow_schema="gd",priority_level="gd"} 50
apiserver_flowcontrol_request_wait_duration_seconds_count{execute="true",flow_schema="gd",priority_level="gd"} 100
apiserver_flowcontrol_nominal_limit_seats{priority_level="gd"} 49
apiserver_flowcontrol_current_limit_seats{priority_level="gd"} 20
"""


def test_apiserver_summary_is_the_difference_of_two_scrapes() -> None:
    found = apiserver.summary(apiserver.parse(METRICS_BEFORE), apiserver.parse(METRICS_AFTER))
    assert found["requests"] == {"APPLY cronjobs": {"count": 100, "mean_ms": 300.0}}
    assert found["answers_4xx_5xx"] == {"APPLY cronjobs 504": 5}
    assert found["flowcontrol_wait"] == {"gd gd true": {"count": 100, "mean_ms": 500.0}}
    assert found["flowcontrol_seats"] == {"gd": {"nominal": 49, "current": 20}}
