"""The planner as pure data-in, data-out cases."""

from __future__ import annotations

from dataclasses import replace

from sync.model import (
    NO_GROUPS,
    SEPARATE_GROUPS,
    TEACHER_ROLE,
    ActionKind,
    ActualEnrolment,
)
from sync.plan import DAY, PlanOptions, plan
from tests.unit.sync.states import COURSE, EMPTY, actual_matching, desired, person, with_user

NOW = 1_700_000_000
OPTIONS = PlanOptions(site_customfields=frozenset({"school"}))
PEOPLE = [person("7000000001"), person("7000000002"), person("7000000003")]
CLASSES = {"7000000001": "L01", "7000000002": "L01", "7000000003": "L02"}


def kinds(actions: object) -> list[str]:
    return [a.kind.value for a in actions]  # type: ignore[attr-defined]


def test_empty_lms_gets_everything_in_dependency_order() -> None:
    result = plan(desired(PEOPLE, CLASSES), EMPTY, now=NOW, options=OPTIONS)
    assert kinds(result.actions) == (
        ["create_category"] * 2
        + ["create_course"]
        + ["create_group"] * 2
        + ["create_user"] * 3
        + ["enrol"] * 3
        + ["add_member"] * 3
    )
    create = result.of_kind(ActionKind.CREATE_USER)[0]
    assert dict(create.data) == {
        "username": "u7000000001",
        "idnumber": "7000000001",
        "firstname": "An",
        "lastname": "Nguyễn Văn",
        "email": "u7000000001@school.edu.vn",
        "customfields": {"school": "BP0001"},
    }
    assert all(a.reason for a in result.actions)
    assert result.conflicts == ()


def test_matching_lms_plans_zero_writes() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    result = plan(state, actual_matching(state), now=NOW, options=OPTIONS)
    assert result.actions == ()
    assert result.conflicts == ()


def test_email_and_name_changes_update_the_same_account() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    changed = dict(state.users)
    changed["7000000002"] = replace(
        changed["7000000002"], email="new@school.edu.vn", firstname="Ân"
    )
    result = plan(replace(state, users=changed), lms, now=NOW, options=OPTIONS)
    assert kinds(result.actions) == ["update_user"]
    update = result.actions[0]
    assert update.key == "7000000002"
    assert dict(update.data) == {
        "id": lms.users["7000000002"].id,
        "email": "new@school.edu.vn",
        "firstname": "Ân",
    }


def test_email_case_difference_is_no_change() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = with_user(actual_matching(state), "7000000001", email="U7000000001@School.edu.vn")
    assert plan(state, lms, now=NOW, options=OPTIONS).actions == ()


def test_new_person_whose_email_belongs_to_another_account_is_a_conflict() -> None:
    newcomer = person("7000000009", email="taken@school.edu.vn")
    state = desired(
        [*PEOPLE, newcomer],
        {**CLASSES, "7000000009": "L02"},
        managed=[p.identity_code for p in PEOPLE],
    )
    lms = actual_matching(desired(PEOPLE, CLASSES))
    lms = replace(lms, emails_in_use={**lms.emails_in_use, "taken@school.edu.vn": (555, "")})
    result = plan(state, lms, now=NOW, options=OPTIONS)
    assert [c.code for c in result.conflicts] == ["email_in_use"]
    assert "taken@school.edu.vn" in result.conflicts[0].message
    assert all("7000000009" not in a.key for a in result.actions)


def test_changed_email_taken_by_another_account_keeps_the_old_one() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    other_email = lms.users["7000000003"].email
    changed = dict(state.users)
    changed["7000000001"] = replace(changed["7000000001"], email=other_email, lastname="Trần Văn")
    result = plan(replace(state, users=changed), lms, now=NOW, options=OPTIONS)
    assert [c.code for c in result.conflicts] == ["email_in_use"]
    assert [dict(a.data) for a in result.actions] == [
        {"id": lms.users["7000000001"].id, "lastname": "Trần Văn"}
    ]


