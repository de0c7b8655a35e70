"""Pure: the original API's shapes <-> ScheduledJob manifests, and status.results -> its results[].

A job is a ScheduledJob: job_id is its uid, the given `name` an annotation (the object name is derived
from it), the creator's username another. An inline auth_token goes into a Secret that the ScheduledJob
owns and references; it is never read back.
"""

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic.alias_generators import to_camel, to_snake

from cronflow import names
from cronflow.children.cronjob import Owner, child_labels, owner_reference
from cronflow.gateway.shapes import CreateJob, FlowSettings, Header, HttpResult, Job, JobParameters, Result

AUTH_TOKEN_KEY = "token"
REDACTED = "<redacted>"
RESULTS_SHOWN = 10
SUFFIX_LENGTH = 5
# Only plain lower-case words are renamed: there the spec's camelCase and the job image's conversion back
# to snake_case agree exactly; any other settings key is stored, and reaches the flow service, as written.
_SNAKE_WORDS = re.compile(r"[a-z]+(_[a-z]+)+")
_CAMEL_WORDS = re.compile(r"[a-z]+([A-Z][a-z]+)+")


class Refused(ValueError):
    """A request this gateway cannot turn into a ScheduledJob (the message says why)."""


def object_name(display_name: str, suffix: str) -> str:
    """A DNS-safe ScheduledJob name from the display name, made unique by a random `suffix`."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    cut = slug[: names.MAX_SCHEDULEDJOB_NAME - SUFFIX_LENGTH - 1].rstrip("-") or "job"
    return f"{cut}-{suffix}"


def auth_secret_name(sj_name: str) -> str:
    """The Secret that holds a job's auth_token."""
    return f"{sj_name}-auth-token"


def scheduledjob_manifest(
    request: CreateJob, name: str, namespace: str, username: str, flow_endpoint: str | None, spool_claim: str | None
) -> dict[str, Any]:
    """The ScheduledJob for create_job (not validated here: the API server's schema does that)."""
    if flow_endpoint is None:
        raise Refused("this gateway has no flow endpoint configured (cronflow-api --flow-endpoint URL), "
                      "so it cannot create jobs")
    params = request.flow_parameters
    flow: dict[str, Any] = {"endpoint": flow_endpoint, "verifySslCertificate": params.verify_ssl_certificate}
    if params.binary_path is not None:
        flow["binaryPath"] = params.binary_path
    if params.input_dir is not None:
        flow["inputDir"] = params.input_dir
    if params.settings is not None and (settings := spec_settings(params.settings)):
        flow["settings"] = settings
    if params.auth_token:
        flow["authTokenSecretRef"] = {"name": auth_secret_name(name), "key": AUTH_TOKEN_KEY}
    spec: dict[str, Any] = {"schedule": request.schedule, "flow": flow}
    if params.settings is not None and params.settings.spooled_mode:
        if spool_claim is None:
            raise Refused("spooled_mode (automatic mode) needs a volume, and this gateway has none configured "
                          "(CRONFLOW_API_SPOOL_CLAIM)")
        if not params.input_dir:
            raise Refused("spooled_mode needs input_dir: the folder, inside the gateway's volume, whose new files "
                          "each start a run")
        spec["automatic"] = {"enabled": True, "volume": {"persistentVolumeClaim": {"claimName": spool_claim}},
                             "path": params.input_dir}
    annotations = {names.DISPLAY_NAME_ANNOTATION: request.name, names.CREATED_BY_ANNOTATION: username}
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.KIND,
        "metadata": {"name": name, "namespace": namespace, "annotations": annotations},
        "spec": spec,
    }


def spec_settings(settings: FlowSettings) -> dict[str, Any]:
    """flow.settings of the spec: the flow's settings without spooled_mode, top-level keys in camelCase."""
    given = settings.model_dump(exclude={"spooled_mode"}, exclude_none=True)
    return {to_camel(key) if _SNAKE_WORDS.fullmatch(key) else key: value for key, value in given.items()}


def auth_secret_manifest(sj: Mapping[str, Any], token: str) -> dict[str, Any]:
    """The Secret of a created ScheduledJob's auth_token: owned by it (deleted with it), labelled usable.

    No blockOwnerDeletion: with OwnerReferencesPermissionEnforcement that would need the caller to have
    update on scheduledjobs/finalizers, and nothing needs the Secret to outlive a foreground deletion.
    """
    meta = sj["metadata"]
    owner = Owner(name=meta["name"], namespace=meta["namespace"], uid=meta["uid"])
    reference = {key: value for key, value in owner_reference(owner).items() if key != "blockOwnerDeletion"}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": auth_secret_name(owner.name), "namespace": owner.namespace,
            "labels": {**child_labels(owner), names.USABLE_LABEL: "true"}, "ownerReferences": [reference],
        },
        "type": "Opaque",
        "stringData": {AUTH_TOKEN_KEY: token},
    }


def job_listing(sj: Mapping[str, Any]) -> Job:
    """One entry of list_jobs."""
    meta, spec, status = sj["metadata"], sj.get("spec") or {}, sj.get("status") or {}
    annotations = meta.get("annotations") or {}
    name = annotations.get(names.DISPLAY_NAME_ANNOTATION, meta["name"])
    return Job(
        job_id=meta["uid"],
        name=name,
        username=annotations.get(names.CREATED_BY_ANNOTATION, ""),
        status="ENABLED" if spec.get("enabled", True) else "DISABLED",
        created_on_ns=time_in_ns(meta["creationTimestamp"]),
        job_parameters=JobParameters(schedule=spec.get("schedule", ""), name=name,
                                     flow_parameters=flow_parameters(spec)),
        results=[result_listing(result) for result in (status.get("results") or [])[:RESULTS_SHOWN]],
    )


def flow_parameters(spec: Mapping[str, Any]) -> dict[str, Any]:
    """flow_parameters as the spec has them now, the auth token redacted."""
    flow = spec.get("flow") or {}
    found: dict[str, Any] = {}
    if flow.get("authTokenSecretRef"):
        found["auth_token"] = REDACTED
    for field, key in (("binary_path", "binaryPath"), ("input_dir", "inputDir")):
        if key in flow:
            found[field] = flow[key]
    found["verify_ssl_certificate"] = flow.get("verifySslCertificate", True)
    settings = {to_snake(key) if _CAMEL_WORDS.fullmatch(key) else key: value
                for key, value in (flow.get("settings") or {}).items()}
    if (spec.get("automatic") or {}).get("enabled"):
        settings["spooled_mode"] = True
    if settings:
        found["settings"] = settings
    return found


def result_listing(result: Mapping[str, Any]) -> Result:
    """A status.results entry as the original API's results[] shows it."""
    http = result.get("httpResult") or {}
    finished = result.get("finishedAt") or result.get("startTime")
    return Result(
        time_in_ns=time_in_ns(finished) if finished else "",
        status=result["status"],
        http_result=HttpResult(
            status=str(http["status"]) if "status" in http else "",
            headers=[Header(key=h["key"], value=h["value"]) for h in http.get("headers") or []],
            response=http.get("response", ""),
        ),
        message=result.get("message", ""),
    )


def time_in_ns(timestamp: str) -> str:
    """An RFC 3339 time as nanoseconds since the epoch, in decimal (exact: no float on the way)."""
    moment = datetime.fromisoformat(timestamp)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    whole_seconds = int(moment.replace(microsecond=0).timestamp())
    return str(whole_seconds * 1_000_000_000 + moment.microsecond * 1000)
