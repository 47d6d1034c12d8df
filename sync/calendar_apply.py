"""Applying the calendar actions of a plan (the schedule push): two phases of the applier.

* ``move_event``: ``core_calendar_update_event_start_day``, one event per request (the
  function takes one). Moves of one activity go in the plan's order, in rounds: first
  move of every activity, then second, ..., so that each is legal when Moodle checks it;
  a round's requests are independent (different activities) and may go concurrently.
  Moodle's refusal (e.g. a due date after the template's cut-off date) fails that action
  alone, with Moodle's words and what to change.
* ``create_event``: ``core_calendar_create_calendar_events`` in batches. Moodle creates a
  group event for any group id without a word (recorded), so only ids this apply knows to
  exist are sent: the groups it created (Moodle's own answer) or those the sync's read
  found at its start; an event for a class whose group is neither is not sent. They are
  not read back (once per course: 84 calls, 3.7 s for a province's first apply): a group
  deleted by hand in the minutes between the read and the event leaves an event nobody
  sees, as the recorded Moodle would; the next sync makes the class's group again and its
  event with it (the calendar read lists the events of existing groups only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from connector import calendar as calendar_ws
from connector.batching import BatchOutcome
from connector.calendar import CalendarEvent, NewEvent
from connector.errors import LmsConfigError, LmsError, LmsOutcomeUnknown, LmsRetryableError
from sync.model import Action

if TYPE_CHECKING:
    from sync.apply import Applier

TEMPLATE_HINT = (
    "ngày của khóa mẫu chặn việc dời (ngày cắt, 'cho phép nộp từ'...): sửa khóa mẫu, "
    "xem 'bdtx lms check'"
)


def move_events(applier: Applier, actions: list[Action]) -> None:
    ready: list[Action] = []
    for action in actions:
        if str(action.data["course_idnumber"]) not in applier.ids.courses:
            applier._unresolved([(action, "khóa học chưa tạo được")])
        else:
            ready.append(action)
    rounds: dict[int, list[Action]] = {}
    for action in ready:
        rounds.setdefault(int(str(action.data.get("order", 1))), []).append(action)
    for order in sorted(rounds):
        applier._send(
            rounds[order],
            calendar_ws.UPDATE_EVENT_START_DAY,
            lambda batch: _move(applier, batch),
            None,
            max_items=1,  # the function takes one event
        )


def _move(applier: Applier, batch: list[Action]) -> BatchOutcome[Action, object]:
    (action,) = batch
    wanted = int(str(action.data["timestart"]))
    try:
        moved = applier.lms.calendar.update_event_start_day(
            int(str(action.data["eventid"])), int(str(action.data["daytimestamp"]))
        )
    except (LmsConfigError, LmsOutcomeUnknown, LmsRetryableError):
        raise
    except LmsError as error:
        refused = LmsError(
            f"Moodle từ chối dời '{action.data['name']}': {error.message} ({TEMPLATE_HINT})",
            wsfunction=calendar_ws.UPDATE_EVENT_START_DAY,
        )
        return BatchOutcome(failed=[(action, refused)], calls=1)
    if moved.timestart != wanted:
        wrong = LmsError(
            f"Moodle đặt '{action.data['name']}' lúc {moved.timestart}, không phải {wanted}",
            wsfunction=calendar_ws.UPDATE_EVENT_START_DAY,
        )
        return BatchOutcome(failed=[(action, wrong)], calls=1)
    return BatchOutcome(done=[(action, moved)], calls=1)


def create_events(applier: Applier, actions: list[Action]) -> None:
    rows: dict[int, NewEvent] = {}
    unresolved = []
    for action in actions:
        course = applier.ids.courses.get(str(action.data["course_idnumber"]))
        group = applier.ids.groups.get(
            (str(action.data["course_idnumber"]), str(action.data["group_idnumber"]))
        )
        if course is None or group is None:
            why = "khóa học chưa tạo được" if course is None else "lớp (nhóm) chưa tạo được"
            unresolved.append((action, why))
            continue
        rows[id(action)] = NewEvent(
            name=str(action.data["name"]),
            description=str(action.data["description"]),
            format=1,
            courseid=course,
            groupid=group,
            eventtype="group",
            timestart=int(str(action.data["timestart"])),
            timeduration=int(str(action.data["timeduration"])),
            visible=True,
        )
    applier._unresolved(unresolved)
    created: list[tuple[Action, CalendarEvent]] = []

    def done(action: Action, answer: object) -> str | None:
        event = cast(CalendarEvent, answer)
        if event.groupid != rows[id(action)].groupid:
            return f"Moodle tạo sự kiện {event.id} cho nhóm {event.groupid}, không phải nhóm đã gửi"
        created.append((action, event))
        return None

    ready = [a for a in actions if id(a) in rows]
    applier._write_rows(
        ready, rows, calendar_ws.CREATE_EVENTS, applier.lms.calendar.create_calendar_events, done
    )
