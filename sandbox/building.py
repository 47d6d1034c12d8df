"""Site-building operations shared by the handlers and the fixtures.

Creating a course with its sections and news forum, copying a course's activities
into another course (what duplicate and import do), and the calendar events each
activity owns. Backup/restore keeps activity dates absolute: a copy does not move them
when its course starts on another day, as the recorded date-shift experiment showed.
"""

from __future__ import annotations

import copy

from sandbox.state import Activity, Course, Event, Section, Site

MODULE_IDS = {"assign": 1, "feedback": 7, "forum": 9, "page": 15, "quiz": 17}


def new_course(
    site: Site, course: Course, numsections: int, section_names: dict[int, str]
) -> Course:
    """Insert ``course`` (its id already taken) with sections 0..numsections."""
    course.contextid = site.ids.take("context")
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
) -> None:
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


def add_activity_events(site: Site, activity: Activity, userid: int, now: int) -> None:
    """The calendar events of an activity's dates (open/close, due/gradingdue)."""
    s = activity.settings
    name = activity.name
    if activity.modname in ("quiz", "feedback"):
        if s.get("timeopen"):
            _event(site, activity, "open", f"{name} opens", s["timeopen"], userid, now)
        if s.get("timeclose"):
            _event(site, activity, "close", f"{name} closes", s["timeclose"], userid, now)
    elif activity.modname == "assign":
        if s.get("duedate"):
            _event(site, activity, "due", f"{name} is due", s["duedate"], userid, now)
        if s.get("gradingduedate"):
            _event(
                site,
                activity,
                "gradingdue",
                f"{name} is due to be graded",
                s["gradingduedate"],
                userid,
                now,
            )


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
            add_activity_events(site, clone, userid, now)
