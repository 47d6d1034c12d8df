"""``connector.calendar`` against recorded answers."""

from __future__ import annotations

import pytest

from connector.calendar import (
    CREATE_EVENTS,
    GET_EVENTS,
    UPDATE_EVENT_START_DAY,
    Calendar,
    NewEvent,
)
from connector.errors import LmsInvalidParameter, LmsWsError
from tests.contract import recorded

from .recorded_replies import RecordedReplies, answer, recorded_form, serve


def recorded_events(case: str) -> list[NewEvent]:
    return [
        NewEvent(**{**row, **({"visible": bool(row["visible"])} if "visible" in row else {})})
        for row in recorded(case)["params"]["events"]
    ]


def test_create_group_and_course_events() -> None:
    case = "core_calendar_create_calendar_events__ok_group_and_course"
    replies, client = serve(case)
    events = recorded_events(case)

    outcome = Calendar(client).create_calendar_events(events)

    assert replies.sent(CREATE_EVENTS) == [recorded_form(case)]
    assert [(row.name, event.id, event.groupid) for row, event in outcome.done] == [
        ("Buổi học trực tuyến Nhóm 1", 13, 1),
        ("Buổi học trực tuyến Nhóm 2", 14, 2),
        ("Khai giảng K26-A", 15, 0),
    ]


def test_an_event_moodle_skips_fails_with_its_warning() -> None:
    replies = RecordedReplies(
        {
            CREATE_EVENTS: lambda form: answer(
                {
                    "events": [
                        recorded("core_calendar_create_calendar_events__site_event")["response"][
                            "events"
                        ][0]
                    ],
                    # Hand-made: the recorded service could create every event it tried,
                    # so no recording holds a refused one; Moodle's warning structure.
                    "warnings": [
                        {
                            "item": "not mine",
                            "warningcode": "nopermissions",
                            "message": "No permission",
                        }
                    ],
                }
            )
        }
    )
    events = [
        NewEvent(name="not mine", courseid=9, eventtype="course", timestart=1797181200),
        NewEvent(name="site", courseid=1, eventtype="site", timestart=1797181200),
    ]

    outcome = Calendar(replies.client()).create_calendar_events(events)

    assert [row.name for row, _ in outcome.done] == ["site"]
    [(row, error)] = outcome.failed
    assert row.name == "not mine"
    assert isinstance(error, LmsWsError)
    assert error.errorcode == "nopermissions"


def test_events_missing_their_course_or_group_are_refused() -> None:
    replies = RecordedReplies({})
    outcome = Calendar(replies.client()).create_calendar_events(
        [NewEvent(name="x", courseid=3, eventtype="group", timestart=1)]
    )
    assert isinstance(outcome.failed[0][1], LmsInvalidParameter)
    assert "needs its groupid" in outcome.failed[0][1].message
    assert replies.requests == []


def test_get_course_events_with_options() -> None:
    case = "core_calendar_get_calendar_events__dates_template"
    replies, client = serve(case)

    found = Calendar(client).get_calendar_events(
        courseids=[2], userevents=False, siteevents=False, timestart=0, timeend=2000000000
    )

    assert replies.sent(GET_EVENTS) == [recorded_form(case)]
    first = found.events[0]
    assert (first.modulename, first.eventtype, first.timestart) == ("quiz", "open", 1795366800)


def test_default_options_return_group_events() -> None:
    case = "core_calendar_get_calendar_events__ok_course_and_group_default_options"
    replies, client = serve(case)

    found = Calendar(client).get_calendar_events(courseids=[3], groupids=[1, 2])

    assert replies.sent(GET_EVENTS) == [recorded_form(case)]
    assert {event.groupid for event in found.events if event.eventtype == "group"} == {1, 2}


def test_asking_for_groups_without_user_events_is_refused() -> None:
    # Recorded: with userevents=0 Moodle leaves the group events out.
    hidden = recorded("core_calendar_get_calendar_events__course_and_group_userevents0")
    assert all(event["eventtype"] != "group" for event in hidden["response"]["events"])
    replies = RecordedReplies({})
    with pytest.raises(ValueError, match="does not return group events"):
        Calendar(replies.client()).get_calendar_events(
            courseids=[3], groupids=[1], userevents=False
        )
    assert replies.requests == []


def test_move_an_activity_event() -> None:
    case = "core_calendar_update_event_start_day__ok_assign_due_event"
    replies, client = serve(case)

    event = Calendar(client).update_event_start_day(23, 1796317200)

    assert replies.sent(UPDATE_EVENT_START_DAY) == [recorded_form(case)]
    assert (event.component, event.eventtype, event.timestart) == ("mod_assign", "due", 1796317200)


def test_a_day_outside_the_activity_range_is_refused_by_moodle() -> None:
    _, client = serve("core_calendar_update_event_start_day__error_assign_due_after_cutoff")
    with pytest.raises(LmsWsError, match="Cut-off date cannot be earlier"):
        Calendar(client).update_event_start_day(23, 1796922000)
