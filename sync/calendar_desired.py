"""What each run course's calendar must show, from the stored classes and the runs (pure).

The same course mapping as :mod:`sync.desired` (one course per run x level x audience x
subject); dates from :func:`scheduler.timeline.run_timeline`; the virtual-class meetings of
each class from ``meetings_for(class_id, clusters)``, the clusters being those of the
schools of the class's learners.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import tzinfo

from config.settings import RunSettings
from scheduler.schedule import LOCAL_TZ
from scheduler.timeline import run_timeline
from sync.calendar import ClassMeeting, CourseSchedule
from sync.desired import CourseKey, RosterSnapshot, course_idnumber


def build_schedules(
    snapshot: RosterSnapshot,
    runs: Iterable[RunSettings],
    prefix: str,
    tz: tzinfo = LOCAL_TZ,
) -> list[CourseSchedule]:
    """One :class:`CourseSchedule` per run course that has a class."""
    runs_by_id = {run.id: run for run in runs}
    clusters = _clusters_of_classes(snapshot)
    meetings: dict[str, list[ClassMeeting]] = {}
    extensions: dict[str, dict[str, int]] = {}
    heads: dict[str, tuple[RunSettings, str]] = {}
    for klass in sorted(snapshot.classes, key=lambda c: c.id):
        run = runs_by_id.get(klass.run_id)
        if run is None:
            continue
        course = course_idnumber(
            prefix, CourseKey(run.id, klass.level, klass.audience, klass.subject)
        )
        heads.setdefault(course, (run, run.template_course))
        timeline = run_timeline(run, tz)
        for number, meeting in enumerate(
            timeline.meetings_for(klass.id, clusters.get(klass.id, ())), start=1
        ):
            meetings.setdefault(course, []).append(
                ClassMeeting(
                    class_id=klass.id,
                    class_name=klass.name,
                    number=number,
                    start=int(meeting.start.timestamp()),
                    duration=int((meeting.end - meeting.start).total_seconds()),
                    url=meeting.meeting_url,
                )
            )
        extensions.setdefault(course, {})[klass.name] = klass.grading_extension_days
    schedules = []
    for course, (run, template) in sorted(heads.items()):
        timeline = run_timeline(run, tz)
        schedules.append(
            CourseSchedule(
                course_idnumber=course,
                run_id=run.id,
                template_shortname=template,
                day1=run.start,
                grading_due=int(timeline.grading_due().timestamp()),
                meetings=tuple(meetings.get(course, ())),
                extensions=extensions.get(course, {}),
            )
        )
    return schedules


def _clusters_of_classes(snapshot: RosterSnapshot) -> Mapping[str, tuple[str, ...]]:
    """The school clusters of each class's learners."""
    found: dict[str, set[str]] = {}
    for seat in snapshot.seats:
        person = snapshot.people.get(seat.identity_code)
        school = snapshot.schools.get(person.school_code) if person else None
        if school is not None and school.cluster:
            found.setdefault(seat.class_id, set()).add(school.cluster)
    return {class_id: tuple(sorted(names)) for class_id, names in found.items()}
