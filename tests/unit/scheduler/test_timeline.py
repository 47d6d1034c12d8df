"""A run's phases and key instants in Viet Nam time, whatever the server's zone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import RunSettings, VirtualClassSlot
from scheduler.schedule import Phase, ScheduleConfig, build_schedule
from scheduler.timeline import (
    KeyInstant,
    KeyMoment,
    next_key_instant,
    phase_at,
    run_timeline,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def run(start: date, **fields: Any) -> RunSettings:
    return RunSettings.model_validate({"id": "M4-2023", "module": 4, "start": start, **fields})


def vn(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=VN)


def test_the_2023_module_4_run_in_viet_nam_time() -> None:
    timeline = run_timeline(run(date(2023, 9, 4)))

    assert timeline.provisioning_at == vn(2023, 8, 28)
    assert (timeline.online_1.start, timeline.online_1.end) == (vn(2023, 9, 4), vn(2023, 9, 11))
    assert (timeline.virtual_class.start, timeline.virtual_class.end) == (
        vn(2023, 9, 11),
        vn(2023, 9, 13),
    )
    assert (timeline.online_2.start, timeline.online_2.end) == (vn(2023, 9, 13), vn(2023, 9, 20))
    assert timeline.submission_due == vn(2023, 9, 20)  # 00:00 after day 16 (19/9)
    assert timeline.grading_due() == vn(2023, 9, 30)  # 00:00 after day 26 (29/9)
    assert timeline.closed_at == vn(2023, 9, 30)
    assert timeline.reminders() == (vn(2023, 9, 27, 8), vn(2023, 9, 29, 8))


def test_instants_match_the_recorded_template_dates() -> None:
    """The recorded template (day 1 = 16/11/2026) has its final product due at day 0 + 16
    days and graded by day 0 + 26 days, in epoch seconds."""
    timeline = run_timeline(run(date(2026, 11, 16)))

    assert int(timeline.start.timestamp()) == 1794762000
    assert int(timeline.submission_due.timestamp()) == 1796144400  # assign duedate
    assert int(timeline.grading_due().timestamp()) == 1797008400  # assign gradingduedate


def test_a_run_starting_on_the_last_day_of_february() -> None:
    timeline = run_timeline(run(date(2023, 2, 28)))

    assert timeline.virtual_class.start == vn(2023, 3, 7)
    assert timeline.online_2.start == vn(2023, 3, 9)
    assert timeline.submission_due == vn(2023, 3, 16)
    assert timeline.grading_due() == vn(2023, 3, 26)


def test_a_run_starting_on_31_january_of_a_leap_year() -> None:
    timeline = run_timeline(run(date(2024, 1, 31)))

    assert timeline.virtual_class.start == vn(2024, 2, 7)
    assert timeline.submission_due == vn(2024, 2, 16)
    assert timeline.grading_due() == vn(2024, 2, 26)
    assert phase_at(timeline, vn(2024, 2, 8, 9)) is Phase.VIRTUAL_CLASS


def test_a_run_across_new_year() -> None:
    timeline = run_timeline(run(date(2023, 12, 25), provision_lead_days=10))

    assert timeline.provisioning_at == vn(2023, 12, 15)
    assert timeline.online_1.end == vn(2024, 1, 1)  # day 8 is New Year's Day
    assert timeline.virtual_class.end == vn(2024, 1, 3)
    assert timeline.submission_due == vn(2024, 1, 10)
    assert timeline.grading_due() == vn(2024, 1, 20)
    assert phase_at(timeline, vn(2023, 12, 31, 23, 59, 59)) is Phase.ONLINE_1
    assert phase_at(timeline, vn(2024, 1, 1)) is Phase.VIRTUAL_CLASS


def test_grading_alone_crosses_new_year() -> None:
    timeline = run_timeline(run(date(2023, 12, 10)), extensions={"M4-2023/THPT/GV/Toán/01": 3})

    assert timeline.submission_due == vn(2023, 12, 26)
    assert timeline.grading_due() == vn(2024, 1, 5)
    assert timeline.grading_due("M4-2023/THPT/GV/Toán/01") == vn(2024, 1, 8)
    assert timeline.reminders() == (vn(2024, 1, 2, 8), vn(2024, 1, 4, 8))


EXTENDED = "M4-2023/THCS/GV/Toán/03"
OTHER = "M4-2023/THCS/GV/Toán/01"


def test_an_extension_moves_only_that_class_and_the_run_closes_after_it() -> None:
    timeline = run_timeline(run(date(2023, 9, 4)), extensions={EXTENDED: 5})

    assert timeline.grading_due(EXTENDED) == vn(2023, 10, 5)
    assert timeline.grading_due(OTHER) == vn(2023, 9, 30)
    assert timeline.grading_due() == vn(2023, 9, 30)
    assert timeline.closed_at == vn(2023, 10, 5)
    assert timeline.reminders(EXTENDED) == (vn(2023, 10, 2, 8), vn(2023, 10, 4, 8))
    moment = vn(2023, 10, 1, 12)
    assert phase_at(timeline, moment, OTHER) is Phase.CLOSED
    assert phase_at(timeline, moment, EXTENDED) is Phase.GRADING
    assert phase_at(timeline, moment) is Phase.GRADING  # the run: one class still grading
    assert phase_at(timeline, vn(2023, 10, 5)) is Phase.CLOSED


def test_the_run_wakes_for_an_extended_class_deadline() -> None:
    timeline = run_timeline(run(date(2023, 9, 4)), extensions={EXTENDED: 5})

    after_common_due = next_key_instant(timeline, vn(2023, 9, 30))

    assert after_common_due == KeyMoment(vn(2023, 10, 2, 8), KeyInstant.GRADING_REMINDER, EXTENDED)
    assert next_key_instant(timeline, vn(2023, 10, 4, 8)) == KeyMoment(
        vn(2023, 10, 5), KeyInstant.GRADING_DUE, EXTENDED
    )
    assert next_key_instant(timeline, vn(2023, 9, 29, 8), OTHER) == KeyMoment(
        vn(2023, 9, 30), KeyInstant.GRADING_DUE, OTHER
    )
    assert next_key_instant(timeline, vn(2023, 9, 30), OTHER) is None
    assert next_key_instant(timeline, vn(2023, 10, 5)) is None


def test_walking_the_key_instants_of_a_class() -> None:
    timeline = run_timeline(run(date(2023, 9, 4)))
    now = vn(2023, 1, 1)
    walked: list[tuple[KeyInstant, datetime]] = []
    while (moment := next_key_instant(timeline, now, OTHER)) is not None:
        walked.append((moment.kind, moment.at))
        now = moment.at

    assert walked == [
        (KeyInstant.PROVISIONING, vn(2023, 8, 28)),
        (KeyInstant.ONLINE_1_OPENS, vn(2023, 9, 4)),
        (KeyInstant.VIRTUAL_CLASS_OPENS, vn(2023, 9, 11)),
        (KeyInstant.ONLINE_2_OPENS, vn(2023, 9, 13)),
        (KeyInstant.SUBMISSION_DUE, vn(2023, 9, 20)),
        (KeyInstant.GRADING_REMINDER, vn(2023, 9, 27, 8)),
        (KeyInstant.GRADING_REMINDER, vn(2023, 9, 29, 8)),
        (KeyInstant.GRADING_DUE, vn(2023, 9, 30)),
    ]
    # Closed falls on the grading due: the walk, strictly after each instant, ends there.
    assert timeline.key_moments(OTHER)[-1] == KeyMoment(vn(2023, 9, 30), KeyInstant.CLOSED)


def test_configured_grading_window_and_reminders() -> None:
    timeline = run_timeline(
        run(date(2023, 9, 4), grading_days=5, reminder_days=[2], reminder_time=time(14, 30))
    )

    assert timeline.grading_due() == vn(2023, 9, 25)
    assert timeline.reminders() == (vn(2023, 9, 23, 14, 30),)


@pytest.mark.parametrize(
    ("moment", "phase"),
    [
        (datetime(2023, 9, 3, 16, 59, 59, tzinfo=UTC), Phase.BEFORE),
        (datetime(2023, 9, 3, 17, 0, tzinfo=UTC), Phase.ONLINE_1),  # 00:00 on 4/9 in Viet Nam
        (datetime(2023, 9, 10, 16, 59, 59, tzinfo=UTC), Phase.ONLINE_1),
        (datetime(2023, 9, 10, 17, 0, tzinfo=UTC), Phase.VIRTUAL_CLASS),
        (datetime(2023, 9, 12, 17, 0, tzinfo=UTC), Phase.ONLINE_2),
        (datetime(2023, 9, 19, 16, 59, 59, tzinfo=UTC), Phase.ONLINE_2),
        (datetime(2023, 9, 19, 17, 0, tzinfo=UTC), Phase.GRADING),
        (datetime(2023, 9, 29, 16, 59, 59, tzinfo=UTC), Phase.GRADING),
        (datetime(2023, 9, 29, 17, 0, tzinfo=UTC), Phase.CLOSED),
    ],
)
def test_a_utc_clock_is_read_in_viet_nam_time(moment: datetime, phase: Phase) -> None:
    assert phase_at(run_timeline(run(date(2023, 9, 4))), moment) is phase


def test_naive_now_is_refused() -> None:
    timeline = run_timeline(run(date(2023, 9, 4)))
    with pytest.raises(ValueError, match="timezone-aware"):
        phase_at(timeline, datetime(2023, 9, 5, 8))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_key_instant(timeline, datetime(2023, 9, 5, 8))


def test_meetings_in_local_time_for_classes_clusters_and_the_rest() -> None:
    slots = [
        {
            "start": datetime(2023, 9, 11, 7, 30),
            "meeting_url": "https://meet/a",
            "classes": [OTHER],
        },
        {
            "start": datetime(2023, 9, 11, 13, 30),
            "meeting_url": "https://meet/b",
            "clusters": ["Cụm 2"],
        },
        {
            "start": datetime(2023, 9, 12, 7, 30),
            "duration_minutes": 90,
            "meeting_url": "https://meet/c",
        },
    ]
    timeline = run_timeline(run(date(2023, 9, 4), virtual_class=slots))

    [own] = timeline.meetings_for(OTHER, ["Cụm 2"])
    [cluster] = timeline.meetings_for(EXTENDED, ["Cụm 1", "Cụm 2"])
    [default] = timeline.meetings_for(EXTENDED, ["Cụm 3"])
    assert (own.meeting_url, own.start, own.end) == (
        "https://meet/a",
        vn(2023, 9, 11, 7, 30),
        vn(2023, 9, 11, 11, 30),
    )
    assert cluster.meeting_url == "https://meet/b"
    assert (default.start, default.end) == (vn(2023, 9, 12, 7, 30), vn(2023, 9, 12, 9))


def test_an_aware_slot_time_is_converted_to_the_site_zone() -> None:
    slot = VirtualClassSlot(start=datetime(2023, 9, 11, 1, 0, tzinfo=UTC), meeting_url="https://m")
    timeline = run_timeline(run(date(2023, 9, 4), virtual_class=[slot.model_dump()]))

    assert timeline.meetings[0].start == vn(2023, 9, 11, 8)
    assert timeline.meetings[0].start.tzinfo is VN


_PRINT_TIMELINE = """
import json, datetime
from config.settings import RunSettings
from scheduler.timeline import run_timeline, phase_at
t = run_timeline(RunSettings(id="R", module=4, start=datetime.date(2023, 12, 25)))
moment = datetime.datetime(2023, 12, 31, 17, 30, tzinfo=datetime.UTC)
print(json.dumps([m.at.isoformat() for m in t.key_moments()] + [phase_at(t, moment)]))
"""


def test_the_server_time_zone_changes_nothing() -> None:
    """The same run on servers in UTC, Los Angeles and Viet Nam gives the same instants."""
    outputs = []
    for server_zone in ("UTC", "America/Los_Angeles", "Asia/Ho_Chi_Minh"):
        env = {**os.environ, "TZ": server_zone, "PYTHONPATH": str(PROJECT_ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", _PRINT_TIMELINE],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=PROJECT_ROOT,
        )
        outputs.append(json.loads(result.stdout))

    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0] == [
        "2023-12-18T00:00:00+07:00",  # provisioning, 7 days before day 1
        "2023-12-25T00:00:00+07:00",  # online 1
        "2024-01-01T00:00:00+07:00",  # virtual class
        "2024-01-03T00:00:00+07:00",  # online 2
        "2024-01-10T00:00:00+07:00",  # submission due
        "2024-01-17T08:00:00+07:00",  # grading reminders, 3 and 1 days before
        "2024-01-19T08:00:00+07:00",
        "2024-01-20T00:00:00+07:00",  # grading due
        "2024-01-20T00:00:00+07:00",  # closed
        "virtual-class",  # 31/12 17:30 UTC is 00:30 on New Year's Day in Viet Nam
    ]


starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
extension_maps = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 30), max_size=3)


@given(starts, st.integers(1, 30), extension_maps)
def test_phases_are_contiguous_ordered_and_16_days(
    start: date, grading_days: int, extensions: dict[str, int]
) -> None:
    timeline = run_timeline(
        run(start, grading_days=grading_days, reminder_days=[1]), extensions=extensions
    )

    assert timeline.online_1.end == timeline.virtual_class.start
    assert timeline.virtual_class.end == timeline.online_2.start
    assert timeline.online_2.end == timeline.submission_due
    assert timeline.submission_due - timeline.start == timedelta(days=16)
    assert timeline.grading_due() - timeline.submission_due == timedelta(days=grading_days)
    assert timeline.closed_at - timeline.grading_due() == timedelta(
        days=max(extensions.values(), default=0)
    )
    moments = timeline.key_moments()
    assert [m.at for m in moments] == sorted(m.at for m in moments)
    assert all(m.at.utcoffset() == timedelta(hours=7) for m in moments)
    assert all(m.at.time() == time(0) for m in moments if m.kind != KeyInstant.GRADING_REMINDER)


@given(starts, st.integers(-10, 45), st.integers(0, 86399), extension_maps)
def test_the_phase_at_an_instant_is_the_phase_of_its_local_day(
    start: date, offset_days: int, second_of_day: int, extensions: dict[str, int]
) -> None:
    """The instants agree with the day-level schedule sync/desired.py also follows."""
    timeline = run_timeline(run(start), extensions=extensions)
    schedule = build_schedule(start, ScheduleConfig(), extensions)
    day = start + timedelta(days=offset_days)
    moment = datetime.combine(day, time(0), tzinfo=VN) + timedelta(seconds=second_of_day)

    for class_id in ("a", "z"):
        assert phase_at(timeline, moment, class_id) is schedule.phase_at(day, class_id)
