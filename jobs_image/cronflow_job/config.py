"""Read the job's inputs from the environment into typed, validated values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from cronflow_job.expr import Expression, ExpressionError, compile_expression
from cronflow_job.headers import HeaderError, check_header, find, merged, secret_headers

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

FLOW_ENV = "CRONFLOW_FLOW"
AUTH_TOKEN_ENV = "CRONFLOW_AUTH_TOKEN"
INPUT_FILE_ENV = "CRONFLOW_INPUT_FILE"
INPUT_PATH_ENV = "CRONFLOW_INPUT_PATH"
TERMINATION_LOG_ENV = "CRONFLOW_TERMINATION_LOG"
DEFAULT_TERMINATION_LOG = "/dev/termination-log"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_ATTEMPTS = 10
JOB_ID_PLACEHOLDER = "{jobId}"
# Credentials belong in a Secret (authTokenSecretRef, headersSecretRef), never in the spec.
SECRET_ONLY_HEADERS = ("Authorization", "Cookie")


class ConfigError(Exception):
    """The job's inputs are missing or invalid; the message says which and why."""


@dataclass(frozen=True)
class Form:
    """A multipart/form-data body: text fields and one file part named `file_field`."""

    fields: dict[str, str]
    file_field: str


@dataclass(frozen=True)
class Retry:
    """How often a call is tried (attempts in total) and how long to wait in between."""

    attempts: int = 1
    backoff_seconds: float = 10
    max_backoff_seconds: float = 300


@dataclass(frozen=True)
class Success:
    """What makes the start answer OK: its status (default any 2xx) and a JMESPath on its JSON."""

    status_codes: tuple[int, ...] | None = None
    when: Expression | None = None


@dataclass(frozen=True)
class Completion:
    """How to follow an async remote job: its id in the start answer, where and how to poll it."""

    job_id: Expression
    status_url: str
    done_when: Expression
    success_when: Expression
    interval_seconds: float = 10
    timeout_seconds: float = 3600


@dataclass(frozen=True)
class Flow:
    """The flow spec as the runner needs it (the camelCase spec fields, in snake_case).

    `json` None means unset (the operator drops null fields, so a null body cannot be asked for).
    """

    endpoint: str
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    binary_path: str | None = None
    input_dir: str | None = None
    verify_ssl_certificate: bool = True
    timeout_seconds: float = 60
    settings: dict[str, JsonValue] | None = None
    json: JsonValue = None
    form: Form | None = None
    retry: Retry = Retry()
    success: Success = Success()
    completion: Completion | None = None


@dataclass(frozen=True)
class JobConfig:
    """Everything one run needs: the flow, the Secrets' token and headers, the automatic-mode input file.

    `input_file` is relative to the input directory (sent in the flow body); `input_path` is the same
    file's absolute path in this container (read for a form's file part).
    """

    flow: Flow
    auth_token: str | None = None
    input_file: str | None = None
    secret_headers: dict[str, str] = field(default_factory=dict)
    input_path: str | None = None


def termination_log_path(env: Mapping[str, str]) -> str:
    """Where the result document goes; readable even when the rest of the config is broken."""
    return env.get(TERMINATION_LOG_ENV) or DEFAULT_TERMINATION_LOG


def auth_token(env: Mapping[str, str]) -> str | None:
    """The bearer token exactly as the Secret holds it (None when unset or empty)."""
    return env.get(AUTH_TOKEN_ENV) or None


