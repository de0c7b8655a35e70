"""Reconcile one ScheduledJob: what should exist against what does, the smallest writes, one status patch.

Level-triggered: each pass starts from the observed world (the watch caches), never from what the
operator last wrote, so a child deleted or edited by hand is put back. Steps:
1. parse the spec; what slipped past the schema -> Ready=False (InvalidSpec), children left alone;
2. CronJob: apply it when the existing one lacks or differs in a field cronflow sets (suspend and the
   owner's uid included); refused (400/422) -> Ready=False (ApplyFailed) and the pass goes on;
3. watcher Deployment (automatic mode): the same; deleted when no longer wanted;
4. a new trigger token: create its one Job (idempotent by name); refused -> a TriggerFailed Event;
5. runs: live Jobs get the result finalizer, finished or deleted ones are recorded;
6. automatic mode: the watcher's claims -> one Job each; recorded claims moved on;
7. one status patch of what differs (guarded by resourceVersion), then the Events;
8. recorded Jobs released (finalizer off, recorded annotation on) once their notifications are delivered
   or finally failed (at least once: after a restart a held, recorded Job's notification is sent again),
   old scheduled Jobs deleted.
Transient API errors (409, 429, 5xx, no answer) propagate: the controller retries the pass with backoff.
A pass over an unchanged world writes nothing.
"""

import functools
import json
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cronflow import names
from cronflow.api.models import InvalidSpec, ScheduledJobSpec, parse_spec
from cronflow.automatic.plan import WatcherError, automatic_status, owned_pods, plan_claims, watcher_availability
from cronflow.children.cronjob import (
    Owner,
    build_backfill_job,
    build_cronjob,
    build_file_job,
    build_trigger_job,
    controller_uid,
)
from cronflow.children.watcher import (
    TOKEN_KEY,
    build_token_secret,
    build_watcher,
    has_watcher,
    token_secret_name,
    watcher_active,
    watcher_labels,
)
from cronflow.notify.payload import wanted
from cronflow.reconcile.backfill import BackfillPlan, count_results, plan_backfill
from cronflow.reconcile.compare import drifted
from cronflow.reconcile.pause import decide_pause, failure_streak
from cronflow.reconcile.runs import RunsPlan, plan_runs
from cronflow.reconcile.writer import ApiError, Writer
from cronflow.results import add_result, job_finished, run_times
from cronflow.schedule import format_time, upcoming_run_times
from cronflow.status import READY_MESSAGE, set_condition, status_patch

DEFAULT_HISTORY_LIMIT = 10
NEXT_TIMES = 5
"""Scheduled times shown in status.nextScheduleTimes."""
REFUSED_RETRY = timedelta(minutes=5)
"""A child the API server refused is applied again unchanged only this long after (e.g. a LimitRange changed)."""
CACHE_LAG_RECHECK_SECONDS = 5.0
"""Safety net if the event of an own status write never comes (a broken watch is re-listed anyway)."""
SECRET_RECHECK_SECONDS = 30.0
"""Secrets are not watched: a ScheduledJob waiting for a usable Secret is looked at again this often."""
UNREACHABLE_PASSES = 3
"""Failed calls to a running watcher in a row before Ready turns False (WatcherUnreachable)."""
_WATCHER_PROBLEMS = (names.WATCHER_UNAVAILABLE, names.WATCHER_UNREACHABLE)

Event = tuple[str, str, str]
Problem = tuple[str, str]


@dataclass(frozen=True)
class Observed:
    """What exists: the ScheduledJob and its children, as the watch caches hold them."""

    scheduledjob: Mapping[str, Any]
    cronjob: Mapping[str, Any] | None = None
    watcher: Mapping[str, Any] | None = None
    jobs: Sequence[Mapping[str, Any]] = ()


@dataclass
class Memory:
    """What a ScheduledJob's passes remember between them (lost on restart, which is fine)."""

    watcher_failures: int = 0
    refused: dict[str, tuple[str, datetime, tuple[str, str]]] = field(default_factory=dict)
    """Per kind: the manifest the API server refused, when, and the problem reported."""
    notifying: set[str] = field(default_factory=set)
    """Jobs whose notifications are on their way."""
    notified: set[str] = field(default_factory=set)
    """Jobs whose notifications are delivered or finally failed: they may be released."""
    written_from: str | None = None
    """The resourceVersion the last status write was computed from: a cache still showing it is behind."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards the two sets: delivery threads mark jobs notified while a pass reads them."""


