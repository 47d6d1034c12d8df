"""The run's 7 / 2 / 7 schedule inside Moodle: what to move and create in the calendar (pure).

What real Moodle 4.5 allows (``../shared/moodle-contract/_meta__date_shift_experiment.json``):
copying a course keeps its activities' dates as they are in the template; the only call
that moves an activity's date is ``core_calendar_update_event_start_day``, which moves
the *day* of one calendar event and keeps its time, after the activity's own rules
(an assignment's due date after its cut-off is refused). In a fresh copy only the "open"
events exist until Moodle's background task (cron) has made the others. So:

* **Activity dates.** Every action event of a run course (assignment due and grading due,
  quiz and survey open / close: whatever the template has) is moved by the run's offset:
  the local days from the template's start date to the run's day 1. The assignment's
  grading-due event goes to the run's grading deadline (``run_timeline(...).grading_due()``)
  instead, so Moodle's timeline shows reporters the deadline this software uses. Moves of
  one activity are ordered so that each is legal on its own (earlier dates first when they
  move back, later ones first when they move forward); what the template fixes (a cut-off
  date, "allow submissions from") cannot be moved and Moodle's refusal is reported.
  A class's grading extension cannot move a course-wide assignment (one per course,
  shared by every class): the plan says so in a note.
* **Waiting for Moodle.** A run course whose copy lacks events its template has is
  "waiting for Moodle" (nothing to move yet); the next sync tries again. After
  ``calendar_wait_minutes`` from the course copy (its journal time) it is an error a person
  sees, with the hint: Moodle's cron must run.
* **Virtual class (days 8-9).** One group event per class and meeting
  (``core_calendar_create_calendar_events``), named for the class, with the meeting link
  and a marker ``[bdtx-vc <class id> #<n>]`` in its description: that is how the sync finds
  its own events again. A meeting whose *day* changed is moved (the same call as an
  activity); one whose time of day, length or link changed is a conflict a person
  resolves: no web service edits an event, and the sync deletes nothing; once the old
  event is deleted by hand, the next sync creates the new one. Events of ours that no
  meeting wants any more are reported, not deleted.
* **Drift.** A date the sync set and someone then changed by hand in Moodle (the journal
  knows what was set) is restored, or kept and reported with ``calendar_drift = "keep"``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from scheduler.schedule import LOCAL_TZ, local_midnight
from sync.model import Action, ActionKind, ActualState, Conflict

RESTORE, KEEP = "restore", "keep"
WAITING = "calendar_waiting"
WAIT_TIMEOUT = "calendar_wait_timeout"
DRIFT_KEPT = "calendar_drift_kept"
EXTENSION_NOTE = "calendar_extension"
SLOT_CHANGED = "calendar_slot_changed"
STALE_EVENT = "calendar_stale_event"
NOT_IN_TEMPLATE = "calendar_not_in_template"
_MARKER = re.compile(r"\[bdtx-vc (?P<class_id>[^\]#]+?) #(?P<number>\d+)\]")
_LINK = re.compile(r'href="(?P<url>[^"]*)"')
GRADING_DUE = ("assign", "gradingdue")


@dataclass(frozen=True, slots=True)
class LmsEvent:
    """A calendar event as the LMS lists it (times in epoch seconds)."""

    id: int
    name: str
    eventtype: str
    timestart: int
    timeduration: int = 0
    courseid: int = 0
    groupid: int = 0
    modulename: str = ""
    instance: int = 0
    description: str = ""


@dataclass(frozen=True, slots=True)
class TemplateCalendar:
    """A template course's start date and events."""

    startdate: int
    events: tuple[LmsEvent, ...]


@dataclass(frozen=True, slots=True)
class ClassMeeting:
    """One virtual-class meeting of one class: the group event wanted."""

    class_id: str
    class_name: str
    number: int  # 1, 2, ... among the class's meetings
    start: int
    duration: int  # seconds
    url: str


