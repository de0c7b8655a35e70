"""ScheduledJob spec and status: the one source of the CRD schema (camelCase on the wire).

Every constraint here is enforced twice: by the API server through the generated CRD (OpenAPI bounds
and the CEL rules of `Cel`), and by these models when the operator reads an object, so whatever
slipped past an older or missing CRD becomes a readable `InvalidSpec` message instead of a crash.
A few checks the schema cannot express (unknown time zones, backwards ranges, JMESPath syntax) live
only here.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import jmespath  # type: ignore[import-untyped]  # ships no type information
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic.alias_generators import to_camel

from cronflow.api.cel import Cel, cel_string
from cronflow.schedule import (
    DESCRIPTORS,
    FIELD_REGEXES,
    FIELD_WORD,
    SHAPE_REGEX,
    TIME_ZONE_REGEX,
    check_schedule,
    field_message,
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
_RESERVED_HEADERS = ("authorization", "cookie", "host")
_FORM_NAME_REGEX = r'^[^"\\\x00-\x1f\x7f]{1,256}$'
_FORM_NAME_MESSAGE = "form field names must be 1 to 256 characters without quotes, backslashes or control characters"


def _checked_schedule(schedule: str) -> str:
    check_schedule(schedule)
    return schedule


def _known_time_zone(name: str) -> str:
    load_time_zone(name)
    return name


def _compiled_jmespath(expression: str) -> str:
    try:
        jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as error:
        detail = str(error).splitlines()[0].removesuffix(", for expression:").removesuffix(":")
        raise ValueError(f"not a JMESPath expression: {detail}") from None
    except RecursionError:  # the parser recurses once per nesting level: 512 "(" exhaust the stack
        raise ValueError("not a JMESPath expression: nested too deeply") from None
    return expression


def _no_reserved_header(headers: dict[str, str]) -> bool:
    return not any(name.isascii() and name.lower() in _RESERVED_HEADERS for name in headers)


def _field_rule(index: int) -> Cel:
    """Field `index` of a five-field schedule is valid; the message names the field, its value and range."""
    field = f"self.findAll({cel_string(FIELD_WORD)})[{index}]"
    pattern = re.compile(FIELD_REGEXES[index])
    shape = re.compile(SHAPE_REGEX)

    def valid(schedule: str) -> bool:
        if schedule.startswith("@") or not shape.fullmatch(schedule):
            return True
        return pattern.fullmatch(re.findall(FIELD_WORD, schedule)[index]) is not None

    before, after = field_message(index, "\0").split("\0")
    return Cel(
        f"self.startsWith('@') || !self.matches({cel_string(SHAPE_REGEX)}) || "
        f"{field}.matches({cel_string(FIELD_REGEXES[index])})",
        field_message(index, "..."),
        valid,
        message_expression=f"{cel_string(before)} + {field} + {cel_string(after)}",
        describe=lambda schedule: field_message(index, re.findall(FIELD_WORD, schedule)[index]),
    )


Schedule = Annotated[
    str,
    Field(max_length=128),
    Cel.matching(SHAPE_REGEX, _SCHEDULE_MESSAGE),
    _field_rule(0),
    _field_rule(1),
    _field_rule(2),
    _field_rule(3),
    _field_rule(4),
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
FlowHeaderMap = Annotated[
    HeaderMap,
    Cel(
        f"self.all(k, !(k.lowerAscii() in [{', '.join(map(cel_string, _RESERVED_HEADERS))}]))",
        "flow.headers must not set Authorization, Cookie or Host "
        "(authTokenSecretRef sends the token; the host comes from the endpoint)",
        _no_reserved_header,
    ),
]
JmesPath = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_compiled_jmespath)]
"""A JMESPath expression, evaluated on a JSON answer (compiled when the spec is read: CEL cannot parse it)."""
EmailAddress = Annotated[
    str,
    Field(max_length=254),
    Cel.matching(rf"^[^@{_SPACE}]+@[^@{_SPACE}]+$", "emails must be email addresses such as ops@example.com"),
]
LabelValue = Annotated[str, Field(max_length=63)]
Token = Annotated[str, Field(max_length=128)]
"""A trigger or resume token: any new value asks for the action once."""
FreeFormObject = Annotated[
    dict[str, Any],
    WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A JSON object passed on as it is (flow settings, a volume source, resources, a toleration)."""

