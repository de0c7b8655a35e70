"""Delivery with retries in a small thread pool of its own, so a slow endpoint never holds up reconciling."""

import logging
import smtplib
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from cronflow import kube, names
from cronflow.metrics import NOTIFICATION_FAILURES
from cronflow.notify.payload import email_message, idempotency_key, wanted, webhook_payload
from cronflow.settings import OperatorSettings

log = logging.getLogger(__name__)
ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0
WEBHOOK_TIMEOUT_SECONDS = 10
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="notify")


def with_retries(action: Callable[[], None], what: str, backoff: float = FIRST_BACKOFF_SECONDS) -> None:
    """Run `action` up to ATTEMPTS times with exponential backoff; the last error is raised."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            action()
            return
        except Exception as error:
            if attempt == ATTEMPTS:
                raise
            log.info("%s failed (attempt %d/%d): %s", what, attempt, ATTEMPTS, error)
            time.sleep(backoff * 2 ** (attempt - 1))


def webhook_headers(webhook: Mapping[str, Any], namespace: str) -> dict[str, str]:
    """Headers from the spec, then those of the referenced Secret (each key a header name)."""
    headers = {str(k): str(v) for k, v in (webhook.get("headers") or {}).items()}
    secret_ref = webhook.get("headersSecretRef")
    if secret_ref:
        headers.update(kube.read_secret(namespace, secret_ref["name"]))
    return headers


def send_webhook(sj: Mapping[str, Any], result: Mapping[str, Any], webhook: Mapping[str, Any]) -> None:
    """POST the run to the webhook; any non-2xx answer is an error (and retried)."""
    headers = {
        **webhook_headers(webhook, sj["metadata"]["namespace"]),
        "Idempotency-Key": idempotency_key(sj, result),
        "Content-Type": "application/json",
    }

    def post() -> None:
        answer = requests.post(
            webhook["url"], json=webhook_payload(sj, result), headers=headers, timeout=WEBHOOK_TIMEOUT_SECONDS
        )
        answer.raise_for_status()

    with_retries(post, f"webhook {webhook['url']}")


def send_email(
    sj: Mapping[str, Any], result: Mapping[str, Any], to: list[str], settings: OperatorSettings
) -> None:
    """Send the run's email through the configured SMTP server."""
    message = email_message(sj, result, settings.smtp_from, to)

    def send() -> None:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)

    with_retries(send, f"email via {settings.smtp_host}")


def _deliver(sj: Mapping[str, Any], result: Mapping[str, Any], settings: OperatorSettings) -> None:
    notifications = (sj.get("spec") or {}).get("notifications") or {}
    channels: list[tuple[str, Callable[[], None]]] = []
    if notifications.get("webhook"):
        channels.append(("webhook", lambda: send_webhook(sj, result, notifications["webhook"])))
    if notifications.get("emails"):
        if settings.smtp_host:
            channels.append(("email", lambda: send_email(sj, result, notifications["emails"], settings)))
        else:
            message = "email requested but no SMTP server is configured"
            kube.post_event(sj, "Warning", names.NOTIFICATION_FAILED, message)
    for channel, send in channels:
        try:
            send()
        except Exception as error:
            log.warning("%s notification for %s failed: %s", channel, result["job"], error)
            NOTIFICATION_FAILURES.labels(channel=channel).inc()
            kube.post_event(
                sj, "Warning", names.NOTIFICATION_FAILED, f"{channel} notification for {result['job']} failed: {error}"
            )


def notify(sj: Mapping[str, Any], result: Mapping[str, Any], settings: OperatorSettings) -> None:
    """Queue the notifications a finished run asks for; returns at once."""
    if wanted((sj.get("spec") or {}).get("notifications"), result["status"]):
        _pool.submit(_deliver, sj, result, settings)