@dataclass
class Outcome:
    """What one pass did: when to look again regardless of events, and whether the spec was invalid."""

    requeue_after: float | None = None
    invalid: bool = False


OnRecorded = Callable[[Mapping[str, Any], Mapping[str, Any], Callable[[], None], bool], None]
"""Called with (ScheduledJob, result, done, first) once a result is in the status: it sends the result's
notifications and calls `done` when they are delivered or finally failed; `first` is False when the
notifications of a result recorded earlier are sent again (after a restart), for metrics to count once."""


def reconcile(
    observed: Observed, writer: Writer, job_image: str, now: datetime, memory: Memory,
    on_recorded: OnRecorded | None = None,
) -> Outcome:
    """One pass over a ScheduledJob (the steps of the module docstring)."""
    sj = observed.scheduledjob
    meta, status = sj["metadata"], sj.get("status") or {}
    owner = Owner(name=meta["name"], namespace=meta["namespace"], uid=meta["uid"])
    outcome = Outcome()
    events: list[Event] = []
    problems: list[Problem] = []
    desired: dict[str, Any] = {"observedGeneration": meta.get("generation", 0),
                               "cronJobName": names.cronjob_name(owner.name)}

    if memory.written_from == meta.get("resourceVersion"):
        # The cache does not show this pass's own last status write yet: its event queues the next pass
        # (a pass now would compute from the old status and only conflict).
        outcome.requeue_after = CACHE_LAG_RECHECK_SECONDS
        return outcome
    if meta.get("deletionTimestamp"):  # going away: never hold its Jobs back
        release_jobs(writer, observed.jobs)
        return outcome

    # 1. The spec.
    spec: ScheduledJobSpec | None
    try:
        spec = parse_spec(sj.get("spec") or {})
    except InvalidSpec as error:
        spec, outcome.invalid = None, True
        problems.append((names.INVALID_SPEC, str(error)))

    # 2. Runs, planned first: a result recorded now may pause the schedule before the CronJob is applied.
    owners = {owner.uid}
    if observed.cronjob is not None:
        owners.add(str(observed.cronjob["metadata"].get("uid")))
    recorded = list(status.get("results") or [])
    plan = plan_runs(owners, observed.jobs, recorded, lambda job: writer.job_pod(owner.namespace, job))
    limit = int((sj.get("spec") or {}).get("historyLimit") or DEFAULT_HISTORY_LIMIT)
    results = recorded[:limit]
    for result in plan.results:
        results = add_result(results, result, limit)
    pause = decide_pause(spec, status, plan.results, results) if spec is not None else None
    paused = pause is not None and pause.paused

    unusable: Problem | None = None
    if spec is not None:
        # 3. and 4. The children; no run may read a Secret that is not labelled usable.
        unusable = _unusable_secret(writer, owner.namespace, spec)
        problems += [unusable] if unusable else []
        runnable = unusable is None and not paused
        cronjob = build_cronjob(owner, spec, job_image, runnable=runnable)
        problems += _sync_child(writer, cronjob, observed.cronjob, events, memory, now)
        watcher_problems, token = _sync_watcher(writer, owner, spec, job_image, observed.watcher, events, memory, now)
        problems += watcher_problems
        # 5. A new trigger token (also while paused: a manual run ignores the pause and concurrencyPolicy).
        desired["lastTrigger"], job_name = _trigger(
            writer, owner, spec, job_image, status, observed.jobs, events, unusable
        )
        plan.active += [{"name": job_name}] if job_name else []  # in the same write as lastTrigger
        # 6. Backfill.
        backfill = _plan_backfill(spec, status, plan, observed.jobs, owners, runnable)
        if backfill.refused is not None:
            problems.append((names.BACKFILL_TOO_LARGE, backfill.refused))
        created = _start_backfill(writer, owner, spec, job_image, backfill, observed.jobs, events)
        plan.active += [{"name": name} for name in created]
        desired.update(backfill=backfill.progress, backfilled=backfill.backfilled)
        desired.update(schedule_status(spec, now, paused))
        if spec.enabled and not paused and desired["mode"] == "Schedule" and desired["nextScheduleTime"] is None:
            problems.append((names.SCHEDULE_NEVER_FIRES, f"schedule {spec.schedule!r} never fires (no such date); "
                             "for a ScheduledJob that only runs when triggered, set enabled: false"))

    for job in plan.hold:
        writer.patch_job_metadata(job, [*(job["metadata"].get("finalizers") or []), names.RESULT_FINALIZER])

    # 7. Automatic mode.
    if spec is not None and watcher_active(spec):
        assert spec.automatic is not None
        outcome.requeue_after = float(spec.automatic.poll_seconds)
        automatic, problem = _sync_claims(
            writer, owner, spec, job_image, observed, token, memory, now, events,
            runnable=unusable is None and not paused,
        )
        if automatic is not None:
            desired["automatic"] = automatic
        elif problem is None:  # no verdict yet (starting, a first failed call): keep a watcher problem
            last = _ready(status) or {}
            if last.get("reason") in _WATCHER_PROBLEMS:
                problem = (str(last["reason"]), str(last.get("message", "")))
        if problem is not None:
            problems.append(problem)
    elif spec is not None and not has_watcher(spec):
        desired["automatic"] = None  # the watcher's counts are gone with it
    if unusable is not None:
        outcome.requeue_after = min(outcome.requeue_after or SECRET_RECHECK_SECONDS, SECRET_RECHECK_SECONDS)

    # 8. The status, then the Events.
    counts = {"succeeded": int(status.get("succeeded") or 0), "failed": int(status.get("failed") or 0)}
    for result in plan.results:
        counts["succeeded" if result["status"] == "OK" else "failed"] += 1
        events.append(_run_event(result))
    desired.update(results=results, active=plan.active, **counts, **run_times(status, plan.results, plan.active))
    if spec is None:  # the streak and the backfill still count what is recorded
        desired["consecutiveFailures"] = failure_streak(status, plan.results)
        if status.get("backfill"):
            desired["backfill"] = count_results(status["backfill"], status.get("backfilled") or [], plan.results)
    if last_schedule := ((observed.cronjob or {}).get("status") or {}).get("lastScheduleTime"):
        desired["lastScheduleTime"] = last_schedule
    reason, message = problems[0] if problems else (names.RECONCILED, READY_MESSAGE)
    generation = desired["observedGeneration"]
    conditions = set_condition(status.get("conditions") or [], names.READY, "False" if problems else "True",
                               reason, message, now, generation)
    if pause is not None:
        conditions = set_condition(conditions, names.PAUSED, "True" if pause.paused else "False", pause.reason,
                                   pause.message, now, generation)
        desired.update(consecutiveFailures=pause.consecutive_failures, lastResume=pause.last_resume)
        events += [pause.event] if pause.event else []
    desired["conditions"] = conditions
    previous = _ready(status)
    if problems and (previous is None or (previous.get("reason"), previous.get("message")) != (reason, message)):
        events.append(("Warning", reason, message))

    changes = status_patch(status, desired)
    if changes:
        try:
            writer.patch_status(sj, changes)
            memory.written_from = meta.get("resourceVersion")
        except ApiError as error:
            if error.transient:
                raise
            writer.post_event(sj, "Warning", names.STATUS_WRITE_FAILED, f"the status could not be written: {error}")
            return outcome  # nothing recorded, nothing released: a later pass tries again
    held = {j["metadata"]["name"] for j in plan.release if controller_uid(j) in owners}
    notices = _notices(sj, plan.results, [r for r in results if r.get("job") in held], memory, on_recorded)
    for type_, event_reason, event_message in events:
        writer.post_event(sj, type_, event_reason, event_message)

    # 9. Recorded Jobs released (once notified), old scheduled Jobs deleted.
    with memory.lock:
        memory.notified &= {j["metadata"]["name"] for j in observed.jobs}
    for job in plan.release:
        mine = controller_uid(job) in owners
        if mine and job["metadata"]["name"] in notices:
            continue  # held until its notifications are out; their `done` queues a pass
        kept = [f for f in job["metadata"].get("finalizers") or [] if f != names.RESULT_FINALIZER]
        writer.patch_job_metadata(job, kept, {names.RECORDED_ANNOTATION: "true"} if mine else None)
    for name in plan.delete:
        writer.delete_job(owner.namespace, name)
    return outcome


