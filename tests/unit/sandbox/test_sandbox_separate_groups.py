"""Separate groups: what a non-editing teacher of one group sees, as Moodle 4.5 does.

Course ``K-GR`` (a copy of the template) has two groups: G1 = {L1, L2, teacher A} and
G2 = {L3, teacher B}; teacher C is in no group. Moodle (lib/grouplib.php and the
functions' own code) restricts a caller without ``moodle/site:accessallgroups`` in a
separate-groups course: the participant list and the user grade report are limited to
their groups. The assignment functions check ``mod/assign:grade`` only, so they are not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from sandbox import MoodleError, SandboxLms
from sandbox.state import Site

STUDENT, TEACHER = 5, 4


@dataclass
class Course:
    lms: SandboxLms
    id: int
    assign_id: int
    users: dict[str, int]  # username -> id
    groups: dict[str, int]  # G1/G2 -> id

    def call(self, username: str, function: str, params: dict[str, Any]) -> Any:
        return self.lms.call(function, params, token=self.lms.token_for(username))

    def names(self, records: list[dict[str, Any]], key: str = "id") -> set[str]:
        by_id = {uid: name for name, uid in self.users.items()}
        return {by_id[record[key]] for record in records}

    @property
    def site(self) -> Site:
        return self.lms.site


def _course(groupmode: int) -> Course:
    lms = SandboxLms()
    bot = lms.token_for("syncbot")
    site = lms.site
    template = site.course_by_shortname["TPL-MODULE"]
    copy = lms.call(
        "core_course_duplicate_course",
        {
            "courseid": template,
            "fullname": "K-GR",
            "shortname": "K-GR",
            "categoryid": site.courses[template].category,
        },
        token=bot,
    )
    course_id = copy["id"]
    lms.call(
        "core_course_update_courses",
        {"courses": [{"id": course_id, "groupmode": groupmode, "groupmodeforce": 1}]},
        token=bot,
    )
    names = ["l1", "l2", "l3", "teacher.a", "teacher.b", "teacher.c"]
    created = lms.call(
        "core_user_create_users",
        {
            "users": [
                {
                    "username": name,
                    "password": "Hv#2026abcd",
                    "firstname": name,
                    "lastname": "X",
                    "email": f"{name}@school.edu.vn",
                }
                for name in names
            ]
        },
        token=bot,
    )
    users = {record["username"]: record["id"] for record in created}
    lms.call(
        "enrol_manual_enrol_users",
        {
            "enrolments": [
                {
                    "roleid": TEACHER if name.startswith("teacher") else STUDENT,
                    "userid": users[name],
                    "courseid": course_id,
                }
                for name in names
            ]
        },
        token=bot,
    )
    made = lms.call(
        "core_group_create_groups",
        {"groups": [{"courseid": course_id, "name": g, "description": ""} for g in ("G1", "G2")]},
        token=bot,
    )
    groups = {record["name"]: record["id"] for record in made}
    members = {"G1": ["l1", "l2", "teacher.a"], "G2": ["l3", "teacher.b"]}
    lms.call(
        "core_group_add_group_members",
        {
            "members": [
                {"groupid": groups[g], "userid": users[name]}
                for g, names_in in members.items()
                for name in names_in
            ]
        },
        token=bot,
    )
    for name in names:
        lms.issue_token(name)
    assign = next(
        a.instance for a in site.course_activities(site.courses[course_id]) if a.modname == "assign"
    )
    return Course(lms, course_id, assign, users, groups)


@pytest.fixture
def separate() -> Course:
    return _course(groupmode=1)


def _error(call: Any) -> MoodleError:
    with pytest.raises(MoodleError) as caught:
        call()
    return caught.value


def _participants(course: Course, username: str, **options: object) -> set[str]:
    found = course.call(
        username,
        "core_enrol_get_enrolled_users",
        {
            "courseid": course.id,
            "options": [{"name": k, "value": v} for k, v in options.items()],
        },
    )
    return course.names(found)


def _grade(course: Course, username: str, learner: str, grade: float) -> None:
    course.call(
        username,
        "mod_assign_save_grade",
        {
            "assignmentid": course.assign_id,
            "userid": course.users[learner],
            "grade": grade,
            "attemptnumber": -1,
            "addattempt": 0,
            "workflowstate": "",
            "applytoall": 1,
        },
    )


def test_a_copy_keeps_the_group_mode_of_its_source() -> None:
    lms = SandboxLms()
    site = lms.site
    template = site.courses[site.course_by_shortname["TPL-MODULE"]]
    site.update_course(template, {"groupmode": 2, "groupmodeforce": 1})
    copy = lms.call(
        "core_course_duplicate_course",
        {"courseid": template.id, "fullname": "C", "shortname": "C", "categoryid": 1},
        token=lms.token_for("syncbot"),
    )
    course = site.courses[copy["id"]]
    assert (course.groupmode, course.groupmodeforce) == (2, 1)


def test_teacher_sees_the_participants_of_their_group_only(separate: Course) -> None:
    assert _participants(separate, "teacher.a") == {"l1", "l2", "teacher.a"}
    assert _participants(separate, "teacher.b") == {"l3", "teacher.b"}
    # In no group: nobody at all.
    assert _participants(separate, "teacher.c") == set()
    # The service user (manager archetype) holds moodle/site:accessallgroups.
    assert _participants(separate, "syncbot") == set(separate.users)


def test_teacher_asking_for_another_group_is_refused(separate: Course) -> None:
    other = separate.groups["G2"]
    error = _error(lambda: _participants(separate, "teacher.a", groupid=other))
    assert (error.errorcode, error.message) == (
        "nopermissions",
        "Sorry, but you do not currently have permissions to do that (Access all groups).",
    )
    assert _participants(separate, "teacher.a", groupid=separate.groups["G1"]) == {
        "l1",
        "l2",
        "teacher.a",
    }


def test_participants_groups_are_listed_only_to_who_sees_all_groups() -> None:
    course = _course(groupmode=1)
    course.lms.options = type(course.lms.options)(enrolled_users_include_groups=True)
    fields = [{"name": "userfields", "value": "id,groups"}]
    params = {"courseid": course.id, "options": fields}
    as_bot = course.call("syncbot", "core_enrol_get_enrolled_users", params)
    as_teacher = course.call("teacher.a", "core_enrol_get_enrolled_users", params)
    assert all("groups" in record for record in as_bot)
    assert not any("groups" in record for record in as_teacher)


def test_no_groups_mode_shows_the_teacher_everyone() -> None:
    course = _course(groupmode=0)
    assert _participants(course, "teacher.a") == set(course.users)


def test_grade_report_is_limited_to_the_teachers_group(separate: Course) -> None:
    report = separate.call(
        "teacher.a", "gradereport_user_get_grade_items", {"courseid": separate.id}
    )
    assert separate.names(report["usergrades"], "userid") == {"l1", "l2"}
    own = separate.call(
        "teacher.a",
        "gradereport_user_get_grade_items",
        {"courseid": separate.id, "userid": separate.users["l2"]},
    )
    assert separate.names(own["usergrades"], "userid") == {"l2"}
    everyone = separate.call(
        "syncbot", "gradereport_user_get_grade_items", {"courseid": separate.id}
    )
    assert separate.names(everyone["usergrades"], "userid") == {"l1", "l2", "l3"}


@pytest.mark.parametrize(
    ("username", "params"),
    [
        ("teacher.a", {"userid": "l3"}),  # a learner of another group
        ("teacher.a", {"groupid": "G2"}),  # another group
        ("teacher.c", {}),  # in no group at all
    ],
)
def test_grade_report_beyond_ones_groups_is_notingroup(
    separate: Course, username: str, params: dict[str, str]
) -> None:
    query: dict[str, Any] = {"courseid": separate.id}
    if "userid" in params:
        query["userid"] = separate.users[params["userid"]]
    if "groupid" in params:
        query["groupid"] = separate.groups[params["groupid"]]
    error = _error(lambda: separate.call(username, "gradereport_user_get_grade_items", query))
    # The string is core's, not error.php's: Moodle prints the missing-string marker.
    assert (error.exception, error.errorcode, error.message) == (
        "core\\exception\\moodle_exception",
        "notingroup",
        "error/notingroup",
    )


def test_assignment_functions_do_not_check_groups_as_in_moodle(separate: Course) -> None:
    # mod_assign_save_grade, _get_grades and _get_submissions require mod/assign:grade
    # and nothing about groups (mod/assign/externallib.php, assign::save_grade): the
    # reporter's limits come from the course's group mode in the participant list, the
    # grade report and Moodle's grading pages, not from these web services.
    separate.call(
        "l3",
        "mod_assign_save_submission",
        {
            "assignmentid": separate.assign_id,
            "plugindata": {"onlinetext_editor": {"text": "Bài làm", "format": 1, "itemid": 0}},
        },
    )
    _grade(separate, "teacher.a", "l1", 80)
    _grade(separate, "teacher.a", "l3", 70)
    grades = separate.call(
        "teacher.a", "mod_assign_get_grades", {"assignmentids": [separate.assign_id]}
    )
    assert separate.names(grades["assignments"][0]["grades"], "userid") == {"l1", "l3"}
    submissions = separate.call(
        "teacher.a", "mod_assign_get_submissions", {"assignmentids": [separate.assign_id]}
    )
    assert separate.names(submissions["assignments"][0]["submissions"], "userid") == {"l3"}


def test_an_administrator_may_give_the_teacher_role_access_to_all_groups(
    separate: Course,
) -> None:
    separate.site.role_changes[TEACHER] = {"moodle/site:accessallgroups": True}
    assert _participants(separate, "teacher.a") == set(separate.users)
    report = separate.call(
        "teacher.a", "gradereport_user_get_grade_items", {"courseid": separate.id}
    )
    assert separate.names(report["usergrades"], "userid") == {"l1", "l2", "l3"}
