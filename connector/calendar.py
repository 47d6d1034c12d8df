"""Calendar events: ``core_calendar_*``.

Two traps recorded on Moodle 4.5:

* ``core_calendar_get_calendar_events`` with ``userevents=0`` does **not** return group
  events, even for the group ids asked for; :meth:`Calendar.get_calendar_events` refuses
  that combination;
* ``core_calendar_create_calendar_events`` accepts a group event for a group id that does
  not exist (no error): pass only group ids read from the course.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connector.batching import BatchOutcome
from connector.client import MoodleClient
from connector.common import MoodleModel, WsWarning, parse, send_rows, to_params
from connector.errors import LmsProtocolError, LmsWsError
from connector.validation import name_problem

CREATE_EVENTS = "core_calendar_create_calendar_events"
GET_EVENTS = "core_calendar_get_calendar_events"
UPDATE_EVENT_START_DAY = "core_calendar_update_event_start_day"

EventType = Literal["site", "course", "group", "user", "category"]


@dataclass(frozen=True)
class NewEvent:
    """One event for ``core_calendar_create_calendar_events`` (times are Unix timestamps)."""

    name: str
    description: str | None = None
    format: int | None = None
    courseid: int | None = None
    groupid: int | None = None
    repeats: int | None = None
    eventtype: EventType | None = None
    timestart: int | None = None
    timeduration: int | None = None
    visible: bool | None = None
    sequence: int | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params

    def problems(self) -> list[str]:
        problem = name_problem("name", self.name, required=True, max_length=255)
        problems = [problem] if problem else []
        if self.eventtype == "group" and not self.groupid:
            problems.append("a group event needs its groupid")
        if self.eventtype in ("course", "group") and not self.courseid:
            problems.append(f"a {self.eventtype} event needs its courseid")
        return problems


class CalendarEvent(MoodleModel):
    """An event as the calendar functions return it."""

    id: int
    name: str
    description: str = ""
    format: int | None = None
    courseid: int | None = None
    categoryid: int | None = None
    groupid: int | None = None
    userid: int | None = None
    modulename: str | None = None
    instance: int | None = None
    eventtype: str
    timestart: int
    timeduration: int = 0
    visible: bool | None = None
    timemodified: int | None = None


class EventList(MoodleModel):
    events: tuple[CalendarEvent, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


class MovedEvent(MoodleModel):
    """The event after ``core_calendar_update_event_start_day``.

    For an activity event (``component`` such as ``mod_assign``), the activity's own
    date moved with it.
    """

    id: int
    name: str
    component: str | None = None
    modulename: str | None = None
    instance: int | None = None
    eventtype: str
    timestart: int
    timeduration: int = 0
    timesort: int | None = None
    groupid: int | None = None
    categoryid: int | None = None


class _MovedEventAnswer(MoodleModel):
    event: MovedEvent


class Calendar:
    """``core_calendar_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def create_calendar_events(
        self, events: Sequence[NewEvent]
    ) -> BatchOutcome[NewEvent, CalendarEvent]:
        """Create events: ``core_calendar_create_calendar_events``.

        An event Moodle does not create (no permission for that context) comes back as
        a warning: it ends in ``failed``.
        """
        outcome = send_rows(
            self._client,
            CREATE_EVENTS,
            "events",
            events,
            row_params=NewEvent.params,
            describe=lambda index, event: f"events[{index}] {event.name!r}",
            read_answer=_created_events,
            check=lambda _, event: event.problems(),
        )
        settled: BatchOutcome[NewEvent, CalendarEvent] = BatchOutcome(
            failed=list(outcome.failed), calls=outcome.calls
        )
        for event, result in outcome.done:
            if isinstance(result, CalendarEvent):
                settled.done.append((event, result))
            else:
                error = LmsWsError(
                    f"event {event.name!r} not created: {result.message}",
                    wsfunction=CREATE_EVENTS,
                    errorcode=result.warningcode,
                )
                settled.failed.append((event, error))
        return settled

    def get_calendar_events(
        self,
        *,
        courseids: Sequence[int] = (),
        groupids: Sequence[int] = (),
        categoryids: Sequence[int] = (),
        eventids: Sequence[int] = (),
        userevents: bool | None = None,
        siteevents: bool | None = None,
        timestart: int | None = None,
        timeend: int | None = None,
        ignorehidden: bool | None = None,
    ) -> EventList:
        """Events of courses, groups, categories: ``core_calendar_get_calendar_events``.

        Options left at ``None`` take Moodle's defaults (user and site events included,
        from time 0, no end). Asking for groups with ``userevents=False`` is refused:
        Moodle would silently leave the group events out.
        """
        if groupids and userevents is False:
            raise ValueError(
                f"{GET_EVENTS}: with userevents=0 Moodle does not return group events; "
                "leave userevents on to read the events of groups"
            )
        options = {
            "userevents": userevents,
            "siteevents": siteevents,
            "timestart": timestart,
            "timeend": timeend,
            "ignorehidden": ignorehidden,
        }
        params: dict[str, Any] = {
            "events": {
                "eventids": list(eventids),
                "courseids": list(courseids),
                "groupids": list(groupids),
                "categoryids": list(categoryids),
            },
            "options": {name: value for name, value in options.items() if value is not None},
        }
        return parse(EventList, self._client.call(GET_EVENTS, params), GET_EVENTS)

    def update_event_start_day(self, eventid: int, daytimestamp: int) -> MovedEvent:
        """Move an event to another day, keeping its time: ``core_calendar_update_event_start_day``.

        Moving an activity's event moves the activity date (a quiz opening, an assignment
        due date); Moodle refuses a day outside the activity's valid range (for instance
        a due date after the cut-off date).
        """
        params = {"eventid": eventid, "daytimestamp": daytimestamp}
        payload = self._client.call(UPDATE_EVENT_START_DAY, params, write=True)
        return parse(_MovedEventAnswer, payload, UPDATE_EVENT_START_DAY).event


def _created_events(batch: Sequence[NewEvent], payload: Any) -> list[CalendarEvent | WsWarning]:
    """Line created events up with the rows sent; a row not created gets its warning.

    Moodle lists created events in the order sent and skips the others, naming each
    skipped event in a warning.
    """
    answer = parse(EventList, payload, CREATE_EVENTS)
    created = list(answer.events)
    warnings = list(answer.warnings)
    results: list[CalendarEvent | WsWarning] = []
    for event in batch:
        if created and created[0].name == event.name:
            results.append(created.pop(0))
        elif warnings:
            results.append(warnings.pop(0))
        else:
            raise LmsProtocolError(
                f"event {event.name!r} was neither created nor warned about",
                wsfunction=CREATE_EVENTS,
            )
    if created:
        raise LmsProtocolError(
            f"{len(created)} events created beyond those sent", wsfunction=CREATE_EVENTS
        )
    return results
