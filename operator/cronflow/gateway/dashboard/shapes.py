"""The dashboard's JSON answers (what /openapi.json documents under /api/v1/dashboard)."""

from typing import Literal

from pydantic import BaseModel, Field

from cronflow.gateway.shapes import Header

State = Literal["ENABLED", "DISABLED", "PAUSED"]
Action = Literal["trigger", "enable", "disable", "resume"]


class Session(BaseModel):
    """Who the token is, and the namespaces the picker offers."""

    username: str
    namespace: str = Field(description="the gateway's default namespace")
    namespaces: list[str] = Field(description="namespaces whose ScheduledJobs the viewer may list")


class Mark(BaseModel):
    """One finished run in a job's strip of recent results."""

    job: str = Field(description="the run's Job")
    status: Literal["OK", "ERROR"]
    trigger: str = Field(description="Schedule, Manual, File or Backfill")
    finished_at: str | None = Field(description="RFC 3339; None for a run that never finished")
    http_status: int | None = Field(description="the flow service's HTTP status; None when no answer came")


class JobSummary(BaseModel):
    """A row of the table."""

    name: str
    uid: str
    display_name: str = Field(description="the gateway's display-name annotation, else the name")
    schedule: str
    time_zone: str
    state: State
    automatic: bool = Field(description="automatic mode: one run per new file, not on the schedule")
    next_run_times: list[str] = Field(description="the next scheduled times, RFC 3339 UTC (none unless ENABLED)")
    results: list[Mark] = Field(description="recent results, oldest first: the newest is last")
    failing: bool = Field(description="the newest result is ERROR")
    consecutive_failures: int
    running: int = Field(description="runs in progress")
    problem: str = Field(description="the Ready condition's message when it is False, else empty")


class JobPage(BaseModel):
    """One page of a namespace's ScheduledJobs, in name order."""

    namespace: str
    page: int
    limit: int
    jobs: list[JobSummary]
    more: bool = Field(description="a next page exists")
    total: int | None = Field(description="jobs in the namespace (or failing ones), when known")
    can_act: bool = Field(description="the viewer may patch ScheduledJobs here: trigger, enable, disable, resume")


class RunDetail(BaseModel):
    """One finished run, every recorded field."""

    job: str
    trigger: str
    status: Literal["OK", "ERROR"]
    scheduled_time: str | None
    input_file: str | None
    start_time: str | None
    finished_at: str | None
    attempts: int | None
    http_status: int | None
    headers: list[Header]
    response: str
    truncated: bool = Field(description="the response was cut to fit the status")
    message: str
    completion_job_id: str | None = Field(description="flows with completion: the followed remote job's id")


class Condition(BaseModel):
    type: str
    status: str
    reason: str
    message: str


class JobDetail(BaseModel):
    """The job's page: its row, every result (newest first), conditions and runs in progress."""

    summary: JobSummary
    namespace: str
    runs: list[RunDetail] = Field(description="newest first")
    active: list[str] = Field(description="Jobs of runs in progress")
    conditions: list[Condition]
    can_act: bool


class Done(BaseModel):
    """An action carried out."""

    name: str
    action: Action
    run_id: str | None = Field(None, description="trigger: poll /api/v1/scheduler/runs/<run_id> for its result")