RunTrigger = Literal["Schedule", "Manual", "File", "Backfill"]
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


class Retry(_Model):
    """How often a run tries the call: on no answer (DNS, refused, reset, TLS, timeout), 429 and 5xx."""

    attempts: Annotated[int, Field(ge=1, le=10)] = 1
    """Total tries, the first included."""
    backoff_seconds: Annotated[int, Field(ge=0, le=3600)] = 10
    """The wait before the second try; each further wait doubles (jittered)."""
    max_backoff_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """The longest wait between tries; a Retry-After asking for longer ends the run instead."""


def _backoff_in_order(retry: Retry) -> bool:
    return retry.max_backoff_seconds >= retry.backoff_seconds


def _unique(codes: list[int]) -> bool:
    return len(set(codes)) == len(codes)


class Success(_Model):
    """What counts as OK; unset: any 2xx status."""

    status_codes: (
        Annotated[
            list[Annotated[int, Field(ge=100, le=599)]],
            Field(min_length=1, max_length=32),
            Cel("self.all(c, self.exists_one(x, x == c))", "success.statusCodes must not list a code twice", _unique),
        ]
        | None
    ) = None
    """The HTTP status codes that count as OK (instead of any 2xx)."""
    when: JmesPath | None = None
    """JMESPath on the JSON answer that must be true as well, e.g. `status == 'OK'`."""


class Completion(_Model):
    """Async flows: after the start answer, follow the remote job until it ends."""

    job_id: JmesPath
    """JMESPath on the start answer that gives the remote job's id, e.g. `data.job_id`."""
    status_url: Annotated[
        HttpUrl,
        Cel(
            "self.contains('{jobId}')",
            "completion.statusUrl must contain {jobId}, which is replaced by the remote job's id",
            lambda url: "{jobId}" in url,
        ),
    ]
    """URL polled with GET (same headers and token as the start call), `{jobId}` replaced by the id."""
    interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    """The wait between two polls."""
    timeout_seconds: Annotated[int, Field(ge=1, le=86400)] = 3600
    """The longest the run follows the remote job; then ERROR."""
    done_when: JmesPath
    """JMESPath on each status answer, true once the remote job has ended, e.g. `state != 'RUNNING'`."""
    success_when: JmesPath
    """JMESPath on the status answer that ended it, true when the remote job succeeded, e.g. `state == 'COMPLETE'`."""


def _file_field_apart(form: "Form") -> bool:
    return form.fields is None or form.file_field not in form.fields


class Form(_Model):
    """A multipart/form-data body (for job-submission services) instead of the flow body."""

    fields: (
        Annotated[
            dict[str, Annotated[str, Field(max_length=4096)]],
            Field(max_length=32),
            Cel.keys_matching(_FORM_NAME_REGEX, _FORM_NAME_MESSAGE),
        ]
        | None
    ) = None
    """Text parts by name."""
    file_field: Annotated[str, Field(max_length=256), Cel.matching(_FORM_NAME_REGEX, _FORM_NAME_MESSAGE)]
    """Name of the file part: the claimed file in automatic mode, else an empty file."""


def _one_body(flow: "Flow") -> bool:
    return flow.json_body is None or flow.form is None


def _form_sets_content_type(flow: "Flow") -> bool:
    headers = flow.headers or {}
    return flow.form is None or not any(name.isascii() and name.lower() == "content-type" for name in headers)


def _body_or_flow_body(flow: "Flow") -> bool:
    replaced = flow.json_body is not None or flow.form is not None
    return not replaced or (flow.binary_path is None and flow.input_dir is None and flow.settings is None)


