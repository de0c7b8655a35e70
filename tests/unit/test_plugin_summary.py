"""`kubectl cronflow status`: the note when no operator has reconciled a ScheduledJob, and the table."""

from typing import Any

import pytest

from cronflow.cli.summary import reconcile_note, status_table

READY = {"type": "Ready", "status": "True", "reason": "Reconciled", "message": "CronJob is up to date",
         "observedGeneration": 2}


def rows_of(table: str) -> dict[str, str]:
    """FIELD -> VALUE, split at the VALUE column of the header."""
    header, *lines = table.splitlines()
    at = header.index("VALUE")
    return {line[:at].strip(): line[at:] for line in lines}


def scheduledjob(generation: int, status: dict[str, Any] | None) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": "nightly", "namespace": "team-a", "generation": generation},
                           "spec": {"schedule": "30 2 * * *", "timeZone": "Europe/Amsterdam"}}
    if status is not None:
        obj["status"] = status
    return obj


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (scheduledjob(1, None), "no operator has reconciled nightly yet"),
        (scheduledjob(1, {}), "no operator has reconciled nightly yet"),
        (scheduledjob(1, {"results": [{"job": "j", "status": "OK"}]}), "no operator has reconciled nightly yet"),
        (scheduledjob(3, {"conditions": [READY]}), "since its last change (generation 3, status of generation 2)"),
        (scheduledjob(2, {"conditions": [READY]}), None),
    ],
    ids=["no status", "empty status", "results but no Ready", "stale generation", "up to date"],
)
def test_reconcile_note(obj: dict[str, Any], expected: str | None) -> None:
    note = reconcile_note(obj)
    if expected is None:
        assert note is None
    else:
        assert note is not None and expected in note
        assert "namespace team-a" in note or "generation" in expected


def test_status_table_lists_state_conditions_and_runs() -> None:
    paused = {"type": "Paused", "status": "True", "reason": "TooManyFailures", "message": "3 ERROR runs in a row"}
    status = {"state": "PAUSED", "mode": "Schedule", "conditions": [READY, paused], "consecutiveFailures": 3,
              "results": [{"job": "nightly-29", "status": "ERROR", "finishedAt": "2026-12-01T01:30:04Z"}],
              "nextScheduleTimes": ["2026-12-03T01:30:00Z", "2026-12-04T01:30:00Z"]}
    table = status_table(scheduledjob(2, status))
    rows = rows_of(table)
    assert table.splitlines()[0].split() == ["FIELD", "VALUE"]
    assert rows["SCHEDULE"] == "30 2 * * * (Europe/Amsterdam)"
    assert rows["STATE"] == "PAUSED"
    assert rows["READY"] == "True Reconciled: CronJob is up to date"
    assert rows["PAUSED"] == "True TooManyFailures: 3 ERROR runs in a row"
    assert rows["LAST RESULT"] == "ERROR nightly-29 at 2026-12-01T01:30:04Z"
    assert rows["CONSECUTIVE FAILURES"] == "3"
    assert rows["NEXT RUNS"] == "2026-12-03T01:30:00Z, 2026-12-04T01:30:00Z"


def test_status_table_of_an_unreconciled_scheduledjob_says_none() -> None:
    rows = rows_of(status_table(scheduledjob(1, None)))
    assert (rows["STATE"], rows["MODE"], rows["NEXT RUNS"]) == ("<none>", "<none>", "<none>")
    assert "READY" not in rows and "LAST RESULT" not in rows
