"""Delivery with retries off the reconcile path, in bounded lanes so a slow target holds up no other.

Each tenant's (namespace's) webhook host, and each tenant's email, is a lane of its own (lanes.py):
a dead or slow endpoint, retried with backoff, delays only the notifications for that same target.
Error messages (logged, and posted as `NotificationFailed` Events) never hold a Secret value: header
values from a Secret are checked before use and a bad one is named by its Secret and key only.
"""

import email.utils
import logging
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from cronflow import kube, names
from cronflow.metrics import NOTIFICATION_FAILURES
from cronflow.notify.lanes import Lanes
from cronflow.notify.payload import email_message, idempotency_key, wanted, webhook_payload
from cronflow.settings import OperatorSettings

log = logging.getLogger(__name__)
ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0
RETRY_AFTER_MAX_SECONDS = 60.0
"""The longest Retry-After (of a 408, 429 or 5xx answer) waited for; a longer one fails the delivery."""
WEBHOOK_TIMEOUT_SECONDS = 10
SMTP_TIMEOUT_SECONDS = 30
LANE_WORKERS = 2
"""Deliveries at once to one target (a namespace's webhook host, a namespace's email)."""
LANE_QUEUE = 100
"""Deliveries waiting for one target; more are dropped with a `NotificationFailed` Event."""
MAX_WORKERS = 32
MAX_QUEUED = 2000
_lanes = Lanes(LANE_WORKERS, LANE_QUEUE, MAX_WORKERS, MAX_QUEUED)
SmtpSecurity = Literal["starttls", "implicit", "none"]

# RFC 9110 token (header name); a value: printable ASCII, inner spaces and tabs, nothing around it.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"([\x21-\x7e]([\x20-\x7e\t]*[\x21-\x7e])?)?")