def load_config(env: Mapping[str, str]) -> JobConfig:
    """Parse and validate the environment; raise ConfigError with a message a user can act on."""
    token = auth_token(env)
    if token is not None and not all(33 <= ord(char) <= 126 for char in token):
        # Never echo the value: it is a secret. A trailing newline (kubectl create secret --from-file) is
        # refused too, rather than guessed away: services differ in what they make of it.
        raise ConfigError(
            "the Secret key named by spec.flow.authTokenSecretRef must hold printable ASCII without spaces or "
            "newlines (a file made with an editor ends in a newline: create the Secret with --from-literal); "
            "value not shown"
        )
    try:
        secret = secret_headers(env)
    except HeaderError as exc:
        raise ConfigError(str(exc)) from None
    if token is not None and (name := find(secret, "Authorization")) is not None:
        raise ConfigError(
            f"spec.flow.authTokenSecretRef and the key {name} of spec.flow.headersSecretRef both set the "
            "Authorization header: keep one of them; values not shown"
        )
    flow = parse_flow(env.get(FLOW_ENV))
    input_file = env.get(INPUT_FILE_ENV) or None
    input_path = env.get(INPUT_PATH_ENV) or None
    if flow.form is not None:
        if (name := find(merged(flow.headers, secret), "Content-Type")) is not None:
            raise ConfigError(f"a {name} header cannot be given with flow.form: the form sets its own")
        if input_file is not None and input_path is None:
            raise ConfigError(f"{INPUT_FILE_ENV} is set but {INPUT_PATH_ENV} is not: flow.form cannot read the file")
    if input_path is not None and not input_path.startswith("/"):
        raise ConfigError(f"{INPUT_PATH_ENV} must be an absolute path, got {input_path!r}")
    return JobConfig(
        flow=flow, auth_token=token, input_file=input_file, secret_headers=secret, input_path=input_path
    )


def parse_flow(raw: str | None) -> Flow:
    """Parse the camelCase flow JSON; unknown fields are ignored, absent or null ones take defaults."""
    if not raw or not raw.strip():
        raise ConfigError(f"{FLOW_ENV} is not set: the job needs the flow spec as JSON")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{FLOW_ENV} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{FLOW_ENV} must be a JSON object, got {type(data).__name__}")

    endpoint = _field(data, "endpoint", str, None)
    if endpoint is None:
        raise ConfigError("flow.endpoint is required")
    _check_url(endpoint, "flow.endpoint")
    method = _field(data, "method", str, "POST")
    if method not in METHODS:
        raise ConfigError(f"flow.method must be one of {', '.join(METHODS)}, got {method!r}")
    if data.get("json") is not None and data.get("form") is not None:
        raise ConfigError("flow.json and flow.form cannot both be set: the body is one or the other")
    return Flow(
        endpoint=endpoint,
        method=method,
        query=_string_map(data, "query", "flow"),
        headers=_spec_headers(data),
        binary_path=_field(data, "binaryPath", str, None),
        input_dir=_field(data, "inputDir", str, None),
        verify_ssl_certificate=_field(data, "verifySslCertificate", bool, True),
        timeout_seconds=_positive(data, "timeoutSeconds", 60, "flow"),
        settings=_field(data, "settings", dict, None),
        json=data.get("json"),
        form=_form(data),
        retry=_retry(data),
        success=_success(data),
        completion=_completion(data),
    )


def _spec_headers(data: dict[str, Any]) -> dict[str, str]:
    headers = _string_map(data, "headers", "flow")
    for name, value in headers.items():
        if name.lower() in (secret.lower() for secret in SECRET_ONLY_HEADERS):
            raise ConfigError(f"flow.headers: {name} belongs in a Secret (authTokenSecretRef or headersSecretRef)")
        try:
            check_header(name, value, "flow.headers")
        except HeaderError as exc:
            raise ConfigError(str(exc)) from None
        if (twin := find(headers, name)) != name:
            raise ConfigError(f"flow.headers: {twin} and {name} are the same header")
    return headers


def _form(data: dict[str, Any]) -> Form | None:
    form = _field(data, "form", dict, None)
    if form is None:
        return None
    file_field = _field(form, "fileField", str, None, "flow.form")
    if not file_field:
        raise ConfigError("flow.form.fileField is required: the name of the file part")
    return Form(fields=_string_map(form, "fields", "flow.form"), file_field=file_field)


