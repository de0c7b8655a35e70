"""The routes: URL_BASE/api/v1/scheduler/{create_job, list_jobs, delete_job, enable_job, disable_job,
trigger_job} as the original API has them, plus runs/<run_id> to poll a triggered run; the dashboard at /.

Each request gets a `Cluster` made from its caller's bearer token, so Kubernetes RBAC decides what the
caller may do; the gateway itself holds no rights on ScheduledJobs or Secrets.
"""

import logging
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cronflow import names
from cronflow.gateway import errors
from cronflow.gateway.access import ApiError, Cluster
from cronflow.gateway.actions import spec_change
from cronflow.gateway.body import JsonBodies
from cronflow.gateway.dashboard.page import install_page
from cronflow.gateway.dashboard.routes import dashboard_router
from cronflow.gateway.errors import GatewayError, from_api_error
from cronflow.gateway.mapping import (
    SUFFIX_LENGTH,
    Refused,
    auth_secret_manifest,
    job_listing,
    object_name,
    scheduledjob_manifest,
)
from cronflow.gateway.runs import RunRef, UnknownRun, decode_run_id, encode_run_id, run_state
from cronflow.gateway.settings import DNS_LABEL_REGEX, GatewaySettings
from cronflow.gateway.shapes import (
    Created,
    CreateJob,
    Deleted,
    DeleteJob,
    Disabled,
    Enabled,
    Health,
    JobIdBody,
    Jobs,
    Run,
    Triggered,
)

PREFIX = "/api/v1/scheduler"
NAME_ATTEMPTS = 3
"""Random name suffixes create_job tries before it gives up on name clashes (409)."""
SECRET_FAILED = "the auth_token Secret could not be created, so the job was not either"
log = logging.getLogger(__name__)
_bearer = HTTPBearer(auto_error=False, description="the caller's Kubernetes token")
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits

Connect = Callable[[str], Cluster]
"""Makes the Cluster of one request from its caller's bearer token."""
NamespaceQuery = Annotated[
    str | None,
    Query(max_length=63, pattern=DNS_LABEL_REGEX, description="the namespace (default: the gateway's)"),
]