@dataclass(frozen=True, slots=True)
class CourseSchedule:
    """What one run course's calendar must show."""

    course_idnumber: str
    run_id: str
    template_shortname: str
    day1: date  # the run's day 1, local
    grading_due: int  # epoch seconds: 00:00 of day 27 (the run's, without extensions)
    meetings: tuple[ClassMeeting, ...] = ()
    extensions: Mapping[str, int] = field(default_factory=dict)  # class name -> extra days


@dataclass(frozen=True)
class CalendarActual:
    """The calendars read from the LMS: templates by shortname (None: not found), and each
    existing run course's activity and group events."""

    templates: Mapping[str, TemplateCalendar | None]
    events: Mapping[str, tuple[LmsEvent, ...]]


@dataclass(frozen=True)
class CalendarOptions:
    drift: str = RESTORE  # or KEEP
    wait_minutes: int = 60
    tz: tzinfo = LOCAL_TZ


@dataclass(frozen=True)
class CalendarPlan:
    actions: tuple[Action, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    waiting: tuple[str, ...] = ()  # run courses whose events Moodle has not made yet
    timed_out: tuple[str, ...] = ()  # ... for longer than calendar_wait_minutes
    drifted: tuple[str, ...] = ()  # event keys moved by hand since the sync set them


def marker(class_id: str, number: int) -> str:
    return f"[bdtx-vc {html.escape(class_id)} #{number}]"


def meeting_name(meeting: ClassMeeting, count: int) -> str:
    suffix = f" (buổi {meeting.number})" if count > 1 else ""
    return f"Lớp học ảo — {meeting.class_name}{suffix}"


def meeting_description(meeting: ClassMeeting) -> str:
    url = html.escape(meeting.url)
    return (
        f"<p>Lớp học ảo (ngày 8–9) của lớp {html.escape(meeting.class_name)} "
        f'với báo cáo viên.</p><p>Tham gia: <a href="{url}">{url}</a></p>'
        f"<p>{marker(meeting.class_id, meeting.number)}</p>"
    )


def event_key(course_idnumber: str, event: LmsEvent) -> str:
    """A stable key of an activity event in the journal (the event id stays on a move)."""
    return f"{course_idnumber}|{event.modulename}|{event.instance}|{event.eventtype}"


def meeting_key(course_idnumber: str, class_id: str, number: int) -> str:
    return f"{course_idnumber}|vc|{class_id}|{number}"


def plan_calendar(
    schedules: Iterable[CourseSchedule],
    calendars: CalendarActual,
    actual: ActualState,
    *,
    written: Mapping[str, int],
    copied_at: Mapping[str, int],
    now: int,
    options: CalendarOptions | None = None,
) -> CalendarPlan:
    """The calendar actions and notes for the run courses; ``written``: event key -> the
    instant an earlier apply set (the journal); ``copied_at``: course idnumber -> when the
    sync copied it (epoch seconds); ``now`` in epoch seconds."""
    opts = options or CalendarOptions()
    out = _Collector()
    for schedule in sorted(schedules, key=lambda s: s.course_idnumber):
        course = schedule.course_idnumber
        out.conflicts += _extension_notes(schedule)
        out.actions += _meetings(schedule, calendars, actual, written, opts, out)
        template = calendars.templates.get(schedule.template_shortname)
        if template is None:
            continue  # the course plan reports a missing template; lms check explains
        if course not in actual.courses:
            out.waiting.append(course)  # copied by this apply; its events come after cron
            continue
        # A learner's own extension event is theirs, not the course's schedule.
        events = [
            e
            for e in calendars.events.get(course, ())
            if e.modulename and e.eventtype != "extension"
        ]
        missing = _missing_events(template.events, events)
        if missing:
            out.waiting.append(course)
            out.conflicts.append(_waiting_conflict(course, missing, copied_at, now, opts, out))
            continue
        out.actions += _activity_moves(schedule, template, events, written, opts, out)
    return CalendarPlan(
        actions=tuple(out.actions),
        conflicts=tuple(out.conflicts),
        waiting=tuple(out.waiting),
        timed_out=tuple(out.timed_out),
        drifted=tuple(out.drifted),
    )


@dataclass
class _Collector:
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)


# -- activity dates ---------------------------------------------------------------------