def test_taken_usernames_get_a_number() -> None:
    lms = replace(EMPTY, usernames_taken=frozenset({"u7000000001", "u70000000012"}))
    result = plan(desired(PEOPLE, CLASSES), lms, now=NOW, options=OPTIONS)
    names = [a.data["username"] for a in result.of_kind(ActionKind.CREATE_USER)]
    assert names == ["u70000000013", "u7000000002", "u7000000003"]
    assert "đã có" in result.of_kind(ActionKind.CREATE_USER)[0].reason


def test_account_made_by_hand_is_enrolled_but_not_edited() -> None:
    state = desired(PEOPLE, CLASSES, managed=["7000000001", "7000000002"])
    lms = with_user(actual_matching(state), "7000000003", firstname="Hand", suspended=True)
    result = plan(state, lms, now=NOW, options=OPTIONS)
    assert result.actions == ()
    assert [(c.key, c.code) for c in result.conflicts] == [("7000000003", "unmanaged_account")]


def test_leaver_is_unenrolled_then_suspended_after_the_grace_period() -> None:
    everyone = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(everyone)
    left = desired(
        PEOPLE[:2],
        {k: v for k, v in CLASSES.items() if k != "7000000003"},
        managed=everyone.managed,
        left_at={"7000000003": NOW - 3 * DAY},
    )
    soon = plan(left, lms, now=NOW, options=OPTIONS)
    assert kinds(soon.actions) == ["unenrol"]
    assert soon.actions[0].data["userid"] == lms.users["7000000003"].id
    later = plan(left, lms, now=NOW + 20 * DAY, options=OPTIONS)
    assert kinds(later.actions) == ["unenrol", "suspend_user"]


def test_leaver_still_in_an_active_run_is_not_suspended() -> None:
    everyone = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    left = replace(
        desired(
            PEOPLE[:2],
            {k: v for k, v in CLASSES.items() if k != "7000000003"},
            managed=everyone.managed,
        ),
        active=frozenset({"7000000003"}),
    )
    assert kinds(
        plan(left, actual_matching(everyone), now=NOW + 99 * DAY, options=OPTIONS).actions
    ) == ["unenrol"]


def test_unmanaged_enrolled_people_are_never_unenrolled() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    stranger = ActualEnrolment(999, "ADMIN-1", frozenset({"editingteacher"}), frozenset())
    lms = replace(lms, enrolments={COURSE: {**lms.enrolments[COURSE], 999: stranger}})
    assert plan(state, lms, now=NOW, options=OPTIONS).actions == ()


def test_returning_managed_person_is_reactivated() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = with_user(actual_matching(state), "7000000002", suspended=True)
    result = plan(state, lms, now=NOW, options=OPTIONS)
    assert [(a.kind.value, a.key) for a in result.actions] == [("reactivate_user", "7000000002")]


def test_class_move_adds_to_the_new_group_and_removes_from_the_old() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    moved = desired(PEOPLE, {**CLASSES, "7000000001": "L02"}, managed=state.managed)
    result = plan(moved, lms, now=NOW, options=OPTIONS)
    assert [(a.kind.value, a.key) for a in result.actions] == [
        ("add_member", f"{COURSE}|L02|7000000001"),
        ("remove_member", f"{COURSE}|L01|7000000001"),
    ]


def test_groups_made_by_hand_keep_their_members() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    from sync.model import ActualGroup

    extra = ActualGroup(99, 7, "", "Nhóm tự lập")
    user = lms.users["7000000001"]
    enrolled = dict(lms.enrolments[COURSE])
    enrolled[user.id] = replace(enrolled[user.id], groupids=enrolled[user.id].groupids | {99})
    lms = replace(
        lms, groups={**lms.groups, (COURSE, "hand"): extra}, enrolments={COURSE: enrolled}
    )
    assert plan(state, lms, now=NOW, options=OPTIONS).actions == ()


