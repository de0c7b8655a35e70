"""The original scheduler API's request and response bodies (snake_case, as its clients send and read them).

Unknown request fields are ignored, as the original API does; the response models are what /openapi.json
documents and what every answer is checked against.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = Annotated[str, Field(max_length=4096)]
JobId = Annotated[str, Field(max_length=128, description="the ScheduledJob's uid")]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


class WebhookConfig(_Request):
    """A URL the flow service notifies when a flow run completes (forwarded in the flow's settings)."""

    url: Text
    headers: Annotated[dict[str, Text], Field(max_length=32)] | None = None


class FlowSettings(_Request):
    """Settings of the flow: the documented ones typed, any other key forwarded to the flow service as given."""

    model_config = ConfigDict(extra="allow")

    spooled_mode: bool = Field(False, description="automatic mode: one run per new file in input_dir")
    tags: Annotated[list[Text], Field(max_length=64)] | None = None
    runtime_config: dict[str, Any] | None = None
    notification_emails: Text | None = Field(None, description="comma-separated, sent by the flow service")
    webhook_config: WebhookConfig | None = None


class FlowParameters(_Request):
    """The flow each run starts."""

    auth_token: Annotated[str, Field(max_length=8192)] | None = Field(
        None, description="kept in a Secret owned by the job; never returned (list_jobs shows it redacted)"
    )
    binary_path: Text | None = None
    input_dir: Text | None = None
    verify_ssl_certificate: bool = True
    settings: FlowSettings | None = None


class CreateJob(_Request):
    """create_job's body."""

    schedule: Annotated[str, Field(max_length=128, description="5-field cron or @hourly ... @yearly")]
    name: Annotated[str, Field(min_length=1, max_length=1024)]
    flow_parameters: FlowParameters


class JobIdBody(_Request):
    """enable_job's, disable_job's and trigger_job's body."""

    job_id: JobId


class DeleteJob(_Request):
    """delete_job's body: at least one of the two."""

    job_id: JobId | None = None
    delete_all: bool = Field(False, description="delete every job the caller created through the gateway")


class _Answer(BaseModel):
    status: Literal["OK"] = "OK"


class Error(BaseModel):
    """Every refused or failed request."""

    status: Literal["ERROR"] = "ERROR"
    msg: str


class Header(BaseModel):
    key: str
    value: str


class HttpResult(BaseModel):
    """The flow service's answer to the run's call."""

    status: str = Field(description='the HTTP status as a string, e.g. "200"; "" when no answer came')
    headers: list[Header]
    response: str = Field(description="the response body (cut to fit 4 KiB when long)")


class Result(BaseModel):
    """One finished run."""

    model_config = ConfigDict(populate_by_name=True)

    time_in_ns: str = Field(alias="timeInNS", description="when the run finished, ns since the epoch")
    status: Literal["OK", "ERROR"]
    http_result: HttpResult
    message: str = Field("", description="why the run failed when that is not in http_result (cronflow's addition)")


class JobParameters(BaseModel):
    """What the job was created with, as it is now (auth_token redacted)."""

    schedule: str
    name: str
    flow_parameters: dict[str, Any]


class Job(BaseModel):
    """One scheduler job (a ScheduledJob)."""

    job_id: str
    name: str
    username: str = Field(description="who created it through the gateway; empty for other ScheduledJobs")
    status: Literal["ENABLED", "DISABLED"]
    created_on_ns: str
    job_parameters: JobParameters
    results: list[Result] = Field(description="the last 10 runs, newest first")


class Health(_Answer):
    """The gateway serves."""


class Created(_Answer):
    job_id: str


class Jobs(_Answer):
    jobs: list[Job]


class Deleted(_Answer):
    deleted_jobs: str = Field(description="the deleted job's id (delete_all: the ids, comma-separated)")


class Enabled(_Answer):
    enabled_jobs: str


class Disabled(_Answer):
    disabled_jobs: str


class Triggered(_Answer):
    triggered_job: str
    run_id: str = Field(description="poll GET runs/<run_id> for the run's state (cronflow's addition)")


class Run(_Answer):
    """The state of a triggered run."""

    run_id: str
    job_id: str
    state: Literal["PENDING", "RUNNING", "OK", "ERROR"]
    result: Result | None = Field(None, description="once OK or ERROR: the run's entry as list_jobs shows it")
    msg: str = ""
