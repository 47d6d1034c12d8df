"""Who may do what: stock roles, their capabilities and the callers behind tokens.

A much reduced copy of Moodle's role model, enough for the functions emulated here:
a caller holds capabilities at system level (the service account holds all of them,
like the recorded ``syncbot`` role, a copy of the manager archetype) and through the
roles it holds in a course or its categories (editing teacher, teacher, student,
manager at category level).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import errors
from sandbox.state import CONTEXT_CATEGORY, CONTEXT_COURSE, CONTEXT_SYSTEM, Course, Site


@dataclass(frozen=True)
class Role:
    """A stock role."""

    id: int
    shortname: str
    contextlevels: frozenset[str]


ROLES: dict[int, Role] = {
    role.id: role
    for role in (
        Role(1, "manager", frozenset({CONTEXT_SYSTEM, CONTEXT_CATEGORY, CONTEXT_COURSE})),
        Role(2, "coursecreator", frozenset({CONTEXT_SYSTEM, CONTEXT_CATEGORY})),
        Role(3, "editingteacher", frozenset({CONTEXT_COURSE, "module"})),
        Role(4, "teacher", frozenset({CONTEXT_COURSE, "module"})),
        Role(5, "student", frozenset({CONTEXT_COURSE, "module"})),
        Role(6, "guest", frozenset()),
        Role(7, "user", frozenset()),
        Role(8, "frontpage", frozenset()),
        Role(9, "syncbot", frozenset({CONTEXT_SYSTEM})),
        Role(10, "limitedbot", frozenset({CONTEXT_SYSTEM})),
    )
}
MANAGER, EDITING_TEACHER, TEACHER, STUDENT = 1, 3, 4, 5
# Roles a manager-like caller may assign (stock ``role_allow_assign`` of the manager).
ASSIGNABLE_BY_MANAGER = frozenset({1, 2, 3, 4, 5})

CAPABILITY_NAMES: dict[str, str] = {
    "moodle/user:create": "Create users",
    "moodle/user:update": "Update user profiles",
    "moodle/user:viewdetails": "View user profiles",
    "moodle/user:viewalldetails": "View user full information",
    "moodle/category:manage": "Manage course categories",
    "moodle/category:viewhiddencategories": "See hidden categories",
    "moodle/course:create": "Create courses",
    "moodle/course:update": "Update course settings",
    "moodle/course:view": "View courses without participation",
    "moodle/course:viewparticipants": "View participants",
    "moodle/course:managegroups": "Manage groups",
    "moodle/course:overridecompletion": "Override activity completion status",
    "moodle/backup:backupcourse": "Backup courses",
    "moodle/restore:restorecourse": "Restore courses",
    "moodle/backup:backuptargetimport": "Backup for import",
    "moodle/restore:restoretargetimport": "Restore from import",
    "enrol/manual:enrol": "Enrol users",
    "enrol/manual:unenrol": "Unenrol users from the course",
    "moodle/role:assign": "Assign roles to users",
    "moodle/role:review": "Review permissions for others",
    "moodle/cohort:manage": "Create, delete and move cohorts",
    "moodle/cohort:assign": "Add and remove cohort members",
    "moodle/calendar:manageentries": "Manage all calendar entries",
    "moodle/site:sendmessage": "Send messages to any user",
    "moodle/site:accessallgroups": "Access all groups",
    "report/completion:view": "View course completion report",
    "mod/assign:view": "View assignment",
    "mod/assign:submit": "Submit assignment",
    "mod/assign:grade": "Grade assignment",
    "mod/assign:grantextension": "Grant extension",
    "mod/quiz:view": "View quiz information",
    "mod/quiz:attempt": "Attempt quizzes",
    "mod/quiz:viewreports": "View quiz reports",
    "mod/page:view": "View page content",
    "mod/feedback:view": "View a feedback",
    "mod/feedback:complete": "Complete a feedback",
    "gradereport/user:view": "View your own grade report",
    "moodle/grade:viewall": "View grades of other users",
    "moodle/course:viewhiddenactivities": "View hidden activities",
}

_TEACHING = frozenset(
    {
        "moodle/user:viewdetails",
        "moodle/course:viewparticipants",
        "moodle/course:update",
        "moodle/course:managegroups",
        "moodle/course:overridecompletion",
        "moodle/site:accessallgroups",
        "moodle/calendar:manageentries",
        "moodle/role:assign",
        "moodle/role:review",
        "enrol/manual:enrol",
        "enrol/manual:unenrol",
        "report/completion:view",
        "mod/assign:view",
        "mod/assign:grade",
        "mod/assign:grantextension",
        "mod/quiz:view",
        "mod/quiz:viewreports",
        "mod/page:view",
        "mod/feedback:view",
        "gradereport/user:view",
        "moodle/grade:viewall",
        "moodle/course:viewhiddenactivities",
    }
)
# Stock Moodle gives moodle/site:accessallgroups to the editing teacher and the manager
# only: a non-editing teacher is limited to their groups in a separate-groups course.
_NON_EDITING = frozenset(
    {
        "moodle/user:viewdetails",
        "moodle/course:viewparticipants",
        "report/completion:view",
        "mod/assign:view",
        "mod/assign:grade",
        "mod/quiz:view",
        "mod/quiz:viewreports",
        "mod/page:view",
        "mod/feedback:view",
        "gradereport/user:view",
        "moodle/grade:viewall",
        "moodle/course:viewhiddenactivities",
    }
)
_LEARNING = frozenset(
    {
        "moodle/user:viewdetails",
        "moodle/course:viewparticipants",
        "mod/assign:view",
        "mod/assign:submit",
        "mod/quiz:view",
        "mod/quiz:attempt",
        "mod/page:view",
        "mod/feedback:view",
        "mod/feedback:complete",
        "gradereport/user:view",
    }
)
ROLE_CAPABILITIES: dict[int, frozenset[str] | None] = {
    MANAGER: None,  # None: every capability.
    EDITING_TEACHER: _TEACHING,
    TEACHER: _NON_EDITING,
    STUDENT: _LEARNING,
}


@dataclass(frozen=True)
class Caller:
    """The user behind a token and what it holds at system level.

    ``system_capabilities`` None means every capability (the service account).
    """

    userid: int
    username: str
    service: str
    system_capabilities: frozenset[str] | None


def role_allows(site: Site, roleid: int, capability: str) -> bool:
    """Whether ``roleid`` grants ``capability``: stock definition, then the site's changes."""
    changed = site.role_changes.get(roleid, {}).get(capability)
    if changed is not None:
        return changed
    caps = ROLE_CAPABILITIES.get(roleid, frozenset())
    return caps is None or capability in caps


