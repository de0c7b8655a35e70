"""The dashboard's JSON endpoints: the viewer's session, pages of a namespace's jobs, one job, its actions.

Every call is the viewer's (the same per-request Cluster as the REST API), so RBAC decides what each viewer
sees; access reviews tell the page which namespaces to offer and whether to show the action buttons.
"""

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from cronflow.gateway import errors
from cronflow.gateway.access import Cluster
from cronflow.gateway.actions import spec_change
from cronflow.gateway.dashboard.shapes import Action, Done, JobDetail, JobPage, JobSummary, Session
from cronflow.gateway.dashboard.views import job_detail, job_summary
from cronflow.gateway.errors import GatewayError
from cronflow.gateway.runs import RunRef, encode_run_id
from cronflow.gateway.settings import DNS_LABEL_REGEX, GatewaySettings

PREFIX = "/api/v1/dashboard"
SCAN_CHUNK = 500
"""ScheduledJobs per list call when every one must be read (the failing-now filter)."""
MAX_PAGE = 100
NAMESPACES_CHECKED = 100
"""Namespaces the picker asks an access review about, at most (the first in name order)."""

NamespaceQuery = Annotated[
    str | None,
    Query(max_length=63, pattern=DNS_LABEL_REGEX, description="the namespace (default: the gateway's)"),
]
NamePath = Annotated[str, Path(max_length=253, pattern="^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]


def dashboard_router(
    settings: GatewaySettings, cluster: Callable[..., Iterator[Cluster]], now: Callable[[], datetime]
) -> APIRouter:
    """The routes under /api/v1/dashboard; `cluster` is the gateway's per-request Cluster dependency."""
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], responses=errors.ERROR_RESPONSES)
    Caller = Annotated[Cluster, Depends(cluster)]

    @router.get("/session", summary="Who the token is and which namespaces the viewer may list jobs in")
    def session(caller: Caller) -> Session:
        return Session(username=caller.username(), namespace=settings.namespace,
                       namespaces=readable_namespaces(caller, [settings.namespace, *settings.dashboard_namespaces]))

    @router.get("/jobs", summary="A page of a namespace's ScheduledJobs, in name order (the list API's chunks)")
    def jobs(
        caller: Caller,
        namespace: NamespaceQuery = None,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1 is the first")] = 1,
        limit: Annotated[int, Query(ge=1, le=SCAN_CHUNK, description="jobs per page")] = 100,
        failing: Annotated[bool, Query(description="only jobs whose newest result is ERROR")] = False,
    ) -> JobPage:
        ns = namespace or settings.namespace
        moment = now()
        pick = _failing_page if failing else _page
        found, more, total = pick(caller, ns, page, limit, moment)
        return JobPage(namespace=ns, page=page, limit=limit, jobs=found, more=more, total=total,
                       can_act=caller.can("patch", ns))

    @router.get("/jobs/{name}", summary="One ScheduledJob with every recorded result")
    def job(name: NamePath, caller: Caller, namespace: NamespaceQuery = None) -> JobDetail:
        ns = namespace or settings.namespace
        sj = caller.read_scheduledjob(ns, name)
        if sj is None:
            raise GatewayError(404, f"no ScheduledJob {name} in namespace {ns}")
        return job_detail(sj, now(), caller.can("patch", ns))

    @router.post("/jobs/{name}/{action}", summary="Trigger, enable, disable or resume a ScheduledJob")
    def act(name: NamePath, action: Action, caller: Caller, namespace: NamespaceQuery = None) -> Done:
        ns = namespace or settings.namespace
        sj = caller.read_scheduledjob(ns, name)
        if sj is None:
            raise GatewayError(404, f"no ScheduledJob {name} in namespace {ns}")
        change = spec_change(action, now())
        caller.patch_spec(sj, change)
        run_id = None
        if action == "trigger":
            run_id = encode_run_id(RunRef(namespace=ns, name=name, uid=sj["metadata"]["uid"], token=change["trigger"]))
        return Done(name=name, action=action, run_id=run_id)

    return router


def readable_namespaces(caller: Cluster, candidates: list[str]) -> list[str]:
    """The candidates, and every namespace if the viewer may list namespaces, that the viewer may list
    ScheduledJobs in: all of them when it may everywhere, else each one's access review says."""
    found = set(candidates)
    if caller.can("list", "", "namespaces", ""):
        found.update(caller.list_namespaces())
    ordered = sorted(found)
    if caller.can("list", ""):
        return ordered
    return [ns for ns in ordered[:NAMESPACES_CHECKED] if caller.can("list", ns)]


def _page(
    caller: Cluster, ns: str, page: int, limit: int, moment: datetime
) -> tuple[list[JobSummary], bool, int | None]:
    """The page-th chunk of `limit`, walked from the first so that every page is as fresh as the first."""
    continue_: str | None = None
    for number in range(1, page + 1):
        chunk = caller.list_scheduledjobs_page(ns, limit, continue_)
        if number == page:
            total = None if chunk.remaining is None and chunk.continue_ else \
                (page - 1) * limit + len(chunk.items) + (chunk.remaining or 0)
            return [job_summary(sj, moment) for sj in chunk.items], chunk.continue_ is not None, total
        if chunk.continue_ is None:
            break
        continue_ = chunk.continue_
    return [], False, None


def _failing_page(
    caller: Cluster, ns: str, page: int, limit: int, moment: datetime
) -> tuple[list[JobSummary], bool, int | None]:
    """Every job is read (in chunks) to find the failing ones; the page is cut from those."""
    failing: list[JobSummary] = []
    continue_: str | None = None
    while True:
        chunk = caller.list_scheduledjobs_page(ns, SCAN_CHUNK, continue_)
        failing.extend(row for sj in chunk.items if (row := job_summary(sj, moment)).failing)
        if chunk.continue_ is None:
            break
        continue_ = chunk.continue_
    start = (page - 1) * limit
    return failing[start:start + limit], len(failing) > start + limit, len(failing)
