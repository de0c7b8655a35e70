"""Pure text formatting for the kubectl plugin: kubectl-style tables, safe and cut cells, durations."""

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cronflow.schedule import format_time

MESSAGE_WIDTH = 60
"""Display columns that the MESSAGE/RESPONSE cell of `results` keeps."""
_GAP = "   "


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned the way `kubectl get` aligns them (by display width), one line per row."""
    widths = [max(display_width(line[i]) for line in [header, *rows]) for i in range(len(header))]
    lines = []
    for line in [header, *rows]:
        cells = [cell + " " * (width - display_width(cell)) for cell, width in zip(line, widths, strict=True)]
        lines.append(_GAP.join(cells).rstrip())
    return "\n".join(lines)


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters count 2, combining marks 0."""
    return sum(_char_width(char) for char in text)


def cell(text: str, width: int | None = None) -> str:
    """`text` on one line, control characters made visible as spaces, cut to `width` columns with '…'."""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if width is None or display_width(text) <= width:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        used += _char_width(char)
        if used > width - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def results_table(results: Sequence[Mapping[str, Any]]) -> str:
    """status.results (newest first) as a table; a FILE column only when a run came from a file."""
    with_file = any(result.get("inputFile") for result in results)
    header = [
        "JOB",
        "TRIGGER",
        *(["FILE"] if with_file else []),
        "STARTED",
        "FINISHED",
        "STATUS",
        "ATTEMPTS",
        "HTTP",
        "MESSAGE/RESPONSE",
    ]
    rows = []
    for result in results:
        http = result.get("httpResult") or {}
        text = result.get("message") or http.get("response") or ""
        rows.append(
            [
                cell(str(result.get("job", "-"))),
                cell(str(result.get("trigger", "-"))),
                *([cell(str(result.get("inputFile") or "-"), MESSAGE_WIDTH)] if with_file else []),
                cell(str(result.get("startTime") or "-")),
                cell(str(result.get("finishedAt") or "-")),
                cell(str(result.get("status", "-"))),
                str(result.get("attempts") or "-"),
                str(http["status"]) if "status" in http else "-",
                cell(text + ("…" if http.get("truncated") and not result.get("message") else ""), MESSAGE_WIDTH),
            ]
        )
    return format_table(header, rows)


def next_runs_table(times: Sequence[datetime], zone: str, now: datetime) -> str:
    """Run times as the wall time in the schedule's zone, in UTC, and how far from `now`."""
    rows = [[*_run_time(t, zone), f"in {duration(t - now)}"] for t in times]
    return format_table([f"TIME ({zone})", "UTC", "FROM NOW"], rows)


def run_times_table(times: Sequence[datetime], zone: str) -> str:
    """Run times as the wall time in the schedule's zone and in UTC, numbered (a backfill's dry run)."""
    rows = [[str(number), *_run_time(t, zone)] for number, t in enumerate(times, start=1)]
    return format_table(["#", f"TIME ({zone})", "UTC"], rows)


def _run_time(moment: datetime, zone: str) -> list[str]:
    return [moment.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z"), format_time(moment)]


def duration(span: timedelta) -> str:
    """A timedelta as its two largest units, kubectl style: 45s, 5m10s, 3h12m, 2d4h."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{seconds}s" if seconds else f"{minutes}m"
    return f"{seconds}s"


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
