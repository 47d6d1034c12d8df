"""``connector.roles`` and ``connector.cohorts`` against recorded answers."""

from __future__ import annotations

from connector.cohorts import (
    ADD_COHORT_MEMBERS,
    CREATE_COHORTS,
    CohortContext,
    CohortMember,
    Cohorts,
    NewCohort,
)
from connector.errors import LmsInvalidParameter
from connector.roles import ASSIGN_ROLES, UNASSIGN_ROLES, RoleAssignment, Roles
from tests.contract import recorded

from .recorded_replies import RecordedReplies, recorded_form, serve


def test_assign_a_course_role() -> None:
    case = "core_role_assign_roles__ok_course"
    replies, client = serve(case)
    assignment = RoleAssignment(roleid=3, userid=18, contextlevel="course", instanceid=3)

    outcome = Roles(client).assign_roles([assignment])

    assert replies.sent(ASSIGN_ROLES) == [recorded_form(case)]
    assert outcome.done == [(assignment, None)]


def test_unassign_a_category_role() -> None:
    case = "core_role_unassign_roles__ok"
    replies, client = serve(case)
    Roles(client).unassign_roles(
        [RoleAssignment(roleid=1, userid=18, contextlevel="coursecat", instanceid=4)]
    )
    assert replies.sent(UNASSIGN_ROLES) == [recorded_form(case)]


def test_an_unknown_context_fails_its_row() -> None:
    _, client = serve("core_role_assign_roles__error_nonexistent_context")
    outcome = Roles(client).assign_roles(
        [RoleAssignment(roleid=3, userid=18, contextlevel="course", instanceid=999999)]
    )
    [(_, error)] = outcome.failed
    assert isinstance(error, LmsInvalidParameter)
    assert error.message.startswith("assignments[0] role 3 for user 18: ")


def test_an_assignment_needs_exactly_one_way_to_name_its_context() -> None:
    replies = RecordedReplies({})
    outcome = Roles(replies.client()).assign_roles(
        [
            RoleAssignment(roleid=3, userid=18),
            RoleAssignment(roleid=3, userid=18, contextid=5, contextlevel="course", instanceid=3),
        ]
    )
    assert len(outcome.failed) == 2
    assert replies.requests == []


def test_create_a_site_cohort() -> None:
    case = "core_cohort_create_cohorts__ok_system"
    replies, client = serve(case)
    cohort = NewCohort(
        categorytype=CohortContext("system", ""),
        name="Khóa 2026 - Bình Phước",
        idnumber="K2026-BP",
        description="Cohort K2026",
        visible=True,
    )

    outcome = Cohorts(client).create_cohorts([cohort])

    assert replies.sent(CREATE_COHORTS) == [recorded_form(case)]
    [(_, created)] = outcome.done
    assert (created.id, created.idnumber) == (1, "K2026-BP")


def test_a_taken_cohort_idnumber_fails_its_row() -> None:
    _, client = serve("core_cohort_create_cohorts__error_duplicate_idnumber")
    outcome = Cohorts(client).create_cohorts(
        [NewCohort(categorytype=CohortContext(), name="dup", idnumber="K2026-BP")]
    )
    assert isinstance(outcome.failed[0][1], LmsInvalidParameter)


def test_cohort_members_unknown_users_come_back_as_warnings() -> None:
    case = "core_cohort_add_cohort_members__ok_with_one_unknown_user"
    replies, client = serve(case)
    members = [
        CohortMember("K2026-BP", row["usertype"]["value"])
        for row in recorded(case)["params"]["members"]
    ]

    warnings = Cohorts(client).add_cohort_members(members)

    assert replies.sent(ADD_COHORT_MEMBERS) == [recorded_form(case)]
    assert [warning.message for warning in warnings] == ["user username=ghost not exists"]
