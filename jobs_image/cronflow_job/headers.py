"""Request headers: the spec's `headers`, the Secret's (env CRONFLOW_HEADER_<name>), and their checks.

A header value is never part of a message: a Secret's value must not reach the result or the log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

SECRET_HEADER_PREFIX = "CRONFLOW_HEADER_"
# RFC 9110 token characters; a field value: visible ASCII, obs-text, inner spaces and tabs.
_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VALUE = re.compile(r"(?:[!-~\x80-\xff](?:[\t !-~\x80-\xff]*[!-~\x80-\xff])?)?")
# Set by the HTTP client from the request itself; a value from the spec would break the framing.
FRAMING = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class HeaderError(ValueError):
    """A header that cannot be sent; str() names it (never its value)."""


def check_header(name: str, value: str, source: str) -> None:
    """Refuse a bad name or value; `source` says where the header came from, for the message."""
    if not _NAME.fullmatch(name):
        raise HeaderError(f"{source}: {name!r} is not a valid HTTP header name")
    if name.lower() in FRAMING:
        raise HeaderError(f"{source}: {name} is set by the HTTP client and cannot be given")
    if not _VALUE.fullmatch(value):
        raise HeaderError(
            f"{source}: the value of {name} must be one line of printable text without leading or trailing "
            "spaces (no CR, LF, NUL or other control characters); value not shown"
        )


def secret_headers(env: Mapping[str, str]) -> dict[str, str]:
    """Every CRONFLOW_HEADER_<name> variable as the header <name>, in name order; HeaderError if one is bad."""
    headers: dict[str, str] = {}
    for variable in sorted(key for key in env if key.startswith(SECRET_HEADER_PREFIX)):
        name = variable.removeprefix(SECRET_HEADER_PREFIX)
        check_header(name, env[variable], "spec.flow.headersSecretRef")
        if (twin := find(headers, name)) is not None:
            raise HeaderError(f"spec.flow.headersSecretRef: {twin} and {name} are the same header")
        headers[name] = env[variable]
    return headers


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The values of the Secret's headers, checked or not: what the result and the log must never show."""
    return [value for key, value in env.items() if key.startswith(SECRET_HEADER_PREFIX) and value]


def find(headers: Mapping[str, str], name: str) -> str | None:
    """The key of `headers` that is `name` regardless of case, if any."""
    return next((key for key in headers if key.lower() == name.lower()), None)


def merged(*layers: Mapping[str, str]) -> dict[str, str]:
    """Later layers win; names compare regardless of case, the winning layer's spelling is kept."""
    result: dict[str, str] = {}
    for layer in layers:
        for name, value in layer.items():
            if (old := find(result, name)) is not None:
                del result[old]
            result[name] = value
    return result
