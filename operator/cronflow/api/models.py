"""ScheduledJob spec and status: the one source of the CRD schema (camelCase on the wire).

Every constraint here is enforced twice: by the API server through the generated CRD (OpenAPI bounds
and the CEL rules of `Cel`), and by these models when the operator reads an object, so whatever
slipped past an older or missing CRD becomes a readable `InvalidSpec` message instead of a crash.
A few checks the schema cannot express (unknown time zones, backwards ranges) live only here.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel

from cronflow.api.cel import Cel
from cronflow.schedule import (
    DESCRIPTORS,
    SCHEDULE_REGEX,
    TIME_ZONE_REGEX,
    check_schedule,
    load_time_zone,
)

_SCHEDULE_MESSAGE = (
    "schedule must be 5 cron fields (minute hour day-of-month month day-of-week, e.g. '*/5 * * * *') "
    f"or one of {' '.join(DESCRIPTORS)}; seconds and year fields are not supported"
)
# Whitespace is spelt out: RE2 (the API server) reads \s as [\t\n\f\r ], Python as any Unicode space
# and \v too, so a `\s` here would make the models refuse what the API server accepts (e.g. U+00A0).
_SPACE = r"\t\n\f\r "
_URL_REGEX = rf"^https?://[^{_SPACE}/?#@]+([/?#][^{_SPACE}]*)?$"
_TOKEN_REGEX = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$"
_DNS_SUBDOMAIN_REGEX = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


def _checked_schedule(schedule: str) -> str:
    check_schedule(schedule)
    return schedule


def _known_time_zone(name: str) -> str:
    load_time_zone(name)
    return name


Schedule = Annotated[
    str,
    Field(max_length=128),
    Cel.matching(SCHEDULE_REGEX, _SCHEDULE_MESSAGE),
    AfterValidator(_checked_schedule),
]
TimeZone = Annotated[
    str,
    Field(max_length=64),
    Cel.matching(TIME_ZONE_REGEX, "timeZone must be an IANA time zone name such as Europe/Amsterdam"),
    Cel(
        "self.lowerAscii() != 'local'",
        "timeZone must name a zone, not Local",
        lambda v: v.lower() != "local",
    ),
    AfterValidator(_known_time_zone),
]
HttpUrl = Annotated[
    str,
    Field(max_length=2048),
    Cel.matching(_URL_REGEX, "must be an http:// or https:// URL with a host and no user:password@"),
]
ObjectName = Annotated[
    str,
    Field(min_length=1, max_length=253),
    Cel.matching(_DNS_SUBDOMAIN_REGEX, "must be a Kubernetes object name (lowercase DNS subdomain)"),
]
HeaderValue = Annotated[
    str,
    Field(max_length=4096),
    Cel.matching(r"^[^\r\n\x00]*$", "header values must not contain line breaks or NUL"),
]
HeaderMap = Annotated[
    dict[str, HeaderValue],
    Field(max_length=32),
    Cel.keys_matching(
        _TOKEN_REGEX, "header names must be HTTP tokens (letters, digits and !#$%&'*+-.^_`|~, at most 256)"
    ),
]
EmailAddress = Annotated[
    str,
    Field(max_length=254),
    Cel.matching(rf"^[^@{_SPACE}]+@[^@{_SPACE}]+$", "emails must be email addresses such as ops@example.com"),
]
LabelValue = Annotated[str, Field(max_length=63)]
FreeFormObject = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A JSON object passed on as it is (flow settings, a volume source, resources, a toleration)."""

RunTrigger = Literal["Schedule", "Manual", "File"]
RunStatus = Literal["OK", "ERROR"]


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )


class _StatusModel(_Model):
    # Status written by a newer operator must still parse in an older one.
    model_config = ConfigDict(extra="ignore")


class SecretKeyRef(_Model):
    """A key of a Secret in the ScheduledJob's namespace."""

    name: ObjectName
    key: Annotated[
        str,
        Field(min_length=1, max_length=253),
        Cel.matching("^[-._a-zA-Z0-9]+$", "key must be a Secret data key (letters, digits, '-', '_', '.')"),
    ]


