"""Read the job's inputs from the environment into typed, validated values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import urlsplit

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"

FLOW_ENV = "CRONFLOW_FLOW"
AUTH_TOKEN_ENV = "CRONFLOW_AUTH_TOKEN"
INPUT_FILE_ENV = "CRONFLOW_INPUT_FILE"
TERMINATION_LOG_ENV = "CRONFLOW_TERMINATION_LOG"
DEFAULT_TERMINATION_LOG = "/dev/termination-log"
METHODS = ("GET", "POST", "PUT")


class ConfigError(Exception):
    """The job's inputs are missing or invalid; the message says which and why."""


@dataclass(frozen=True)
class Flow:
    """The flow spec as the runner needs it (the camelCase spec fields, in snake_case)."""

    endpoint: str
    method: str = "POST"
    binary_path: str | None = None
    input_dir: str | None = None
    verify_ssl_certificate: bool = True
    timeout_seconds: float = 60
    settings: dict[str, JsonValue] | None = None


@dataclass(frozen=True)
class JobConfig:
    """Everything one run needs: the flow, the optional bearer token and automatic-mode input file."""

    flow: Flow
    auth_token: str | None = None
    input_file: str | None = None


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
    return JobConfig(
        flow=parse_flow(env.get(FLOW_ENV)),
        auth_token=token,
        input_file=env.get(INPUT_FILE_ENV) or None,
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
    _check_endpoint(endpoint)
    method = _field(data, "method", str, "POST")
    if method not in METHODS:
        raise ConfigError(f"flow.method must be one of {', '.join(METHODS)}, got {method!r}")
    timeout = _field(data, "timeoutSeconds", (int, float), 60)
    if timeout <= 0:
        raise ConfigError(f"flow.timeoutSeconds must be a positive number, got {timeout!r}")
    return Flow(
        endpoint=endpoint,
        method=method,
        binary_path=_field(data, "binaryPath", str, None),
        input_dir=_field(data, "inputDir", str, None),
        verify_ssl_certificate=_field(data, "verifySslCertificate", bool, True),
        timeout_seconds=timeout,
        settings=_field(data, "settings", dict, None),
    )


def _check_endpoint(endpoint: str) -> None:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"flow.endpoint must be an http or https URL, got scheme {parts.scheme!r}")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise ConfigError(f"flow.endpoint is not a valid URL: {exc}") from None
    if not host:
        raise ConfigError("flow.endpoint has no host")


_JSON_TYPE_NAMES = {str: "a string", bool: "a boolean", int: "a number", float: "a number", dict: "an object"}


def _field(data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    """data[key] if it has the expected JSON type, default when absent or null."""
    value = data.get(key)
    if value is None:
        return default
    # bool is an int in Python but not a number in a spec.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        expected = _JSON_TYPE_NAMES[kind[0] if isinstance(kind, tuple) else kind]
        got = _JSON_TYPE_NAMES.get(type(value), "an array")
        raise ConfigError(f"flow.{key} must be {expected}, got {got}")
    return value
