"""Pure: the job config -> the HTTP request to make (method, URL, headers, body)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from cronflow_job.config import ConfigError, JobConfig, JsonValue

USER_AGENT = "cronflow-job/1"
_CAMEL_CASE = re.compile(r"[a-z][A-Za-z0-9]*")


@dataclass(frozen=True)
class PreparedCall:
    """One HTTP request, ready to send; `body` is None for GET."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    verify_tls: bool
    timeout_seconds: float


def prepare_call(config: JobConfig) -> PreparedCall:
    """Build the request the contract describes: bearer header only with a token, no body for GET."""
    flow = config.flow
    headers = {"User-Agent": USER_AGENT}
    body = None
    if flow.method != "GET":
        headers["Content-Type"] = "application/json"
        body = json.dumps(request_body(config), separators=(",", ":")).encode("utf-8")
    if config.auth_token:
        headers["Authorization"] = f"Bearer {config.auth_token}"
    return PreparedCall(
        method=flow.method,
        url=flow.endpoint,
        headers=headers,
        body=body,
        verify_tls=flow.verify_ssl_certificate,
        timeout_seconds=flow.timeout_seconds,
    )


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