class SecretRef(_Model):
    """A Secret in the ScheduledJob's namespace."""

    name: ObjectName


class Flow(_Model):
    """The HTTP call that each run makes to the flow service."""

    endpoint: HttpUrl
    """URL the run calls (http or https)."""
    method: Literal["GET", "POST", "PUT"] = "POST"
    binary_path: Annotated[str, Field(max_length=1024)] | None = None
    """Sent as binary_path in the request body."""
    input_dir: Annotated[str, Field(max_length=1024)] | None = None
    """Sent as input_dir in the request body."""
    verify_ssl_certificate: bool = True
    timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    auth_token_secret_ref: SecretKeyRef | None = None
    """Secret key whose value is sent as `Authorization: Bearer <token>`."""
    settings: FreeFormObject | None = None
    """Forwarded to the flow service in the request body (keys converted to snake_case)."""


class Webhook(_Model):
    """A URL that cronflow POSTs a run's result to."""

    url: HttpUrl
    headers: HeaderMap | None = None
    headers_secret_ref: SecretRef | None = None
    """Secret whose keys and values are sent as extra headers (for credentials)."""


class Notifications(_Model):
    """Messages that cronflow sends itself when a run finishes."""

    on: Annotated[list[Literal["Success", "Failure"]], Field(max_length=2)] = ["Failure"]
    webhook: Webhook | None = None
    emails: Annotated[list[EmailAddress], Field(max_length=20)] | None = None


def _volume_given_when_enabled(automatic: "Automatic") -> bool:
    return not automatic.enabled or automatic.volume is not None


class Automatic(_Model):
    """Automatic mode: one run per new file in a volume instead of the schedule."""

    enabled: bool = False
    volume: FreeFormObject | None = None
    """A pod volume source, e.g. {persistentVolumeClaim: {claimName: inbox}}."""
    path: Annotated[
        str,
        Field(max_length=1024),
        Cel(
            "!self.startsWith('/') && !self.matches('(^|/)[.][.](/|$)')",
            "automatic.path must be a relative path inside the volume, without '..'",
            lambda v: not v.startswith("/") and ".." not in v.split("/"),
        ),
    ] = ""
    """Directory inside the volume to watch."""
    pattern: Annotated[str, Field(max_length=256)] | None = None
    """Glob that file names must match, e.g. *.pdf."""
    poll_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    max_parallel: Annotated[int, Field(ge=1, le=64)] = 4


class JobTemplate(_Model):
    """Settings for the pods of the runs."""

    resources: FreeFormObject | None = None
    """Container resources (requests, limits); small defaults when unset."""
    node_selector: Annotated[dict[str, LabelValue], Field(max_length=32)] | None = None
    tolerations: Annotated[list[FreeFormObject], Field(max_length=32)] | None = None
    service_account_name: ObjectName | None = None


class ScheduledJobSpec(_Model):
    """A flow call on a cron schedule."""

    schedule: Schedule
    """5-field cron expression or @hourly, @daily, @weekly, @monthly, @yearly."""
    time_zone: TimeZone = "Etc/UTC"
    """IANA time zone of the schedule."""
    enabled: bool = True
    """false suspends the schedule (state DISABLED)."""
    trigger: Annotated[str, Field(max_length=128)] = ""
    """Set to a new token to start exactly one run now (also while disabled)."""
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    starting_deadline_seconds: Annotated[int, Field(ge=0)] | None = None
    history_limit: Annotated[int, Field(ge=1, le=50)] = 10
    """How many results status keeps."""
    flow: Flow
    notifications: Notifications | None = None
    automatic: (
        Annotated[
            Automatic,
            Cel(
                "!self.enabled || has(self.volume)",
                "automatic.volume is required when automatic.enabled is true",
                _volume_given_when_enabled,
            ),
        ]
        | None
    ) = None
    job_template: JobTemplate | None = None

    def secret_names(self) -> list[str]:
        """The Secrets this ScheduledJob references (each must carry the usable label)."""
        refs = [self.flow.auth_token_secret_ref,
                self.notifications.webhook.headers_secret_ref if self.notifications and self.notifications.webhook
                else None]
        return sorted({ref.name for ref in refs if ref is not None})