class Flow(_Model):
    """The HTTP call that each run makes to the flow service."""

    endpoint: HttpUrl
    """URL the run calls (http or https)."""
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    query: (
        Annotated[
            dict[str, Annotated[str, Field(max_length=1024)]],
            Field(max_length=32),
            Cel(
                "self.all(k, size(k) >= 1 && size(k) <= 256)",
                "query parameter names must be 1 to 256 characters",
                lambda query: all(1 <= len(name) <= 256 for name in query),
            ),
        ]
        | None
    ) = None
    """Added to the endpoint's query string (URL-encoded)."""
    headers: FlowHeaderMap | None = None
    """Sent on every request of the run."""
    headers_secret_ref: SecretRef | None = None
    """Secret whose keys and values are sent as extra headers on every request (for credentials)."""
    auth_token_secret_ref: SecretKeyRef | None = None
    """Secret key whose value is sent as `Authorization: Bearer <token>`."""
    binary_path: Annotated[str, Field(max_length=1024)] | None = None
    """Sent as binary_path in the flow body."""
    input_dir: Annotated[str, Field(max_length=1024)] | None = None
    """Sent as input_dir in the flow body."""
    settings: FreeFormObject | None = None
    """Forwarded to the flow service in the flow body (keys converted to snake_case)."""
    json_body: Annotated[FreeFormObject | None, Field(alias="json")] = None
    """A JSON object sent as the body instead of the flow body, keys as written (an object: CEL rules can
    only see fields that have a type)."""
    form: (
        Annotated[
            Form,
            Cel(
                "!has(self.fields) || !(self.fileField in self.fields)",
                "form.fileField must not also be a key of form.fields (the file part and a text part would share "
                "a name)",
                _file_field_apart,
            ),
        ]
        | None
    ) = None
    verify_ssl_certificate: bool = True
    timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    """One attempt (and one completion poll)."""
    retry: (
        Annotated[
            Retry,
            Cel(
                "self.maxBackoffSeconds >= self.backoffSeconds",
                "retry.maxBackoffSeconds must be at least retry.backoffSeconds",
                _backoff_in_order,
            ),
        ]
        | None
    ) = None
    success: Success | None = None
    completion: Completion | None = None


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


def _forwards(backfill: "Backfill") -> bool:
    return backfill.to > backfill.from_


class Backfill(_Model):
    """One run per scheduled time in [from, to), oldest first, each exactly once."""

    from_: Annotated[AwareDatetime, Field(alias="from")]
    """The first scheduled time to run (included), RFC 3339 with an offset, e.g. 2026-11-01T00:00:00Z."""
    to: AwareDatetime
    """The end (excluded). At most 1,000 scheduled times may lie in between (checked by the operator)."""


