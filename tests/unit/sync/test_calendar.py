"""The schedule push's decisions (sync/calendar.py): pure data in, actions and notes out."""

from __future__ import annotations

import datetime as dt

from scheduler.schedule import LOCAL_TZ
from sync.calendar import (
    DRIFT_KEPT,
    KEEP,
    SLOT_CHANGED,
    STALE_EVENT,
    WAIT_TIMEOUT,
    WAITING,
    CalendarActual,
    CalendarOptions,
    ClassMeeting,
    CourseSchedule,
    LmsEvent,
    TemplateCalendar,
    event_key,
    marker,
    meeting_description,
    plan_calendar,
)
from sync.model import ActionKind, ActualCourse, ActualGroup, ActualState

DAY = 86_400
COURSE = "BDTX-M4-2023-THCS-GV-TOAN"
CLASS = "M4-2023/THCS/GV/Toán/01"


def at(day: dt.date, hour: int = 0, minute: int = 0) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LOCAL_TZ).timestamp())


TEMPLATE_D0 = dt.date(2026, 11, 16)
RUN_DAY1 = dt.date(2026, 12, 7)  # 21 days after the template
TEMPLATE = TemplateCalendar(
    at(TEMPLATE_D0),
    (
        LmsEvent(
            1,
            "Quiz opens",
            "open",
            at(TEMPLATE_D0 + dt.timedelta(7)),
            modulename="quiz",
            instance=1,
        ),
        LmsEvent(
            2,
            "Quiz closes",
            "close",
            at(TEMPLATE_D0 + dt.timedelta(14)),
            modulename="quiz",
            instance=1,
        ),
        LmsEvent(
            3,
            "Final is due",
            "due",
            at(TEMPLATE_D0 + dt.timedelta(16)),
            modulename="assign",
            instance=1,
        ),
    ),
)


def copied(*, with_closing: bool = True, grading_at: int | None = None) -> tuple[LmsEvent, ...]:
    """A copy of the template: dates as in the template, other ids and instances."""
    events = [
        LmsEvent(
            11, "Quiz opens", "open", TEMPLATE.events[0].timestart, modulename="quiz", instance=5
        ),
    ]
    if with_closing:
        events += [
            LmsEvent(
                12,
                "Quiz closes",
                "close",
                TEMPLATE.events[1].timestart,
                modulename="quiz",
                instance=5,
            ),
            LmsEvent(
                13,
                "Final is due",
                "due",
                TEMPLATE.events[2].timestart,
                modulename="assign",
                instance=5,
            ),
            LmsEvent(
                14,
                "Final is due to be graded",
                "gradingdue",
                grading_at or at(TEMPLATE_D0 + dt.timedelta(26)),
                modulename="assign",
                instance=5,
            ),
        ]
    return tuple(events)


def schedule(*meetings: ClassMeeting, extensions: dict[str, int] | None = None) -> CourseSchedule:
    return CourseSchedule(
        course_idnumber=COURSE,
        run_id="M4-2023",
        template_shortname="TPL",
        day1=RUN_DAY1,
        grading_due=at(RUN_DAY1 + dt.timedelta(26)),
        meetings=meetings,
        extensions=extensions or {},
    )


def actual(course_exists: bool = True) -> ActualState:
    courses = (
        {COURSE: ActualCourse(70, COURSE, COURSE, "Toán", 3, at(RUN_DAY1), 0)}
        if course_exists
        else {}
    )
    groups = {(COURSE, CLASS): ActualGroup(900, 70, CLASS, "Lớp 01")} if course_exists else {}
    return ActualState(users={}, categories={}, courses=courses, groups=groups, enrolments={})


def calendars(*events: LmsEvent) -> CalendarActual:
    return CalendarActual(templates={"TPL": TEMPLATE}, events={COURSE: events})


def test_every_date_moves_by_the_offset_and_grading_due_to_the_run_deadline() -> None:
    result = plan_calendar(
        [schedule()], calendars(*copied()), actual(), written={}, copied_at={}, now=0
    )
    moves = {a.data["name"]: a for a in result.actions}
    assert {a.kind for a in result.actions} == {ActionKind.MOVE_EVENT}
    assert moves["Quiz opens"].data["timestart"] == at(RUN_DAY1 + dt.timedelta(7))
    assert moves["Quiz closes"].data["timestart"] == at(RUN_DAY1 + dt.timedelta(14))
    assert moves["Final is due"].data["timestart"] == at(RUN_DAY1 + dt.timedelta(16))
    assert moves["Final is due to be graded"].data["timestart"] == at(RUN_DAY1 + dt.timedelta(26))
    # The day sent is local midnight of the target day; the event keeps its time of day.
    assert moves["Quiz opens"].data["daytimestamp"] == at(RUN_DAY1 + dt.timedelta(7))
    assert result.waiting == ()


