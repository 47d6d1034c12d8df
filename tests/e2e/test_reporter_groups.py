"""A reporter, with their own token, is limited to their own class (issue 7, item 2).

The sample province is provisioned for module 4 into the sandbox LMS; in the course
with the most classes, a reporter of one class acts with their own token, as the
Moodle app would. What Moodle 4.5 limits in a separate-groups course (and the sandbox
with it): the participant list and the user grade report. Assignment grading through
``mod_assign_save_grade`` is not group-checked by Moodle itself (see
tests/unit/sandbox/test_sandbox_separate_groups.py): the reporter grades the learners
the participant list and the grade report show them, those of their own class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox import MoodleError
from sandbox.state import Site
from tests.e2e.provisioning import Province, provisioned_sample
from tests.sandbox_acting import act_as

BEFORE_RUN = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Classroom:
    """A course, one reporter's class and another class of the same course."""

    course_id: int
    assign_id: int
    reporter: str  # username
    own: frozenset[int]  # learner ids of the reporter's class
    other: frozenset[int]  # learner ids of another class
    own_group: int
    other_group: int


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    province = provisioned_sample(tmp_path_factory.mktemp("province"), BEFORE_RUN)
    ctx = province.ctx
    # Reporters act while their enrolments run (Moodle's course grade report lists active
    # enrolments only).
    in_the_run = dt.datetime(2023, 9, 20, 8, 0, tzinfo=dt.UTC).timestamp()
    ctx.sandbox().clock = lambda: in_the_run
    yield province
    ctx.close()


def _classroom(site: Site) -> Classroom:
    """In the course with the most classes, the first class with a reporter of its own."""
    courses = [c for c in site.courses.values() if c.idnumber.startswith("BDTX-")]
    course = max(courses, key=lambda c: (len(site.groups_of_course[c.id]), -c.id))
    roles = site.role_assignments[("course", course.id)]
    groups = sorted(site.groups_of_course[course.id])
    students = {g: {u for u in site.group_members[g] if roles.get(u) == [5]} for g in groups}
    for group in groups:
        reporters = sorted(
            u
            for u in site.group_members[group]
            if roles.get(u) == [4] and len(site.user_groups_in_course(course.id, u)) == 1
        )
        if reporters and students[group]:
            other = next(g for g in groups if g != group and students[g])
            assign = next(
                a.instance for a in site.course_activities(course) if a.modname == "assign"
            )
            return Classroom(
                course.id,
                assign,
                site.users[reporters[0]].username,
                frozenset(students[group]),
                frozenset(students[other]),
                group,
                other,
            )
    raise AssertionError("no class with a reporter of its own")


def _as_reporter(province: Province, room: Classroom, function: str, **params: Any) -> Any:
    sandbox = province.ctx.sandbox()
    sandbox.issue_token(room.reporter)
    return act_as(sandbox, room.reporter, function, params)


def _refused(province: Province, room: Classroom, function: str, **params: Any) -> MoodleError:
    with pytest.raises(MoodleError) as caught:
        _as_reporter(province, room, function, **params)
    return caught.value


def test_the_course_is_in_separate_forced_groups(province: Province) -> None:
    site = province.site
    room = _classroom(site)
    course = site.courses[room.course_id]
    assert (course.groupmode, course.groupmodeforce) == (1, 1)
    assert len(site.groups_of_course[course.id]) >= 2


def test_reporter_sees_only_their_own_class_among_the_participants(province: Province) -> None:
    room = _classroom(province.site)
    found = _as_reporter(
        province,
        room,
        "core_enrol_get_enrolled_users",
        courseid=room.course_id,
        options=[{"name": "userfields", "value": "id,roles"}],
    )
    learners = {p["id"] for p in found if [r["roleid"] for r in p["roles"]] == [5]}
    assert learners == room.own
    assert not learners & room.other
    refused = _refused(
        province,
        room,
        "core_enrol_get_enrolled_users",
        courseid=room.course_id,
        options=[{"name": "groupid", "value": room.other_group}],
    )
    assert refused.errorcode == "nopermissions"


def test_reporter_grades_their_class_and_cannot_see_another_class_grades(
    province: Province,
) -> None:
    room = _classroom(province.site)
    learner = min(room.own)
    _as_reporter(
        province,
        room,
        "mod_assign_save_grade",
        assignmentid=room.assign_id,
        userid=learner,
        grade=80,
        attemptnumber=-1,
        addattempt=0,
        workflowstate="",
        applytoall=1,
    )
    report = _as_reporter(
        province, room, "gradereport_user_get_grade_items", courseid=room.course_id
    )
    shown = {u["userid"] for u in report["usergrades"]}
    assert shown == room.own
    graded = next(u for u in report["usergrades"] if u["userid"] == learner)
    final = next(
        i
        for i in graded["gradeitems"]
        if (i["itemmodule"], i["iteminstance"]) == ("assign", room.assign_id)
    )
    assert final["graderaw"] == 80
    for params in ({"userid": min(room.other)}, {"groupid": room.other_group}):
        error = _refused(
            province, room, "gradereport_user_get_grade_items", courseid=room.course_id, **params
        )
        assert (error.errorcode, error.message) == ("notingroup", "error/notingroup")


def test_the_service_user_still_reads_every_class(province: Province) -> None:
    room = _classroom(province.site)
    sandbox = province.ctx.sandbox()
    report = act_as(
        sandbox, "syncbot", "gradereport_user_get_grade_items", {"courseid": room.course_id}
    )
    shown = {u["userid"] for u in report["usergrades"]}
    assert room.own | room.other <= shown
