"""The kubectl plugin's pure parts: tables, cut and safe cells, trigger tokens, next run times, options."""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from cronflow.cli.plugin import build_parser, new_trigger_token, structured
from cronflow.cli.tables import (
    MESSAGE_WIDTH,
    cell,
    display_width,
    duration,
    format_table,
    next_runs_table,
    results_table,
)
from cronflow.schedule import next_run_times

NOW = datetime(2026, 3, 28, 12, 0, 30, tzinfo=UTC)
OK_RESULT = {
    "job": "nightly-import-29012345",
    "trigger": "Schedule",
    "startTime": "2026-11-22T02:00:03Z",
    "finishedAt": "2026-11-22T02:00:04Z",
    "status": "OK",
    "attempts": 2,
    "httpResult": {"status": 200, "headers": [], "response": '{"accepted": true}', "truncated": False},
    "message": "",
}
FAILED_RESULT = {
    "job": "nightly-import-manual-0123456789",
    "trigger": "Manual",
    "startTime": "2026-11-22T12:00:01Z",
    "finishedAt": "2026-11-22T12:01:01Z",
    "status": "ERROR",
    "message": "timed out after 60 s connecting to flows.example.com",
}


def test_format_table_aligns_columns_like_kubectl() -> None:
    assert format_table(["NAME", "STATUS"], [["a", "OK"], ["longer-name", "ERROR"]]).splitlines() == [
        "NAME          STATUS",
        "a             OK",
        "longer-name   ERROR",
    ]


def test_format_table_aligns_wide_characters_by_display_width() -> None:
    lines = format_table(["A", "B"], [["日本", "x"], ["ab", "y"]]).splitlines()
    assert display_width(lines[1][: lines[1].index("x")]) == display_width(lines[2][: lines[2].index("y")])


def test_cell_puts_text_on_one_line_and_neutralises_control_characters() -> None:
    assert cell("line one\n  line two\r\n\tend") == "line one line two end"
    assert cell("red \x1b[31mtext\x1b[0m\x07") == "red [31mtext [0m"


@pytest.mark.parametrize("text", ["x" * 100, "日本語" * 30, "ab" + "🙂" * 50])
def test_cell_cuts_to_the_width_with_an_ellipsis(text: str) -> None:
    cut = cell(text, 20)
    assert cut.endswith("…")
    assert display_width(cut) <= 20
    assert text.startswith(cut[:-1])


def test_cell_keeps_text_that_fits() -> None:
    assert cell("x" * 20, 20) == "x" * 20


def test_results_table_shows_http_status_response_and_failure_message() -> None:
    lines = results_table([FAILED_RESULT, OK_RESULT]).splitlines()
    assert lines[0].split() == [
        "JOB", "TRIGGER", "STARTED", "FINISHED", "STATUS", "ATTEMPTS", "HTTP", "MESSAGE/RESPONSE"
    ]
    assert lines[1].split()[:7] == [
        "nightly-import-manual-0123456789",
        "Manual",
        "2026-11-22T12:00:01Z",
        "2026-11-22T12:01:01Z",
        "ERROR",
        "-",
        "-",
    ]
    assert lines[1].endswith("timed out after 60 s connecting to flows.example.com")
    assert lines[2].split()[:7] == [
        "nightly-import-29012345",
        "Schedule",
        "2026-11-22T02:00:03Z",
        "2026-11-22T02:00:04Z",
        "OK",
        "2",
        "200",
    ]
    assert lines[2].endswith('{"accepted": true}')


def test_results_table_cuts_long_responses_and_marks_truncated_ones() -> None:
    long = {**OK_RESULT, "httpResult": {"status": 200, "response": "y" * 500, "truncated": True}}
    short_truncated = {**OK_RESULT, "httpResult": {"status": 200, "response": "partial", "truncated": True}}
    lines = results_table([long, short_truncated]).splitlines()
    assert lines[1].endswith("y" * (MESSAGE_WIDTH - 1) + "…")
    assert lines[2].endswith("partial…")


def test_results_table_adds_a_file_column_for_automatic_runs() -> None:
    from_file = {**OK_RESULT, "trigger": "File", "inputFile": "invoices/2026-11-22.pdf"}
    lines = results_table([from_file, OK_RESULT]).splitlines()
    assert lines[0].split()[:3] == ["JOB", "TRIGGER", "FILE"]
    assert lines[1].split()[2] == "invoices/2026-11-22.pdf"
    assert lines[2].split()[2] == "-"


def test_results_table_tolerates_missing_fields() -> None:
    lines = results_table([{"job": "j", "status": "ERROR"}]).splitlines()
    assert lines[1].split() == ["j", "-", "-", "-", "ERROR", "-", "-"]


