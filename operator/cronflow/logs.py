"""Logging set-up: plain text for people, one JSON object a line for log collectors."""

import json
import logging
from typing import Literal


class JsonFormatter(logging.Formatter):
    """One JSON object per record, with kopf's object reference when it has one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        k8s_object = getattr(record, "k8s_ref", None)
        if k8s_object:
            entry["object"] = k8s_object
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(log_format: Literal["json", "text"], verbose: bool) -> None:
    """Route all logs to stderr in the chosen format."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("kubernetes.client.rest", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:  # kopf logs "Handler ... succeeded" for every watch event; the passes log what they do
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