def _retry(data: dict[str, Any]) -> Retry:
    retry = _field(data, "retry", dict, {})
    attempts = _field(retry, "attempts", int, 1, "flow.retry")
    if not 1 <= attempts <= MAX_ATTEMPTS:
        raise ConfigError(f"flow.retry.attempts must be 1..{MAX_ATTEMPTS}, got {attempts}")
    return Retry(
        attempts=attempts,
        backoff_seconds=_not_negative(retry, "backoffSeconds", 10, "flow.retry"),
        max_backoff_seconds=_not_negative(retry, "maxBackoffSeconds", 300, "flow.retry"),
    )


def _success(data: dict[str, Any]) -> Success:
    success = _field(data, "success", dict, {})
    codes = _field(success, "statusCodes", list, None, "flow.success")
    if codes is not None and not (codes and all(type(code) is int and 100 <= code <= 599 for code in codes)):
        raise ConfigError("flow.success.statusCodes must list at least one HTTP status code (100..599)")
    when = _field(success, "when", str, None, "flow.success")
    return Success(
        status_codes=None if codes is None else tuple(codes),
        when=None if when is None else _expression("flow.success.when", when),
    )


def _completion(data: dict[str, Any]) -> Completion | None:
    completion = _field(data, "completion", dict, None)
    if completion is None:
        return None
    where = "flow.completion"
    keys = ("jobId", "statusUrl", "doneWhen", "successWhen")
    required = {key: _field(completion, key, str, None, where) for key in keys}
    if missing := [key for key, value in required.items() if value is None]:
        raise ConfigError(f"{where} needs {', '.join(f'{where}.{key}' for key in missing)}")
    status_url = required["statusUrl"]
    _check_url(status_url.replace(JOB_ID_PLACEHOLDER, "id"), f"{where}.statusUrl")
    return Completion(
        job_id=_expression(f"{where}.jobId", required["jobId"]),
        status_url=status_url,
        done_when=_expression(f"{where}.doneWhen", required["doneWhen"]),
        success_when=_expression(f"{where}.successWhen", required["successWhen"]),
        interval_seconds=_positive(completion, "intervalSeconds", 10, where),
        timeout_seconds=_positive(completion, "timeoutSeconds", 3600, where),
    )


def _expression(where: str, source: str) -> Expression:
    try:
        return compile_expression(where, source)
    except ExpressionError as exc:
        raise ConfigError(f"{where} must be a JMESPath expression: {exc}") from None


def _check_url(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{where} must be an http or https URL, got scheme {parts.scheme!r}")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise ConfigError(f"{where} is not a valid URL: {exc}") from None
    if not host:
        raise ConfigError(f"{where} has no host")


_JSON_TYPE_NAMES = {
    str: "a string", bool: "a boolean", int: "an integer", float: "a number", dict: "an object", list: "an array"
}


def _field(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any, where: str = "flow"
) -> Any:
    """data[key] if it has the expected JSON type, default when absent or null."""
    value = data.get(key)
    if value is None:
        return default
    # bool is an int in Python but not a number in a spec.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        expected = "a number" if kind == (int, float) else _JSON_TYPE_NAMES[kind]  # type: ignore[index]
        got = "a number" if type(value) in (int, float) else _JSON_TYPE_NAMES[type(value)]
        raise ConfigError(f"{where}.{key} must be {expected}, got {got}")
    return value


def _positive(data: dict[str, Any], key: str, default: float, where: str) -> float:
    value: float = _field(data, key, (int, float), default, where)
    if value <= 0:
        raise ConfigError(f"{where}.{key} must be a positive number, got {value!r}")
    return value


def _not_negative(data: dict[str, Any], key: str, default: float, where: str) -> float:
    value: float = _field(data, key, (int, float), default, where)
    if value < 0:
        raise ConfigError(f"{where}.{key} must be zero or more, got {value!r}")
    return value


def _string_map(data: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value: dict[str, Any] = _field(data, key, dict, {}, where)
    for name, item in value.items():
        if not isinstance(item, str):
            raise ConfigError(f"{where}.{key}.{name} must be a string")
    return value
