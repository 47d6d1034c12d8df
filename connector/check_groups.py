"""``bdtx lms check``: are reporters limited to their own classes?

Each class is a group of a course in separate groups mode; a reporter is enrolled with
the teacher role of ``[provisioning] role_ids`` (4, the non-editing teacher). Moodle
lifts the group limits for anyone holding ``moodle/site:accessallgroups`` in the
course: stock Moodle gives it to editing teachers and managers, not to the non-editing
teacher, but a site may have changed the role.

No web service shows a role's definition (the ``core_role_*`` functions assign and
unassign only), so the check is a read-only observation instead: in a course of the
sync that has a reporter, ``core_enrol_get_enrolled_users`` with
``withcapability=moodle/site:accessallgroups`` (the service user needs
``moodle/role:review``, which the manager archetype has) lists who holds it there. A
participant whose only role in the course is the teacher role and who holds it means
the role (or an override for it) grants it. Before any course has a reporter, nothing
can be observed: the line says so. This is a warning, not a missing requirement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connector.check import MISSING, NOT_CHECKED, OK, WARNING, CheckLine, CheckReport
from connector.courses import GET_CATEGORIES, GET_COURSES_BY_FIELD, CourseInfo
from connector.enrol import GET_ENROLLED_USERS, EnrolledUser
from connector.errors import LmsConfigError, LmsError, LmsFunctionNotAvailable
from connector.lms import MoodleLms

ACCESS_ALL_GROUPS = "moodle/site:accessallgroups"
NEEDED_FUNCTIONS = (GET_CATEGORIES, GET_COURSES_BY_FIELD, GET_ENROLLED_USERS)


@dataclass(frozen=True)
class ReporterProbe:
    """Where to look: the teacher role the sync assigns, the categories of its courses."""

    teacher_roleid: int = 4
    category_idnumbers: tuple[str, ...] = ()
    max_courses: int = 3  # courses with a reporter looked at, at most (2 calls each)


def add_reporter_check(report: CheckReport, lms: MoodleLms, probe: ReporterProbe) -> None:
    """Append the line of :func:`check_reporter_groups` to a report of ``check_lms``."""
    missing = [
        line.name for line in report.lines if line.kind == "function" and line.status == MISSING
    ]
    report.lines.append(check_reporter_groups(lms, probe, missing))


def check_reporter_groups(
    lms: MoodleLms, probe: ReporterProbe, missing_functions: Sequence[str] = ()
) -> CheckLine:
    """One line: ok, warning, or not checked (and why)."""
    name = f"{ACCESS_ALL_GROUPS} not held by the teacher role {probe.teacher_roleid}"
    lacking = sorted(set(NEEDED_FUNCTIONS) & set(missing_functions))
    if lacking:
        return CheckLine("role", name, NOT_CHECKED, f"needs {', '.join(lacking)}")
    try:
        return _observe(lms, probe, name)
    except LmsFunctionNotAvailable as error:
        return CheckLine("role", name, NOT_CHECKED, f"its function is not available: {error}")
    except LmsConfigError as error:
        return CheckLine(
            "role",
            name,
            NOT_CHECKED,
            f"the service user may not review capabilities (moodle/role:review): {error}",
        )
    except LmsError as error:
        return CheckLine("role", name, NOT_CHECKED, f"probe inconclusive: {error}")


def _observe(lms: MoodleLms, probe: ReporterProbe, name: str) -> CheckLine:
    looked = 0
    for course in _courses(lms, probe.category_idnumbers):
        reporters = _reporters(
            lms.enrol.get_enrolled_users(course.id, userfields=("id", "roles")), probe
        )
        if not reporters:
            continue
        holders = lms.enrol.get_enrolled_users(
            course.id, userfields=("id", "roles"), withcapability=ACCESS_ALL_GROUPS
        )
        unlimited = reporters & {user.id for user in holders}
        if unlimited:
            return CheckLine(
                "role",
                name,
                WARNING,
                f"{len(unlimited)} of the {len(reporters)} reporters of {course.shortname} hold "
                f"it: the teacher role {probe.teacher_roleid} (or an override of it) lets a "
                "reporter see and grade every class of a course; remove the capability from "
                "the role (Site administration > Users > Define roles)",
            )
        looked += 1
        if looked >= probe.max_courses:
            break
    if not looked:
        return CheckLine(
            "role",
            name,
            NOT_CHECKED,
            "no course of the sync has a reporter yet: run the check again after provisioning",
        )
    return CheckLine(
        "role",
        name,
        OK,
        f"observed in {looked} course(s): reporters are limited to their classes",
    )


def _reporters(participants: Sequence[EnrolledUser], probe: ReporterProbe) -> set[int]:
    """Participants whose only role in the course is the teacher role."""
    return {
        user.id
        for user in participants
        if {role.roleid for role in user.roles} == {probe.teacher_roleid}
    }


def _courses(lms: MoodleLms, idnumbers: Sequence[str]) -> list[CourseInfo]:
    if not idnumbers:
        return []
    wanted = set(idnumbers)
    category_ids = sorted(c.id for c in lms.courses.get_categories() if c.idnumber in wanted)
    found: list[CourseInfo] = []
    for category_id in category_ids:
        found.extend(lms.courses.get_courses_by_field("category", category_id).courses)
    return sorted(found, key=lambda course: course.id)
