"""Course groups and their members: ``core_group_*``.

Adding members is atomic per request: one user not enrolled in the course (or unknown)
fails the batch and adds no one. :meth:`Groups.add_group_members` keeps every request
under the field budget (the answer is ``null``, so a dropped row could not be noticed)
and bisects a refused batch so that each bad row gets its own error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from connector.batching import BatchOutcome, split_by_field_budget
from connector.client import MoodleClient
from connector.common import (
    MoodleModel,
    created_rows,
    no_answer,
    parse_list,
    send_rows,
    settle_dropped,
    to_params,
)
from connector.encoding import PROTOCOL_FIELDS
from connector.validation import name_problem

CREATE_GROUPS = "core_group_create_groups"
GET_COURSE_GROUPS = "core_group_get_course_groups"
ADD_GROUP_MEMBERS = "core_group_add_group_members"
DELETE_GROUP_MEMBERS = "core_group_delete_group_members"
GET_GROUP_MEMBERS = "core_group_get_group_members"

GROUP_NAME_MAX = 254


@dataclass(frozen=True)
class NewGroup:
    """One group for ``core_group_create_groups``; Moodle requires a description (may be empty)."""

    courseid: int
    name: str
    description: str = ""
    descriptionformat: int | None = None
    enrolmentkey: str | None = None
    idnumber: str | None = None
    visibility: int | None = None
    participation: bool | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params


@dataclass(frozen=True)
class GroupMember:
    """A user in a group."""

    groupid: int
    userid: int

    def params(self) -> dict[str, Any]:
        return {"groupid": self.groupid, "userid": self.userid}


class Group(MoodleModel):
    """A course group."""

    id: int
    courseid: int
    name: str
    description: str = ""
    descriptionformat: int | None = None
    enrolmentkey: str | None = None
    idnumber: str = ""
    visibility: int | None = None
    participation: bool | None = None


class GroupMembers(MoodleModel):
    groupid: int
    userids: tuple[int, ...] = ()


def _group_key(courseid: int, name: str) -> str:
    return f"{courseid}/{name}"


class Groups:
    """``core_group_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def create_groups(self, groups: Sequence[NewGroup]) -> BatchOutcome[NewGroup, Group]:
        """Create groups: ``core_group_create_groups``.

        A name or idnumber already used in the course fails the row (names are unique
        per course, idnumbers too); duplicates within the request are refused first.
        """
        first_with: dict[str, int] = {}

        def check(index: int, group: NewGroup) -> list[str]:
            problem = name_problem("name", group.name, required=True, max_length=GROUP_NAME_MAX)
            problems = [problem] if problem else []
            keys = [("name", _group_key(group.courseid, group.name))]
            if group.idnumber:
                keys.append(("idnumber", _group_key(group.courseid, group.idnumber)))
            for kind, key in keys:
                if (kind + key) in first_with:
                    problems.append(
                        f"{kind} also in groups[{first_with[kind + key]}] for this course"
                    )
                else:
                    first_with[kind + key] = index
            return problems

        outcome = send_rows(
            self._client,
            CREATE_GROUPS,
            "groups",
            groups,
            row_params=NewGroup.params,
            describe=lambda index, group: (
                f"groups[{index}] {group.name!r} in course {group.courseid}"
            ),
            read_answer=created_rows(
                self._client,
                CREATE_GROUPS,
                Group,
                row_params=NewGroup.params,
                key_of_row=lambda group: _group_key(group.courseid, group.name),
                key_of_created=lambda group: _group_key(group.courseid, group.name),
            ),
            check=check,
        )
        return settle_dropped(outcome, CREATE_GROUPS, lambda group: f"group {group.name!r}")

    def get_course_groups(self, courseid: int) -> list[Group]:
        """All groups of a course: ``core_group_get_course_groups``."""
        payload = self._client.call(GET_COURSE_GROUPS, {"courseid": courseid})
        return parse_list(Group, payload, GET_COURSE_GROUPS)

    def add_group_members(self, members: Sequence[GroupMember]) -> BatchOutcome[GroupMember, None]:
        """Add users to groups: ``core_group_add_group_members``.

        Users must be enrolled in the group's course first. Adding a member twice is
        accepted (recorded).
        """
        return self._members(ADD_GROUP_MEMBERS, members)

    def delete_group_members(
        self, members: Sequence[GroupMember]
    ) -> BatchOutcome[GroupMember, None]:
        """Remove users from groups: ``core_group_delete_group_members``."""
        return self._members(DELETE_GROUP_MEMBERS, members)

    def _members(
        self, wsfunction: str, members: Sequence[GroupMember]
    ) -> BatchOutcome[GroupMember, None]:
        return send_rows(
            self._client,
            wsfunction,
            "members",
            members,
            row_params=GroupMember.params,
            describe=lambda index, row: (
                f"members[{index}] user {row.userid} in group {row.groupid}"
            ),
            read_answer=no_answer,
            check=lambda _, row: (
                []
                if row.groupid > 0 and row.userid > 0
                else ["groupid and userid must be positive ids"]
            ),
        )

    def get_group_members(self, groupids: Iterable[int]) -> dict[int, tuple[int, ...]]:
        """Member user ids of each group: ``core_group_get_group_members``.

        Keyed by group id; batched by the field budget; no call for no groups.
        """
        ids = list(dict.fromkeys(int(groupid) for groupid in groupids))
        if not ids:
            return {}
        batches = split_by_field_budget(
            ids, lambda _: 1, self._client.field_budget, PROTOCOL_FIELDS
        )

        def fetch(batch: list[int]) -> list[GroupMembers]:
            payload = self._client.call(GET_GROUP_MEMBERS, {"groupids": batch})
            return parse_list(GroupMembers, payload, GET_GROUP_MEMBERS)

        return {
            members.groupid: members.userids
            for answer in self._client.map_concurrent(fetch, batches)
            for members in answer
        }
