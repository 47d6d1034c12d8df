"""Configured runs that cannot work, each refused with one message naming the run and the key.

Two families:

* :func:`validate_runs` needs only the configuration; ``config/settings.py`` calls it, so
  settings with such a run are never loaded;
* :func:`check_templates` needs facts only the LMS has (does the template exist, which
  activities and dates does it hold); the caller reads them (``bdtx lms check``) and passes
  them in as plain data.

**Overlapping runs.** A learner studies a run during its days 1-16 (then only reporters
work, grading). Two runs overlap *for the same learners* when they share a level and an
audience (e.g. THCS GV) and their days 1-16 share a day: the same teachers would study two
modules at once. Runs of different levels or audiences may share days; a run may start
the day after another's day 16 (the Bình Phước plan starts modules 4, 5 and 9 four weeks
apart, so even their grading windows do not meet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from itertools import combinations, product
from typing import TYPE_CHECKING

from scheduler.schedule import local_date
from scheduler.timeline import run_timeline, slot_start

if TYPE_CHECKING:
    from config.settings import RunSettings

STUDY_DAYS = 16


@dataclass(frozen=True, slots=True)
class RunProblem:
    """Why a run cannot work: ``key`` is the setting inside ``runs[run_id]``.

    Template findings also name the ``activity`` (or section) concerned, and a
    ``severity``: ``error`` (a date the schedule push cannot set, an activity the software
    cannot find) or ``warning`` (works, but not as it should).
    """

    run_id: str
    key: str
    message: str
    activity: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        return f"runs[{self.run_id}].{self.key}: {self.message}"


def validate_runs(runs: Sequence[RunSettings], tz: tzinfo) -> list[RunProblem]:
    """Every problem of the configured runs, in configuration order; ``tz``: the site's zone."""
    problems = _duplicate_ids(runs)
    for run in runs:
        problems += _reminder_problems(run)
        problems += _slot_problems(run, tz)
        problems += _lock_date_problems(run)
    problems += _overlaps(runs)
    return problems


def last_study_day(run: RunSettings) -> date:
    """Day 16: the last day learners study."""
    return run.start + timedelta(days=STUDY_DAYS - 1)


def _duplicate_ids(runs: Sequence[RunSettings]) -> list[RunProblem]:
    seen: set[str] = set()
    problems = []
    for run in runs:
        if run.id in seen:
            problems.append(RunProblem(run.id, "id", "two runs have this id; each needs its own"))
        seen.add(run.id)
    return problems


def _reminder_problems(run: RunSettings) -> list[RunProblem]:
    wrong = [days for days in run.reminder_days if not 1 <= days <= run.grading_days]
    if not wrong:
        return []
    return [
        RunProblem(
            run.id,
            "reminder_days",
            f"{', '.join(map(str, wrong))}: a reminder comes 1 to grading_days "
            f"({run.grading_days}) days before the grading deadline",
        )
    ]


def _slot_problems(run: RunSettings, tz: tzinfo) -> list[RunProblem]:
    timeline = run_timeline(run, tz)
    window = timeline.virtual_class
    first, last = window.start.date(), window.end.date() - timedelta(days=1)
    problems = []
    for number, slot in enumerate(run.virtual_class, start=1):
        key = f"virtual_class[{number}]"
        start = slot_start(slot, tz)
        end = start + timedelta(minutes=slot.duration_minutes)
        if not (window.start <= start and end <= window.end):
            day = (local_date(start, tz) - run.start).days + 1
            problems.append(
                RunProblem(
                    run.id,
                    f"{key}.start",
                    f"{start:%Y-%m-%d %H:%M} (day {day}, {slot.duration_minutes} minutes) is "
                    f"not within the virtual class, days 8-9: {first} to {last}",
                )
            )
        if slot.classes and slot.clusters:
            problems.append(RunProblem(run.id, key, "name classes or clusters, not both"))
        foreign = [c for c in slot.classes if not c.startswith(f"{run.id}/")]
        if foreign:
            problems.append(
                RunProblem(
                    run.id,
                    f"{key}.classes",
                    f"{', '.join(foreign)}: not classes of this run (their ids start with "
                    f"'{run.id}/')",
                )
            )
    return problems