def test_learner_who_becomes_assessor_changes_role() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    promoted = desired(
        PEOPLE,
        {k: v for k, v in CLASSES.items() if k != "7000000003"},
        teachers={"7000000003": "L02"},
        managed=state.managed,
    )
    result = plan(promoted, lms, now=NOW, options=OPTIONS)
    assert [(a.kind.value, a.data["add"], a.data["remove"]) for a in result.actions] == [
        ("change_role", TEACHER_ROLE, ["student"])
    ]


def test_course_date_change_is_an_update() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    course = replace(lms.courses[COURSE], startdate=0)
    result = plan(state, replace(lms, courses={COURSE: course}), now=NOW, options=OPTIONS)
    assert [(a.kind.value, dict(a.data)) for a in result.actions] == [
        ("update_course", {"id": 7, "startdate": state.courses[COURSE].startdate})
    ]


def test_course_copied_in_no_groups_mode_is_set_to_separate_forced_groups() -> None:
    # A copy of the template keeps its "no groups" mode: every reporter would see the
    # whole course. The sync owns the group mode like any other course field.
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    course = replace(lms.courses[COURSE], groupmode=NO_GROUPS, groupmodeforce=False)
    result = plan(state, replace(lms, courses={COURSE: course}), now=NOW, options=OPTIONS)
    assert [(a.kind.value, dict(a.data)) for a in result.actions] == [
        ("update_course", {"id": 7, "groupmode": SEPARATE_GROUPS, "groupmodeforce": True})
    ]
    assert "groupmode" in result.actions[0].reason
    assert "nhóm tách biệt" in result.actions[0].reason


def test_group_mode_not_forced_is_corrected_alone() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    course = replace(lms.courses[COURSE], groupmodeforce=False)
    result = plan(state, replace(lms, courses={COURSE: course}), now=NOW, options=OPTIONS)
    assert [dict(a.data) for a in result.actions] == [{"id": 7, "groupmodeforce": True}]


def test_new_course_is_created_with_separate_forced_groups() -> None:
    result = plan(desired(PEOPLE, CLASSES), EMPTY, now=NOW, options=OPTIONS)
    create = result.of_kind(ActionKind.CREATE_COURSE)[0]
    assert (create.data["groupmode"], create.data["groupmodeforce"]) == (SEPARATE_GROUPS, True)


def test_profile_fields_the_site_lacks_are_never_sent() -> None:
    result = plan(desired(PEOPLE, CLASSES), EMPTY, now=NOW, options=PlanOptions())
    assert all("customfields" not in a.data for a in result.of_kind(ActionKind.CREATE_USER))


def test_plan_is_deterministic_whatever_the_input_order() -> None:
    state = desired(PEOPLE, CLASSES)
    reversed_state = replace(
        state,
        users=dict(reversed(list(state.users.items()))),
        enrolments=dict(reversed(list(state.enrolments.items()))),
    )
    assert plan(state, EMPTY, now=NOW, options=OPTIONS) == plan(
        reversed_state, EMPTY, now=NOW, options=OPTIONS
    )


def test_members_of_a_closed_class_group_are_taken_out() -> None:
    state = desired(PEOPLE, CLASSES, managed=[p.identity_code for p in PEOPLE])
    lms = actual_matching(state)
    from sync.model import ActualGroup

    closed = ActualGroup(98, 7, "L09", "Lớp 09")  # a class the allocation has since closed
    user = lms.users["7000000002"]
    enrolled = dict(lms.enrolments[COURSE])
    enrolled[user.id] = replace(enrolled[user.id], groupids=enrolled[user.id].groupids | {98})
    lms = replace(
        lms, groups={**lms.groups, (COURSE, "L09"): closed}, enrolments={COURSE: enrolled}
    )
    result = plan(state, lms, now=NOW, options=OPTIONS)
    assert [(a.kind.value, a.key) for a in result.actions] == [
        ("remove_member", f"{COURSE}|L09|7000000002")
    ]