def has_system_capability(caller: Caller, capability: str) -> bool:
    """Whether the caller holds ``capability`` at system level."""
    caps = caller.system_capabilities
    return caps is None or capability in caps


def has_course_capability(site: Site, caller: Caller, capability: str, course_id: int) -> bool:
    """Whether the caller holds ``capability`` in a course (system or course roles)."""
    if has_system_capability(caller, capability):
        return True
    return any(
        role_allows(site, r, capability) for r in site.course_roles(course_id, caller.userid)
    )


def has_category_capability(site: Site, caller: Caller, capability: str, category_id: int) -> bool:
    """Whether the caller holds ``capability`` in a category (system or category roles)."""
    if has_system_capability(caller, capability):
        return True
    category_id_walk = category_id
    while category_id_walk:
        for roleid in site.roles_in(CONTEXT_CATEGORY, category_id_walk, caller.userid):
            if role_allows(site, roleid, capability):
                return True
        category = site.categories.get(category_id_walk)
        category_id_walk = category.parent if category else 0
    return False


def require_system(caller: Caller, capability: str) -> None:
    """``require_capability`` in the system context."""
    if not has_system_capability(caller, capability):
        raise errors.required_capability(CAPABILITY_NAMES.get(capability, capability))


def require_course(site: Site, caller: Caller, capability: str, course_id: int) -> None:
    """``require_capability`` in a course context."""
    if not has_course_capability(site, caller, capability, course_id):
        raise errors.required_capability(CAPABILITY_NAMES.get(capability, capability))


def can_enter_course(site: Site, caller: Caller, course_id: int) -> bool:
    """``require_login`` for a course: enrolled, a course or category role, or course:view."""
    if has_system_capability(caller, "moodle/course:view"):
        return True
    enrolment = site.enrolments.get(course_id, {}).get(caller.userid)
    if enrolment is not None and not enrolment.suspended:
        return True
    return bool(site.course_roles(course_id, caller.userid))


def assignable_roles(site: Site, caller: Caller, contextlevel: str, course_id: int) -> set[int]:
    """The roles ``caller`` may assign in a context of ``contextlevel``."""
    if has_system_capability(caller, "moodle/role:assign"):
        allowed = ASSIGNABLE_BY_MANAGER
    elif contextlevel == CONTEXT_COURSE and has_course_capability(
        site, caller, "moodle/role:assign", course_id
    ):
        allowed = frozenset({TEACHER, STUDENT})  # what an editing teacher may assign
    else:
        return set()
    return {rid for rid in allowed if contextlevel in ROLES[rid].contextlevels}


# ---- separate groups (lib/grouplib.php) ---------------------------------------------------

SEPARATE_GROUPS = 1
ACCESS_ALL_GROUPS = "moodle/site:accessallgroups"


def sees_all_groups(site: Site, caller: Caller, course: Course) -> bool:
    """Whether groups restrict nothing for the caller in a course.

    Only a separate-groups course restricts, and only callers without
    ``moodle/site:accessallgroups`` there (the stock non-editing teacher, students).
    """
    if course.groupmode != SEPARATE_GROUPS:
        return True
    return has_course_capability(site, caller, ACCESS_ALL_GROUPS, course.id)


def own_group_ids(site: Site, course_id: int, userid: int) -> set[int]:
    """The groups of a course ``userid`` is a member of."""
    return {group.id for group in site.user_groups_in_course(course_id, userid)}


def user_groups_visible(site: Site, caller: Caller, course: Course, userid: int) -> bool:
    """``groups_user_groups_visible``: may the caller see ``userid`` (a group in common)?"""
    if sees_all_groups(site, caller, course):
        return True
    return bool(
        own_group_ids(site, course.id, userid) & own_group_ids(site, course.id, caller.userid)
    )


def group_visible(site: Site, caller: Caller, course: Course, group_id: int) -> bool:
    """``groups_group_visible``: may the caller see group ``group_id`` (0: everybody)?"""
    if sees_all_groups(site, caller, course):
        return True
    return group_id != 0 and group_id in own_group_ids(site, course.id, caller.userid)


def active_group(site: Site, caller: Caller, course: Course) -> int:
    """``groups_get_course_group`` on a fresh session: a web-service call has no other.

    A caller limited by separate groups starts in the first of their groups by name (0
    when in none); anyone else sees all participants (0).
    """
    if sees_all_groups(site, caller, course):
        return 0
    groups = site.user_groups_in_course(course.id, caller.userid)
    return min(groups, key=lambda group: (group.name, group.id)).id if groups else 0