class ScheduledJobSpec(_Model):
    """A flow call on a cron schedule."""

    schedule: Schedule
    """5-field cron expression or @hourly, @daily, @weekly, @monthly, @yearly."""
    time_zone: TimeZone = "Etc/UTC"
    """IANA time zone of the schedule."""
    enabled: bool = True
    """false suspends the schedule (state DISABLED)."""
    trigger: Token = ""
    """Set to a new token to start exactly one run now (also while disabled or paused)."""
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    """Scheduled runs as the CronJob applies it; backfill runs one at a time (Forbid, Replace) or at most 5
    at once (Allow); a manual trigger always starts its run."""
    starting_deadline_seconds: Annotated[int, Field(ge=0)] | None = None
    jitter_seconds: Annotated[int, Field(ge=0, le=3600)] = 0
    """A scheduled run waits a random 0..N s (the same for a Job, from its name) before its first call."""
    history_limit: Annotated[int, Field(ge=1, le=50)] = 10
    """How many results status keeps."""
    pause_after_failures: Annotated[int, Field(ge=0, le=1000)] = 0
    """N > 0: after N consecutive ERROR runs (any trigger) the schedule pauses (state PAUSED); 0: never."""
    resume: Token = ""
    """Set to a new token to clear a pause (acknowledged in status.lastResume)."""
    backfill: (
        Annotated[Backfill, Cel("self.to > self.from", "backfill.to must be later than backfill.from", _forwards)]
        | None
    ) = None
    flow: Annotated[
        Flow,
        Cel("!(has(self.json) && has(self.form))", "flow.json and flow.form are two bodies: set at most one",
            _one_body),
        Cel(
            "!(has(self.json) || has(self.form)) "
            "|| !(has(self.binaryPath) || has(self.inputDir) || has(self.settings))",
            "flow.binaryPath, flow.inputDir and flow.settings make the flow body, which flow.json or flow.form "
            "replace: set one or the other",
            _body_or_flow_body,
        ),
        Cel(
            "!has(self.form) || !has(self.headers) || !self.headers.exists(k, k.lowerAscii() == 'content-type')",
            "flow.headers must not set Content-Type with flow.form (the form sets its own, with the part boundary)",
            _form_sets_content_type,
        ),
    ]
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
        refs = [self.flow.auth_token_secret_ref, self.flow.headers_secret_ref,
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


class CompletionResult(_StatusModel):
    """The followed remote job: its id and the last status answer."""

    job_id: Annotated[str, Field(max_length=4096)] | None = None
    http_result: HttpResult | None = None


class RunResult(_StatusModel):
    """The outcome of one finished run."""

    job: Annotated[str, Field(max_length=63)]
    trigger: RunTrigger
    scheduled_time: datetime | None = None
    """Schedule and Backfill runs: the scheduled time the run is for."""
    input_file: Annotated[str, Field(max_length=1024)] | None = None
    """Automatic mode: the file, relative to the input directory."""
    start_time: datetime | None = None
    finished_at: datetime | None = None
    status: RunStatus
    attempts: Annotated[int, Field(ge=1)] | None = None
    """Tries the call took (absent in results of older job images)."""
    http_result: HttpResult | None = None
    completion: CompletionResult | None = None
    """Flows with spec.flow.completion: the followed remote job."""
    message: Annotated[str, Field(max_length=4096)] = ""
    """Why a run failed without an HTTP answer (DNS, refused, TLS, timeout, pod failure)."""


class BackfillProgress(_StatusModel):
    """The current (or last) backfill: its range and how far it got."""

    from_: Annotated[datetime, Field(alias="from")]
    to: datetime
    total: Annotated[int, Field(ge=0)] = 0
    """Runs it makes: the scheduled times in [from, to) that no earlier backfill ran."""
    done: Annotated[int, Field(ge=0)] = 0
    """Runs finished (OK or ERROR)."""
    failed: Annotated[int, Field(ge=0)] = 0
    """Runs finished with ERROR (counted in done too)."""
    last_started: datetime | None = None
    """The scheduled time of the newest run started; runs start oldest first."""


class TimeRange(_StatusModel):
    """Scheduled times from `from` (included) to `to` (excluded)."""

    from_: Annotated[datetime, Field(alias="from")]
    to: datetime


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

    state: Literal["ENABLED", "DISABLED", "PAUSED"] | None = None
    mode: Literal["Schedule", "Automatic"] | None = None
    observed_generation: int | None = None
    cron_job_name: Annotated[str, Field(max_length=253)] | None = None
    last_schedule_time: datetime | None = None
    last_run_time: datetime | None = None
    """The start of the newest run of any trigger (Schedule, Manual, File or Backfill)."""
    last_successful_time: datetime | None = None
    """When the newest OK run finished."""
    last_failure_time: datetime | None = None
    """When the newest ERROR run finished."""
    consecutive_failures: Annotated[int, Field(ge=0)] = 0
    """ERROR runs since the last OK run (or the last resume)."""
    next_schedule_time: datetime | None = None
    next_schedule_times: Annotated[list[datetime], Field(max_length=5)] = []
    """The next 5 scheduled times (none while disabled, paused or in automatic mode)."""
    last_trigger: Annotated[str, Field(max_length=128)] | None = None
    """The last trigger token acted on."""
    last_resume: Annotated[str, Field(max_length=128)] | None = None
    """The last resume token acted on."""
    backfill: BackfillProgress | None = None
    backfilled: Annotated[list[TimeRange], Field(max_length=100)] = []
    """The ranges of earlier backfills whose scheduled times ran: a later backfill skips them (newest 100)."""
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
