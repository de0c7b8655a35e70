"""Pure: a ScheduledJob in automatic mode -> the watcher Deployment (job image, `watch` subcommand).

Contract with the job image (jobs_image/cronflow_job/watch.py): args `["watch"]`, env CRONFLOW_WATCH_*
(the input directory inside the volume mounted at /spool, pattern, poll interval, parallelism, the API
token and port); the HTTP API on port 8080. The token is generated once by the operator and kept in a
Secret owned by the ScheduledJob (`<watcher>-token`), which the pod reads through `secretKeyRef`; a hash
of it in the pod template restarts the watcher when it changes. It never goes to status, events or logs.
"""

import base64
import hashlib
import posixpath
from typing import Any

from cronflow import names
from cronflow.api.models import ScheduledJobSpec
from cronflow.children.cronjob import Owner, child_labels, default_resources, hardened_pod_spec, owner_reference

CONTAINER_NAME = "watch"
SPOOL_MOUNT = "/spool"
PORT = 8080
DIR_ENV = "CRONFLOW_WATCH_DIR"
PATTERN_ENV = "CRONFLOW_WATCH_PATTERN"
POLL_SECONDS_ENV = "CRONFLOW_WATCH_POLL_SECONDS"
MAX_PARALLEL_ENV = "CRONFLOW_WATCH_MAX_PARALLEL"
TOKEN_ENV = "CRONFLOW_WATCH_TOKEN"
TOKEN_KEY = "token"
PORT_ENV = "CRONFLOW_WATCH_PORT"


def has_watcher(spec: ScheduledJobSpec) -> bool:
    """Whether the ScheduledJob has a watcher Deployment: spec.automatic names a volume (maybe disabled)."""
    return spec.automatic is not None and spec.automatic.volume is not None


def watcher_active(spec: ScheduledJobSpec) -> bool:
    """Whether files are picked up now: the ScheduledJob and its automatic mode are both enabled."""
    return spec.enabled and spec.automatic is not None and spec.automatic.enabled


def watcher_labels(owner: Owner) -> dict[str, str]:
    """Labels of the watcher Deployment and its pod (the pod is found by them)."""
    return {**child_labels(owner), names.ROLE_LABEL: names.WATCHER_ROLE}


def token_secret_name(owner: Owner) -> str:
    """The Secret that holds the watcher's API token."""
    return f"{names.watcher_name(owner.name)}-token"


def build_token_secret(owner: Owner, token: str) -> dict[str, Any]:
    """The watcher's API token as a Secret owned by the ScheduledJob (deleted with it)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": token_secret_name(owner),
            "namespace": owner.namespace,
            "labels": watcher_labels(owner),
            "ownerReferences": [owner_reference(owner)],
        },
        "type": "Opaque",
        "data": {TOKEN_KEY: base64.b64encode(token.encode()).decode()},
    }


def build_watcher(owner: Owner, spec: ScheduledJobSpec, job_image: str, token: str) -> dict[str, Any]:
    """The watcher Deployment: one replica while `watcher_active`, else 0 (files wait on the volume).

    `token` itself is not in it: the pod reads it from the token Secret; its hash restarts the pod.
    """
    automatic = spec.automatic
    if automatic is None or automatic.volume is None:
        raise ValueError("the watcher needs spec.automatic.volume")
    labels = watcher_labels(owner)
    env = {
        DIR_ENV: posixpath.normpath(posixpath.join(SPOOL_MOUNT, automatic.path)),
        PATTERN_ENV: automatic.pattern or "",
        POLL_SECONDS_ENV: str(automatic.poll_seconds),
        MAX_PARALLEL_ENV: str(automatic.max_parallel),
        PORT_ENV: str(PORT),
    }
    token_ref = {"secretKeyRef": {"name": token_secret_name(owner), "key": TOKEN_KEY}}
    container = {
        "name": CONTAINER_NAME,
        "image": job_image,
        "args": ["watch"],
        "env": [*({"name": key, "value": value} for key, value in env.items()),
                {"name": TOKEN_ENV, "valueFrom": token_ref}],
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": PORT},
            "periodSeconds": 5,
            "failureThreshold": 3,
        },
        "resources": default_resources(),
        "volumeMounts": [{"name": "spool", "mountPath": SPOOL_MOUNT}],
    }
    pod = hardened_pod_spec(spec, container, "Always", [{**automatic.volume, "name": "spool"}])
    # Without this the kubelet would chown every file of the volume at each start (fsGroup).
    pod["securityContext"]["fsGroupChangePolicy"] = "OnRootMismatch"
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": names.watcher_name(owner.name),
            "namespace": owner.namespace,
            "labels": labels,
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": {
            "replicas": 1 if watcher_active(spec) else 0,
            "strategy": {"type": "Recreate"},  # never two watchers claiming from one directory
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": dict(labels), "annotations": {names.TOKEN_HASH_ANNOTATION: token_hash(token)}},
                "spec": pod,
            },
        },
    }


def token_hash(token: str) -> str:
    """A short digest of the token (changes when the token does; says nothing about it)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]
