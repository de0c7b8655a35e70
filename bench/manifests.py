"""Manifests the benchmark applies: ScheduledJobs, and plain CronJobs equivalent to what cronflow builds."""

from __future__ import annotations

import copy
from typing import Any

from bench.kube import Obj

FAR_OFF = "0 3 1 1 *"
"""A schedule that does not fire during a benchmark: pods need not run for most parts."""
NOWHERE = {"cronflow.dev/bench-node": "none"}
"""A node selector no node has: Jobs are created, their pods stay Pending and never run."""
SJ_LABEL = "cronflow.dev/scheduledjob"
TOKEN_ANNOTATION = "cronflow.dev/trigger-token"


def scheduledjob(
    name: str,
    namespace: str,
    schedule: str = FAR_OFF,
    endpoint: str = "http://flows.invalid/api/v1/flow/run",
    pods_run: bool = False,
    **spec: Any,
) -> Obj:
    """A ScheduledJob; its pods stay Pending unless `pods_run`."""
    body: dict[str, Any] = {
        "schedule": schedule,
        "flow": {"endpoint": endpoint, "timeoutSeconds": 20, "binaryPath": "bench/flow.ibflowbin"},
        **spec,
    }
    if not pods_run:
        body["jobTemplate"] = {"nodeSelector": NOWHERE}
    return {
        "apiVersion": "cronflow.dev/v1alpha1",
        "kind": "ScheduledJob",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def plain_cronjob(built: Obj, name: str, namespace: str) -> Obj:
    """A CronJob with the spec of one cronflow built, not owned and not labelled for cronflow."""
    spec = copy.deepcopy(built["spec"])
    for meta in (spec["jobTemplate"].get("metadata") or {}, spec["jobTemplate"]["spec"]["template"]["metadata"]):
        meta.pop("labels", None)
        meta.pop("annotations", None)
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name, "namespace": namespace},
            "spec": spec}


def scheduledjob_of(obj: Obj) -> str:
    """The ScheduledJob a child (CronJob, Job) belongs to, by its label."""
    return str((obj["metadata"].get("labels") or {}).get(SJ_LABEL, ""))


def trigger_token(obj: Obj) -> str:
    """The trigger token a manual Job was created for."""
    return str((obj["metadata"].get("annotations") or {}).get(TOKEN_ANNOTATION, ""))