def _lock_date_problems(run: RunSettings) -> list[RunProblem]:
    if run.unit_lock_date is None or run.unit_lock_date <= last_study_day(run):
        return []
    return [
        RunProblem(
            run.id,
            "unit_lock_date",
            f"{run.unit_lock_date} is after the run's last day ({last_study_day(run)}): "
            "it would lock nothing",
        )
    ]


def _overlaps(runs: Sequence[RunSettings]) -> list[RunProblem]:
    problems = []
    ordered = sorted(enumerate(runs), key=lambda item: (item[1].start, item[0]))
    for (_, earlier), (_, later) in combinations(ordered, 2):
        shared = _learner_groups(earlier) & _learner_groups(later)
        if shared and later.start <= last_study_day(earlier):
            groups = ", ".join(f"{level} {audience}" for level, audience in sorted(shared))
            problems.append(
                RunProblem(
                    later.id,
                    "start",
                    f"{later.start} falls within run {earlier.id} ({earlier.start} to "
                    f"{last_study_day(earlier)}, days 1-16): {groups} would study two "
                    "modules at once",
                )
            )
    return problems


def _learner_groups(run: RunSettings) -> set[tuple[str, str]]:
    return set(product(run.levels, run.audiences))


# -- checks against the LMS's template courses -------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateActivity:
    """An activity of a template course, as the LMS reports it."""

    modname: str  # "assign", "quiz", "feedback", ...
    name: str
    # None: not read (core_course_get_contents does not give it; core_course_get_course_module
    # does); "" the activity has none.
    idnumber: str | None = None
    # Its dates, field -> epoch seconds ("duedate", "timeopen", "cutoffdate", ...); 0: not set.
    dates: Mapping[str, int] = field(default_factory=dict)
    # The dates of its access restrictions ("available from / until", availability JSON).
    restricted_on: tuple[int, ...] = ()
    # Its section's name, and what Moodle says of the section's restriction, if anything.
    section: str = ""
    section_restriction: str = ""
    # Its completion tracking (0 none, 1 manual, 2 automatic) and whether learners see it;
    # None: not read.
    completion: int | None = None
    visible: bool | None = None


# Dates the schedule push moves (each has a calendar event); the others stay as in the
# template, and block moves past them.
MOVABLE_DATES = frozenset({"duedate", "gradingduedate", "timeopen", "timeclose"})
DATED_MODULES = frozenset({"assign", "quiz", "feedback"})
_NEEDED_FOR = {
    "module_completed": " (needed by the completion write-back: add an activity with manual "
    "completion and this ID number)"
}
_FIXED_DATES = {
    "cutoffdate": (
        "error",
        "cut-off date: no web service moves it, and Moodle refuses to move the due date "
        "past it; clear 'Cut-off date' in the template (a late submission can be refused "
        "by the due date alone, or allowed per learner with an extension)",
    ),
    "allowsubmissionsfromdate": (
        "warning",
        "'Allow submissions from' date: no web service moves it, and Moodle refuses to move "
        "the due date before it (a run earlier than the template); clear it in the template",
    ),
}


