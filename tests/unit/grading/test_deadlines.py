"""Grading deadlines per class from plain rows, with Viet Nam's day boundaries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from config.settings import RunSettings
from grading.deadlines import (
    Reporter,
    SeatStatus,
    by_reporter,
    class_deadline,
    deadlines,
    parse_reasons,
    select,
)
from scheduler.timeline import run_timeline

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ALICE = Reporter("R1", "Nguyễn Thị Lan", "lan@example.vn")
BOB = Reporter("R2", "Trần Văn Bình")


def seat(code: str, reasons: str = "", grade: float | None = None) -> SeatStatus:
    return SeatStatus(code, parse_reasons(reasons), grade)


SEATS = [
    seat("L1", "not_submitted,below_pass_mark"),  # nothing handed in
    seat("L2", "not_graded"),  # waiting for the reporter
    seat("L3", "", 8.0),  # graded
    seat("L4", "below_pass_mark", 3.0),  # graded, failed
]
DUE = dt.datetime(2023, 10, 27, 0, 0, tzinfo=VN)


def test_counts_submitted_graded_and_waiting() -> None:
    row = class_deadline(
        "C1",
        reporters=[ALICE],
        roster_learners=9,
        seats=SEATS,
        due=DUE,
        now=dt.datetime(2023, 10, 20, 9, 0, tzinfo=VN),
        tz=VN,
    )
    assert (row.learners, row.submitted, row.graded, row.waiting) == (4, 3, 2, 1)
    assert row.days_left == 7
    assert not row.overdue


def test_exempt_seats_never_wait_for_a_grade() -> None:
    exempt = [
        SeatStatus("E1", (), None, exempt=True),  # stored with no reasons at all
        SeatStatus("E2", (), 9.0, exempt=True),
    ]
    row = class_deadline(
        "C1", reporters=[], roster_learners=2, seats=exempt, due=DUE, now=DUE, tz=VN
    )
    assert (row.learners, row.submitted, row.graded, row.waiting) == (2, 1, 1, 0)


def test_without_a_pull_counts_come_from_the_roster() -> None:
    row = class_deadline(
        "C1",
        reporters=[ALICE],
        roster_learners=9,
        seats=None,
        due=DUE,
        now=dt.datetime(2023, 10, 20, tzinfo=VN),
        tz=VN,
    )
    assert (row.learners, row.submitted, row.graded, row.waiting) == (9, None, None, None)


@pytest.mark.parametrize(
    ("now_utc", "days_left", "overdue"),
    [
        # 23:59 local on day 26 (16:59 UTC): the last grading day, 1 day left.
        (dt.datetime(2023, 10, 26, 16, 59, tzinfo=dt.UTC), 1, False),
        # 00:00 local on day 27 is 17:00 UTC the day before: overdue, 0 days left.
        (dt.datetime(2023, 10, 26, 17, 0, tzinfo=dt.UTC), 0, True),
        # The UTC date is still the 26th but in Viet Nam it is a day later.
        (dt.datetime(2023, 10, 26, 23, 0, tzinfo=dt.UTC), 0, True),
        (dt.datetime(2023, 10, 29, 3, 0, tzinfo=dt.UTC), -2, True),
    ],
)
def test_viet_nam_day_boundary(now_utc: dt.datetime, days_left: int, overdue: bool) -> None:
    row = class_deadline(
        "C1", reporters=[ALICE], roster_learners=1, seats=[], due=DUE, now=now_utc, tz=VN
    )
    assert (row.days_left, row.overdue) == (days_left, overdue)


def test_extension_from_the_run_timeline_moves_the_due() -> None:
    run = RunSettings.model_validate({"id": "M4", "module": 4, "start": "2023-10-01"})
    timeline = run_timeline(run, VN, {"C2": 5})
    due = {"C1": timeline.grading_due("C1"), "C2": timeline.grading_due("C2")}
    now = timeline.grading_due("C1") + dt.timedelta(hours=1)
    rows = deadlines(
        classes={"C2": "Lớp 2", "C1": "Lớp 1"},
        reporters={"C1": [ALICE], "C2": [BOB, ALICE]},
        roster={"C1": 3, "C2": 4},
        seats=None,
        due=due,
        now=now,
        tz=VN,
    )
    assert [r.class_code for r in rows] == ["C1", "C2"]
    assert rows[0].overdue
    assert rows[0].days_left == 0
    assert not rows[1].overdue
    assert rows[1].days_left == 5
    assert rows[1].due - rows[0].due == dt.timedelta(days=5)
    assert rows[1].reporters == (ALICE, BOB)


def test_filters_and_grouping_by_reporter() -> None:
    now = dt.datetime(2023, 10, 20, tzinfo=VN)
    rows = deadlines(
        classes={"C1": "", "C2": "", "C3": ""},
        reporters={"C1": [ALICE], "C2": [ALICE, BOB]},
        roster={},
        seats={"C1": SEATS},
        due={"C1": DUE, "C2": DUE, "C3": DUE},
        now=now,
        tz=VN,
    )
    assert [r.class_code for r in select(rows, reporter="R2")] == ["C2"]
    assert [r.class_code for r in select(rows, class_code="C1")] == ["C1"]
    assert select(rows, reporter="R2", class_code="C1") == []
    grouped = by_reporter(rows)
    assert {r.identity_code: [c.class_code for c in cs] for r, cs in grouped.items()} == {
        "R1": ["C1", "C2"],
        "R2": ["C2"],
    }
    # A class with a pull but no seats of its own has nothing submitted.
    assert rows[1].submitted == 0


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        class_deadline(
            "C1",
            reporters=[],
            roster_learners=0,
            seats=None,
            due=DUE.replace(tzinfo=None),
            now=DUE,
            tz=VN,
        )


def test_the_escalation_lists_overdue_classes_with_work_still_waiting() -> None:
    from grading.deadlines import overdue_classes

    tz = VN
    late_waiting = class_deadline(
        "C1", reporters=[ALICE], roster_learners=4, seats=SEATS, due=DUE, now=DUE, tz=tz
    )
    late_all_graded = class_deadline(
        "C2",
        reporters=[BOB],
        roster_learners=1,
        seats=[seat("L5", "", 9.0)],
        due=DUE,
        now=DUE,
        tz=tz,
    )
    late_no_pull = class_deadline(
        "C3", reporters=[BOB], roster_learners=3, seats=None, due=DUE, now=DUE, tz=tz
    )
    in_time = class_deadline(
        "C4",
        reporters=[ALICE],
        roster_learners=4,
        seats=SEATS,
        due=DUE,
        now=DUE - dt.timedelta(minutes=1),
        tz=tz,
    )
    rows = [late_waiting, late_all_graded, late_no_pull, in_time]
    assert [r.class_code for r in overdue_classes(rows)] == ["C1"]