def _notices(
    sj: Mapping[str, Any], new: Sequence[Mapping[str, Any]], held: Sequence[Mapping[str, Any]],
    memory: Memory, on_recorded: OnRecorded | None,
) -> set[str]:
    """Send the notifications of new results, and of `held` ones (recorded earlier, their Job still
    held: the operator stopped before they were out); returns the Jobs whose notifications are not out."""
    if on_recorded is None:
        return set()
    notifications = (sj.get("spec") or {}).get("notifications")
    new_jobs = {str(r["job"]) for r in new}
    pending: set[str] = set()
    for result in [*new, *(r for r in held if r.get("job") not in new_jobs)]:
        job = str(result["job"])
        want = wanted(notifications, str(result.get("status")))
        with memory.lock:
            notified, sending = job in memory.notified, job in memory.notifying
            start = want and not notified and not sending
            if start:
                memory.notifying.add(job)
        if not want:
            if job in new_jobs:
                on_recorded(sj, result, lambda: None, True)  # metrics only: nothing to send
            continue
        if start:
            on_recorded(sj, result, functools.partial(_notified, memory, job), job in new_jobs)
        with memory.lock:
            if job not in memory.notified:  # (done may have been called at once)
                pending.add(job)
    return pending


def _notified(memory: Memory, job: str) -> None:
    with memory.lock:
        memory.notifying.discard(job)
        memory.notified.add(job)


