"""Courses, enrolments and groups in the sandbox LMS."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import MoodleError, SandboxLms, seed_recording_site
from sandbox.fixtures import DAY, TEMPLATE_D0


@pytest.fixture
def lms() -> SandboxLms:
    site = SandboxLms(clock=lambda: 1_795_559_070)
    seed_recording_site(site)
    return site


def _course(shortname: str, category: int = 4, **extra: Any) -> dict[str, Any]:
    return {
        "fullname": f"Course {shortname}",
        "shortname": shortname,
        "categoryid": category,
        **extra,
    }


def test_create_courses_is_atomic(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call("core_course_create_courses", {"courses": [_course("NEW-1"), _course("K26-A")]})
    assert caught.value.errorcode == "shortnametaken"
    assert caught.value.message == "Short name is already used for another course (K26-A)"
    found = lms.call("core_course_get_courses_by_field", {"field": "shortname", "value": "NEW-1"})
    assert found["courses"] == []


def test_create_course_in_a_missing_category(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call("core_course_create_courses", {"courses": [_course("X", category=999)]})
    assert caught.value.errorcode == "errorcatcontextnotvalid"


def test_update_courses_is_per_row(lms: SandboxLms) -> None:
    result = lms.call(
        "core_course_update_courses",
        {
            "courses": [
                {"id": 4, "fullname": "B2"},
                {"id": 999, "fullname": "x"},
                {"id": 5, "shortname": "K26-A"},
            ]
        },
    )
    assert [(w["itemid"], w["warningcode"]) for w in result["warnings"]] == [
        (999, "invalidrecord"),
        (5, "shortnametaken"),
    ]
    assert lms.site.courses[4].fullname == "B2"


def test_duplicate_keeps_absolute_activity_dates_when_the_start_moves(lms: SandboxLms) -> None:
    copy = lms.call(
        "core_course_duplicate_course",
        {"courseid": 2, "fullname": "Copy", "shortname": "COPY", "categoryid": 4},
    )
    lms.call(
        "core_course_update_courses",
        {"courses": [{"id": copy["id"], "startdate": TEMPLATE_D0 + 28 * DAY}]},
    )
    assignments = lms.call(
        "mod_assign_get_assignments", {"courseids": [copy["id"]], "includenotenrolledcourses": 1}
    )
    assignment = assignments["courses"][0]["assignments"][0]
    assert assignment["duedate"] == TEMPLATE_D0 + 16 * DAY
    assert assignment["cutoffdate"] == TEMPLATE_D0 + 20 * DAY
    quizzes = lms.call("mod_quiz_get_quizzes_by_courses", {"courseids": [copy["id"]]})["quizzes"]
    assert (quizzes[0]["timeopen"], quizzes[0]["timeclose"]) == (
        TEMPLATE_D0 + 7 * DAY,
        TEMPLATE_D0 + 14 * DAY,
    )


def test_duplicate_refuses_a_taken_shortname_naming_the_holder(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "core_course_duplicate_course",
            {"courseid": 2, "fullname": "x", "shortname": "K26-A", "categoryid": 4},
        )
    assert (
        caught.value.message
        == "Short name is already used for another course (K26-A Kỹ năng số (Đợt 1))"
    )


def test_template_course_has_the_recorded_activities(lms: SandboxLms) -> None:
    contents = lms.call("core_course_get_contents", {"courseid": 2})
    modules = [(m["modname"], m["completion"]) for s in contents for m in s["modules"]]
    assert modules == [("page", 2), ("page", 1), ("quiz", 2), ("assign", 2), ("feedback", 2)]


def test_enrol_is_atomic_and_needs_an_existing_course(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "enrol_manual_enrol_users",
            {
                "enrolments": [
                    {"roleid": 5, "userid": 5, "courseid": 5},
                    {"roleid": 5, "userid": 6, "courseid": 999},
                ]
            },
        )
    assert caught.value.debuginfo == "Context does not exist"
    assert lms.call("core_enrol_get_enrolled_users", {"courseid": 5}) == []


def test_enrol_refuses_roles_that_cannot_be_assigned_in_a_course(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "enrol_manual_enrol_users", {"enrolments": [{"roleid": 9, "userid": 5, "courseid": 3}]}
        )
    assert caught.value.errorcode == "wsusercannotassign"


def test_group_members_must_be_enrolled_and_adding_is_atomic(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "core_group_add_group_members",
            {"members": [{"groupid": 2, "userid": 5}, {"groupid": 2, "userid": 2}]},
        )
    assert caught.value.debuginfo == "Only enrolled users may be members of groups"
    members = lms.call("core_group_get_group_members", {"groupids": [2]})[0]["userids"]
    assert 5 not in members


def test_unenrol_also_removes_group_membership(lms: SandboxLms) -> None:
    lms.call("enrol_manual_unenrol_users", {"enrolments": [{"userid": 16, "courseid": 3}]})
    members = lms.call("core_group_get_group_members", {"groupids": [2]})[0]["userids"]
    assert 16 not in members
    enrolled = {u["id"] for u in lms.call("core_enrol_get_enrolled_users", {"courseid": 3})}
    assert 16 not in enrolled


def test_enrolled_users_options_filter_and_trim(lms: SandboxLms) -> None:
    options = [
        {"name": "groupid", "value": "2"},
        {"name": "userfields", "value": "id,username"},
        {"name": "limitnumber", "value": "3"},
        {"name": "sortdirection", "value": "DESC"},
    ]
    users = lms.call("core_enrol_get_enrolled_users", {"courseid": 3, "options": options})
    assert [u["id"] for u in users] == [16, 15, 14]
    assert set(users[0]) == {"id", "username", "fullname"}
    teachers = lms.call(
        "core_enrol_get_enrolled_users",
        {"courseid": 3, "options": [{"name": "withcapability", "value": "mod/assign:grade"}]},
    )
    assert [u["id"] for u in teachers] == [17, 18]


def test_duplicate_group_name_in_a_course(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "core_group_create_groups",
            {"groups": [{"courseid": 3, "name": "Nhóm 1 - Sáng", "description": ""}]},
        )
    assert caught.value.debuginfo == "Group with the same name already exists in the course"


def test_import_with_deletecontent_drops_enrolments_and_the_manual_instance(
    lms: SandboxLms,
) -> None:
    lms.call("core_course_import_course", {"importfrom": 2, "importto": 3, "deletecontent": 1})
    assert lms.call("core_enrol_get_enrolled_users", {"courseid": 3}) == []
    record = lms.call("core_course_get_courses_by_field", {"field": "id", "value": "3"})["courses"][
        0
    ]
    assert record["enrollmentmethods"] == []