class DeliveryError(Exception):
    """A failed delivery attempt. Its message is safe to log and post: it holds no Secret value.

    `retry`: whether another attempt can help; `retry_after`: seconds the server asked to wait.
    """

    def __init__(self, message: str, *, retry: bool = True, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after


def with_retries(action: Callable[[], None], what: str, backoff: float | None = None) -> None:
    """Run `action` up to ATTEMPTS times with exponential backoff; the last error is raised.

    A DeliveryError with `retry=False` is raised at once; one with `retry_after` waits that long instead.
    """
    first = FIRST_BACKOFF_SECONDS if backoff is None else backoff
    for attempt in range(1, ATTEMPTS + 1):
        try:
            action()
            return
        except Exception as error:
            if attempt == ATTEMPTS or (isinstance(error, DeliveryError) and not error.retry):
                raise
            delay = first * 2 ** (attempt - 1)
            if isinstance(error, DeliveryError) and error.retry_after is not None:
                delay = error.retry_after
            log.info("%s failed (attempt %d/%d, next in %.1f s): %s", what, attempt, ATTEMPTS, delay, error)
            time.sleep(delay)


def _header_problem(value: str) -> str | None:
    """What is wrong with a header value, in words that never repeat the value; None: nothing."""
    if _HEADER_VALUE.fullmatch(value):
        return None
    if value.endswith("\n") and _HEADER_VALUE.fullmatch(value.removesuffix("\n").removesuffix("\r")):
        return ("ends with a newline (as `kubectl create secret --from-file` stores a file's last line; "
                "use --from-literal, or a file without the final newline)")
    if "\r" in value or "\n" in value:
        return "holds a line break"
    if value != value.strip():
        return "has leading or trailing whitespace"
    return "holds a control character or a character outside printable ASCII"


def webhook_headers(webhook: Mapping[str, Any], namespace: str) -> tuple[dict[str, str], list[str]]:
    """Headers from the spec, then those of the referenced Secret (each key a header name), each
    checked; and the Secret's values (to keep out of any message). A bad header fails the delivery."""
    headers: dict[str, str] = {}
    for name, value in (webhook.get("headers") or {}).items():
        _check_header(str(name), str(value), f"webhook.headers[{name}]")
        headers[str(name)] = str(value)
    secret_ref = webhook.get("headersSecretRef")
    if not secret_ref:
        return headers, []
    secret_name = secret_ref["name"]
    try:
        data = kube.read_secret(namespace, secret_name)
    except UnicodeDecodeError:
        raise DeliveryError(f"Secret {secret_name}: a value is not UTF-8 text", retry=False) from None
    for key, value in data.items():
        _check_header(key, value, f"Secret {secret_name} key {key}")
    headers.update(data)
    return headers, list(data.values())


def _check_header(name: str, value: str, origin: str) -> None:
    if not _HEADER_NAME.fullmatch(name):
        raise DeliveryError(f"{origin}: not a valid HTTP header name; the webhook is not called", retry=False)
    problem = _header_problem(value)
    if problem:
        raise DeliveryError(f"{origin}: the header value {problem}; it is not sent, the webhook is not called",
                            retry=False)


def _scrub(message: str, secrets: Iterable[str]) -> str:
    """`message` with every Secret value (also as Python would escape it in a repr) replaced."""
    for secret in secrets:
        for form in {secret, secret.strip(), repr(secret)[1:-1]}:
            if len(form) >= 3:
                message = message.replace(form, "<redacted>")
    return message


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def check_answer(answer: requests.Response) -> None:
    """Raise the DeliveryError a webhook's answer means: 2xx is delivered; a redirect and a 4xx other
    than 408 and 429 are final; 408, 429 and 5xx are retried (after Retry-After, if it says, up to
    RETRY_AFTER_MAX_SECONDS)."""
    status, reason = answer.status_code, (answer.reason or "")[:80]
    if 200 <= status < 300:
        return
    if 300 <= status < 400:
        location = (answer.headers.get("Location") or "")[:200]
        raise DeliveryError(
            f"answered {status} {reason}, a redirect to {location!r}: redirects are not followed (they would "
            "send the headers to another address); set webhook.url to the address that accepts the POST",
            retry=False,
        )
    if 400 <= status < 500 and status not in (408, 429):
        raise DeliveryError(f"answered {status} {reason}; not retried", retry=False)
    wait = retry_after_seconds(answer.headers.get("Retry-After"))
    if wait is not None and wait > RETRY_AFTER_MAX_SECONDS:
        raise DeliveryError(
            f"answered {status} {reason} with Retry-After {wait:.0f} s, longer than the "
            f"{RETRY_AFTER_MAX_SECONDS:.0f} s the operator waits; not retried", retry=False,
        )
    raise DeliveryError(f"answered {status} {reason}", retry_after=wait)


def send_webhook(sj: Mapping[str, Any], result: Mapping[str, Any], webhook: Mapping[str, Any]) -> None:
    """POST the run to the webhook (redirects not followed), retrying what can succeed later."""
    spec_and_secret, secrets = webhook_headers(webhook, sj["metadata"]["namespace"])
    headers = {
        **spec_and_secret,
        "Idempotency-Key": idempotency_key(sj, result),
        "Content-Type": "application/json",
    }
    payload = webhook_payload(sj, result)

    def post() -> None:
        try:
            answer = requests.post(
                webhook["url"], json=payload, headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False, stream=True,  # the body is never read
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise DeliveryError(_scrub(f"{type(error).__name__}: {error}", secrets)) from None
        except Exception as error:  # invalid URL and the like: another attempt cannot help
            raise DeliveryError(_scrub(f"{type(error).__name__}: {error}", secrets), retry=False) from None
        with answer:
            try:
                check_answer(answer)
            except DeliveryError as error:
                raise DeliveryError(_scrub(str(error), secrets), retry=error.retry,
                                    retry_after=error.retry_after) from None

    with_retries(post, f"webhook {webhook['url']}")


def smtp_security(settings: OperatorSettings) -> SmtpSecurity:
    """How the SMTP connection is protected: smtp_tls, or for `auto` implicit TLS on port 465,
    else STARTTLS unless smtp_starttls is false."""
    if settings.smtp_tls != "auto":
        return settings.smtp_tls
    if settings.smtp_port == 465:
        return "implicit"
    return "starttls" if settings.smtp_starttls else "none"


def smtp_context(settings: OperatorSettings) -> ssl.SSLContext:
    """A verifying TLS context (certificate and host name): the system CAs, or only smtp_ca_file's."""
    try:
        return ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    except (OSError, ssl.SSLError) as error:
        raise DeliveryError(f"cannot load the SMTP CA bundle {settings.smtp_ca_file}: {error}", retry=False) from None


def send_email(
    sj: Mapping[str, Any], result: Mapping[str, Any], to: list[str], settings: OperatorSettings
) -> None:
    """Send the run's email through the configured SMTP server, over verified TLS unless smtp_tls=none.

    The password is only ever sent over TLS: with smtp_tls=none and a username, nothing is sent."""
    message = email_message(sj, result, settings.smtp_from, to)
    security = smtp_security(settings)
    if security == "none" and settings.smtp_username:
        raise DeliveryError("an SMTP username is set but TLS is off (smtp_tls none, or smtp_starttls false): "
                            "the password is not sent without TLS", retry=False)
    context = smtp_context(settings) if security != "none" else None
    host, port = settings.smtp_host, settings.smtp_port

    def send() -> None:
        try:
            smtp = (smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
                    if security == "implicit" else smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS))
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=context)
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(message)
        except ssl.SSLCertVerificationError as error:
            hint = " (set smtp_ca_file to the CA that issued it)" if not settings.smtp_ca_file else ""
            raise DeliveryError(
                f"the SMTP server's certificate is not trusted: {error.verify_message}{hint}; nothing was sent",
                retry=False,
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            raise DeliveryError(f"SMTP server: {error} (smtp_tls {security}); nothing was sent", retry=False) from None

    with_retries(send, f"email via {host}")


def _report(sj: Mapping[str, Any], result: Mapping[str, Any], channel: str, error: object) -> None:
    log.warning("%s notification for %s failed: %s", channel, result["job"], error)
    NOTIFICATION_FAILURES.labels(channel=channel).inc()
    kube.post_event(
        sj, "Warning", names.NOTIFICATION_FAILED, f"{channel} notification for {result['job']} failed: {error}"
    )


def _attempt(
    sj: Mapping[str, Any], result: Mapping[str, Any], channel: str, send: Callable[[], None], done: Callable[[], None]
) -> None:
    try:
        send()
    except Exception as error:
        _report(sj, result, channel, error)
    finally:
        done()


def webhook_target(url: str) -> str:
    """The lane part of a webhook URL: scheme, host and port (not the path, which may hold a token)."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
        return f"{parts.scheme}://{parts.hostname}:{port}"
    except ValueError:
        return "invalid-url"


def _queue(
    lane: str, sj: Mapping[str, Any], result: Mapping[str, Any], channel: str, send: Callable[[], None],
    done: Callable[[], None],
) -> None:
    if _lanes.submit(lane, lambda: _attempt(sj, result, channel, send, done)):
        return
    done()  # a final failure, reported below
    error = f"dropped: the queue is full ({LANE_QUEUE} waiting for this target, or {MAX_QUEUED} for all)"
    log.warning("%s notification for %s (%s) %s", channel, result["job"], lane, error)
    NOTIFICATION_FAILURES.labels(channel=channel).inc()
    message = f"{channel} notification for {result['job']} {error}"
    _lanes.submit("events", lambda: kube.post_event(sj, "Warning", names.NOTIFICATION_FAILED, message))


def notify(
    sj: Mapping[str, Any], result: Mapping[str, Any], settings: OperatorSettings,
    done: Callable[[], None] = lambda: None,
) -> None:
    """Queue the notifications a finished run asks for, each on its target's lane; returns at once.

    `done` is called once every channel has delivered or finally failed (at once when none is wanted),
    so the caller can hold the run's Job until then and send again after a restart.
    """
    notifications = (sj.get("spec") or {}).get("notifications") or {}
    if not wanted(notifications, result["status"]):
        done()
        return
    namespace = sj["metadata"]["namespace"]
    webhook = notifications.get("webhook")
    emails = notifications.get("emails")
    channels = int(bool(webhook)) + int(bool(emails and settings.smtp_host))
    left = [channels]
    lock = threading.Lock()

    def one_done() -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            done()

    if channels == 0:
        done()
    if webhook:
        lane = f"webhook {namespace} {webhook_target(str(webhook.get('url', '')))}"
        _queue(lane, sj, result, "webhook", lambda: send_webhook(sj, result, webhook), one_done)
    if emails and settings.smtp_host:
        _queue(f"email {namespace}", sj, result, "email", lambda: send_email(sj, result, emails, settings), one_done)
    elif emails:
        message = "email requested but no SMTP server is configured"
        _lanes.submit(f"email {namespace}", lambda: kube.post_event(sj, "Warning", names.NOTIFICATION_FAILED, message))


def join(timeout: float) -> bool:
    """Wait until every queued notification is done; False when `timeout` seconds were not enough."""
    return _lanes.join(timeout)
