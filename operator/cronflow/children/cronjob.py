"""Pure builders: a ScheduledJob spec -> the CronJob, the Job of a manual trigger, of a file, of a backfill time.

Contract with the job image: container `run`, args `["run"]` (its ENTRYPOINT is
`python3 -m cronflow_job`), env `CRONFLOW_FLOW` (the flow spec as camelCase JSON, without secret
references), `CRONFLOW_AUTH_TOKEN` (from the referenced Secret key), one `CRONFLOW_HEADER_<name>` per key
of the headers Secret (`envFrom` with that prefix), for a file run `CRONFLOW_INPUT_FILE` and, with
`flow.form`, `CRONFLOW_INPUT_PATH` (the claimed file in the read-only input volume), for a scheduled run
with `jitterSeconds` `CRONFLOW_JITTER_SECONDS` and `CRONFLOW_JOB_NAME` (the Job's name, from its pod's
label through the downward API); the result document goes to the termination log.
The output is deterministic (same input, same manifest), so reconcile compares it with what exists.
"""

import copy
import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cronflow import names
from cronflow.api.models import Flow, Retry, RunTrigger, ScheduledJobSpec

CONTAINER_NAME = "run"
FLOW_ENV = "CRONFLOW_FLOW"
AUTH_TOKEN_ENV = "CRONFLOW_AUTH_TOKEN"
INPUT_FILE_ENV = "CRONFLOW_INPUT_FILE"
INPUT_PATH_ENV = "CRONFLOW_INPUT_PATH"
HEADER_ENV_PREFIX = "CRONFLOW_HEADER_"
JITTER_ENV = "CRONFLOW_JITTER_SECONDS"
JOB_NAME_ENV = "CRONFLOW_JOB_NAME"
INPUT_MOUNT = "/input"
"""Where a form file run sees the automatic volume's input directory (read-only)."""
PROCESSING_DIR = ".cronflow/processing"
"""Where the watcher keeps a file during its run (jobs_image/cronflow_job/spool.py), relative to the input dir."""

HISTORY_LIMIT = 100
"""Finished Jobs the CronJob controller keeps: high, so that it never deletes a Job whose result is not
recorded yet (the operator may be down); the operator deletes recorded ones beyond the newest three."""
RUN_JOB_TTL_SECONDS = 3600
"""Finished trigger and file Jobs are deleted after this (their results are in status by then)."""
DEADLINE_MARGIN_SECONDS = 300
"""A run may take its longest legitimate time plus this (pod start, image pull) before its Job is failed."""
RUN_AS_ID = 65532
DEFAULT_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}


@dataclass(frozen=True)
class Owner:
    """The ScheduledJob that owns the children being built."""

    name: str
    namespace: str
    uid: str


def owner_reference(owner: Owner) -> dict[str, Any]:
    """A controller reference to the ScheduledJob, so deleting it deletes its children."""
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of an object's controller (its ownerReference with controller: true)."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def child_labels(owner: Owner) -> dict[str, str]:
    """Labels on every child (CronJob, Job, Pod) of a ScheduledJob."""
    return {names.MANAGED_BY_LABEL: names.MANAGED_BY_VALUE, names.SCHEDULEDJOB_LABEL: owner.name}


def flow_json(flow: Flow) -> str:
    """The `CRONFLOW_FLOW` value: the flow spec in camelCase, set fields only, no secret reference."""
    secret_refs = {"auth_token_secret_ref", "headers_secret_ref"}
    document = flow.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=secret_refs)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def run_deadline_seconds(flow: Flow, jitter_seconds: int = 0) -> int:
    """The Job's activeDeadlineSeconds: the longest a run may legitimately take, plus DEADLINE_MARGIN_SECONDS.

    The run may first wait its jitter; every try may last timeoutSeconds and each wait between tries at most
    maxBackoffSeconds (the job image gives up rather than wait longer for a Retry-After); following a remote
    job adds completion.timeoutSeconds and one more timeoutSeconds for the status poll in flight when that
    runs out.
    """
    retry = flow.retry or Retry()
    seconds = retry.attempts * flow.timeout_seconds + (retry.attempts - 1) * retry.max_backoff_seconds
    if flow.completion is not None:
        seconds += flow.completion.timeout_seconds + flow.timeout_seconds
    return jitter_seconds + seconds + DEADLINE_MARGIN_SECONDS


