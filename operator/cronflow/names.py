"""Names of the API, the labels and annotations on children, and the names of the children themselves.

Child names are derived deterministically, so a retry or an operator restart computes the same name
and a second create is refused by the API server (409) instead of starting a second run.
"""

import hashlib

GROUP = "cronflow.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "ScheduledJob"
PLURAL = "scheduledjobs"
SINGULAR = "scheduledjob"
SHORT_NAMES = ("sj",)
CATEGORIES = ("cronflow",)

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "cronflow"
SCHEDULEDJOB_LABEL = f"{GROUP}/scheduledjob"
ROLE_LABEL = f"{GROUP}/role"
WATCHER_ROLE = "watcher"
TRIGGER_ANNOTATION = f"{GROUP}/trigger"
TRIGGER_TOKEN_ANNOTATION = f"{GROUP}/trigger-token"
INPUT_FILE_ANNOTATION = f"{GROUP}/input-file"
SCHEDULED_TIME_ANNOTATION = f"{GROUP}/scheduled-time"
"""On a backfill Job: the scheduled time it runs for (RFC 3339, UTC)."""
CRONJOB_SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
"""Set by the CronJob controller on the Jobs it creates: their scheduled time."""
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
"""Set by the Job controller on a Job's pods: read by the job image through the downward API."""
RESULT_FINALIZER = f"{GROUP}/result"
USABLE_LABEL = f"{GROUP}/usable"
"""Only Secrets labelled `cronflow.dev/usable: "true"` are read or mounted for a ScheduledJob: the right to
create a ScheduledJob is not the right to send any Secret of the namespace to any URL."""
TOKEN_HASH_ANNOTATION = f"{GROUP}/token-hash"
"""On the watcher's pod template: a digest of its API token, so a new token restarts the pod."""
RECORDED_ANNOTATION = f"{GROUP}/recorded"
"""On a Job whose result is in its ScheduledJob's status (with the finalizer removed in the same write)."""
CRONTAB_LINE_ANNOTATION = f"{GROUP}/crontab-line"
CRONTAB_COMMENT_ANNOTATION = f"{GROUP}/crontab-comment"
"""Set by `kubectl cronflow import crontab`: the line a ScheduledJob came from and the comment above it."""
DISPLAY_NAME_ANNOTATION = f"{GROUP}/display-name"
CREATED_BY_ANNOTATION = f"{GROUP}/created-by"
"""Set by the REST gateway: the job's name as its client gave it, and who created it (SelfSubjectReview)."""
KOPF_FINALIZER = f"{GROUP}/kopf-finalizer"
"""kopf's own finalizer (earlier versions ran a daemon per automatic ScheduledJob); kopf removes it."""

# Conditions and their reasons.
READY = "Ready"
RECONCILED = "Reconciled"
INVALID_SPEC = "InvalidSpec"
APPLY_FAILED = "ApplyFailed"
SECRET_NOT_USABLE = "SecretNotUsable"
SCHEDULE_NEVER_FIRES = "ScheduleNeverFires"
WATCHER_UNAVAILABLE = "WatcherUnavailable"
WATCHER_UNREACHABLE = "WatcherUnreachable"
BACKFILL_TOO_LARGE = "BackfillTooLarge"
PAUSED = "Paused"
TOO_MANY_FAILURES = "TooManyFailures"
RESUMED = "Resumed"
NOT_PAUSED = "NotPaused"

# Event reasons (besides the condition reasons above, posted when Ready turns False with them).
APPLIED = "Applied"
DELETED = "Deleted"
TRIGGERED = "Triggered"
TRIGGER_FAILED = "TriggerFailed"
FILE_CLAIMED = "FileClaimed"
BACKFILL_STARTED = "BackfillStarted"
BACKFILL_FAILED = "BackfillFailed"
RUN_SUCCEEDED = "RunSucceeded"
RUN_FAILED = "RunFailed"
STATUS_WRITE_FAILED = "StatusWriteFailed"
NOTIFICATION_FAILED = "NotificationFailed"

MAX_SCHEDULEDJOB_NAME = 63
"""ScheduledJob names are used as label values, so the CRD caps them at 63 characters."""

# The CronJob controller appends "-<minutes since epoch>" (11 characters) to make a Job name, and a
# Job name must fit a 63-character label value.
_MAX_CRONJOB_NAME = 52
_MAX_JOB_NAME = 63
_HASH_LENGTH = 10


def cronjob_name(sj_name: str) -> str:
    """The CronJob of a ScheduledJob: its own name when that fits 52 characters, else a cut name + hash."""
    if len(sj_name) <= _MAX_CRONJOB_NAME:
        return sj_name
    return _with_hash(sj_name, _digest(sj_name), _MAX_CRONJOB_NAME)


def trigger_job_name(sj_name: str, token: str) -> str:
    """The one Job that trigger token `token` starts (a DNS-1123 label, at most 63 characters)."""
    return _with_hash(f"{_dns_label(sj_name)}-manual", _digest(sj_name, token), _MAX_JOB_NAME)


def file_job_name(sj_name: str, input_file: str) -> str:
    """The one Job that automatic mode starts for `input_file` (a DNS-1123 label, at most 63 characters)."""
    return _with_hash(f"{_dns_label(sj_name)}-file", _digest(sj_name, input_file), _MAX_JOB_NAME)


def backfill_job_name(sj_name: str, scheduled: str) -> str:
    """The one Job that a backfill starts for the scheduled time `scheduled` (RFC 3339, UTC), in any backfill."""
    stamp = scheduled.replace("-", "").replace(":", "").removesuffix("Z").replace("T", "t").removesuffix("00")
    return _with_hash(f"{_dns_label(sj_name)}-backfill-{stamp}", _digest(sj_name, "backfill", scheduled), _MAX_JOB_NAME)


def watcher_name(sj_name: str) -> str:
    """The automatic-mode watcher Deployment: the CronJob's name (at most 52) + "-watcher" (at most 60)."""
    return f"{cronjob_name(sj_name)}-watcher"


def _digest(*parts: str) -> str:
    # surrogateescape: a name that is not valid UTF-8 (read from a volume) still hashes, never raises.
    return hashlib.sha256("\0".join(parts).encode(errors="surrogateescape")).hexdigest()[:_HASH_LENGTH]


def _dns_label(name: str) -> str:
    return name.replace(".", "-")


def _with_hash(prefix: str, digest: str, limit: int) -> str:
    cut = prefix[: limit - len(digest) - 1].rstrip("-.")
    return f"{cut}-{digest}"
