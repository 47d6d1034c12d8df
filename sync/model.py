"""The two states the sync compares, and the actions that take one to the other.

*Desired* state comes from the state database (roster, classes, reporters, runs);
*actual* state is read from the LMS. Both are plain frozen data keyed by stable keys:
a person by identity code (Moodle ``idnumber``), a course by its ``idnumber``, a group
by (course ``idnumber``, group ``idnumber``). LMS ids appear only in the actual state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

STUDENT_ROLE = "student"
TEACHER_ROLE = "teacher"  # Moodle's non-editing teacher: assessors see and grade their group

# Moodle's course group modes (``groupmode``).
NO_GROUPS, SEPARATE_GROUPS, VISIBLE_GROUPS = 0, 1, 2


@dataclass(frozen=True, slots=True)
class DesiredUser:
    """An account the roster wants to exist, keyed by identity code."""

    identity_code: str
    firstname: str
    lastname: str
    email: str
    username: str  # preferred; the planner makes it unique when it is taken
    customfields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DesiredCategory:
    idnumber: str
    name: str
    parent_idnumber: str | None = None


@dataclass(frozen=True, slots=True)
class DesiredCourse:
    """One course per module run x level x audience x subject, copied from a template."""

    idnumber: str
    shortname: str
    fullname: str
    category_idnumber: str
    template_shortname: str
    startdate: int  # epoch seconds, day 1 00:00 local time
    enddate: int  # end of the grading window
    run_id: str
    # Separate groups, forced on every activity: a reporter (non-editing teacher, without
    # moodle/site:accessallgroups) sees only the learners of their own classes.
    groupmode: int = SEPARATE_GROUPS
    groupmodeforce: bool = True


@dataclass(frozen=True, slots=True)
class DesiredGroup:
    """A class (lớp) as a group of its course."""

    course_idnumber: str
    idnumber: str  # the class id
    name: str


@dataclass(frozen=True, slots=True)
class DesiredEnrolment:
    course_idnumber: str
    identity_code: str
    role: str  # STUDENT_ROLE or TEACHER_ROLE
    timestart: int
    timeend: int
    groups: frozenset[str] = frozenset()  # the classes (group idnumbers): one for a learner
    reference: bool = False  # a reference (concurrent) subject: never certified here


@dataclass(frozen=True, slots=True)
class DesiredState:
    users: Mapping[str, DesiredUser]  # by identity code
    categories: tuple[DesiredCategory, ...]  # parents before children
    courses: Mapping[str, DesiredCourse]  # by idnumber
    groups: Mapping[tuple[str, str], DesiredGroup]  # by (course idnumber, group idnumber)
    enrolments: Mapping[tuple[str, str], DesiredEnrolment]  # by (course idnumber, identity)
    # Identity codes of people whose accounts the software manages (ever provisioned).
    managed: frozenset[str] = frozenset()
    # Identity codes still in some active run: never suspended.
    active: frozenset[str] = frozenset()
    # When each managed person left the roster (epoch seconds): suspended after a grace period.
    left_at: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActualUser:
    id: int
    username: str
    idnumber: str
    firstname: str
    lastname: str
    email: str
    suspended: bool
    customfields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActualCourse:
    id: int
    idnumber: str
    shortname: str
    fullname: str
    categoryid: int
    startdate: int
    enddate: int
    # None: the LMS did not say (it tells only users who may update the course).
    groupmode: int | None = None
    groupmodeforce: bool | None = None


@dataclass(frozen=True, slots=True)
class ActualGroup:
    id: int
    courseid: int
    idnumber: str
    name: str


@dataclass(frozen=True, slots=True)
class ActualEnrolment:
    """A user enrolled in a course, with roles and group ids as Moodle reports them."""

    userid: int
    idnumber: str
    roles: frozenset[str]
    groupids: frozenset[int]


@dataclass(frozen=True, slots=True)
class ActualState:
    users: Mapping[str, ActualUser]  # by idnumber (identity code)
    categories: Mapping[str, int]  # idnumber -> id
    courses: Mapping[str, ActualCourse]  # by idnumber
    groups: Mapping[tuple[str, str], ActualGroup]  # by (course idnumber, group idnumber)
    enrolments: Mapping[str, Mapping[int, ActualEnrolment]]  # course idnumber -> userid -> ...
    # Accounts found by e-mail or username that do NOT carry the identity code we expect:
    # e-mail (lower case) -> (id, idnumber) and usernames already taken on the site.
    emails_in_use: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    usernames_taken: frozenset[str] = frozenset()
    # Every participant's profile fields were read (none trusted from the journal).
    profiles_read_all: bool = False


class ActionKind(StrEnum):
    CREATE_CATEGORY = "create_category"
    CREATE_COURSE = "create_course"
    UPDATE_COURSE = "update_course"
    CREATE_GROUP = "create_group"
    CREATE_USER = "create_user"
    UPDATE_USER = "update_user"
    SUSPEND_USER = "suspend_user"
    REACTIVATE_USER = "reactivate_user"
    ENROL = "enrol"
    CHANGE_ROLE = "change_role"
    UNENROL = "unenrol"
    ADD_MEMBER = "add_member"
    REMOVE_MEMBER = "remove_member"
    # The run's schedule in the LMS calendar (sync/calendar.py).
    MOVE_EVENT = "move_event"
    CREATE_EVENT = "create_event"


@dataclass(frozen=True, slots=True)
class Action:
    """One change to make in the LMS, with the reason a person can read.

    ``key`` identifies the object (identity code, course idnumber, ...); ``data`` holds
    what the writer sends (plain JSON-able values).
    """

    kind: ActionKind
    key: str
    reason: str
    data: Mapping[str, object] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """A stable id of the action within a plan (kind + key)."""
        return f"{self.kind.value}:{self.key}"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Something the plan will not do and a person must look at."""

    key: str
    code: str
    message: str  # Vietnamese, for the Sở's IT team


@dataclass(frozen=True, slots=True)
class Plan:
    actions: tuple[Action, ...]
    conflicts: tuple[Conflict, ...] = ()

    def count_by_kind(self) -> dict[ActionKind, int]:
        counts: dict[ActionKind, int] = {}
        for action in self.actions:
            counts[action.kind] = counts.get(action.kind, 0) + 1
        return counts

    def of_kind(self, kind: ActionKind) -> list[Action]:
        return [a for a in self.actions if a.kind is kind]

    @property
    def writes(self) -> int:
        return len(self.actions)