def jitter_env(jitter_seconds: int) -> list[dict[str, Any]]:
    """The env that makes a run wait hash(its Job's name) mod (N + 1) seconds first; none for 0."""
    if not jitter_seconds:
        return []
    job_name = {"fieldRef": {"fieldPath": f"metadata.labels['{names.JOB_NAME_LABEL}']"}}
    return [{"name": JITTER_ENV, "value": str(jitter_seconds)}, {"name": JOB_NAME_ENV, "valueFrom": job_name}]


def build_job_template(
    owner: Owner,
    spec: ScheduledJobSpec,
    job_image: str,
    trigger: RunTrigger,
    extra_env: Sequence[dict[str, Any]] = (),
    input_volume: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A JobTemplateSpec (metadata + Job spec) that runs the flow once, annotated with its `trigger`.

    `input_volume` (a pod volume source) is mounted read-only at INPUT_MOUNT, `automatic.path` of it.
    Only scheduled runs wait their jitter: the CronJob starts them all on the minute, while the operator
    starts the other runs when asked (manual, file) or one after another (backfill).
    """
    labels = child_labels(owner)
    jitter = spec.jitter_seconds if trigger == "Schedule" else 0
    container = _container(spec, job_image, [*extra_env, *jitter_env(jitter)])
    volumes = []
    if input_volume is not None:
        container["volumeMounts"] = [_input_mount(spec)]
        volumes = [{**input_volume, "name": "input"}]
    pod = hardened_pod_spec(spec, container, volumes=volumes)
    if volumes:  # without this the kubelet would chown every file of the volume at each run (fsGroup)
        pod["securityContext"]["fsGroupChangePolicy"] = "OnRootMismatch"
    return {
        "metadata": {"labels": labels, "annotations": {names.TRIGGER_ANNOTATION: trigger}},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": run_deadline_seconds(spec.flow, jitter),
            "template": {"metadata": {"labels": dict(labels)}, "spec": pod},
        },
    }


def _input_mount(spec: ScheduledJobSpec) -> dict[str, Any]:
    mount: dict[str, Any] = {"name": "input", "mountPath": INPUT_MOUNT, "readOnly": True}
    sub_path = posixpath.normpath(spec.automatic.path) if spec.automatic is not None else "."
    if sub_path != ".":
        mount["subPath"] = sub_path
    return mount


def build_cronjob(owner: Owner, spec: ScheduledJobSpec, job_image: str, runnable: bool = True) -> dict[str, Any]:
    """The CronJob of a ScheduledJob, suspended while disabled, in automatic mode or not `runnable`."""
    automatic = spec.automatic is not None and spec.automatic.enabled
    cronjob_spec: dict[str, Any] = {
        "schedule": spec.schedule,
        "timeZone": spec.time_zone,
        "suspend": not spec.enabled or automatic or not runnable,
        "concurrencyPolicy": spec.concurrency_policy,
        "successfulJobsHistoryLimit": HISTORY_LIMIT,
        "failedJobsHistoryLimit": HISTORY_LIMIT,
        "jobTemplate": build_job_template(owner, spec, job_image, "Schedule"),
    }
    if spec.starting_deadline_seconds is not None:
        cronjob_spec["startingDeadlineSeconds"] = spec.starting_deadline_seconds
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": names.cronjob_name(owner.name),
            "namespace": owner.namespace,
            "labels": child_labels(owner),
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": cronjob_spec,
    }


def build_trigger_job(owner: Owner, spec: ScheduledJobSpec, job_image: str, token: str) -> dict[str, Any]:
    """The one Job that trigger `token` starts; it keeps the result finalizer until its result is recorded."""
    template = build_job_template(owner, spec, job_image, "Manual")
    template["metadata"]["annotations"][names.TRIGGER_TOKEN_ANNOTATION] = token
    return _run_job(owner, template, names.trigger_job_name(owner.name, token))


def build_backfill_job(owner: Owner, spec: ScheduledJobSpec, job_image: str, scheduled: str) -> dict[str, Any]:
    """The one Job that a backfill starts for the scheduled time `scheduled` (RFC 3339, UTC)."""
    template = build_job_template(owner, spec, job_image, "Backfill")
    template["metadata"]["annotations"][names.SCHEDULED_TIME_ANNOTATION] = scheduled
    return _run_job(owner, template, names.backfill_job_name(owner.name, scheduled))


def build_file_job(
    owner: Owner, spec: ScheduledJobSpec, job_image: str, input_file: str, claim_id: str
) -> dict[str, Any]:
    """The one Job that automatic mode starts for a claimed file (named by the claim, so created once).

    The run sends `input_file` = `.cronflow/processing/<name>`: where the watcher keeps the file during
    its run, relative to the input directory. The result records the plain name (`inputFile`). A form
    run uploads the file itself: it gets the input directory mounted read-only and the file's path in it.
    """
    claimed = f"{PROCESSING_DIR}/{input_file}"
    env = [{"name": INPUT_FILE_ENV, "value": claimed}]
    volume = spec.automatic.volume if spec.automatic is not None and spec.flow.form is not None else None
    if volume is not None:
        env.append({"name": INPUT_PATH_ENV, "value": posixpath.join(INPUT_MOUNT, claimed)})
    template = build_job_template(owner, spec, job_image, "File", env, volume)
    template["metadata"]["annotations"][names.INPUT_FILE_ANNOTATION] = input_file
    return _run_job(owner, template, names.file_job_name(owner.name, claim_id))


def _run_job(owner: Owner, template: dict[str, Any], name: str) -> dict[str, Any]:
    """A Job outside the CronJob: owned, with the result finalizer, removed an hour after it finished."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": owner.namespace,
            **template["metadata"],
            "ownerReferences": [owner_reference(owner)],
            "finalizers": [names.RESULT_FINALIZER],
        },
        "spec": {**template["spec"], "ttlSecondsAfterFinished": RUN_JOB_TTL_SECONDS},
    }


