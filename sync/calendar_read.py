"""Reading the calendars the schedule push compares: the templates' and the run courses'.

Per sync: one ``core_course_get_courses_by_field`` per template (its id and start date),
then one ``core_calendar_get_calendar_events`` for the templates, every existing run
course and every group of those courses (user events left on: Moodle returns group events
only then; site events off). Nothing per learner, nothing per course.
"""

from __future__ import annotations

from collections.abc import Iterable

from connector.calendar import CalendarEvent
from connector.lms import MoodleLms
from sync.calendar import CalendarActual, CourseSchedule, LmsEvent, TemplateCalendar
from sync.model import ActualState


def _event(event: CalendarEvent) -> LmsEvent:
    return LmsEvent(
        id=event.id,
        name=event.name,
        eventtype=event.eventtype,
        timestart=event.timestart,
        timeduration=event.timeduration,
        courseid=event.courseid or 0,
        groupid=event.groupid or 0,
        modulename=event.modulename or "",
        instance=event.instance or 0,
        description=event.description,
    )


def read_calendars(
    lms: MoodleLms, schedules: Iterable[CourseSchedule], actual: ActualState
) -> CalendarActual:
    wanted = list(schedules)
    if not wanted:
        return CalendarActual(templates={}, events={})
    templates: dict[str, tuple[int, int] | None] = {}
    for shortname in sorted({s.template_shortname for s in wanted}):
        found = [
            c
            for c in lms.courses.get_courses_by_field("shortname", shortname).courses
            if c.shortname == shortname
        ]
        templates[shortname] = (found[0].id, found[0].startdate) if found else None
    courses = {
        s.course_idnumber: actual.courses[s.course_idnumber].id
        for s in wanted
        if s.course_idnumber in actual.courses
    }
    group_ids = sorted(
        g.id for (course, _), g in actual.groups.items() if course in courses and g.id
    )
    course_ids = sorted({*courses.values(), *(t[0] for t in templates.values() if t)})
    listed = (
        lms.calendar.get_calendar_events(
            courseids=course_ids, groupids=group_ids, siteevents=False
        ).events
        if course_ids
        else ()
    )
    by_course: dict[int, list[LmsEvent]] = {}
    for event in listed:
        if event.eventtype in ("site", "user", "category"):
            continue
        by_course.setdefault(event.courseid or 0, []).append(_event(event))
    return CalendarActual(
        templates={
            shortname: TemplateCalendar(found[1], tuple(by_course.get(found[0], ())))
            if found
            else None
            for shortname, found in templates.items()
        },
        events={idnumber: tuple(by_course.get(cid, ())) for idnumber, cid in courses.items()},
    )