def test_moves_forward_go_latest_first_and_back_earliest_first() -> None:
    later = plan_calendar(
        [schedule()], calendars(*copied()), actual(), written={}, copied_at={}, now=0
    )
    quiz = [a.data["name"] for a in later.actions if "Quiz" in str(a.data["name"])]
    assert quiz == ["Quiz closes", "Quiz opens"]  # forward: close first, then open
    orders = {a.data["name"]: a.data["order"] for a in later.actions}
    assert orders["Quiz closes"] == 1
    assert orders["Quiz opens"] == 2

    earlier = CourseSchedule(
        COURSE, "M4-2023", "TPL", TEMPLATE_D0 - dt.timedelta(30), at(TEMPLATE_D0 - dt.timedelta(4))
    )
    back = plan_calendar([earlier], calendars(*copied()), actual(), written={}, copied_at={}, now=0)
    names = [str(a.data["name"]) for a in back.actions]
    assert names.index("Quiz opens") < names.index("Quiz closes")
    assert names.index("Final is due") < names.index("Final is due to be graded")


def test_grading_due_at_another_time_of_day_stays_within_the_deadline() -> None:
    evening = at(TEMPLATE_D0 + dt.timedelta(26), 23, 0)
    result = plan_calendar(
        [schedule()],
        calendars(*copied(grading_at=evening)),
        actual(),
        written={},
        copied_at={},
        now=0,
    )
    (grading,) = [a for a in result.actions if "graded" in str(a.data["name"])]
    # 23:00 of day 26, the last such moment before 00:00 of day 27.
    assert grading.data["timestart"] == at(RUN_DAY1 + dt.timedelta(25), 23, 0)


def test_a_copy_without_its_events_waits_then_times_out() -> None:
    events = calendars(*copied(with_closing=False))
    fresh = plan_calendar(
        [schedule()], events, actual(), written={}, copied_at={COURSE: 1000}, now=1000 + 59 * 60
    )
    assert fresh.actions == ()
    assert fresh.waiting == (COURSE,)
    assert fresh.timed_out == ()
    assert [c.code for c in fresh.conflicts] == [WAITING]

    late = plan_calendar(
        [schedule()], events, actual(), written={}, copied_at={COURSE: 1000}, now=1000 + 61 * 60
    )
    assert late.timed_out == (COURSE,)
    (timeout,) = late.conflicts
    assert timeout.code == WAIT_TIMEOUT
    assert "cron" in timeout.message
    # A course whose copy the journal does not know has waited long enough.
    unknown = plan_calendar([schedule()], events, actual(), written={}, copied_at={}, now=0)
    assert unknown.timed_out == (COURSE,)


def test_a_course_copied_by_this_apply_waits_without_a_note() -> None:
    result = plan_calendar(
        [schedule()], calendars(), actual(course_exists=False), written={}, copied_at={}, now=0
    )
    assert result.waiting == (COURSE,)
    assert result.conflicts == ()


def test_drift_is_restored_or_kept() -> None:
    pushed = {
        a.key: int(str(a.data["timestart"]))
        for a in plan_calendar(
            [schedule()], calendars(*copied()), actual(), written={}, copied_at={}, now=0
        ).actions
    }
    quiz_open = event_key(COURSE, copied()[0])
    # The state after the push, then someone moves the quiz opening a day later.
    after = [
        LmsEvent(
            e.id,
            e.name,
            e.eventtype,
            pushed[event_key(COURSE, e)],
            modulename=e.modulename,
            instance=e.instance,
        )
        for e in copied()
    ]
    assert (
        plan_calendar(
            [schedule()], calendars(*after), actual(), written=pushed, copied_at={}, now=0
        ).actions
        == ()
    )
    moved = [
        e
        if e.id != 11
        else LmsEvent(11, e.name, e.eventtype, e.timestart + DAY, modulename="quiz", instance=5)
        for e in after
    ]
    restored = plan_calendar(
        [schedule()], calendars(*moved), actual(), written=pushed, copied_at={}, now=0
    )
    (restore,) = restored.actions
    assert restore.key == quiz_open
    assert restore.data["timestart"] == pushed[quiz_open]
    assert "sửa tay" in restore.reason
    assert restored.drifted == (quiz_open,)

    kept = plan_calendar(
        [schedule()],
        calendars(*moved),
        actual(),
        written=pushed,
        copied_at={},
        now=0,
        options=CalendarOptions(drift=KEEP),
    )
    assert kept.actions == ()
    assert [c.code for c in kept.conflicts] == [DRIFT_KEPT]

    # The run moved in the configuration (the dates set are still there): plain moves.
    later_run = CourseSchedule(
        COURSE, "M4-2023", "TPL", RUN_DAY1 + dt.timedelta(7), at(RUN_DAY1 + dt.timedelta(33))
    )
    changed = plan_calendar(
        [later_run], calendars(*after), actual(), written=pushed, copied_at={}, now=0
    )
    assert len(changed.actions) == 4
    assert changed.drifted == ()
    assert not any("sửa tay" in a.reason for a in changed.actions)


