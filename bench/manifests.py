"""What the benchmark creates beyond tests/support's ScheduledJob: its flow, Pending pods, plain CronJobs."""

from __future__ import annotations

from typing import Any

from bench.kube import Obj
from cronflow import names
from cronflow.api.models import parse_spec
from cronflow.children.cronjob import Owner, build_cronjob, build_trigger_job
from tests.support import manifests

NOWHERE = {f"{names.GROUP}/bench-node": "none"}
"""A node selector no node has: Jobs are created, their pods stay Pending and never run."""


def scheduledjob(
    name: str,
    namespace: str,
    endpoint: str = manifests.NO_FLOW_SERVICE,
    pods_run: bool = False,
    **spec: Any,
) -> Obj:
    """tests/support's ScheduledJob with a 20 s flow of a binary; its pods stay Pending unless `pods_run`."""
    flow = {"endpoint": endpoint, "timeoutSeconds": 20, "binaryPath": "bench/flow.ibflowbin"}
    pods = {} if pods_run else {"jobTemplate": {"nodeSelector": NOWHERE}}
    return manifests.scheduledjob(name, namespace, flow=flow, **pods, **spec)


def plain_cronjob(sj: Obj, name: str, namespace: str, job_image: str) -> Obj:
    """The CronJob cronflow builds for the ScheduledJob `sj` (its own builder), named `name`, not owned and
    not labelled for cronflow."""
    built = build_cronjob(Owner(sj["metadata"]["name"], namespace, uid=""), parse_spec(sj["spec"]), job_image)
    template = built["spec"]["jobTemplate"]
    for meta in (template["metadata"], template["spec"]["template"]["metadata"]):
        meta.pop("labels", None)
        meta.pop("annotations", None)
    return {"apiVersion": built["apiVersion"], "kind": built["kind"],
            "metadata": {"name": name, "namespace": namespace}, "spec": built["spec"]}


def plain_trigger_job(sj: Obj, token: str, job_image: str) -> Obj:
    """The Job cronflow creates for trigger `token` of the ScheduledJob `sj` (its own builder), not owned
    (no ScheduledJob of that uid exists for the garbage collector to find)."""
    meta = sj["metadata"]
    job = build_trigger_job(Owner(meta["name"], meta["namespace"], uid=""), parse_spec(sj["spec"]), job_image, token)
    job["metadata"].pop("ownerReferences", None)
    return job


def scheduledjob_of(obj: Obj) -> str:
    """The ScheduledJob a child (CronJob, Job) belongs to, by its label."""
    return str((obj["metadata"].get("labels") or {}).get(names.SCHEDULEDJOB_LABEL, ""))


def trigger_token(obj: Obj) -> str:
    """The trigger token a manual Job was created for."""
    return str((obj["metadata"].get("annotations") or {}).get(names.TRIGGER_TOKEN_ANNOTATION, ""))