class HttpHeader(_StatusModel):
    """One response header."""

    key: Annotated[str, Field(max_length=256)]
    value: Annotated[str, Field(max_length=4096)]


class HttpResult(_StatusModel):
    """The flow service's HTTP answer."""

    status: Annotated[int, Field(ge=0, le=999)]
    headers: Annotated[list[HttpHeader], Field(max_length=64)] = []
    response: Annotated[str, Field(max_length=4096)] = ""
    """Response body, cut to fit the result document."""
    truncated: bool = False
    """true when the response body was cut."""


class RunResult(_StatusModel):
    """The outcome of one finished run."""

    job: Annotated[str, Field(max_length=63)]
    trigger: RunTrigger
    input_file: Annotated[str, Field(max_length=1024)] | None = None
    """Automatic mode: the file, relative to the input directory."""
    start_time: datetime | None = None
    finished_at: datetime | None = None
    status: RunStatus
    http_result: HttpResult | None = None
    message: Annotated[str, Field(max_length=4096)] = ""
    """Why a run failed without an HTTP answer (DNS, refused, TLS, timeout, pod failure)."""


class ActiveRun(_StatusModel):
    """A run that has not finished yet."""

    name: Annotated[str, Field(max_length=63)]
    start_time: datetime | None = None


class Condition(_StatusModel):
    """A Kubernetes status condition."""

    type: Annotated[str, Field(max_length=316)]
    status: Literal["True", "False", "Unknown"]
    reason: Annotated[str, Field(max_length=1024)] = ""
    message: Annotated[str, Field(max_length=32768)] = ""
    last_transition_time: datetime | None = None
    observed_generation: Annotated[int, Field(ge=0)] | None = None


class AutomaticStatus(_StatusModel):
    """Automatic mode: the files of the input directory, as the watcher last reported them."""

    pending: Annotated[int, Field(ge=0)] = 0
    """Files waiting to be picked up."""
    processing: Annotated[int, Field(ge=0)] = 0
    """Files whose run is in progress."""
    done: Annotated[int, Field(ge=0)] = 0
    failed: Annotated[int, Field(ge=0)] = 0
    last_file: Annotated[str, Field(max_length=1024)] | None = None
    """The file picked up last."""


class ScheduledJobStatus(_StatusModel):
    """What the operator observed and recorded."""

    state: Literal["ENABLED", "DISABLED"] | None = None
    mode: Literal["Schedule", "Automatic"] | None = None
    observed_generation: int | None = None
    cron_job_name: Annotated[str, Field(max_length=253)] | None = None
    last_schedule_time: datetime | None = None
    last_run_time: datetime | None = None
    """The start of the newest run of any trigger (Schedule, Manual or File)."""
    next_schedule_time: datetime | None = None
    last_trigger: Annotated[str, Field(max_length=128)] | None = None
    """The last trigger token acted on."""
    active: Annotated[list[ActiveRun], Field(max_length=100)] = []
    succeeded: Annotated[int, Field(ge=0)] = 0
    failed: Annotated[int, Field(ge=0)] = 0
    results: Annotated[list[RunResult], Field(max_length=50)] = []
    """Newest first, at most spec.historyLimit."""
    automatic: AutomaticStatus | None = None
    conditions: Annotated[
        list[Condition],
        Field(
            max_length=16,
            json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        ),
    ] = []
    """At most one condition of each type (a list-map keyed by type)."""


class InvalidSpec(ValueError):
    """A ScheduledJob spec the operator cannot act on; `str()` is a message for a Ready=False condition."""


def parse_spec(raw: Mapping[str, Any]) -> ScheduledJobSpec:
    """Validate a spec as read from the API server; InvalidSpec lists every problem, one per line."""
    try:
        return ScheduledJobSpec.model_validate(raw)
    except ValidationError as exc:
        raise InvalidSpec("\n".join(_describe(error) for error in exc.errors())) from None


def _describe(error: Any) -> str:
    where = ".".join(["spec", *(str(part) for part in error["loc"])])
    message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
    return f"{where}: {message}"