def _unusable_secret(writer: Writer, namespace: str, spec: ScheduledJobSpec) -> Problem | None:
    """The first referenced Secret that is missing or lacks the usable label, as a problem to report."""
    for name in spec.secret_names():
        labels = writer.secret_labels(namespace, name)
        if labels is None:
            return (names.SECRET_NOT_USABLE, f"Secret {name} does not exist")
        if labels.get(names.USABLE_LABEL) != "true":
            return (names.SECRET_NOT_USABLE, f'Secret {name} is not labelled {names.USABLE_LABEL}: "true"; '
                    "cronflow reads only Secrets that are labelled so (no run is started until it is)")
    return None


def release_jobs(writer: Writer, jobs: Sequence[Mapping[str, Any]]) -> None:
    """Remove the result finalizer from Jobs that nobody will record (their ScheduledJob is gone)."""
    for job in jobs:
        finalizers = job["metadata"].get("finalizers") or []
        if names.RESULT_FINALIZER in finalizers:
            writer.patch_job_metadata(job, [f for f in finalizers if f != names.RESULT_FINALIZER])


def _ready(status: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == names.READY), None)


def _sync_child(
    writer: Writer, manifest: dict[str, Any], existing: Mapping[str, Any] | None, events: list[Event],
    memory: Memory, now: datetime,
) -> list[Problem]:
    """Apply `manifest` when `existing` drifted from it; a refusal is a problem, not an exception."""
    kind, name = manifest["kind"], manifest["metadata"]["name"]
    if existing is not None and existing["metadata"].get("deletionTimestamp"):
        return []  # going away (e.g. its old owner was deleted): put back once it is gone
    if not drifted(manifest, existing):
        memory.refused.pop(kind, None)
        return []
    document = json.dumps(manifest, sort_keys=True)
    refused = memory.refused.get(kind)
    if refused is not None and refused[0] == document and now - refused[1] < REFUSED_RETRY:
        return [refused[2]]  # the same request again would be refused again
    try:
        writer.apply(manifest)
    except ApiError as error:
        if error.transient:
            raise
        problem = (names.APPLY_FAILED, f"{kind} {name} was refused by the API server: {error.message}")
        memory.refused[kind] = (document, now, problem)
        return [problem]
    memory.refused.pop(kind, None)
    if existing is not None:  # a creation shows in the status already; an Event would be one more write each
        events.append(("Normal", names.APPLIED, f"{kind} {name} updated"))
    return []