MEETING = ClassMeeting(
    CLASS,
    "Lớp 01 — Toán",
    1,
    at(RUN_DAY1 + dt.timedelta(7), 7, 30),
    4 * 3600,
    "https://meet.example/a?x=1&y=2",
)


def ours(meeting: ClassMeeting = MEETING, **changes: object) -> LmsEvent:
    fields: dict[str, object] = {
        "id": 50,
        "name": "Lớp học ảo — Lớp 01 — Toán",
        "eventtype": "group",
        "timestart": meeting.start,
        "timeduration": meeting.duration,
        "courseid": 70,
        "groupid": 900,
        "description": meeting_description(meeting),
    }
    fields.update(changes)
    return LmsEvent(**fields)  # type: ignore[arg-type]


def test_virtual_class_event_created_once_then_found_by_its_marker() -> None:
    first = plan_calendar(
        [schedule(MEETING)], calendars(*copied()), actual(), written={}, copied_at={}, now=0
    )
    (create,) = [a for a in first.actions if a.kind is ActionKind.CREATE_EVENT]
    assert create.data["group_idnumber"] == CLASS
    assert marker(CLASS, 1) in str(create.data["description"])
    assert "https://meet.example/a?x=1&amp;y=2" in str(create.data["description"])
    again = plan_calendar(
        [schedule(MEETING)], calendars(*copied(), ours()), actual(), written={}, copied_at={}, now=0
    )
    assert [a for a in again.actions if a.kind is ActionKind.CREATE_EVENT] == []
    assert [c for c in again.conflicts if c.code in (SLOT_CHANGED, STALE_EVENT)] == []


def test_a_meeting_moved_to_another_day_is_moved_other_changes_are_conflicts() -> None:
    next_day = ClassMeeting(
        CLASS, MEETING.class_name, 1, MEETING.start + DAY, MEETING.duration, MEETING.url
    )
    moved = plan_calendar(
        [schedule(next_day)],
        calendars(ours()),
        actual(course_exists=True),
        written={},
        copied_at={},
        now=0,
    )
    (move,) = [a for a in moved.actions if a.key.endswith("|1") and "|vc|" in a.key]
    assert move.kind is ActionKind.MOVE_EVENT
    assert move.data["timestart"] == next_day.start

    other_link = ClassMeeting(
        CLASS, MEETING.class_name, 1, MEETING.start, MEETING.duration, "https://other"
    )
    conflict = plan_calendar(
        [schedule(other_link)], calendars(ours()), actual(), written={}, copied_at={}, now=0
    )
    assert [a for a in conflict.actions if "|vc|" in a.key] == []
    (slot,) = [c for c in conflict.conflicts if c.code == SLOT_CHANGED]
    assert "https://other" in slot.message
    assert "xóa sự kiện này" in slot.message

    # No meeting wants it any more: reported, never deleted.
    stale = plan_calendar(
        [schedule()], calendars(ours()), actual(), written={}, copied_at={}, now=0
    )
    assert [c.code for c in stale.conflicts if c.code == STALE_EVENT] == [STALE_EVENT]
    assert [a for a in stale.actions if "|vc|" in a.key] == []


def test_an_extension_is_a_note_not_a_move() -> None:
    result = plan_calendar(
        [schedule(extensions={"Lớp 02": 3, "Lớp 01": 0})],
        calendars(*copied()),
        actual(),
        written={},
        copied_at={},
        now=0,
    )
    (note,) = result.conflicts
    assert "Lớp 02 (+3 ngày)" in note.message
    assert "Lớp 01" not in note.message


def test_availability_dates_are_found_in_nested_conditions() -> None:
    from sync.template_read import availability_dates

    nested = (
        '{"op":"&","c":[{"type":"date","d":">=","t":1795366800},'
        '{"op":"|","c":[{"type":"date","d":"<","t":1797181200},{"type":"group","id":3}]}],'
        '"showc":[true,true]}'
    )
    assert availability_dates(nested) == (1795366800, 1797181200)
    assert availability_dates('{"op":"&","c":[{"type":"group","id":3}],"showc":[true]}') == ()
    assert availability_dates(None) == ()
    assert availability_dates("not json") == ()