def test_trigger_tokens_are_unique_readable_and_fit_the_spec() -> None:
    tokens = {new_trigger_token(NOW) for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        assert re.fullmatch(r"2026-03-28T12:00:30Z-[0-9a-f]{10}", token)
        assert len(token) <= 128


def test_next_runs_table_shows_wall_time_in_the_zone_utc_and_distance() -> None:
    # Europe/Amsterdam moves to summer time on 2026-03-29: 03:00 local is 02:00 UTC before, 01:00 UTC after.
    times = next_run_times("0 3 * * *", "Europe/Amsterdam", NOW, 3)
    lines = next_runs_table(times, "Europe/Amsterdam", NOW).splitlines()
    assert lines[0].split() == ["TIME", "(Europe/Amsterdam)", "UTC", "FROM", "NOW"]
    assert lines[1].split() == ["Sun", "2026-03-29", "03:00", "CEST", "2026-03-29T01:00:00Z", "in", "12h59m"]
    assert lines[2].split() == ["Mon", "2026-03-30", "03:00", "CEST", "2026-03-30T01:00:00Z", "in", "1d12h"]
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=5, seconds=10), "5m10s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(hours=3, minutes=12, seconds=59), "3h12m"),
        (timedelta(hours=3), "3h"),
        (timedelta(days=2, hours=4), "2d4h"),
        (timedelta(days=400), "400d"),
        (timedelta(seconds=-3), "0s"),
    ],
)
def test_duration_shows_the_two_largest_units(span: timedelta, text: str) -> None:
    assert duration(span) == text


def test_namespace_options_are_accepted_after_the_command_and_count_is_not_namespace() -> None:
    args = build_parser().parse_args(["next", "nightly", "-n", "team-a", "--count", "3", "--context", "prod"])
    assert (args.name, args.namespace, args.count, args.context) == ("nightly", "team-a", 3, "prod")
    assert build_parser().parse_args(["next", "nightly"]).count == 5


def test_count_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["next", "nightly", "--count", "0"])
    assert "must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_structured_output_keeps_every_field_uncut(output: str) -> None:
    document = {"results": [FAILED_RESULT, {**OK_RESULT, "message": "x" * 500 + "\n日本"}]}
    text = structured(document, output)
    assert (json.loads(text) if output == "json" else yaml.safe_load(text)) == document


@pytest.mark.parametrize(
    "argv",
    [
        ["-n", "team-a", "results", "nightly", "-o", "json"],
        ["results", "-n", "team-a", "nightly", "--output", "json"],
        ["--namespace", "team-a", "next", "nightly", "-o", "json", "-c", "2"],
    ],
)
def test_connection_options_go_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert (args.namespace, args.name, args.output) == ("team-a", "nightly", "json")


class FakeScheduledJobs:
    """The plugin's view of one ScheduledJob: its spec, and the spec patches it was sent."""

    namespace = "team-a"

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.patches: list[dict[str, Any]] = []

    def get(self, name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "spec": self.spec}

    def patch_spec(self, name: str, spec: dict[str, Any]) -> None:
        self.patches.append(spec)


def run_command(jobs: FakeScheduledJobs, *argv: str) -> str:
    args = build_parser().parse_args(list(argv))
    output: str = args.run(jobs, args)
    return output


def test_resume_sets_a_fresh_resume_token() -> None:
    jobs = FakeScheduledJobs({"schedule": "@daily"})
    run_command(jobs, "resume", "nightly")
    run_command(jobs, "resume", "nightly")
    tokens = [patch["resume"] for patch in jobs.patches]
    assert len(set(tokens)) == 2 and all(len(token) <= 128 for token in tokens)


def test_backfill_patches_the_range_in_utc_and_says_how_many_times_it_holds() -> None:
    jobs = FakeScheduledJobs({"schedule": "0 * * * *", "timeZone": "Europe/Amsterdam"})
    output = run_command(jobs, "backfill", "nightly", "--from", "2026-11-01T01:00:00+01:00", "--to",
                         "2026-11-02T00:00:00Z")
    assert jobs.patches == [{"backfill": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"}}]
    assert output.endswith("(24 scheduled times)")


def test_backfill_dry_run_lists_the_times_and_patches_nothing() -> None:
    # Europe/Amsterdam falls back on 2026-10-25: 02:30 local happens twice, both run.
    jobs = FakeScheduledJobs({"schedule": "30 2 * * *", "timeZone": "Europe/Amsterdam"})
    output = run_command(jobs, "backfill", "nightly", "--from", "2026-10-24T00:00:00Z", "--to", "2026-10-26T00:00:00Z",
                         "--dry-run")
    assert jobs.patches == []
    assert [line.split()[-1] for line in output.splitlines()] == [
        "UTC", "2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z"
    ]


def test_backfill_over_the_cap_is_refused_with_the_count_before_any_patch() -> None:
    jobs = FakeScheduledJobs({"schedule": "*/5 * * * *"})
    with pytest.raises(ValueError, match=r"covers 2592 scheduled times .* at most 1000"):
        run_command(jobs, "backfill", "nightly", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-10T00:00:00Z")
    assert jobs.patches == []


@pytest.mark.parametrize(("value", "message"), [("2026-11-01T00:00:00", "has no offset"), ("yesterday", "RFC 3339")])
def test_backfill_times_need_an_offset(value: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["backfill", "nightly", "--from", value, "--to", "2026-11-02T00:00:00Z"])
    assert message in capsys.readouterr().err
