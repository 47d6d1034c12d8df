"""Role assignments outside enrolment: ``core_role_*``.

Used to make teachers category managers, or to give a course role without enrolment.
Both functions are atomic per request and answer ``null``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connector.batching import BatchOutcome
from connector.client import MoodleClient
from connector.common import no_answer, send_rows, to_params

ASSIGN_ROLES = "core_role_assign_roles"
UNASSIGN_ROLES = "core_role_unassign_roles"

ContextLevel = Literal["system", "user", "coursecat", "course", "module", "block"]


@dataclass(frozen=True)
class RoleAssignment:
    """A role for a user in a context.

    Give ``contextid``, or ``contextlevel`` with ``instanceid``.
    """

    roleid: int
    userid: int
    contextid: int | None = None
    contextlevel: ContextLevel | None = None
    instanceid: int | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params

    def problems(self) -> list[str]:
        problems = []
        if self.roleid <= 0 or self.userid <= 0:
            problems.append("roleid and userid must be positive ids")
        by_id = self.contextid is not None
        by_level = self.contextlevel is not None and self.instanceid is not None
        if by_id == by_level:
            problems.append("give either contextid, or contextlevel with instanceid")
        return problems


class Roles:
    """``core_role_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def assign_roles(
        self, assignments: Sequence[RoleAssignment]
    ) -> BatchOutcome[RoleAssignment, None]:
        """Assign roles: ``core_role_assign_roles``.

        An unknown context fails the row with ``invalidparameter`` ("Context does not
        exist" in debug mode).
        """
        return self._send(ASSIGN_ROLES, "assignments", assignments)

    def unassign_roles(
        self, assignments: Sequence[RoleAssignment]
    ) -> BatchOutcome[RoleAssignment, None]:
        """Remove role assignments: ``core_role_unassign_roles``."""
        return self._send(UNASSIGN_ROLES, "unassignments", assignments)

    def _send(
        self, wsfunction: str, key: str, assignments: Sequence[RoleAssignment]
    ) -> BatchOutcome[RoleAssignment, None]:
        return send_rows(
            self._client,
            wsfunction,
            key,
            assignments,
            row_params=RoleAssignment.params,
            describe=lambda index, row: f"{key}[{index}] role {row.roleid} for user {row.userid}",
            read_answer=no_answer,
            check=lambda _, row: row.problems(),
        )
