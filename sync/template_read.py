"""Reading a template course's activities and dates for ``bdtx lms check``.

Per template: one ``core_course_get_courses_by_field`` (by shortname), one
``core_course_get_contents`` (activities, their dates and access restrictions), one
``mod_assign_get_assignments`` (cut-off, "allow submissions from" and grading-due dates,
which the contents do not show) and one ``core_course_get_course_module`` per activity
(the ID numbers, which Moodle 4.5's contents lack; the completion tracking and
visibility of the "module completed" activity). A section's own restriction is not in
any answer while the section is open to the service user; Moodle's text about it is
reported when it is there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from connector.lms import MoodleLms
from scheduler.validation import TemplateActivity


def availability_dates(availability: str | None) -> tuple[int, ...]:
    """The dates of the date conditions of an availability JSON (nested sets included)."""
    if not availability:
        return ()
    try:
        tree = json.loads(availability)
    except ValueError:
        return ()
    return tuple(sorted(_dates(tree)))


def _dates(node: object) -> Iterator[int]:
    if isinstance(node, dict):
        if node.get("type") == "date" and isinstance(node.get("t"), int):
            yield node["t"]
        for child in node.get("c", ()) or ():
            yield from _dates(child)


def read_templates(lms: MoodleLms, shortnames: Iterable[str]) -> dict[str, list[TemplateActivity]]:
    """Each template found, by shortname -> its activities (with ID numbers)."""
    found: dict[str, list[TemplateActivity]] = {}
    for shortname in sorted(set(shortnames)):
        courses = [
            c
            for c in lms.courses.get_courses_by_field("shortname", shortname).courses
            if c.shortname == shortname
        ]
        if not courses:
            continue
        course = courses[0]
        assignments = {a.cmid: a for a in lms.assignments.get_assignments([course.id]).assignments}
        activities = []
        for section in lms.courses.get_contents(course.id):
            for module in section.modules:
                dates = {d.dataid: d.timestamp for d in module.dates if d.dataid}
                assignment = assignments.get(module.id)
                if assignment is not None:
                    dates.update(
                        duedate=assignment.duedate,
                        gradingduedate=assignment.gradingduedate,
                        cutoffdate=assignment.cutoffdate,
                        allowsubmissionsfromdate=assignment.allowsubmissionsfromdate,
                    )
                details = lms.courses.get_course_module(module.id)
                activities.append(
                    TemplateActivity(
                        modname=module.modname,
                        name=module.name,
                        idnumber=details.idnumber or "",
                        dates=dates,
                        restricted_on=availability_dates(
                            module.availability or details.availability
                        ),
                        section=section.name,
                        section_restriction=section.availabilityinfo or "",
                        completion=details.completion,
                        visible=details.visible,
                    )
                )
        found[shortname] = activities
    return found