def check_templates(
    runs: Iterable[RunSettings], templates: Mapping[str, Sequence[TemplateActivity]]
) -> list[RunProblem]:
    """Problems of the runs' template courses; ``templates``: the LMS's courses by shortname
    (only those found) -> their activities. The configured activity ID numbers are checked
    only when the activities' ID numbers were read."""
    problems = []
    for run in runs:
        activities = templates.get(run.template_course)
        if activities is None:
            problems.append(
                RunProblem(
                    run.id,
                    "template_course",
                    f"no course with shortname {run.template_course!r} on the LMS",
                )
            )
            continue
        if not any(moment for activity in activities for moment in activity.dates.values()):
            problems.append(
                RunProblem(
                    run.id,
                    "template_course",
                    f"template {run.template_course!r} has no dated activity (due date, "
                    "open or close time) to move to the run's dates",
                )
            )
        else:
            problems += _activity_problems(run, activities)
        idnumbers = {activity.idnumber for activity in activities}
        if idnumbers <= {None}:
            continue
        problems += _module_completed_problems(run, activities)
        for key, idnumber in run.activities.model_dump().items():
            if idnumber not in idnumbers:
                problems.append(
                    RunProblem(
                        run.id,
                        f"activities.{key}",
                        f"template {run.template_course!r} has no activity with ID number "
                        f"{idnumber!r}" + _NEEDED_FOR.get(key, ""),
                        activity=idnumber,
                        severity="warning" if key == "module_completed" else "error",
                    )
                )
    return problems


def _module_completed_problems(
    run: RunSettings, activities: Sequence[TemplateActivity]
) -> list[RunProblem]:
    """What the completion write-back needs of its activity (seen on real Moodle 4.5): an
    override of an activity without completion tracking changes nothing (no error), and a
    learner may tick a visible manual activity, so the course completes without a decision."""
    key = "activities.module_completed"
    problems = []
    for activity in activities:
        if activity.idnumber != run.activities.module_completed:
            continue
        if activity.completion == 0:
            problems.append(
                RunProblem(
                    run.id,
                    key,
                    "no completion tracking: Moodle's override changes nothing on it, so the "
                    "completion write-back fails; set 'Students can manually mark the "
                    "activity as completed'",
                    activity.name,
                )
            )
        elif activity.completion == 2:
            problems.append(
                RunProblem(
                    run.id,
                    key,
                    "automatic completion: learners complete it by its own condition, "
                    "not only by the write-back; set manual completion and hide it",
                    activity.name,
                    "warning",
                )
            )
        if activity.visible and activity.completion != 0:
            problems.append(
                RunProblem(
                    run.id,
                    key,
                    "visible to learners: learners can mark it complete themselves, and the "
                    "course completion follows without the Sở's decision; hide it",
                    activity.name,
                )
            )
    return problems


def _activity_problems(
    run: RunSettings, activities: Sequence[TemplateActivity]
) -> list[RunProblem]:
    """Per activity: what the schedule push cannot move, and what to change."""
    problems = []
    key = "template_course"
    restricted_sections: set[str] = set()
    for activity in activities:
        for name, (severity, fix) in _FIXED_DATES.items():
            if activity.dates.get(name):
                problems.append(RunProblem(run.id, key, fix, activity.name, severity))
        if activity.restricted_on:
            problems.append(
                RunProblem(
                    run.id,
                    key,
                    "access restricted by date: no web service moves the restriction; remove "
                    "it in the template and use the activity's own open / close dates",
                    activity.name,
                )
            )
        if activity.section_restriction and activity.section not in restricted_sections:
            restricted_sections.add(activity.section)
            problems.append(
                RunProblem(
                    run.id,
                    key,
                    f"section restricted ({activity.section_restriction}): a date restriction "
                    "cannot be moved by web services; remove it in the template",
                    f"section {activity.section!r}",
                )
            )
        if activity.modname == "assign" and activity.dates.get("gradingduedate", -1) == 0:
            problems.append(
                RunProblem(
                    run.id,
                    key,
                    "no 'Remind me to grade by' date: Moodle's timeline cannot show reporters "
                    "their grading deadline; set one in the template (the push moves it to "
                    "the run's grading deadline)",
                    activity.name,
                    "warning",
                )
            )
        movable = [d for d, when in activity.dates.items() if when and d in MOVABLE_DATES]
        if activity.modname in DATED_MODULES and not movable:
            problems.append(
                RunProblem(
                    run.id,
                    key,
                    "no due, open or close date: nothing to move, learners may use it at "
                    "any time; set its dates in the template if the run's phases should apply",
                    activity.name,
                    "warning",
                )
            )
    return problems