def hardened_pod_spec(
    spec: ScheduledJobSpec,
    container: dict[str, Any],
    restart_policy: str = "Never",
    volumes: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A pod spec that meets the `restricted` Pod Security Standard, placed as spec.jobTemplate says.

    The one container runs as 65532 without privileges on a read-only root filesystem; /tmp is a
    small writable emptyDir mounted after the container's own `volumeMounts`.
    """
    settings = spec.job_template
    hardened = {
        **container,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [*container.get("volumeMounts", []), {"name": "tmp", "mountPath": "/tmp"}],
    }
    pod: dict[str, Any] = {
        "restartPolicy": restart_policy,
        "automountServiceAccountToken": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_ID,
            "runAsGroup": RUN_AS_ID,
            "fsGroup": RUN_AS_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [hardened],
        "volumes": [*volumes, {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
    }
    if settings is not None:
        optional = {
            "serviceAccountName": settings.service_account_name,
            "nodeSelector": settings.node_selector,
            "tolerations": settings.tolerations,
        }
        pod.update({key: value for key, value in optional.items() if value is not None})
    return pod


def _container(spec: ScheduledJobSpec, job_image: str, extra_env: Sequence[dict[str, Any]]) -> dict[str, Any]:
    env: list[dict[str, Any]] = [{"name": FLOW_ENV, "value": flow_json(spec.flow)}]
    secret = spec.flow.auth_token_secret_ref
    if secret is not None:
        env.append({"name": AUTH_TOKEN_ENV, "valueFrom": {"secretKeyRef": {"name": secret.name, "key": secret.key}}})
    resources = spec.job_template.resources if spec.job_template is not None else None
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": job_image,
        "args": ["run"],
        "env": [*env, *extra_env],
        "resources": resources if resources is not None else default_resources(),
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    headers = spec.flow.headers_secret_ref
    if headers is not None:
        container["envFrom"] = [{"prefix": HEADER_ENV_PREFIX, "secretRef": {"name": headers.name}}]
    return container


def default_resources() -> dict[str, Any]:
    """Small requests and limits (a fresh copy each time)."""
    return copy.deepcopy(DEFAULT_RESOURCES)
