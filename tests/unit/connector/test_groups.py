"""``connector.groups`` against recorded answers and an atomic test server for membership."""

from __future__ import annotations

import httpx

from connector.errors import LmsInvalidParameter, LmsNotFound
from connector.groups import (
    ADD_GROUP_MEMBERS,
    CREATE_GROUPS,
    DELETE_GROUP_MEMBERS,
    GET_COURSE_GROUPS,
    GET_GROUP_MEMBERS,
    GroupMember,
    Groups,
    NewGroup,
)
from tests.contract import recorded

from .recorded_replies import (
    Form,
    RecordedReplies,
    answer,
    recorded_answer,
    recorded_form,
    recorded_rows,
    serve,
    unflatten,
)

MEMBERS_ADDED = "core_group_add_group_members__ok"  # Moodle answers null


def test_create_groups_sends_the_recorded_form_and_matches_the_answer() -> None:
    case = "core_group_create_groups__ok"
    replies, client = serve(case)
    groups = [NewGroup(**row) for row in recorded(case)["params"]["groups"]]

    outcome = Groups(client).create_groups(groups)

    assert replies.sent(CREATE_GROUPS) == [recorded_form(case)]
    assert [(row.idnumber, group.id, group.courseid) for row, group in outcome.done] == [
        ("K26-A-G1", 1, 3),
        ("K26-A-G2", 2, 3),
    ]


def test_a_name_taken_in_the_course_fails_its_row() -> None:
    _, client = serve("core_group_create_groups__error_duplicate_name")
    outcome = Groups(client).create_groups([NewGroup(courseid=3, name="Nhóm 1 - Sáng")])
    [(_, error)] = outcome.failed
    assert isinstance(error, LmsInvalidParameter)
    assert error.message == (
        "groups[0] 'Nhóm 1 - Sáng' in course 3: Invalid parameter value detected"
    )


def test_duplicate_names_in_one_request_are_refused_before_sending() -> None:
    replies = RecordedReplies(
        {
            CREATE_GROUPS: lambda form: recorded_rows(
                "core_group_create_groups__ok", [{"id": 7, "courseid": 3, "name": "Lớp 01"}]
            )
        }
    )
    outcome = Groups(replies.client()).create_groups(
        [NewGroup(courseid=3, name="Lớp 01")] * 2 + [NewGroup(courseid=3, name=" ")]
    )
    assert [group.id for _, group in outcome.done] == [7]
    assert [error.message for _, error in outcome.failed] == [
        "groups[1] 'Lớp 01' in course 3: name also in groups[0] for this course",
        "groups[2] ' ' in course 3: name is empty",
    ]
    assert len(replies.requests) == 1


def test_course_groups_are_parsed() -> None:
    case = "core_group_get_course_groups__ok"
    replies, client = serve(case)
    groups = Groups(client).get_course_groups(3)
    assert replies.sent(GET_COURSE_GROUPS) == [recorded_form(case)]
    assert [(group.id, group.idnumber) for group in groups] == [(1, "K26-A-G1"), (2, "K26-A-G2")]


def test_add_members_sends_pairs() -> None:
    case = "core_group_add_group_members__ok_already_member"
    replies, client = serve(case)
    outcome = Groups(client).add_group_members([GroupMember(groupid=1, userid=5)])
    assert replies.sent(ADD_GROUP_MEMBERS) == [recorded_form(case)]
    assert outcome.done == [(GroupMember(1, 5), None)]


def test_members_not_enrolled_fail_alone() -> None:
    not_enrolled = {2, 40}
    added: list[int] = []

    def atomic_add(form: Form) -> httpx.Response:
        members = unflatten(form)["members"]
        if any(int(member["userid"]) in not_enrolled for member in members):
            return answer(
                recorded("core_group_add_group_members__error_user_not_enrolled")["response"]
            )
        added.extend(int(member["userid"]) for member in members)
        return recorded_answer(MEMBERS_ADDED)

    replies = RecordedReplies({ADD_GROUP_MEMBERS: atomic_add})
    members = [GroupMember(groupid=1, userid=n) for n in range(1, 61)]

    outcome = Groups(replies.client()).add_group_members(members)

    assert sorted(added) == [n for n in range(1, 61) if n not in not_enrolled]
    assert [row.userid for row, _ in outcome.failed] == [2, 40]
    assert outcome.failed[1][1].message == (
        "members[39] user 40 in group 1: Invalid parameter value detected"
    )


def test_an_unknown_user_is_not_found() -> None:
    _, client = serve("core_group_add_group_members__error_nonexistent_user")
    outcome = Groups(client).add_group_members([GroupMember(groupid=1, userid=1018)])
    assert isinstance(outcome.failed[0][1], LmsNotFound)


def test_members_are_batched_by_field_budget() -> None:
    replies = RecordedReplies({ADD_GROUP_MEMBERS: MEMBERS_ADDED})
    members = [GroupMember(groupid=1 + n % 125, userid=n) for n in range(1, 5001)]

    Groups(replies.client()).add_group_members(members)

    # 2498 x 2 fields + 3 = 4999 <= 5000, as in the provisioning baseline.
    assert [len(form) for form in replies.sent(ADD_GROUP_MEMBERS)] == [4996, 4996, 8]


def test_delete_members_sends_the_recorded_form() -> None:
    case = "core_group_delete_group_members__ok"
    replies, client = serve(case)
    Groups(client).delete_group_members([GroupMember(groupid=2, userid=16)])
    assert replies.sent(DELETE_GROUP_MEMBERS) == [recorded_form(case)]


def test_group_members_are_keyed_by_group() -> None:
    case = "core_group_get_group_members__ok"
    replies, client = serve(case)

    members = Groups(client).get_group_members([1, 2, 1])

    assert replies.sent(GET_GROUP_MEMBERS) == [recorded_form(case)]
    assert members == {1: (9, 7, 17), 2: (12, 16, 15)}


def test_no_groups_no_call_and_many_groups_in_batches() -> None:
    replies = RecordedReplies(
        {
            GET_GROUP_MEMBERS: lambda form: recorded_rows(
                "core_group_get_group_members__ok",
                [{"groupid": int(v), "userids": []} for _, v in form],
            )
        }
    )
    groups = Groups(replies.client(field_budget=8))
    assert groups.get_group_members([]) == {}
    assert replies.requests == []

    members = groups.get_group_members(range(1, 13))

    assert [len(form) for form in replies.sent(GET_GROUP_MEMBERS)] == [5, 5, 2]
    assert sorted(members) == list(range(1, 13))
