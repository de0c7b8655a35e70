"""Cron schedules and time zones: syntax, next run times, RFC 3339 timestamps.

The runs themselves are started by the Kubernetes CronJob controller, so the syntax accepted here and
the run times computed here follow that controller's cron library (robfig/cron v3, 5 fields, minute
granularity), with croniter doing the calendar arithmetic.
"""

import functools
from datetime import UTC, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter

DESCRIPTORS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _field_regex(value: str, wildcard: str = "[*]") -> str:
    item = f"({wildcard}|{value}(-{value})?)(/[1-9][0-9]?)?"
    return f"{item}(,{item})*"


def _names(names: tuple[str, ...]) -> str:
    # Letters spelt as ASCII classes, not (?i:...): Python's case folding also matches U+0131/U+0130 for i,
    # RE2's does not (found by the validation oracle).
    return "(" + "|".join("".join(f"[{c.upper()}{c}]" for c in name) for name in names) + ")"


_FIELD_REGEXES = (
    _field_regex("[0-5]?[0-9]"),
    _field_regex("(2[0-3]|[01]?[0-9])"),
    _field_regex("(3[01]|[12][0-9]|0?[1-9])", wildcard="[*?]"),
    _field_regex(f"(1[0-2]|0?[1-9]|{_names(_MONTH_NAMES)})"),
    _field_regex(f"(0?[0-6]|{_names(_DAY_NAMES)})", wildcard="[*?]"),
)
SCHEDULE_REGEX = "^(@(" + "|".join(d[1:] for d in DESCRIPTORS) + ")|" + "[ ]+".join(_FIELD_REGEXES) + ")$"
"""Five fields (minute hour day-of-month month day-of-week) or a descriptor; RE2 and Python syntax."""
SHAPE_REGEX = "^(@(" + "|".join(d[1:] for d in DESCRIPTORS) + ")|[^ ]+([ ]+[^ ]+){4})$"
"""A descriptor or five space-separated fields, whatever they hold (each field is checked on its own)."""
FIELD_REGEXES = tuple(f"^{regex}$" for regex in _FIELD_REGEXES)
FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
FIELD_RANGES = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-6 or SUN-SAT")
FIELD_WORD = "[^ ]+"
"""What one field of a SHAPE_REGEX schedule is (`findAll` in CEL, `split()` in Python)."""


def field_message(index: int, value: str) -> str:
    """Why field `index` of a schedule, `value`, is refused: the same words as the CRD's messageExpression."""
    return (f"schedule {FIELD_NAMES[index]} field '{value}' must be within {FIELD_RANGES[index]} "
            "(a value, a range a-b, a list a,b, a step */n or a-b/n, or *)")

TIME_ZONE_REGEX = "^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,13}(/[A-Za-z0-9_+][A-Za-z0-9._+-]{0,13})*$"
"""The shape of a tz database name, as the CronJob API validates it (components of at most 14 chars)."""

_DESCRIPTOR_FIELDS = {
    "@hourly": ["0", "*", "*", "*", "*"],
    "@daily": ["0", "0", "*", "*", "*"],
    "@midnight": ["0", "0", "*", "*", "*"],
    "@weekly": ["0", "0", "*", "*", "0"],
    "@monthly": ["0", "0", "1", "*", "*"],
    "@yearly": ["0", "0", "1", "1", "*"],
    "@annually": ["0", "0", "1", "1", "*"],
}
_FIELD_BOUNDS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 59, ()),
    (0, 23, ()),
    (1, 31, ()),
    (1, 12, ("", *_MONTH_NAMES)),
    (0, 6, _DAY_NAMES),
)
MAX_BACKFILL_RUNS = 1000
"""The most scheduled times one backfill may cover (CEL cannot count cron times: the operator checks)."""
_BACKFILL_COUNT_LIMIT = 5_000
"""A refused backfill's times are counted this far (beyond, the message says "more than")."""
_EVERY_DAY = {",".join(str(day) for day in range(1, 32)), ",".join(str(day) for day in range(7))}

# Larger than any change of UTC offset in the tz database (2 h), so a window this wide around a wall
# time holds every instant that can map to it.
_MAX_OFFSET_CHANGE = timedelta(hours=3)


def check_schedule(schedule: str) -> None:
    """Raise ValueError for what SCHEDULE_REGEX cannot see: a range that runs backwards (`5-1`)."""
    _croniter_expression(schedule)


