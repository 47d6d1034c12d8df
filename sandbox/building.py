"""Site-building operations shared by the handlers and the fixtures.

Creating a course with its sections and news forum, copying a course's activities
into another course (what duplicate and import do), and the calendar events each
activity owns. Backup/restore keeps activity dates absolute: a copy does not move them
when its course starts on another day, as the recorded date-shift experiment showed.

As recorded (``_meta__date_shift_experiment.json``), a restore creates only the "open"
events of the copied activities (quiz and feedback opening); the others (assignment due
and grading due, closings) appear when Moodle's background task
``refresh_mod_calendar_events_task`` has run, which :func:`copy_activities` queues.
"""

from __future__ import annotations

import copy

from sandbox.state import Activity, BackgroundTask, Course, Event, Section, Site

REFRESH_CALENDAR_EVENTS = "refresh_mod_calendar_events"

MODULE_IDS = {"assign": 1, "feedback": 7, "forum": 9, "page": 15, "quiz": 17}


def new_course(
    site: Site, course: Course, numsections: int, section_names: dict[int, str]
) -> Course:
    """Insert ``course`` (its id already taken) with sections 0..numsections."""
    course.contextid = site.ids.take("context")
    course.gradecategory = site.ids.take("grade_categories")
    category = site.categories.get(course.category)
    course.sortorder = (
        (category.sortorder if category else 0)
        + 1
        + len([c for c in site.courses.values() if c.category == course.category])
    )
    site.add_course(course)
    for number in range(numsections + 1):
        site.add_section(
            Section(
                id=site.ids.take("section"),
                course=course.id,
                number=number,
                name=section_names.get(number),
            )
        )
    return course


def section_by_number(site: Site, course: Course, number: int) -> Section:
    """The section ``number`` of a course, created if missing."""
    for section in site.course_sections(course):
        if section.number == number:
            return section
    return site.add_section(Section(id=site.ids.take("section"), course=course.id, number=number))


def add_news_forum(site: Site, course: Course, now: int) -> Activity:
    """The Announcements forum Moodle adds to a course with news items."""
    return site.add_activity(
        Activity(
            cmid=site.ids.take("course_modules"),
            course=course.id,
            section=section_by_number(site, course, 0).id,
            modname="forum",
            instance=site.ids.take("forum"),
            name="Announcements",
            added=now,
            timemodified=now,
            contextid=site.ids.take("context"),
            settings={"type": "news", "trackingtype": 1},
        )
    )


def _event(
    site: Site, activity: Activity, eventtype: str, name: str, when: int, userid: int, now: int
) -> Event:
    intro = activity.intro
    description = (
        intro if activity.modname == "assign" else f'<div class="no-overflow">{intro}</div>'
    )
    event = Event(
        id=site.ids.take("event"),
        name=name,
        eventtype=eventtype,
        timestart=when,
        description=description,
        courseid=activity.course,
        userid=userid,
        modulename=activity.modname,
        instance=activity.instance,
        timemodified=now,
        timesort=when,
        component=f"mod_{activity.modname}",
    )
    site.events[event.id] = event
    return event


# Per module: (event type, the setting holding its date, the name's suffix).
ACTIVITY_EVENTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "assign": (
        ("due", "duedate", "is due"),
        ("gradingdue", "gradingduedate", "is due to be graded"),
    ),
    "feedback": (("open", "timeopen", "opens"), ("close", "timeclose", "closes")),
    "quiz": (("open", "timeopen", "opens"), ("close", "timeclose", "closes")),
}
# Which date setting an event type of a module stands for.
EVENT_SETTING = {
    (modname, eventtype): setting
    for modname, kinds in ACTIVITY_EVENTS.items()
    for eventtype, setting, _ in kinds
}


def add_activity_events(
    site: Site, activity: Activity, userid: int, now: int, *, restoring: bool = False
) -> None:
    """The calendar events of an activity's dates (open/close, due/gradingdue).

    ``restoring``: only the "open" events, as a backup restore creates them.
    """
    for eventtype, setting, suffix in ACTIVITY_EVENTS.get(activity.modname, ()):
        when = activity.settings.get(setting)
        if when and (eventtype == "open" or not restoring):
            _event(site, activity, eventtype, f"{activity.name} {suffix}", when, userid, now)


# Modules whose event refresh rewrites its events as the user running it; the feedback's
# keeps their author (recorded: event 10 stays syncbot's after the admin's cron, while the
# quiz's events 9 and 26 become the admin's, then syncbot's after syncbot moved event 9).
REFRESH_TAKES_USER = frozenset({"assign", "quiz"})


def refresh_activity_events(site: Site, activity: Activity, userid: int, now: int) -> None:
    """An activity's event refresh (``refresh_mod_calendar_events_task`` runs it per
    activity): missing events are created, existing ones rewritten from the dates."""
    existing = {
        event.eventtype: event
        for event in site.events.values()
        if event.modulename == activity.modname and event.instance == activity.instance
    }
    for eventtype, setting, suffix in ACTIVITY_EVENTS.get(activity.modname, ()):
        when = activity.settings.get(setting)
        event = existing.get(eventtype)
        if not when:
            if event is not None:
                del site.events[event.id]
        elif event is None:
            _event(site, activity, eventtype, f"{activity.name} {suffix}", when, userid, now)
        else:
            event.timestart = event.timesort = when
            event.timemodified = now
            if activity.modname in REFRESH_TAKES_USER:
                event.userid = userid


def number_items(site: Site, activity: Activity) -> None:
    """Give a feedback activity's questions fresh ids."""
    for item in activity.settings.get("items", []):
        item["id"] = site.ids.take("feedback_item")


def copy_activities(
    site: Site,
    source: Course,
    target: Course,
    *,
    userid: int,
    now: int,
    copy_section_settings: bool,
) -> None:
    """Copy every activity of ``source`` into the same-numbered sections of ``target``.

    Dates are copied as they are (absolute). Section names are copied; the section
    availability only when ``copy_section_settings`` (a fresh course, not a merge).
    """
    for source_section in site.course_sections(source):
        target_section = section_by_number(site, target, source_section.number)
        if source_section.name and (copy_section_settings or not target_section.name):
            target_section.name = source_section.name
        if copy_section_settings:
            target_section.availability = source_section.availability
            target_section.summary = source_section.summary
        for cmid in source_section.modules:
            original = site.activities[cmid]
            if original.modname == "forum" and original.settings.get("type") == "news":
                continue
            clone = copy.deepcopy(original)
            clone.cmid = site.ids.take("course_modules")
            clone.course = target.id
            clone.section = target_section.id
            clone.instance = site.ids.take(original.modname)
            clone.added = now
            clone.contextid = site.ids.take("context")
            number_items(site, clone)
            site.add_activity(clone)
            add_activity_events(site, clone, userid, now, restoring=True)
    site.background_tasks.append(BackgroundTask(REFRESH_CALENDAR_EVENTS, target.id))