def _sync_watcher(
    writer: Writer, owner: Owner, spec: ScheduledJobSpec, job_image: str,
    existing: Mapping[str, Any] | None, events: list[Event], memory: Memory, now: datetime,
) -> tuple[list[Problem], str | None]:
    """The watcher Deployment and its token Secret as wanted, or deleted when spec.automatic has no volume."""
    if not has_watcher(spec):
        if existing is not None and not existing["metadata"].get("deletionTimestamp"):
            name = existing["metadata"]["name"]
            writer.delete_deployment(owner.namespace, name)
            events.append(("Normal", names.DELETED, f"Deployment {name} deleted (automatic mode has no volume)"))
        return [], None
    token = _watcher_token(writer, owner)
    if token is None:
        message = f"Secret {token_secret_name(owner)} exists but is not owned by this ScheduledJob"
        return [(names.WATCHER_UNAVAILABLE, message)], None
    return _sync_child(writer, build_watcher(owner, spec, job_image, token), existing, events, memory, now), token


def _watcher_token(writer: Writer, owner: Owner) -> str | None:
    """The watcher's API token from its Secret, made once; None when a Secret of that name is not ours."""
    name = token_secret_name(owner)
    found = writer.read_owned_secret(owner.namespace, name, TOKEN_KEY)
    if found is None:
        token = secrets.token_urlsafe(32)
        if writer.create_secret(build_token_secret(owner, token)):
            return token
        found = writer.read_owned_secret(owner.namespace, name, TOKEN_KEY)  # made meanwhile
        if found is None:
            raise ApiError(409, "Conflict", f"Secret {name} was created and deleted meanwhile")
    value, controller = found
    return value if controller == owner.uid and value else None


def _trigger(
    writer: Writer, owner: Owner, spec: ScheduledJobSpec, job_image: str,
    status: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]], events: list[Event], unusable: Problem | None,
) -> tuple[str | None, str | None]:
    """Create the one Job of a new trigger token: the token to acknowledge, and the Job's name if created."""
    last: str | None = status.get("lastTrigger")
    if not spec.trigger or spec.trigger == last:
        return last, None
    job = build_trigger_job(owner, spec, job_image, spec.trigger)
    name = job["metadata"]["name"]
    existing = next((j for j in jobs if j["metadata"]["name"] == name), None)
    if existing is not None:  # created already; or an earlier owner's, gone soon (its deletion queues a pass)
        return (spec.trigger if controller_uid(existing) == owner.uid else last), None
    if unusable is not None:
        events.append(("Warning", names.TRIGGER_FAILED, f"Job {name} not created: {unusable[1]}"))
        return spec.trigger, None
    try:
        if writer.create_job(job):
            events.append(("Normal", names.TRIGGERED, f"Job {name} created"))
            return spec.trigger, name
    except ApiError as error:
        if error.transient:
            raise
        events.append(("Warning", names.TRIGGER_FAILED, f"Job {name} was refused by the API server: {error.message}"))
    return spec.trigger, None


def _plan_backfill(
    spec: ScheduledJobSpec, status: Mapping[str, Any], runs: RunsPlan, jobs: Sequence[Mapping[str, Any]],
    owners: set[str], runnable: bool,
) -> BackfillPlan:
    """plan_backfill over this ScheduledJob's backfill Jobs as the cache shows them."""
    mine = [(job, job["metadata"].get("annotations") or {}) for job in jobs if controller_uid(job) in owners]
    backfill = [(job, notes) for job, notes in mine if notes.get(names.TRIGGER_ANNOTATION) == "Backfill"]
    times = {str(notes[names.SCHEDULED_TIME_ANNOTATION]) for _, notes in backfill
             if notes.get(names.SCHEDULED_TIME_ANNOTATION)}
    running = [job for job, _ in backfill if not job_finished(job) and not job["metadata"].get("deletionTimestamp")]
    return plan_backfill(spec, status, runs.results, times, len(running), len(runs.active), runnable)


