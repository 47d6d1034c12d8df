"""``connector.enrol`` against recorded answers and an atomic test server for enrolment."""

from __future__ import annotations

import httpx
import pytest

from connector.enrol import (
    ENROL_USERS,
    GET_ENROLLED_USERS,
    GET_USERS_COURSES,
    ROSTER_USERFIELDS,
    UNENROL_USERS,
    Enrol,
    Enrolment,
    Unenrolment,
)
from connector.errors import LmsInvalidParameter, LmsMissingCapability, LmsNotFound
from tests.contract import recorded

from .recorded_replies import (
    Form,
    RecordedReplies,
    answer,
    recorded_answer,
    recorded_form,
    serve,
    unflatten,
)

ENROLLED = "enrol_manual_enrol_users__ok_batch"  # Moodle answers null


def test_enrol_sends_the_recorded_form() -> None:
    case = "enrol_manual_enrol_users__ok_already_enrolled"
    replies, client = serve(case)
    enrolment = Enrolment(roleid=5, userid=5, courseid=3, timestart=1794762000, timeend=1802365200)

    outcome = Enrol(client).enrol_users([enrolment])

    assert replies.sent(ENROL_USERS) == [recorded_form(case)]
    assert outcome.done == [(enrolment, None)]
    assert outcome.failed == []


def test_a_teacher_role_enrolment() -> None:
    case = "enrol_manual_enrol_users__ok_noneditingteacher"
    replies, client = serve(case)
    Enrol(client).enrol_users([Enrolment(roleid=4, userid=18, courseid=3)])
    assert replies.sent(ENROL_USERS) == [recorded_form(case)]


def test_unknown_users_fail_their_rows_and_the_others_are_enrolled() -> None:
    unknown = {1018, 1033}
    enrolled: list[int] = []

    def atomic_enrol(form: Form) -> httpx.Response:
        rows = unflatten(form)["enrolments"]
        if any(int(row["userid"]) in unknown for row in rows):
            return answer(recorded("enrol_manual_enrol_users__error_nonexistent_user")["response"])
        enrolled.extend(int(row["userid"]) for row in rows)
        return recorded_answer(ENROLLED)

    replies = RecordedReplies({ENROL_USERS: atomic_enrol})
    enrolments = [Enrolment(roleid=5, userid=1000 + n, courseid=3) for n in range(50)]

    outcome = Enrol(replies.client()).enrol_users(enrolments)

    assert sorted(enrolled) == sorted(row.userid for row, _ in outcome.done)
    assert len(outcome.done) == 48
    assert [(row.userid, type(error)) for row, error in outcome.failed] == [
        (1018, LmsNotFound),
        (1033, LmsNotFound),
    ]
    assert outcome.failed[0][1].message == (
        "enrolments[18] user 1018 in course 3 as role 5: Invalid user"
    )


def test_a_role_the_service_may_not_assign_stops_the_run() -> None:
    _, client = serve("enrol_manual_enrol_users__error_role_not_assignable")
    with pytest.raises(LmsMissingCapability):
        Enrol(client).enrol_users(
            [Enrolment(roleid=9, userid=5, courseid=3), Enrolment(roleid=9, userid=6, courseid=3)]
        )


def test_rows_that_cannot_be_right_are_refused_before_sending() -> None:
    replies = RecordedReplies({ENROL_USERS: ENROLLED})
    outcome = Enrol(replies.client()).enrol_users(
        [
            Enrolment(roleid=5, userid=0, courseid=3),
            Enrolment(roleid=5, userid=7, courseid=3, timestart=200, timeend=100),
        ]
    )
    assert outcome.done == []
    assert all(isinstance(error, LmsInvalidParameter) for _, error in outcome.failed)
    assert [error.message for _, error in outcome.failed] == [
        "enrolments[0] user 0 in course 3 as role 5: userid must be a positive id",
        "enrolments[1] user 7 in course 3 as role 5: timeend is not after timestart",
    ]
    assert replies.requests == []


def test_enrolments_are_batched_by_field_budget() -> None:
    replies = RecordedReplies({ENROL_USERS: ENROLLED})
    enrolments = [Enrolment(roleid=5, userid=n, courseid=3) for n in range(1, 2001)]

    outcome = Enrol(replies.client()).enrol_users(enrolments)

    # 1665 x 3 fields + 3 = 4998 <= 5000, as in the provisioning baseline.
    assert [len(form) for form in replies.sent(ENROL_USERS)] == [1665 * 3, 335 * 3]
    assert len(outcome.done) == 2000


def test_unenrol_sends_the_recorded_form() -> None:
    case = "enrol_manual_unenrol_users__ok"
    replies, client = serve(case)
    outcome = Enrol(client).unenrol_users([Unenrolment(userid=16, courseid=3)])
    assert replies.sent(UNENROL_USERS) == [recorded_form(case)]
    assert len(outcome.done) == 1


def test_enrolled_users_ask_for_the_roster_fields_by_default() -> None:
    replies, client = serve("core_enrol_get_enrolled_users__ok_userfields")

    Enrol(client).get_enrolled_users(3)

    assert replies.sent(GET_ENROLLED_USERS) == [
        [
            ("courseid", "3"),
            ("options[0][name]", "userfields"),
            ("options[0][value]", "id,username,firstname,lastname,email,idnumber,groups"),
        ]
    ]
    assert ",".join(ROSTER_USERFIELDS) == "id,username,firstname,lastname,email,idnumber,groups"


def test_enrolled_users_with_chosen_fields_send_the_recorded_form() -> None:
    case = "core_enrol_get_enrolled_users__ok_userfields"
    replies, client = serve(case)
    fields = ("id", "username", "idnumber", "fullname", "email", "roles", "groups", "customfields")

    users = Enrol(client).get_enrolled_users(3, userfields=fields)

    assert replies.sent(GET_ENROLLED_USERS) == [recorded_form(case)]
    nhung = users[0]
    assert (nhung.id, nhung.username, nhung.idnumber) == (5, "nhung.nth", "HV2026-0001")
    assert nhung.firstname is None  # not asked for
    assert [role.shortname for role in nhung.roles] == ["student"]
    assert nhung.customfields[2].value == "K26-A"


def test_the_full_record_is_moodles_default() -> None:
    case = "core_enrol_get_enrolled_users__ok_full"
    replies, client = serve(case)

    users = Enrol(client).get_enrolled_users(3, userfields=None)

    assert replies.sent(GET_ENROLLED_USERS) == [recorded_form(case)]
    assert [user.username for user in users] == [
        user["username"] for user in recorded(case)["response"]
    ]
    assert users[0].group_ids == frozenset()


def test_an_empty_course_has_no_participants() -> None:
    _, client = serve("core_enrol_get_enrolled_users__after_atomic_test")
    assert Enrol(client).get_enrolled_users(5) == []


def test_users_courses_carry_progress() -> None:
    case = "core_enrol_get_users_courses__ok"
    replies, client = serve(case)

    [course] = Enrol(client).get_users_courses(5)

    assert replies.sent(GET_USERS_COURSES) == [recorded_form(case)]
    assert (course.id, course.shortname, course.completed, course.progress) == (
        3,
        "K26-A",
        False,
        0,
    )
