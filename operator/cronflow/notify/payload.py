"""Pure: who is notified of a run, and what the webhook and the email say."""

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any


def wanted(notifications: Mapping[str, Any] | None, run_status: str) -> bool:
    """Whether `spec.notifications.on` asks for a run that ended with `run_status` (OK or ERROR)."""
    if not notifications:
        return False
    on = notifications.get("on") or ["Failure"]
    return ("Success" if run_status == "OK" else "Failure") in on


def idempotency_key(sj: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    """The same key for every delivery attempt of one run's notification, unique across runs."""
    return f"{sj['metadata']['uid']}/{result['job']}"


def webhook_payload(sj: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document POSTed to the webhook."""
    meta = sj["metadata"]
    return {
        "idempotencyKey": idempotency_key(sj, result),
        "scheduledJob": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
        "run": dict(result),
    }


def email_message(sj: Mapping[str, Any], result: Mapping[str, Any], sender: str, to: list[str]) -> EmailMessage:
    """A plain-text email about one run."""
    meta = sj["metadata"]
    http = (result.get("httpResult") or {}).get("status")
    message = EmailMessage()
    message["Subject"] = f"[cronflow] {meta['namespace']}/{meta['name']}: run {result['status']}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Message-ID"] = f"<{idempotency_key(sj, result).replace('/', '.')}@cronflow>"
    lines = [
        f"ScheduledJob: {meta['namespace']}/{meta['name']}",
        f"Job: {result['job']} ({result.get('trigger', '')})",
        f"Status: {result['status']}" + (f" (HTTP {http})" if http else ""),
        f"Started: {result.get('startTime', '')}",
        f"Finished: {result.get('finishedAt', '')}",
    ]
    if result.get("inputFile"):
        lines.append(f"Input file: {result['inputFile']}")
    if result.get("message"):
        lines.append(f"Message: {result['message']}")
    response = (result.get("httpResult") or {}).get("response")
    if response:
        lines += ["", "Response:", response]
    message.set_content("\n".join(lines) + "\n")
    return message
