"""School changes after a run's unit lock date are reported, per run."""

from __future__ import annotations

import datetime as dt

from config.settings import RunSettings
from roster.service import locked_school_changes
from store.roster_repo import ImportChanges

LOCKED = RunSettings(
    id="M4-2023", module=4, start=dt.date(2023, 9, 4), unit_lock_date=dt.date(2023, 8, 15)
)
OPEN = RunSettings(
    id="M5-2023", module=5, start=dt.date(2023, 10, 2), unit_lock_date=dt.date(2023, 9, 15)
)
NO_LOCK = RunSettings(id="M9-2023", module=9, start=dt.date(2023, 10, 30))


def test_only_runs_past_their_lock_date_report_school_changes() -> None:
    changes = ImportChanges(
        changed={"7002": ["school_code", "district"], "7001": ["email"], "7003": ["school_code"]}
    )
    reported = locked_school_changes(changes, [LOCKED, OPEN, NO_LOCK], dt.date(2023, 8, 20))
    assert reported == {"M4-2023": ["7002", "7003"]}


def test_nothing_to_report_without_school_changes_or_before_the_lock() -> None:
    assert (
        locked_school_changes(
            ImportChanges(changed={"7001": ["email"]}), [LOCKED], dt.date(2023, 9, 1)
        )
        == {}
    )
    moved = ImportChanges(changed={"7002": ["school_code"]})
    assert locked_school_changes(moved, [LOCKED], dt.date(2023, 8, 15)) == {}