def _identity(event: LmsEvent) -> tuple[str, str, str]:
    """What names an activity's event in the template and in its copies alike."""
    return (event.modulename, event.eventtype, event.name)


def _paired(
    template_events: Sequence[LmsEvent], events: Sequence[LmsEvent]
) -> list[tuple[LmsEvent | None, LmsEvent]]:
    """Each course event with its template counterpart (same module, type and name; equal
    names paired in instance order)."""
    by_identity: dict[tuple[str, str, str], list[LmsEvent]] = {}
    for event in sorted(template_events, key=lambda e: (e.instance, e.id)):
        if event.modulename:
            by_identity.setdefault(_identity(event), []).append(event)
    pairs: list[tuple[LmsEvent | None, LmsEvent]] = []
    for event in sorted(events, key=lambda e: (e.instance, e.id)):
        candidates = by_identity.get(_identity(event), [])
        pairs.append((candidates.pop(0) if candidates else None, event))
    return pairs


def _missing_events(
    template_events: Sequence[LmsEvent], events: Sequence[LmsEvent]
) -> list[LmsEvent]:
    """Template events the copy does not have yet."""
    found = [t for t, _ in _paired(template_events, events) if t is not None]
    taken = {t.id for t in found}
    return [t for t in template_events if t.modulename and t.id not in taken]


def _local_day(epoch: int, tz: tzinfo) -> date:
    return datetime.fromtimestamp(epoch, tz).date()


def _on_day(epoch: int, day: date, tz: tzinfo) -> int:
    """``day`` at the local time of day of ``epoch``: where a move of that event lands."""
    moment = datetime.fromtimestamp(epoch, tz)
    return int(datetime.combine(day, moment.time(), tzinfo=tz).timestamp())


def _grading_due_day(event: LmsEvent, deadline: int, tz: tzinfo) -> date:
    """The latest day on which the event, at its own time of day, is not after the
    deadline (00:00 of day 27 for an event at 00:00)."""
    day = _local_day(deadline, tz)
    while _on_day(event.timestart, day, tz) > deadline:
        day -= timedelta(days=1)
    return day


def _activity_moves(
    schedule: CourseSchedule,
    template: TemplateCalendar,
    events: Sequence[LmsEvent],
    written: Mapping[str, int],
    opts: CalendarOptions,
    out: _Collector,
) -> list[Action]:
    tz = opts.tz
    offset = (schedule.day1 - _local_day(template.startdate, tz)).days
    course = schedule.course_idnumber
    by_activity: dict[tuple[str, int], list[tuple[Action, int]]] = {}
    for source, event in _paired(template.events, events):
        if (event.modulename, event.eventtype) == GRADING_DUE:
            day = _grading_due_day(event, schedule.grading_due, tz)
            why = "hạn chấm của báo cáo viên = hạn chấm của đợt"
        elif source is not None:
            day = _local_day(source.timestart, tz) + timedelta(days=offset)
            why = f"ngày trong khóa mẫu {offset:+d} ngày, ngày 1 của đợt: {schedule.day1:%d/%m/%Y}"
        else:
            out.conflicts.append(
                Conflict(
                    event_key(course, event),
                    NOT_IN_TEMPLATE,
                    f"Khóa {course}: sự kiện '{event.name}' không có trong khóa mẫu "
                    f"{schedule.template_shortname}: không dời",
                )
            )
            continue
        target = _on_day(event.timestart, day, tz)
        key = event_key(course, event)
        decision = _decide(key, event.timestart, target, written, opts, out)
        if decision is None:
            continue
        action = Action(
            ActionKind.MOVE_EVENT,
            key,
            f"{event.name}: {_show(event.timestart, tz)} → {_show(target, tz)} ({decision or why})",
            {
                "course_idnumber": course,
                "eventid": event.id,
                "name": event.name,
                "daytimestamp": int(local_midnight(day, tz).timestamp()),
                "timestart": target,
                "from": event.timestart,
            },
        )
        by_activity.setdefault((event.modulename, event.instance), []).append(
            (action, event.timestart)
        )
    return [a for moves in by_activity.values() for a in _in_legal_order(moves)]


