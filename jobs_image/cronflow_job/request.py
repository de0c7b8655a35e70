"""The job config -> the HTTP requests to make (the start call, the status polls); pure but for a form's
random boundary."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from cronflow_job.config import JOB_ID_PLACEHOLDER, ConfigError, JobConfig, JsonValue
from cronflow_job.headers import merged
from cronflow_job.multipart import FormBody

USER_AGENT = "cronflow-job/1"
_CAMEL_CASE = re.compile(r"[a-z][A-Za-z0-9]*")
NO_FLOW_BODY = ("GET", "DELETE")  # without json or form, these send no body


@dataclass(frozen=True)
class PreparedCall:
    """One HTTP request, ready to send; the body is `body` (bytes), `form` (streamed), or neither."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    verify_tls: bool
    timeout_seconds: float
    form: FormBody | None = None


def prepare_call(config: JobConfig) -> PreparedCall:
    """The start request: method, endpoint plus query, the run's headers, and the body the spec asks for.

    The body is `json` as written, or the `form` (its file part: the input file, else an empty file), or
    else the flow body (not for GET and DELETE). Header names compare regardless of case; the spec's
    headers replace the defaults, the Secret's replace the spec's, and the token sets Authorization.
    """
    flow = config.flow
    defaults = {"User-Agent": USER_AGENT}
    body = form = None
    if flow.form is not None:
        form = FormBody(flow.form.fields, flow.form.file_field, config.input_path, secrets.token_hex(16))
        defaults["Content-Type"] = form.content_type()
    elif flow.json is not None or flow.method not in NO_FLOW_BODY:
        defaults["Content-Type"] = "application/json"
        content = request_body(config) if flow.json is None else flow.json
        body = json.dumps(content, separators=(",", ":")).encode("utf-8")
    return PreparedCall(
        method=flow.method,
        url=with_query(flow.endpoint, flow.query),
        headers=run_headers(config, defaults),
        body=body,
        verify_tls=flow.verify_ssl_certificate,
        timeout_seconds=flow.timeout_seconds,
        form=form,
    )


def status_call(config: JobConfig, job_id: str) -> PreparedCall:
    """A status poll: GET completion.statusUrl with the id filled in (URL-encoded), the run's headers."""
    completion = config.flow.completion
    assert completion is not None, "status_call needs flow.completion"
    return PreparedCall(
        method="GET",
        url=completion.status_url.replace(JOB_ID_PLACEHOLDER, quote(job_id, safe="")),
        headers=run_headers(config, {"User-Agent": USER_AGENT}),
        body=None,
        verify_tls=config.flow.verify_ssl_certificate,
        timeout_seconds=config.flow.timeout_seconds,
    )


def run_headers(config: JobConfig, defaults: dict[str, str]) -> dict[str, str]:
    """Defaults, then the spec's headers, then the Secret's, then the bearer token (later ones win)."""
    bearer = {"Authorization": f"Bearer {config.auth_token}"} if config.auth_token else {}
    return merged(defaults, config.flow.headers, config.secret_headers, bearer)


def with_query(url: str, query: dict[str, str]) -> str:
    """`url` with `query` appended to the query string it already has."""
    if not query:
        return url
    parts = urlsplit(url)
    extra = urlencode(query)
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def request_body(config: JobConfig) -> dict[str, JsonValue]:
    """The JSON body: only the fields that are set, settings keys in snake_case at any depth."""
    flow = config.flow
    fields: dict[str, JsonValue] = {
        "binary_path": flow.binary_path,
        "input_dir": flow.input_dir,
        "input_file": config.input_file,
        "settings": None if flow.settings is None else snake_case_keys(flow.settings),
    }
    return {key: value for key, value in fields.items() if value is not None}


def snake_case(name: str) -> str:
    """`runtimeConfig` -> `runtime_config`, `parseHTTPResponse` -> `parse_http_response`.

    Only camelCase identifiers (lower-case first letter, letters and digits) are converted; any
    other key (`X-Team`, `already_snake`, `Content-Type`) is user data and passes unchanged.
    """
    if not _CAMEL_CASE.fullmatch(name):
        return name
    words = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()


def snake_case_keys(value: JsonValue) -> JsonValue:
    """Convert object keys with snake_case() at any depth, inside lists too."""
    if isinstance(value, list):
        return [snake_case_keys(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted: dict[str, JsonValue] = {}
    origin: dict[str, str] = {}
    for key, item in value.items():
        new_key = snake_case(key)
        if new_key in origin:
            raise ConfigError(f"flow.settings keys {origin[new_key]!r} and {key!r} both become {new_key!r}")
        origin[new_key] = key
        converted[new_key] = snake_case_keys(item)
    return converted


def display_url(url: str) -> str:
    """The URL without user:password, for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
