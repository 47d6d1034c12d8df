"""The module run schedule: phases, grading deadline, phase at a moment, Moodle timestamps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.schedule import (
    LOCAL_TZ,
    Phase,
    PhaseSpan,
    ScheduleConfig,
    build_schedule,
    epoch_to_local_date,
    local_date,
    local_midnight_epoch,
)

START = date(2023, 9, 4)  # Mô đun 4, Bình Phước 2023
ICT = timezone(timedelta(hours=7))


def test_phases_of_a_run_starting_on_4_september_2023() -> None:
    schedule = build_schedule(START)

    assert schedule.phases() == (
        PhaseSpan(Phase.ONLINE_1, date(2023, 9, 4), date(2023, 9, 10)),
        PhaseSpan(Phase.VIRTUAL_CLASS, date(2023, 9, 11), date(2023, 9, 12)),
        PhaseSpan(Phase.ONLINE_2, date(2023, 9, 13), date(2023, 9, 19)),
        PhaseSpan(Phase.GRADING, date(2023, 9, 20), date(2023, 9, 29)),
    )
    assert schedule.end == date(2023, 9, 19)  # day 16
    assert schedule.grading_deadline() == date(2023, 9, 29)  # end + 10 days


@pytest.mark.parametrize(
    ("day", "phase"),
    [
        (date(2023, 9, 3), Phase.BEFORE),
        (date(2023, 9, 4), Phase.ONLINE_1),
        (date(2023, 9, 10), Phase.ONLINE_1),
        (date(2023, 9, 11), Phase.VIRTUAL_CLASS),
        (date(2023, 9, 12), Phase.VIRTUAL_CLASS),
        (date(2023, 9, 13), Phase.ONLINE_2),
        (date(2023, 9, 19), Phase.ONLINE_2),
        (date(2023, 9, 20), Phase.GRADING),
        (date(2023, 9, 29), Phase.GRADING),
        (date(2023, 9, 30), Phase.CLOSED),
    ],
)
def test_phase_at_each_boundary_day(day: date, phase: Phase) -> None:
    assert build_schedule(START).phase_at(day) is phase


@pytest.mark.parametrize(
    ("moment", "phase"),
    [
        (datetime(2023, 9, 10, 23, 59, 59, tzinfo=ICT), Phase.ONLINE_1),
        (datetime(2023, 9, 10, 17, 0, tzinfo=UTC), Phase.VIRTUAL_CLASS),  # 00:00 on 11/9 local
        (datetime(2023, 9, 3, 16, 59, 59, tzinfo=UTC), Phase.BEFORE),
        (datetime(2023, 9, 3, 17, 0, tzinfo=UTC), Phase.ONLINE_1),
        (datetime(2023, 9, 29, 16, 59, 59, tzinfo=UTC), Phase.GRADING),
        (datetime(2023, 9, 29, 17, 0, tzinfo=UTC), Phase.CLOSED),
    ],
)
def test_phase_at_an_aware_moment_uses_the_local_day(moment: datetime, phase: Phase) -> None:
    assert build_schedule(START).phase_at(moment) is phase


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_schedule(START).phase_at(datetime(2023, 9, 5, 8, 0))


def test_an_extension_moves_only_that_class_deadline() -> None:
    schedule = build_schedule(START, extensions={"M4-2023/THCS/GV/Toán/03": 5})

    assert schedule.grading_deadline("M4-2023/THCS/GV/Toán/03") == date(2023, 10, 4)
    assert schedule.grading_deadline("M4-2023/THCS/GV/Toán/01") == date(2023, 9, 29)
    assert schedule.phase_at(date(2023, 10, 4), "M4-2023/THCS/GV/Toán/03") is Phase.GRADING
    assert schedule.phase_at(date(2023, 10, 5), "M4-2023/THCS/GV/Toán/03") is Phase.CLOSED
    assert schedule.phase_at(date(2023, 10, 4), "M4-2023/THCS/GV/Toán/01") is Phase.CLOSED
    assert schedule.phase_at(date(2023, 10, 4)) is Phase.CLOSED


def test_configured_lengths_replace_the_defaults() -> None:
    config = ScheduleConfig(online_1_days=5, virtual_class_days=1, online_2_days=4, grading_days=0)

    schedule = build_schedule(START, config)

    assert [(p.first_day.day, p.last_day.day) for p in schedule.phases()] == [
        (4, 8),
        (9, 9),
        (10, 13),
    ]
    assert schedule.grading_deadline() == date(2023, 9, 13)
    assert schedule.phase_at(date(2023, 9, 14)) is Phase.CLOSED


@pytest.mark.parametrize(
    "config",
    [
        {"online_1_days": 0},
        {"virtual_class_days": 0},
        {"online_2_days": -1},
        {"grading_days": -1},
    ],
)
def test_impossible_lengths_are_refused(config: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="phase lengths"):
        ScheduleConfig(**config)


def test_negative_extensions_are_refused() -> None:
    with pytest.raises(ValueError, match="extensions"):
        build_schedule(START, extensions={"c": -1})


def test_local_midnight_matches_the_recorded_template_day_zero() -> None:
    assert local_midnight_epoch(date(2026, 11, 16)) == 1794762000
    assert epoch_to_local_date(1794762000) == date(2026, 11, 16)
    assert epoch_to_local_date(1794762000 - 1) == date(2026, 11, 15)


def test_phase_spans_give_moodle_timestamps() -> None:
    online_1 = build_schedule(date(2026, 11, 16)).online_1

    assert online_1.opens_at() == 1794762000
    assert online_1.closes_at() == 1794762000 + 7 * 86400
    assert local_date(datetime.fromtimestamp(online_1.closes_at() - 1, UTC)) == date(2026, 11, 22)


def test_local_zone_is_ho_chi_minh() -> None:
    assert datetime(2023, 9, 4, tzinfo=LOCAL_TZ).utcoffset() == timedelta(hours=7)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(-5, 40))
def test_phase_follows_the_day_number(start: date, offset: int) -> None:
    day_number = offset + 1  # day 1 is the start date
    expected = (
        Phase.BEFORE
        if day_number < 1
        else Phase.ONLINE_1
        if day_number <= 7
        else Phase.VIRTUAL_CLASS
        if day_number <= 9
        else Phase.ONLINE_2
        if day_number <= 16
        else Phase.GRADING
        if day_number <= 26
        else Phase.CLOSED
    )

    assert build_schedule(start).phase_at(start + timedelta(days=offset)) is expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_local_midnight_round_trips(day: date) -> None:
    epoch = local_midnight_epoch(day)

    assert epoch_to_local_date(epoch) == day
    assert epoch_to_local_date(epoch - 1) == day - timedelta(days=1)
    assert local_midnight_epoch(day + timedelta(days=1)) - epoch == 86400