def _in_legal_order(moves: Sequence[tuple[Action, int]]) -> list[Action]:
    """One activity's moves, each legal when made: dates that move back go first, earliest
    target first; then dates that move forward, latest target first. (For two dates that
    must stay in order, a <= b, this never puts a after b nor b before a at any step.)"""

    def target(move: tuple[Action, int]) -> int:
        return int(str(move[0].data["timestart"]))

    back = sorted((m for m in moves if target(m) < m[1]), key=target)
    forward = sorted((m for m in moves if target(m) > m[1]), key=target, reverse=True)
    ordered = [m[0] for m in back + forward]
    return [
        Action(a.kind, a.key, a.reason, {**a.data, "order": position})
        for position, a in enumerate(ordered, start=1)
    ]


def _decide(
    key: str,
    current: int,
    target: int,
    written: Mapping[str, int],
    opts: CalendarOptions,
    out: _Collector,
) -> str | None:
    """None: nothing to do; else the move's reason ("" for the plain one)."""
    if current == target:
        return None
    last = written.get(key)
    if last is None or current == last:
        return ""
    out.drifted.append(key)
    shown = f"{_show(current, opts.tz)}, phần mềm đã đặt {_show(last, opts.tz)}"
    if opts.drift == KEEP:
        out.conflicts.append(
            Conflict(
                key,
                DRIFT_KEPT,
                f"Ngày bị sửa tay trên Moodle ({shown}): giữ nguyên theo cấu hình "
                'calendar_drift = "keep"',
            )
        )
        return None
    return f"khôi phục: ngày bị sửa tay trên Moodle ({shown})"


