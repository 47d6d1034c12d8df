"""Enrolments: ``enrol_manual_*`` and ``core_enrol_*``.

``enrol_manual_enrol_users`` is atomic per request (one bad row, nothing enrolled, as
recorded) and answers ``null``; :meth:`Enrol.enrol_users` checks rows first, keeps every
request under the field budget (a dropped row could not be noticed in a ``null``) and
bisects a refused batch so each bad row gets its own error. A role the service user may
not assign fails with ``wsusercannotassign`` (:class:`~connector.errors.LmsMissingCapability`):
a site configuration problem that stops the run rather than one bad row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connector.batching import BatchOutcome
from connector.client import MoodleClient
from connector.common import MoodleModel, no_answer, parse_list, send_rows, to_params
from connector.users import ProfileFieldData

ENROL_USERS = "enrol_manual_enrol_users"
UNENROL_USERS = "enrol_manual_unenrol_users"
GET_ENROLLED_USERS = "core_enrol_get_enrolled_users"
GET_USERS_COURSES = "core_enrol_get_users_courses"

# The cheapest complete read of a course's roster (provisioning baseline): about eight
# times faster than Moodle's default field set, and it still carries the groups.
ROSTER_USERFIELDS: tuple[str, ...] = (
    "id",
    "username",
    "firstname",
    "lastname",
    "email",
    "idnumber",
    "groups",
)


@dataclass(frozen=True)
class Enrolment:
    """One manual enrolment; times are Unix timestamps (``None``: no limit)."""

    roleid: int
    userid: int
    courseid: int
    timestart: int | None = None
    timeend: int | None = None
    suspend: bool | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params


@dataclass(frozen=True)
class Unenrolment:
    """Removal of a user's manual enrolment (``roleid``: only that role)."""

    userid: int
    courseid: int
    roleid: int | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params


class EnrolledGroup(MoodleModel):
    id: int
    name: str
    description: str = ""


class EnrolledRole(MoodleModel):
    roleid: int
    name: str = ""
    shortname: str = ""


class EnrolledUser(MoodleModel):
    """A participant of a course; only the fields asked for are present."""

    id: int
    username: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    fullname: str | None = None
    email: str | None = None
    idnumber: str | None = None
    suspended: bool | None = None
    lastcourseaccess: int | None = None
    groups: tuple[EnrolledGroup, ...] = ()
    roles: tuple[EnrolledRole, ...] = ()
    customfields: tuple[ProfileFieldData, ...] = ()

    @property
    def group_ids(self) -> frozenset[int]:
        return frozenset(group.id for group in self.groups)


class UserCourse(MoodleModel):
    """A course a user is enrolled in, with the user's progress."""

    id: int
    shortname: str
    fullname: str
    idnumber: str | None = None
    visible: bool | None = None
    category: int | None = None
    startdate: int | None = None
    enddate: int | None = None
    enrolledusercount: int | None = None
    completionusertracked: bool | None = None
    progress: float | None = None
    completed: bool | None = None
    lastaccess: int | None = None


def _positive(label: str, value: int | None) -> str | None:
    return None if value is None or value > 0 else f"{label} must be a positive id"


class Enrol:
    """Enrolment web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def enrol_users(self, enrolments: Sequence[Enrolment]) -> BatchOutcome[Enrolment, None]:
        """Enrol users with the manual method: ``enrol_manual_enrol_users``.

        Enrolling someone already enrolled is accepted (and updates the times).
        """

        def check(_: int, enrolment: Enrolment) -> list[str]:
            problems = [
                _positive("roleid", enrolment.roleid),
                _positive("userid", enrolment.userid),
                _positive("courseid", enrolment.courseid),
            ]
            start, end = enrolment.timestart, enrolment.timeend
            if start is not None and end is not None and end and end <= start:
                problems.append("timeend is not after timestart")
            return [problem for problem in problems if problem]

        return send_rows(
            self._client,
            ENROL_USERS,
            "enrolments",
            enrolments,
            row_params=Enrolment.params,
            describe=lambda index, row: (
                f"enrolments[{index}] user {row.userid} in course {row.courseid} "
                f"as role {row.roleid}"
            ),
            read_answer=no_answer,
            check=check,
        )

    def unenrol_users(self, unenrolments: Sequence[Unenrolment]) -> BatchOutcome[Unenrolment, None]:
        """Remove manual enrolments: ``enrol_manual_unenrol_users``.

        Removing an enrolment that does not exist is accepted (recorded).
        """
        return send_rows(
            self._client,
            UNENROL_USERS,
            "enrolments",
            unenrolments,
            row_params=Unenrolment.params,
            describe=lambda index, row: (
                f"enrolments[{index}] user {row.userid} in course {row.courseid}"
            ),
            read_answer=no_answer,
            check=lambda _, row: [
                problem
                for problem in (
                    _positive("userid", row.userid),
                    _positive("courseid", row.courseid),
                )
                if problem
            ],
        )

    def get_enrolled_users(
        self,
        courseid: int,
        *,
        userfields: Sequence[str] | None = ROSTER_USERFIELDS,
        groupid: int | None = None,
        onlyactive: bool | None = None,
        withcapability: str | None = None,
        limitfrom: int | None = None,
        limitnumber: int | None = None,
    ) -> list[EnrolledUser]:
        """Participants of a course: ``core_enrol_get_enrolled_users``.

        By default only :data:`ROSTER_USERFIELDS` are asked for, the cheapest read that
        still answers "who is in this course and in which groups"; add ``"roles"`` or
        ``"customfields"`` when needed, or pass ``None`` for Moodle's full (slow) record.
        It cannot see users enrolled nowhere, nor empty groups.
        """
        options: dict[str, Any] = {
            "userfields": ",".join(userfields) if userfields is not None else None,
            "groupid": groupid,
            "onlyactive": onlyactive,
            "withcapability": withcapability,
            "limitfrom": limitfrom,
            "limitnumber": limitnumber,
        }
        named = [
            {"name": name, "value": value} for name, value in options.items() if value is not None
        ]
        params: dict[str, Any] = {"courseid": courseid, "options": named}
        payload = self._client.call(GET_ENROLLED_USERS, params)
        return parse_list(EnrolledUser, payload, GET_ENROLLED_USERS)

    def get_users_courses(
        self, userid: int, *, returnusercount: bool | None = None
    ) -> list[UserCourse]:
        """Courses a user is enrolled in, with progress: ``core_enrol_get_users_courses``."""
        params: dict[str, Any] = {"userid": userid, "returnusercount": returnusercount}
        payload = self._client.call(GET_USERS_COURSES, params)
        return parse_list(UserCourse, payload, GET_USERS_COURSES)
