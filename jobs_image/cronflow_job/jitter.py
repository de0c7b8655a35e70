"""The wait of a scheduled run before its first call (`jitterSeconds`), stable per Job.

Thousands of schedules on `0 * * * *` would otherwise call the flow service in the same second. The
wait is hash(Job name) mod (N + 1) seconds, so every pod of one Job waits the same and the waits of
different Jobs spread evenly over 0..N.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from cronflow_job.config import ConfigError

JITTER_ENV = "CRONFLOW_JITTER_SECONDS"
JOB_NAME_ENV = "CRONFLOW_JOB_NAME"
MAX_JITTER_SECONDS = 3600


def jitter_seconds(env: Mapping[str, str]) -> int:
    """The seconds this run waits: 0 without CRONFLOW_JITTER_SECONDS, else from the Job's name."""
    raw = env.get(JITTER_ENV) or "0"
    if not raw.isdigit() or int(raw) > MAX_JITTER_SECONDS:
        raise ConfigError(f"{JITTER_ENV} must be a whole number of seconds from 0 to {MAX_JITTER_SECONDS}, got {raw!r}")
    limit = int(raw)
    if not limit:
        return 0
    name = env.get(JOB_NAME_ENV) or env.get("HOSTNAME") or ""  # the pod's name if the label is missing
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % (limit + 1)


def wait_jitter(env: Mapping[str, str], sleep: Callable[[float], None], log: Callable[[str], None]) -> None:
    """Sleep this run's jitter, logged as one line (nothing at all without jitter)."""
    seconds = jitter_seconds(env)
    if seconds:
        log(f"cronflow-job jitter={seconds}s of {env[JITTER_ENV]}s job={env.get(JOB_NAME_ENV) or '-'}")
        sleep(seconds)