def load_time_zone(name: str) -> ZoneInfo:
    """The zone called `name`; ValueError if the tz database has no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder such as "America"
        raise ValueError(f"unknown time zone {name!r}") from exc


def next_run_times(schedule: str, tz: str, after: datetime, n: int) -> list[datetime]:
    """The first `n` run times strictly after `after`, as aware UTC datetimes (fewer if the schedule ends).

    Like the CronJob controller: a wall time that a spring-forward change skips does not run that day,
    and a wall time that a fall-back change repeats runs at both instants.
    """
    if after.tzinfo is None:
        raise ValueError("after must be timezone-aware")
    zone = load_time_zone(tz)
    after = after.astimezone(UTC)
    wall = (after.astimezone(zone).replace(tzinfo=None) - _MAX_OFFSET_CHANGE).replace(second=0, microsecond=0)
    walls = croniter(_croniter_expression(schedule), wall)
    found: list[datetime] = []
    horizon: datetime | None = None
    while n > 0 and (horizon is None or wall <= horizon):
        try:
            wall = walls.get_next(datetime)
        except CroniterBadDateError:  # a schedule such as "0 0 30 2 *" never fires
            break
        found.extend(t for t in _instants(wall, zone) if t > after)
        if horizon is None and len(found) >= n:
            # Instants from later wall times can still sort earlier, but only within the offset change.
            horizon = sorted(found)[n - 1].astimezone(zone).replace(tzinfo=None) + _MAX_OFFSET_CHANGE
    return sorted(found)[:n]


def next_run_time(schedule: str, tz: str, after: datetime) -> datetime | None:
    """The first run time strictly after `after` (aware UTC), or None if the schedule never fires."""
    times = upcoming_run_times(schedule, tz, after, 1)
    return times[0] if times else None


def upcoming_run_times(schedule: str, tz: str, after: datetime, n: int) -> tuple[datetime, ...]:
    """`next_run_times`, cached: every pass asks, and the answer changes only when a run time passes."""
    # Run times fall on whole minutes, so every `after` within one minute has the same answer.
    return _upcoming(schedule, tz, after.astimezone(UTC).replace(second=0, microsecond=0), n)


@functools.lru_cache(maxsize=4096)
def _upcoming(schedule: str, tz: str, minute: datetime, n: int) -> tuple[datetime, ...]:
    return tuple(next_run_times(schedule, tz, minute, n))


def backfill_times(schedule: str, tz: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The run times in [start, end), oldest first; ValueError (with their count) above MAX_BACKFILL_RUNS."""
    times = _between(schedule, tz, start.astimezone(UTC), end.astimezone(UTC))
    if len(times) > MAX_BACKFILL_RUNS:
        count = f"more than {_BACKFILL_COUNT_LIMIT}" if len(times) > _BACKFILL_COUNT_LIMIT else str(len(times))
        raise ValueError(f"backfill from {format_time(start)} to {format_time(end)} covers {count} scheduled times "
                         f"of {schedule!r} ({tz}); at most {MAX_BACKFILL_RUNS} are allowed: split the range")
    return times


@functools.lru_cache(maxsize=64)
def _between(schedule: str, tz: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """At most _BACKFILL_COUNT_LIMIT + 1 run times in [start, end)."""
    found: list[datetime] = []
    after = start - timedelta(microseconds=1)
    while len(found) <= _BACKFILL_COUNT_LIMIT:
        batch = next_run_times(schedule, tz, after, 256)
        found += [t for t in batch if t < end]
        if len(batch) < 256 or batch[-1] >= end:
            break
        after = batch[-1]
    return tuple(found[: _BACKFILL_COUNT_LIMIT + 1])


@overload
def format_time(moment: datetime) -> str: ...
@overload
def format_time(moment: None) -> None: ...
def format_time(moment: datetime | None) -> str | None:
    """`moment` as a Kubernetes (RFC 3339) timestamp: UTC, whole seconds, `Z`; None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _croniter_expression(schedule: str) -> str:
    """A SCHEDULE_REGEX-shaped `schedule` as explicit values, read the way the CronJob controller reads it.

    croniter then only does the calendar arithmetic: its own parsing differs in corners (it reads
    "3-3" as "*", and "?" only in one field).
    """
    fields = _DESCRIPTOR_FIELDS.get(schedule) or schedule.split()
    expanded = [_expand(field, *bounds) for field, bounds in zip(fields, _FIELD_BOUNDS, strict=True)]
    day_of_month, day_of_week = expanded[2], expanded[4]
    if "*" not in (day_of_month, day_of_week) and {day_of_month, day_of_week} & _EVERY_DAY:
        # Both day fields restricted means "either matches"; one of them matching every day means
        # every day (croniter would read a complete list as "*" and require the other field).
        expanded[2] = expanded[4] = "*"
    return " ".join(expanded)


def _expand(field: str, low: int, high: int, names: tuple[str, ...]) -> str:
    """One field as "*" (the controller's wildcard) or a sorted list of the values it selects."""
    values: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if span in ("*", "?"):
            if step == 1:
                return "*"
            start, end = low, high
        else:
            first, _, last = span.partition("-")
            start = _number(first, names)
            end = _number(last, names) if last else (high if step_text else start)
            if start > end:
                raise ValueError(f"schedule range {item!r} runs backwards: write the low value first")
        values.update(range(start, end + 1, step))
    return ",".join(str(value) for value in sorted(values))


def _number(value: str, names: tuple[str, ...]) -> int:
    return names.index(value.lower()) if value.lower() in names else int(value)


def _instants(wall: datetime, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants whose local time in `zone` is `wall`: none in a gap, two in an overlap."""
    candidates = {wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    return sorted(t for t in candidates if t.astimezone(zone).replace(tzinfo=None) == wall)
