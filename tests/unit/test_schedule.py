"""Cron syntax and next run times, checked against what the Kubernetes CronJob controller does."""

import itertools
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest

from cronflow.schedule import (
    SCHEDULE_REGEX,
    TIME_ZONE_REGEX,
    check_schedule,
    format_time,
    load_time_zone,
    next_run_time,
    next_run_times,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def times(*texts: str) -> list[datetime]:
    return [utc(text) for text in texts]


AMSTERDAM = "Europe/Amsterdam"


def test_daily_0230_is_skipped_on_the_spring_forward_day_like_the_cronjob_controller() -> None:
    # 2026-03-29 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day.
    runs = next_run_times("30 2 * * *", AMSTERDAM, utc("2026-03-28T12:00:00Z"), 3)
    assert runs == times("2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z", "2026-04-01T00:30:00Z")


def test_daily_0230_runs_at_both_instants_on_the_fall_back_day_like_the_cronjob_controller() -> None:
    # 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 happens at 00:30Z and again at 01:30Z.
    runs = next_run_times("30 2 * * *", AMSTERDAM, utc("2026-10-24T12:00:00Z"), 3)
    assert runs == times("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z")


def test_runs_outside_the_repeated_hour_happen_once_on_the_fall_back_day() -> None:
    runs = next_run_times("30 4 * * *", AMSTERDAM, utc("2026-10-24T12:00:00Z"), 2)
    assert runs == times("2026-10-25T03:30:00Z", "2026-10-26T03:30:00Z")


def test_interval_schedule_keeps_real_time_spacing_across_both_transitions() -> None:
    spring = next_run_times("*/20 * * * *", AMSTERDAM, utc("2026-03-29T00:00:00Z"), 9)
    autumn = next_run_times("*/20 * * * *", AMSTERDAM, utc("2026-10-25T00:00:00Z"), 9)
    for runs in (spring, autumn):
        assert [b - a for a, b in itertools.pairwise(runs)] == [timedelta(minutes=20)] * 8


def test_runs_inside_the_repeated_hour_come_out_in_time_order() -> None:
    runs = next_run_times("*/30 2 * * *", AMSTERDAM, utc("2026-10-24T23:00:00Z"), 5)
    assert runs == times(
        "2026-10-25T00:00:00Z",  # 02:00 CEST
        "2026-10-25T00:30:00Z",  # 02:30 CEST
        "2026-10-25T01:00:00Z",  # 02:00 CET
        "2026-10-25T01:30:00Z",  # 02:30 CET
        "2026-10-26T01:00:00Z",
    )


# Expected values computed with robfig/cron v3.0.1, the library the CronJob controller uses.
@pytest.mark.parametrize(
    ("schedule", "tz", "after", "expected"),
    [
        (
            "15 3 ? * mon-fri",
            "America/New_York",
            "2026-03-06T00:00:00Z",
            ["2026-03-06T08:15:00Z", "2026-03-09T07:15:00Z", "2026-03-10T07:15:00Z", "2026-03-11T07:15:00Z"],
        ),
        ("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", ["2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"]),
        ("0 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", ["2026-03-09T06:00:00Z", "2026-03-10T06:00:00Z"]),
        ("0 0 */2 * 0-6", "Etc/UTC", "2026-01-01T00:00:00Z", ["2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"]),
        ("0 0 3-3 * *", "Etc/UTC", "2026-01-01T00:00:00Z", ["2026-01-03T00:00:00Z", "2026-02-03T00:00:00Z"]),
        (
            "0 12 1,15 * mon",
            "Etc/UTC",
            "2026-06-01T00:00:00Z",
            ["2026-06-01T12:00:00Z", "2026-06-08T12:00:00Z", "2026-06-15T12:00:00Z", "2026-06-22T12:00:00Z"],
        ),
        ("@weekly", "Asia/Kolkata", "2026-06-01T00:00:00Z", ["2026-06-06T18:30:00Z", "2026-06-13T18:30:00Z"]),
        (
            "5/20 * * * *",
            "Etc/UTC",
            "2026-06-01T00:00:00Z",
            ["2026-06-01T00:05:00Z", "2026-06-01T00:25:00Z", "2026-06-01T00:45:00Z", "2026-06-01T01:05:00Z"],
        ),
        ("0 0 29 2 *", AMSTERDAM, "2026-06-01T00:00:00Z", ["2028-02-28T23:00:00Z", "2032-02-28T23:00:00Z"]),
        (
            "0 * * * *",
            AMSTERDAM,
            "2026-03-28T23:30:00Z",
            ["2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", "2026-03-29T03:00:00Z"],
        ),
    ],
)
def test_next_run_times_match_the_cronjob_controllers_cron_library(
    schedule: str, tz: str, after: str, expected: list[str]
) -> None:
    assert next_run_times(schedule, tz, utc(after), len(expected)) == times(*expected)


def test_results_are_aware_utc_and_strictly_after_the_given_moment() -> None:
    after = datetime(2026, 6, 1, 14, 0, tzinfo=ZoneInfo(AMSTERDAM))  # exactly a run time
    runs = next_run_times("0 * * * *", AMSTERDAM, after, 2)
    assert runs == times("2026-06-01T13:00:00Z", "2026-06-01T14:00:00Z")
    assert all(run.tzinfo is UTC for run in runs)


def test_schedule_is_read_in_its_time_zone_whatever_the_zone_of_after() -> None:
    after = datetime(2026, 6, 1, 0, 0, tzinfo=timezone(timedelta(hours=-7)))
    assert next_run_time("@daily", "Asia/Tokyo", after) == utc("2026-06-01T15:00:00Z")


def test_schedule_that_never_fires_has_no_next_run() -> None:
    assert next_run_times("0 0 30 2 *", "Etc/UTC", utc("2026-01-01T00:00:00Z"), 3) == []
    assert next_run_time("0 0 30 2 *", "Etc/UTC", utc("2026-01-01T00:00:00Z")) is None


def test_question_mark_is_a_wildcard_in_the_day_fields() -> None:
    after = utc("2026-06-01T00:00:00Z")
    assert next_run_times("0 12 ? * MON", "Etc/UTC", after, 3) == next_run_times("0 12 * * 1", "Etc/UTC", after, 3)
    assert next_run_times("0 12 15 * ?", "Etc/UTC", after, 2) == times("2026-06-15T12:00:00Z", "2026-07-15T12:00:00Z")


def test_zero_runs_requested_gives_none() -> None:
    assert next_run_times("* * * * *", "Etc/UTC", utc("2026-01-01T00:00:00Z"), 0) == []


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_run_times("* * * * *", "Etc/UTC", datetime(2026, 1, 1), 1)


def test_unknown_time_zone_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus_Mons'"):
        next_run_time("* * * * *", "Mars/Olympus_Mons", utc("2026-01-01T00:00:00Z"))
    assert load_time_zone("Europe/Amsterdam") == ZoneInfo("Europe/Amsterdam")


VALID_SCHEDULES = [
    "* * * * *",
    "*/5 * * * *",
    "0 0 * * 0",
    "59 23 31 12 6",
    "00 05 01 01 00",
    "0 0 * * SUN",
    "0 0 * * Mon-Fri",
    "0 0 * JAN-dec *",
    "0 0 ? * *",
    "0 0 * * ?",
    "5/15 * * * *",
    "5-10/2 1,2,3 * * *",
    "*/99 * * * *",
    "*  * * * *",
    "0 12 */2 * 1-5",
    *("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"),
]
INVALID_SCHEDULES = [
    "0 */5 * * * *",  # seconds field
    "0 0 12 * * ? 2026",  # Quartz with year
    "* * * *",
    "@HOURLY",
    "@every 5m",
    "0 0 * * 7",  # the CronJob API knows 0-6 only
    "? * * * *",
    "0 0 L * *",
    "0 0 * * 1#2",
    "0 0 1W * *",
    "H * * * *",
    "0 0 0 * *",
    "0 24 * * *",
    "60 * * * *",
    "0 0 * 13 *",
    "*/0 * * * *",
    "*/100 * * * *",
    "1,,2 * * * *",
    "*-5 * * * *",
    " * * * * *",
    "*/5 * * * *\n",
    "*\t* * * *",
    "TZ=UTC * * * *",
    "0 0 * * monday",
]


@pytest.mark.parametrize("schedule", VALID_SCHEDULES)
def test_valid_schedules_match_the_schema_regex_and_have_next_runs(schedule: str) -> None:
    assert re.fullmatch(SCHEDULE_REGEX, schedule)
    check_schedule(schedule)
    assert next_run_time(schedule, "Europe/Amsterdam", utc("2026-01-01T00:00:00Z")) is not None


@pytest.mark.parametrize("schedule", INVALID_SCHEDULES)
def test_invalid_schedules_do_not_match_the_schema_regex(schedule: str) -> None:
    assert not re.fullmatch(SCHEDULE_REGEX, schedule)


@pytest.mark.parametrize("schedule", ["5-1 * * * *", "0 0 * * FRI-MON", "0 0 * DEC-jan *", "0 0 20-10/2 * *"])
def test_backwards_ranges_are_refused_although_the_regex_cannot_see_them(schedule: str) -> None:
    assert re.fullmatch(SCHEDULE_REGEX, schedule)
    with pytest.raises(ValueError, match="runs backwards"):
        check_schedule(schedule)


def test_every_tz_database_zone_matches_the_time_zone_regex() -> None:
    zones = available_timezones()
    assert len(zones) > 300
    assert all(re.fullmatch(TIME_ZONE_REGEX, zone) for zone in zones)


@pytest.mark.parametrize("name", ["Europe/Amster dam", "../etc/passwd", "/etc/localtime", "Europe//Paris", ""])
def test_malformed_zone_names_do_not_match_the_time_zone_regex(name: str) -> None:
    assert not re.fullmatch(TIME_ZONE_REGEX, name)


def test_format_time_is_utc_whole_seconds_with_z() -> None:
    moment = datetime(2026, 11, 22, 13, 0, 5, 987654, tzinfo=ZoneInfo(AMSTERDAM))
    assert format_time(moment) == "2026-11-22T12:00:05Z"
    assert format_time(None) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))