def _show(epoch: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(epoch, tz).strftime("%d/%m/%Y %H:%M")


def _waiting_conflict(
    course: str,
    missing: Sequence[LmsEvent],
    copied_at: Mapping[str, int],
    now: int,
    opts: CalendarOptions,
    out: _Collector,
) -> Conflict:
    names = ", ".join(sorted({e.name for e in missing}))
    copied = copied_at.get(course)
    waited = None if copied is None else (now - copied) // 60
    if waited is not None and waited < opts.wait_minutes:
        return Conflict(
            course,
            WAITING,
            f"Khóa {course}: chờ Moodle tạo sự kiện của các hoạt động ({names}); "
            f"sao chép {waited} phút trước, lần đồng bộ sau sẽ dời ngày",
        )
    out.timed_out.append(course)
    since = "không rõ lúc sao chép" if waited is None else f"sao chép {waited} phút trước"
    return Conflict(
        course,
        WAIT_TIMEOUT,
        f"Khóa {course}: Moodle vẫn chưa tạo sự kiện của các hoạt động ({names}; {since}, "
        f"quá {opts.wait_minutes} phút): tác vụ nền (cron) của Moodle phải chạy — kiểm tra "
        "cron của máy chủ Moodle (admin/cli/cron.php), rồi đồng bộ lại",
    )


def _extension_notes(schedule: CourseSchedule) -> list[Conflict]:
    extended = {name: days for name, days in schedule.extensions.items() if days > 0}
    if not extended:
        return []
    classes = ", ".join(f"{name} (+{days} ngày)" for name, days in sorted(extended.items()))
    return [
        Conflict(
            schedule.course_idnumber,
            EXTENSION_NOTE,
            f"Khóa {schedule.course_idnumber}: gia hạn chấm của lớp {classes} không dời được "
            "hạn chấm của bài tập trên Moodle (một bài tập chung cho mọi lớp của khóa): "
            "Moodle vẫn hiện hạn chấm chung; hạn đã gia hạn có trong 'bdtx grading deadlines'",
        )
    ]


# -- virtual class ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ours:
    event: LmsEvent
    class_id: str
    number: int


def _our_events(events: Iterable[LmsEvent]) -> dict[tuple[str, int], _Ours]:
    found: dict[tuple[str, int], _Ours] = {}
    for event in sorted(events, key=lambda e: e.id):
        if event.eventtype != "group":
            continue
        match = _MARKER.search(event.description)
        if match:
            class_id = html.unescape(match["class_id"])
            number = int(match["number"])
            found.setdefault((class_id, number), _Ours(event, class_id, number))
    return found


def _meetings(
    schedule: CourseSchedule,
    calendars: CalendarActual,
    actual: ActualState,
    written: Mapping[str, int],
    opts: CalendarOptions,
    out: _Collector,
) -> list[Action]:
    course = schedule.course_idnumber
    ours = _our_events(calendars.events.get(course, ()))
    counts: dict[str, int] = {}
    for meeting in schedule.meetings:
        counts[meeting.class_id] = counts.get(meeting.class_id, 0) + 1
    actions = []
    for meeting in schedule.meetings:
        key = meeting_key(course, meeting.class_id, meeting.number)
        name = meeting_name(meeting, counts[meeting.class_id])
        found = ours.pop((meeting.class_id, meeting.number), None)
        if found is None:
            actions.append(
                Action(
                    ActionKind.CREATE_EVENT,
                    key,
                    f"lớp học ảo {_show(meeting.start, opts.tz)}, {meeting.duration // 60} phút",
                    {
                        "course_idnumber": course,
                        "group_idnumber": meeting.class_id,
                        "name": name,
                        "description": meeting_description(meeting),
                        "timestart": meeting.start,
                        "timeduration": meeting.duration,
                    },
                )
            )
            continue
        action = _meeting_change(course, key, meeting, found.event, actual, written, opts, out)
        if action is not None:
            actions.append(action)
    for stale in ours.values():
        out.conflicts.append(
            Conflict(
                meeting_key(course, stale.class_id, stale.number),
                STALE_EVENT,
                f"Khóa {course}: sự kiện lớp học ảo '{stale.event.name}' (id {stale.event.id}) "
                "không còn trong cấu hình: phần mềm không xóa; xóa trên Moodle nếu không cần",
            )
        )
    return actions


def _meeting_change(
    course: str,
    key: str,
    meeting: ClassMeeting,
    event: LmsEvent,
    actual: ActualState,
    written: Mapping[str, int],
    opts: CalendarOptions,
    out: _Collector,
) -> Action | None:
    tz = opts.tz
    link = _LINK.search(event.description)
    url = html.unescape(link["url"]) if link else ""
    group = actual.groups.get((course, meeting.class_id))
    changed = []
    if (
        datetime.fromtimestamp(event.timestart, tz).time()
        != datetime.fromtimestamp(meeting.start, tz).time()
    ):
        changed.append(f"giờ {_show(event.timestart, tz)} → {_show(meeting.start, tz)}")
    if event.timeduration != meeting.duration:
        changed.append(f"thời lượng {event.timeduration // 60} → {meeting.duration // 60} phút")
    if url != meeting.url:
        changed.append(f"đường dẫn {url or '(không có)'} → {meeting.url}")
    if group is not None and event.groupid != group.id:
        changed.append("nhóm khác")
    if changed:
        out.conflicts.append(
            Conflict(
                key,
                SLOT_CHANGED,
                f"Khóa {course}: lịch lớp học ảo '{event.name}' (id {event.id}) đã đổi "
                f"({'; '.join(changed)}). Moodle không cho sửa sự kiện qua dịch vụ web và "
                "phần mềm không xóa: xóa sự kiện này trên Moodle, lần đồng bộ sau tạo lại "
                "theo cấu hình",
            )
        )
        return None
    decision = _decide(key, event.timestart, meeting.start, written, opts, out)
    if decision is None:
        return None
    day = _local_day(meeting.start, tz)
    return Action(
        ActionKind.MOVE_EVENT,
        key,
        f"{event.name}: {_show(event.timestart, tz)} → {_show(meeting.start, tz)} "
        f"({decision or 'ngày lớp học ảo đổi trong cấu hình'})",
        {
            "course_idnumber": course,
            "eventid": event.id,
            "name": event.name,
            "daytimestamp": int(local_midnight(day, tz).timestamp()),
            "timestart": meeting.start,
            "from": event.timestart,
            "order": 1,
        },
    )