def create_app(settings: GatewaySettings, connect: Connect, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The gateway as an ASGI app; `connect` is the Kubernetes access, `clock` the time of trigger tokens."""
    now = clock or (lambda: datetime.now(UTC))
    app = FastAPI(
        title="cronflow-api",
        summary="The scheduler API (create_job, list_jobs, ...) on top of cronflow ScheduledJobs",
        version="1",
        docs_url=None,  # the interactive pages load scripts from a CDN; /openapi.json is the contract
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(JsonBodies, max_bytes=settings.max_body_bytes)

    def cluster(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Iterator[Cluster]:
        if credentials is None or not credentials.credentials:
            raise GatewayError(401, "no bearer token: send Authorization: Bearer <your Kubernetes token>")
        made = connect(credentials.credentials)
        try:
            yield made
        finally:
            made.close()

    Caller = Annotated[Cluster, Depends(cluster)]
    router = APIRouter(prefix=PREFIX, responses=errors.ERROR_RESPONSES)

    def namespace_of(given: str | None) -> str:
        return given or settings.namespace

    @router.post("/create_job", summary="Create a scheduled job")
    def create_job(body: CreateJob, caller: Caller, namespace: NamespaceQuery = None) -> Created:
        ns = namespace_of(namespace)
        username = caller.username()
        created = _create(caller, body, ns, username, settings)
        uid = created["metadata"]["uid"]
        if body.flow_parameters.auth_token:
            try:
                caller.create_secret(auth_secret_manifest(created, body.flow_parameters.auth_token))
            except ApiError as error:
                _delete_quietly(caller, created)
                raise from_api_error(error, SECRET_FAILED) from None
        log.info("created ScheduledJob %s/%s (job_id %s) for %s", ns, created["metadata"]["name"], uid, username)
        return Created(job_id=uid)

    @router.get("/list_jobs", summary="List scheduled jobs")
    def list_jobs(
        caller: Caller,
        job_id: Annotated[str | None, Query(max_length=128, description="only this job")] = None,
        username: Annotated[
            str | None,
            Query(max_length=512, description="only the jobs this user created, * for all; default: the "
                  "caller's own (with job_id: that job, whoever created it)"),
        ] = None,
        namespace: NamespaceQuery = None,
    ) -> Jobs:
        ns = namespace_of(namespace)
        found = caller.list_scheduledjobs(ns)
        if job_id is not None:
            found = [_find(found, job_id, ns)]
        owner = username if username is not None or job_id is not None else caller.username()
        if owner not in (None, "*"):
            found = [sj for sj in found if _created_by(sj) == owner]
        found.sort(key=lambda sj: (sj["metadata"].get("creationTimestamp", ""), sj["metadata"]["name"]))
        return Jobs(jobs=[job_listing(sj) for sj in found])

    @router.post("/delete_job", summary="Delete a scheduled job, or all the caller's")
    def delete_job(body: DeleteJob, caller: Caller, namespace: NamespaceQuery = None) -> Deleted:
        ns = namespace_of(namespace)
        found = caller.list_scheduledjobs(ns)
        if body.delete_all:
            me = caller.username()
            targets = [sj for sj in found if _created_by(sj) == me]
        elif body.job_id is not None:
            targets = [_find(found, body.job_id, ns)]
        else:
            raise GatewayError(400, "give job_id, or delete_all: true")
        for sj in targets:
            caller.delete_scheduledjob(sj)
            log.info("deleted ScheduledJob %s/%s", ns, sj["metadata"]["name"])
        return Deleted(deleted_jobs=",".join(sj["metadata"]["uid"] for sj in targets))

    @router.post("/enable_job", summary="Enable a scheduled job")
    def enable_job(body: JobIdBody, caller: Caller, namespace: NamespaceQuery = None) -> Enabled:
        sj = _find(caller.list_scheduledjobs(namespace_of(namespace)), body.job_id, namespace_of(namespace))
        caller.patch_spec(sj, spec_change("enable", now()))
        return Enabled(enabled_jobs=body.job_id)

    @router.post("/disable_job", summary="Disable a scheduled job (a trigger still runs it)")
    def disable_job(body: JobIdBody, caller: Caller, namespace: NamespaceQuery = None) -> Disabled:
        sj = _find(caller.list_scheduledjobs(namespace_of(namespace)), body.job_id, namespace_of(namespace))
        caller.patch_spec(sj, spec_change("disable", now()))
        return Disabled(disabled_jobs=body.job_id)

    @router.post("/trigger_job", summary="Run a scheduled job once now; poll runs/<run_id> for the result")
    def trigger_job(body: JobIdBody, caller: Caller, namespace: NamespaceQuery = None) -> Triggered:
        ns = namespace_of(namespace)
        sj = _find(caller.list_scheduledjobs(ns), body.job_id, ns)
        change = spec_change("trigger", now())
        caller.patch_spec(sj, change)
        ref = RunRef(namespace=ns, name=sj["metadata"]["name"], uid=body.job_id, token=change["trigger"])
        return Triggered(triggered_job=body.job_id, run_id=encode_run_id(ref))

    @router.get("/runs/{run_id}", summary="The state of a triggered run, and its result once finished")
    def get_run(run_id: str, caller: Caller) -> Run:
        try:
            ref = decode_run_id(run_id)
            sj = caller.read_scheduledjob(ref.namespace, ref.name)
            if sj is None:
                raise UnknownRun("the job of this run was deleted")
            state, result, msg = run_state(sj, ref)
        except UnknownRun as error:
            raise GatewayError(404, str(error)) from None
        return Run(run_id=run_id, job_id=ref.uid, state=state, result=result, msg=msg)

    @app.get("/healthz", summary="The gateway serves (no API call: for liveness and readiness probes)")
    def healthz() -> Health:
        return Health()

    app.include_router(router)
    app.include_router(dashboard_router(settings, cluster, now))
    install_page(app)
    return app


def _create(caller: Cluster, body: CreateJob, ns: str, username: str, settings: GatewaySettings) -> dict[str, Any]:
    """Create the ScheduledJob under a fresh random name (another name on the rare clash, a 409)."""

    def manifest() -> dict[str, Any]:
        suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))
        try:
            return scheduledjob_manifest(body, object_name(body.name, suffix), ns, username,
                                         settings.flow_endpoint, settings.spool_claim)
        except Refused as refused:
            raise GatewayError(400, str(refused)) from None

    for _ in range(NAME_ATTEMPTS - 1):
        try:
            return caller.create_scheduledjob(manifest())
        except ApiError as error:
            if error.status != 409:
                raise
    return caller.create_scheduledjob(manifest())


def _find(found: list[dict[str, Any]], job_id: str, ns: str) -> dict[str, Any]:
    """The ScheduledJob whose uid is job_id."""
    match = next((sj for sj in found if sj["metadata"].get("uid") == job_id), None)
    if match is None:
        raise GatewayError(404, f"no job {job_id} in namespace {ns}")
    return match


def _created_by(sj: Mapping[str, Any]) -> str:
    return str((sj["metadata"].get("annotations") or {}).get(names.CREATED_BY_ANNOTATION, ""))


def _delete_quietly(caller: Cluster, sj: Mapping[str, Any]) -> None:
    """Undo a create; a failure is logged (the ScheduledJob stays, without its Secret, and says so in Ready)."""
    try:
        caller.delete_scheduledjob(sj)
    except ApiError as error:
        log.warning("could not delete ScheduledJob %s after its Secret failed: %s", sj["metadata"]["name"], error)
