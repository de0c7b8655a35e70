"""The HTTP call: send a PreparedCall with requests and return the answer, or a clear failure message."""

from __future__ import annotations

import codecs
import contextlib
import socket
import ssl
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InsecureRequestWarning, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from cronflow_job.multipart import open_form
from cronflow_job.request import PreparedCall, display_url

# More than any result can hold (4096 bytes) in any charset; the rest of the body is not read.
READ_LIMIT_BYTES = 64 * 1024
MAX_REDIRECTS = 10


@dataclass(frozen=True)
class HttpAnswer:
    """The final HTTP answer; `cut` when the body was longer than READ_LIMIT_BYTES."""

    status: int
    headers: list[tuple[str, str]]
    text: str
    cut: bool


class CallFailed(Exception):
    """The call got no HTTP answer (DNS, refused, TLS, timeout, ...); str() is the user-facing message.

    `reason` is the same without the URL ("connection refused"), for a list of failed attempts.
    """

    def __init__(self, reason: str, url: str, detail: str = "") -> None:
        self.reason = f"{reason}: {detail}" if detail else reason
        super().__init__(f"{reason} calling {url}: {detail}" if detail else f"{reason} calling {url}")


def perform(call: PreparedCall) -> HttpAnswer:
    """Send the request (once); redirects are followed for GET only.

    timeoutSeconds bounds the connect, every wait for data, and (checked while the body streams)
    the whole call.
    """
    deadline = time.monotonic() + call.timeout_seconds
    try:
        with contextlib.ExitStack() as stack, requests.Session() as session, warnings.catch_warnings():
            data = stack.enter_context(open_form(call.form)) if call.form else call.body
            # verifySslCertificate: false is the user's explicit choice; no warning per run.
            warnings.simplefilter("ignore", InsecureRequestWarning)
            session.max_redirects = MAX_REDIRECTS
            with session.request(
                call.method,
                call.url,
                headers=call.headers,
                data=data,
                verify=call.verify_tls,
                timeout=call.timeout_seconds,
                allow_redirects=call.method == "GET",
                stream=True,
            ) as response:
                return _read_answer(response, deadline, call)
    except requests.RequestException as exc:
        raise describe_failure(exc, call) from exc


def _read_answer(response: requests.Response, deadline: float, call: PreparedCall) -> HttpAnswer:
    data = bytearray()
    for chunk in response.iter_content(chunk_size=8192):
        if time.monotonic() > deadline:
            raise CallFailed(_timeout(call), display_url(call.url), "response body incomplete")
        data += chunk
        if len(data) > READ_LIMIT_BYTES:
            break
    cut = len(data) > READ_LIMIT_BYTES
    # urllib3's own header dict keeps repeated headers (Set-Cookie) as separate entries.
    source = getattr(response.raw, "headers", None) or response.headers
    return HttpAnswer(
        status=response.status_code,
        headers=[(str(key), str(value)) for key, value in source.items()],
        text=decode_body(bytes(data[:READ_LIMIT_BYTES]), response.headers.get("Content-Type"), not cut),
        cut=cut,
    )


def decode_body(data: bytes, content_type: str | None, complete: bool) -> str:
    """Decode with the Content-Type charset (UTF-8 if none or unknown); undecodable bytes become U+FFFD.

    When the body was cut (`complete` false), a character split by the cut is dropped, not replaced.
    """
    header = Message()
    header["Content-Type"] = content_type or "application/octet-stream"
    charset = header.get_content_charset() or "utf-8"
    try:
        b"a".decode(charset, "ignore")  # rejects unknown names and non-text codecs such as base64
    except LookupError:
        charset = "utf-8"
    return codecs.getincrementaldecoder(charset)(errors="replace").decode(data, final=complete)


def describe_failure(exc: BaseException, call: PreparedCall) -> CallFailed:
    """What failed, with the URL (never the headers or the token)."""
    url = display_url(call.url)
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return CallFailed("TLS certificate verification failed", url, str(cause.verify_message or cause))
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return CallFailed("connection refused", url)
    for cause in causes:
        if isinstance(cause, socket.gaierror):
            host = urlsplit(call.url).hostname
            return CallFailed(f"DNS lookup failed for {host}", url, str(cause.strerror or cause))
    # urllib3 files "could not connect" (NewConnectionError) under its timeout errors.
    if any(
        isinstance(cause, requests.Timeout | TimeoutError)
        or (isinstance(cause, Urllib3TimeoutError) and not isinstance(cause, NewConnectionError))
        for cause in causes
    ):
        return CallFailed(_timeout(call), url)
    if any(isinstance(cause, ssl.SSLError | requests.exceptions.SSLError) for cause in causes):
        return CallFailed("TLS error", url, _innermost_detail(causes))
    if isinstance(exc, requests.TooManyRedirects):
        return CallFailed(f"too many redirects (more than {MAX_REDIRECTS})", url)
    if isinstance(exc, requests.ConnectionError):
        return CallFailed("connection failed", url, _innermost_detail(causes))
    return CallFailed("request failed", url, f"{type(exc).__name__}: {_innermost_detail(causes)}")


def _timeout(call: PreparedCall) -> str:
    return f"timeout after {call.timeout_seconds:g}s"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """exc and everything it wraps: requests and urllib3 nest causes in args, .reason and chaining."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        # A suppressed context (`raise ... from None`) is an unrelated earlier error, as in tracebacks.
        context = None if current.__suppress_context__ else current.__context__
        linked = [*current.args, getattr(current, "reason", None), current.__cause__, context]
        pending.extend(item for item in linked if isinstance(item, BaseException))


def _innermost_detail(causes: list[BaseException]) -> str:
    """The most specific non-empty description: OS errors by strerror, others by str()."""
    for cause in reversed(causes):
        text = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        if text:
            return text
    return "unknown error"