def _start_backfill(
    writer: Writer, owner: Owner, spec: ScheduledJobSpec, job_image: str, plan: BackfillPlan,
    jobs: Sequence[Mapping[str, Any]], events: list[Event],
) -> list[str]:
    """Create the Jobs of `plan.start` oldest first, moving `lastStarted` past each; the names created.

    A Job of that name that exists already is this backfill's own, created before a crash or a conflict
    (counted as started), one recorded by an earlier backfill (counted as done), or an earlier owner's,
    gone soon: the backfill waits for it.
    """
    progress = plan.progress
    if progress is None:
        return []
    if plan.started_new:
        events.append(("Normal", names.BACKFILL_STARTED, f"backfill from {progress['from']} to {progress['to']}: "
                       f"{progress['total']} runs"))
    existing = {j["metadata"]["name"]: j for j in jobs}
    created: list[str] = []
    for scheduled in plan.start:
        job = build_backfill_job(owner, spec, job_image, scheduled)
        name = job["metadata"]["name"]
        found = existing.get(name)
        if found is not None and controller_uid(found) != owner.uid:
            break
        if found is not None and (found["metadata"].get("annotations") or {}).get(names.RECORDED_ANNOTATION):
            progress["done"] += 1
        elif found is None:
            try:
                if writer.create_job(job):
                    created.append(name)
            except ApiError as error:
                if error.transient:
                    raise
                events.append(("Warning", names.BACKFILL_FAILED,
                               f"Job {name} ({scheduled}) was refused by the API server: {error.message}"))
                progress["done"] += 1
                progress["failed"] += 1
        progress["lastStarted"] = scheduled
    return created


def _sync_claims(
    writer: Writer, owner: Owner, spec: ScheduledJobSpec, job_image: str, observed: Observed, token: str | None,
    memory: Memory, now: datetime, events: list[Event], runnable: bool,
) -> tuple[dict[str, Any] | None, Problem | None]:
    """Automatic mode: status.automatic from the watcher (None: no answer), and a problem to report."""
    labels = watcher_labels(owner)
    pods = owned_pods(observed.watcher, writer.list_replicasets(owner.namespace, labels),
                      writer.list_pods(owner.namespace, labels))
    availability = watcher_availability(observed.watcher, pods, now)
    if availability.problem is not None:
        return None, (names.WATCHER_UNAVAILABLE, availability.problem)
    if availability.pod_ip is None or token is None:
        return None, None  # starting
    watcher = writer.watcher(availability.pod_ip, token)
    try:
        state = watcher.state()
        jobs = {j["metadata"]["name"]: j for j in observed.jobs}
        plan = plan_claims(owner.name, state.processing, jobs, (observed.scheduledjob.get("status") or {}).get(
            "results") or [])
        for claim in plan.create if runnable else ():  # else the claims wait until it is
            job = build_file_job(owner, spec, job_image, claim.file, claim.claim_id)
            if writer.create_job(job):
                events.append(("Normal", names.FILE_CLAIMED,
                               f"Job {job['metadata']['name']} created for file {claim.file}"))
        for claim, result in plan.complete:
            watcher.complete(claim, result)
        if plan.complete:
            state = watcher.state()
    except WatcherError as error:
        memory.watcher_failures += 1
        if memory.watcher_failures < UNREACHABLE_PASSES:
            return None, None
        return None, (names.WATCHER_UNREACHABLE, f"the watcher does not answer: {error}")
    memory.watcher_failures = 0
    return automatic_status(state), None


def schedule_status(spec: ScheduledJobSpec, now: datetime, paused: bool) -> dict[str, Any]:
    """The status fields that follow from the spec, the pause and the clock alone.

    The next times change only when a scheduled time passes (and are cached per minute), so they cost a
    write only then, usually the one of that run itself.
    """
    automatic = bool(spec.automatic and spec.automatic.enabled)
    scheduled = spec.enabled and not automatic and not paused
    upcoming = upcoming_run_times(spec.schedule, spec.time_zone, now, NEXT_TIMES) if scheduled else ()
    return {
        "state": "PAUSED" if paused else "ENABLED" if spec.enabled else "DISABLED",
        "mode": "Automatic" if automatic else "Schedule",
        "nextScheduleTime": format_time(upcoming[0]) if upcoming else None,
        "nextScheduleTimes": [format_time(t) for t in upcoming] or None,
    }


def _run_event(result: Mapping[str, Any]) -> Event:
    http = (result.get("httpResult") or {}).get("status")
    detail = f"HTTP {http}" if http else result.get("message", "")
    if result["status"] == "OK":
        return ("Normal", names.RUN_SUCCEEDED, f"Job {result['job']} ({result['trigger']}): {detail}")
    return ("Warning", names.RUN_FAILED, f"Job {result['job']} ({result['trigger']}): {detail}")
