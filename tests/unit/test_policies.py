"""Scheduling policies in reconcile: pause after failures, resume, backfill, status times, manual runs.

The same shape as test_reconcile's table: each row starts from a converged world, changes it, runs one
pass and names the writes and Events; every row then proves that a second pass writes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cronflow import names
from cronflow.reconcile.backfill import MAX_PARALLEL, add_range
from cronflow.reconcile.scheduledjob import Memory, reconcile
from cronflow.reconcile.writer import ApiError
from cronflow.schedule import backfill_times
from tests.support.fake_writer import FakeWriter
from tests.unit.test_reconcile import IMAGE, NOW, add_job, converged, ready, reasons, result_pod

DAY = {"from": "2026-11-21T00:00:00Z", "to": "2026-11-22T00:00:00Z"}
"""24 hourly times (schedule "0 * * * *")."""
HOURLY = {"schedule": "0 * * * *"}


def bf_name(scheduled: str) -> str:
    return names.backfill_job_name("nightly", scheduled)


def hour(h: int) -> str:
    return f"2026-11-21T{h:02d}:00:00Z"


def condition(world: FakeWriter, type_: str) -> dict[str, Any]:
    return next(c for c in world.sj["status"]["conditions"] if c["type"] == type_)


def fail_runs(world: FakeWriter, count: int, first: int = 0) -> None:
    for n in range(first, first + count):
        add_job(world, f"nightly-2900{n}", start=f"2026-11-22T02:3{n}:01Z", finished="Failed")


def finish(world: FakeWriter, name: str, ok: bool = True) -> None:
    """A Job the operator created runs to its end."""
    world.jobs[name]["status"] = {"startTime": "2026-11-22T12:00:01Z",
                                  "conditions": [{"type": "Complete" if ok else "Failed", "status": "True"}]}
    world.pods[name] = result_pod("OK" if ok else "ERROR", 200 if ok else 500)


def paused_world() -> FakeWriter:
    world = converged(pauseAfterFailures=2)
    fail_runs(world, 2)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["state"] == "PAUSED"
    world.writes.clear()
    world.events.clear()
    return world


def backfilling(**spec: Any) -> FakeWriter:
    """A world whose last pass started a backfill of DAY."""
    world = converged(**{**HOURLY, **spec})
    world.sj["spec"]["backfill"] = dict(DAY)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    world.writes.clear()
    world.events.clear()
    return world


@dataclass
class Case:
    name: str
    start: Callable[[], FakeWriter]
    change: Callable[[FakeWriter], None]
    writes: list[str]
    events: list[str] = field(default_factory=list)
    check: Callable[[FakeWriter], None] | None = None


def _two_failures(w: FakeWriter) -> None:
    fail_runs(w, 2)


def _check_paused(w: FakeWriter) -> None:
    status = w.sj["status"]
    assert (status["state"], status["consecutiveFailures"]) == ("PAUSED", 2)
    assert w.cronjob is not None and w.cronjob["spec"]["suspend"] is True
    paused = condition(w, names.PAUSED)
    assert (paused["status"], paused["reason"]) == ("True", names.TOO_MANY_FAILURES)
    assert "2 consecutive failed runs (pauseAfterFailures: 2)" in paused["message"]
    assert "last error: Job nightly-29001 (Schedule): HTTP 500" in paused["message"]
    assert "nextScheduleTime" not in status and "nextScheduleTimes" not in status
    assert ready(w)["status"] == "True"


def _ok_between(w: FakeWriter) -> None:
    fail_runs(w, 1)
    add_job(w, "nightly-29005", start="2026-11-22T02:35:01Z", finished="Complete")
    fail_runs(w, 1, first=6)


def _check_streak_one(w: FakeWriter) -> None:
    assert (w.sj["status"]["state"], w.sj["status"]["consecutiveFailures"]) == ("ENABLED", 1)
    assert condition(w, names.PAUSED)["status"] == "False"


def _resume(w: FakeWriter) -> None:
    w.sj["spec"]["resume"] = "r1"


def _check_resumed(w: FakeWriter) -> None:
    status = w.sj["status"]
    assert (status["state"], status["consecutiveFailures"], status["lastResume"]) == ("ENABLED", 0, "r1")
    assert w.cronjob is not None and w.cronjob["spec"]["suspend"] is False
    paused = condition(w, names.PAUSED)
    assert (paused["status"], paused["reason"]) == ("False", names.RESUMED)
    assert len(status["nextScheduleTimes"]) == 5


def _disable(w: FakeWriter) -> None:
    w.sj["spec"]["enabled"] = False


def _check_disabled(w: FakeWriter) -> None:
    assert (w.sj["status"]["state"], w.sj["status"]["consecutiveFailures"]) == ("DISABLED", 0)
    assert condition(w, names.PAUSED)["message"] == "resumed: spec.enabled was set to false"


def _trigger(w: FakeWriter) -> None:
    w.sj["spec"]["trigger"] = "while-paused"


def _check_trigger_ran(w: FakeWriter) -> None:
    assert names.trigger_job_name("nightly", "while-paused") in w.jobs
    assert w.sj["status"]["state"] == "PAUSED"


def _check_times_ok(w: FakeWriter) -> None:
    status = w.sj["status"]
    assert (status["lastRunTime"], status["lastSuccessfulTime"]) == ("2026-11-22T02:30:01Z", "2026-11-22T02:31:05Z")
    assert "lastFailureTime" not in status and status["consecutiveFailures"] == 0


def _one_ok(w: FakeWriter) -> None:
    add_job(w, "nightly-29001", finished="Complete")


def _check_times_error(w: FakeWriter) -> None:
    status = w.sj["status"]
    assert (status["lastRunTime"], status["lastFailureTime"]) == ("2026-11-22T02:30:01Z", "2026-11-22T02:31:05Z")
    assert "lastSuccessfulTime" not in status and status["consecutiveFailures"] == 1


def _one_error(w: FakeWriter) -> None:
    fail_runs(w, 1)


def _start_backfill(w: FakeWriter) -> None:
    w.sj["spec"]["backfill"] = dict(DAY)


def _check_first_started(w: FakeWriter) -> None:
    progress = w.sj["status"]["backfill"]
    assert progress == {**DAY, "total": 24, "done": 0, "failed": 0, "lastStarted": hour(0)}
    job = w.jobs[bf_name(hour(0))]
    assert job["metadata"]["annotations"][names.SCHEDULED_TIME_ANNOTATION] == hour(0)
    assert job["metadata"]["finalizers"] == [names.RESULT_FINALIZER]
    assert w.sj["status"]["active"] == [{"name": bf_name(hour(0))}]


def _first_done(w: FakeWriter) -> None:
    finish(w, bf_name(hour(0)), ok=False)


def _check_second_started(w: FakeWriter) -> None:
    progress = w.sj["status"]["backfill"]
    assert (progress["done"], progress["failed"], progress["lastStarted"]) == (1, 1, hour(1))
    (result,) = w.sj["status"]["results"]
    assert (result["trigger"], result["scheduledTime"], result["status"]) == ("Backfill", hour(0), "ERROR")


def _too_large(w: FakeWriter) -> None:
    w.sj["spec"]["schedule"] = "* * * * *"
    _start_backfill(w)


def _check_refused(w: FakeWriter) -> None:
    assert (ready(w)["status"], ready(w)["reason"]) == ("False", names.BACKFILL_TOO_LARGE)
    assert "covers 1440 scheduled times" in ready(w)["message"] and "at most 1000" in ready(w)["message"]
    assert not any(name.startswith("nightly-backfill") for name in w.jobs)


def _new_overlapping_range(w: FakeWriter) -> None:
    finish(w, bf_name(hour(0)))
    w.sj["spec"]["backfill"] = {"from": "2026-11-20T23:00:00Z", "to": "2026-11-21T03:00:00Z"}


def _check_new_range(w: FakeWriter) -> None:
    status = w.sj["status"]
    assert status["backfilled"] == [{"from": hour(0), "to": "2026-11-21T00:00:01Z"}]
    assert status["backfill"]["total"] == 3  # 23:00, 01:00, 02:00: 00:00 ran in the first backfill
    assert status["backfill"]["lastStarted"] == "2026-11-20T23:00:00Z"


def _paused_backfill(w: FakeWriter) -> None:
    fail_runs(w, 2)
    w.sj["spec"]["pauseAfterFailures"] = 3
    finish(w, bf_name(hour(0)), ok=False)  # the third failure in a row


def _check_no_backfill_run(w: FakeWriter) -> None:
    assert w.sj["status"]["state"] == "PAUSED"
    assert w.sj["status"]["backfill"]["done"] == 1 and bf_name(hour(1)) not in w.jobs


CASES = [
    Case("two failed runs pause the schedule", lambda: converged(pauseAfterFailures=2), _two_failures,
         ["apply CronJob/nightly", "patch status/nightly", "patch Job/nightly-29000", "patch Job/nightly-29001"],
         [names.APPLIED, names.RUN_FAILED, names.RUN_FAILED, names.TOO_MANY_FAILURES], _check_paused),
    Case("an OK run ends the streak", lambda: converged(pauseAfterFailures=2), _ok_between,
         ["patch status/nightly", "patch Job/nightly-29000", "patch Job/nightly-29005", "patch Job/nightly-29006"],
         [names.RUN_FAILED, names.RUN_SUCCEEDED, names.RUN_FAILED], _check_streak_one),
    Case("pauseAfterFailures 0 never pauses", converged, _two_failures,
         ["patch status/nightly", "patch Job/nightly-29000", "patch Job/nightly-29001"],
         [names.RUN_FAILED, names.RUN_FAILED]),
    Case("a new resume token clears the pause", paused_world, _resume,
         ["apply CronJob/nightly", "patch status/nightly"], [names.APPLIED, names.RESUMED], _check_resumed),
    Case("seeing enabled: false clears the pause", paused_world, _disable,
         ["patch status/nightly"], [names.RESUMED], _check_disabled),
    Case("a manual trigger runs while paused", paused_world, _trigger,
         [f"create Job/{names.trigger_job_name('nightly', 'while-paused')}", "patch status/nightly"],
         [names.TRIGGERED], _check_trigger_ran),
    Case("status times after an OK run", converged, _one_ok,
         ["patch status/nightly", "patch Job/nightly-29001"], [names.RUN_SUCCEEDED], _check_times_ok),
    Case("status times after an ERROR run", converged, _one_error,
         ["patch status/nightly", "patch Job/nightly-29000"], [names.RUN_FAILED], _check_times_error),
    Case("a backfill starts its oldest time", lambda: converged(**HOURLY), _start_backfill,
         [f"create Job/{bf_name(hour(0))}", "patch status/nightly"], [names.BACKFILL_STARTED], _check_first_started),
    Case("a finished backfill run is recorded and the next one starts", backfilling, _first_done,
         [f"create Job/{bf_name(hour(1))}", "patch status/nightly", f"patch Job/{bf_name(hour(0))}"],
         [names.RUN_FAILED], _check_second_started),
    Case("a backfill over 1,000 times is refused with the count", lambda: converged(**HOURLY), _too_large,
         ["apply CronJob/nightly", "patch status/nightly"], [names.APPLIED, names.BACKFILL_TOO_LARGE], _check_refused),
    Case("a new range skips the times an earlier backfill ran", backfilling, _new_overlapping_range,
         [f"create Job/{bf_name('2026-11-20T23:00:00Z')}", "patch status/nightly", f"patch Job/{bf_name(hour(0))}"],
         [names.BACKFILL_STARTED, names.RUN_SUCCEEDED], _check_new_range),
    Case("a paused schedule starts no backfill run", backfilling, _paused_backfill,
         ["apply CronJob/nightly", "patch status/nightly", "patch Job/nightly-29000", "patch Job/nightly-29001",
          f"patch Job/{bf_name(hour(0))}"],
         [names.APPLIED, names.RUN_FAILED, names.RUN_FAILED, names.RUN_FAILED, names.TOO_MANY_FAILURES],
         _check_no_backfill_run),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_policies(case: Case) -> None:
    world = case.start()
    case.change(world)
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert world.writes == case.writes
    assert reasons(world) == case.events
    if case.check is not None:
        case.check(world)
    world.writes.clear()
    reconcile(world.observed(), world, IMAGE, NOW, Memory(), world.record)
    assert world.writes == [], "a second pass over the result must write nothing"


def test_the_streak_counts_across_passes_and_restarts_and_pauses_with_one_warning() -> None:
    world = converged(pauseAfterFailures=2)
    fail_runs(world, 1)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["consecutiveFailures"] == 1
    fail_runs(world, 1, first=1)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())  # a new process: the streak is in status
    for _ in range(3):
        reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["state"] == "PAUSED"
    assert reasons(world).count(names.TOO_MANY_FAILURES) == 1


def test_disable_then_enable_clears_the_pause_and_the_schedule_runs_again() -> None:
    world = paused_world()
    _disable(world)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    world.sj["spec"]["enabled"] = True
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["state"] == "ENABLED"
    assert world.cronjob is not None and world.cronjob["spec"]["suspend"] is False
    fail_runs(world, 1, first=5)  # one more failure does not pause again: the streak started over
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["state"] == "ENABLED"


def test_a_resume_token_already_acted_on_changes_nothing() -> None:
    world = paused_world()
    _resume(world)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    fail_runs(world, 2, first=3)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["state"] == "PAUSED", "the same token does not resume twice"


def test_next_schedule_times_are_the_next_five_in_utc_and_move_only_when_one_passes() -> None:
    world = converged(schedule="30 2 * * *", timeZone="Europe/Amsterdam")
    times = world.sj["status"]["nextScheduleTimes"]
    assert times == [f"2026-11-{day}T01:30:00Z" for day in range(23, 28)]
    assert world.sj["status"]["nextScheduleTime"] == times[0]
    for seconds in (1, 59, 3600, 13 * 3600):  # passes before the next scheduled time write nothing
        reconcile(world.observed(), world, IMAGE, NOW + timedelta(seconds=seconds), Memory())
    assert world.writes == []
    reconcile(world.observed(), world, IMAGE, datetime(2026, 11, 23, 1, 30, 5, tzinfo=UTC), Memory())
    assert world.writes == ["patch status/nightly"]
    assert world.sj["status"]["nextScheduleTimes"][0] == "2026-11-24T01:30:00Z"


def run_backfill(world: FakeWriter, passes: int = 200) -> list[str]:
    """Finish every running backfill Job after each pass until nothing runs; the Jobs created, in order."""
    created: list[str] = []
    for _ in range(passes):
        reconcile(world.observed(), world, IMAGE, NOW, Memory())
        created += [w.removeprefix("create Job/") for w in world.writes if w.startswith("create Job/")]
        world.writes.clear()
        running = [n for n, j in world.jobs.items() if n.startswith("nightly-backfill") and not j["status"]]
        if not running and world.sj["status"]["backfill"]["done"] == world.sj["status"]["backfill"]["total"]:
            break
        for name in running:
            finish(world, name)
    return created


def test_a_backfill_runs_each_time_once_oldest_first_one_at_a_time_with_forbid() -> None:
    world = converged(**HOURLY)
    world.sj["spec"]["backfill"] = dict(DAY)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert [n for n in world.jobs if n.startswith("nightly-backfill")] == [bf_name(hour(0))]
    world.writes.clear()
    created = [bf_name(hour(0)), *run_backfill(world)]
    assert created == [bf_name(hour(h)) for h in range(24)]
    assert world.sj["status"]["backfill"] == {**DAY, "total": 24, "done": 24, "failed": 0, "lastStarted": hour(23)}


def test_allow_runs_at_most_five_backfill_runs_at_once() -> None:
    world = converged(**HOURLY, concurrencyPolicy="Allow")
    world.sj["spec"]["backfill"] = dict(DAY)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert sum(w.startswith("create Job/") for w in world.writes) == MAX_PARALLEL
    world.writes.clear()
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.writes == []


def test_forbid_waits_for_a_running_scheduled_run_and_allow_does_not() -> None:
    for policy, started in (("Forbid", 0), ("Allow", MAX_PARALLEL)):
        world = converged(**HOURLY, concurrencyPolicy=policy)
        add_job(world, "nightly-29001")
        world.sj["spec"]["backfill"] = dict(DAY)
        reconcile(world.observed(), world, IMAGE, NOW, Memory())
        assert sum(w.startswith("create Job/nightly-backfill") for w in world.writes) == started


def test_a_job_the_cache_does_not_show_yet_still_counts_as_running() -> None:
    world = backfilling()
    lagging = world.observed()
    lagging = type(lagging)(scheduledjob=lagging.scheduledjob, cronjob=lagging.cronjob, jobs=[])
    reconcile(lagging, world, IMAGE, NOW, Memory())
    assert not any(w.startswith("create") for w in world.writes)


def test_a_crash_between_create_and_status_write_creates_no_second_run() -> None:
    world = converged(**HOURLY)
    world.sj["spec"]["backfill"] = dict(DAY)
    world.fail["patch status"] = ApiError(503, "Service Unavailable", "etcd leader changed")
    with pytest.raises(ApiError):
        reconcile(world.observed(), world, IMAGE, NOW, Memory())
    world.fail.clear()
    world.writes.clear()
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.writes == ["patch status/nightly"]  # the Job of 00:00 exists: counted as started, not made again
    assert world.sj["status"]["backfill"]["lastStarted"] == hour(0)
    assert [n for n in world.jobs if n.startswith("nightly-backfill")] == [bf_name(hour(0))]


def test_a_refused_backfill_job_counts_as_failed_and_the_backfill_goes_on() -> None:
    world = converged(**HOURLY)
    world.sj["spec"]["backfill"] = dict(DAY)
    world.fail["create Job"] = ApiError(403, "Forbidden", "exceeded quota: jobs")
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert names.BACKFILL_FAILED in reasons(world)
    progress = world.sj["status"]["backfill"]
    assert (progress["done"], progress["failed"], progress["lastStarted"]) == (1, 1, hour(0))


def test_the_same_range_applied_again_runs_nothing_again() -> None:
    world = converged(**HOURLY)
    world.sj["spec"]["backfill"] = dict(DAY)
    run_backfill(world)
    world.sj["spec"].pop("backfill")
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    world.sj["spec"]["backfill"] = dict(DAY)
    world.writes.clear()
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert not any(w.startswith("create") for w in world.writes)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(("schedule", "start", "end", "expected"), [
    # Spring forward (2026-03-29, 02:00 -> 03:00 CEST): 02:30 does not exist that day, so it is not run.
    ("30 2 * * *", "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z",
     ["2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"]),
    # Fall back (2026-10-25, 03:00 -> 02:00 CET): 02:30 happens twice, both run.
    ("30 2 * * *", "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z",
     ["2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"]),
    # Hourly over the fall-back night: 25 runs in the 24 wall-clock hours of 2026-10-25.
    ("0 * * * *", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25),
    # [from, to): from is included, to is not.
    ("0 * * * *", "2026-11-21T00:00:00Z", "2026-11-21T02:00:00Z", ["2026-11-21T00:00:00Z", "2026-11-21T01:00:00Z"]),
])
def test_backfill_times_follow_the_zone_across_dst(
    schedule: str, start: str, end: str, expected: list[str] | int
) -> None:
    times = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in backfill_times(schedule, "Europe/Amsterdam", utc(start),
                                                                      utc(end))]
    assert (len(times) if isinstance(expected, int) else times) == expected


def test_exactly_1000_times_are_allowed_and_1001_refused() -> None:
    start = utc("2026-01-01T00:00:00Z")
    assert len(backfill_times("* * * * *", "Etc/UTC", start, start + timedelta(minutes=1000))) == 1000
    with pytest.raises(ValueError, match="covers 1001 scheduled times"):
        backfill_times("* * * * *", "Etc/UTC", start, start + timedelta(minutes=1001))


def test_backfill_job_names_are_one_per_scheduledjob_and_time() -> None:
    assert bf_name(hour(1)) == bf_name(hour(1))
    assert len({bf_name(hour(h)) for h in range(24)}) == 24
    assert names.backfill_job_name("other", hour(1)) != bf_name(hour(1))
    assert all(len(names.backfill_job_name("n" * 63, hour(h))) <= 63 for h in range(24))


def test_ranges_merge_when_they_touch_or_overlap() -> None:
    ranges = add_range([], hour(0), hour(3))
    ranges = add_range(ranges, hour(5), hour(6))
    assert add_range(ranges, hour(3), hour(5)) == [{"from": hour(0), "to": hour(6)}]
    assert add_range(ranges, hour(1), hour(2)) == ranges


@pytest.mark.parametrize("policy", ["Forbid", "Replace"])
def test_a_manual_trigger_runs_beside_a_running_scheduled_run_and_replaces_nothing(policy: str) -> None:
    world = converged(concurrencyPolicy=policy)
    add_job(world, "nightly-29001")  # a scheduled run in progress
    world.sj["spec"]["trigger"] = "now"
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert names.trigger_job_name("nightly", "now") in world.jobs
    assert "nightly-29001" in world.jobs and not any(w.startswith("delete") for w in world.writes)
    active = {a["name"] for a in world.sj["status"]["active"]}
    assert active == {"nightly-29001", names.trigger_job_name("nightly", "now")}


def test_a_manual_run_under_forbid_holds_back_the_next_backfill_run() -> None:
    world = converged(**HOURLY)
    world.sj["spec"].update(trigger="now", backfill=dict(DAY))
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert not any(n.startswith("nightly-backfill") for n in world.jobs)


def test_results_recorded_while_the_spec_is_invalid_still_count_for_the_streak_and_the_backfill() -> None:
    world = backfilling(pauseAfterFailures=5)
    world.sj["spec"]["timeZone"] = "Mars/Olympus_Mons"
    finish(world, bf_name(hour(0)), ok=False)
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert world.sj["status"]["consecutiveFailures"] == 1
    assert (world.sj["status"]["backfill"]["done"], world.sj["status"]["backfill"]["failed"]) == (1, 1)
    world.sj["spec"]["timeZone"] = "Etc/UTC"
    reconcile(world.observed(), world, IMAGE, NOW, Memory())
    assert bf_name(hour(1)) in world.jobs, "the backfill goes on, nothing counted twice"
    assert world.sj["status"]["backfill"]["done"] == 1
