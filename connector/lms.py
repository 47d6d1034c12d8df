"""One object for the whole Moodle connector, and what it needs from the site.

:class:`MoodleLms` gathers the per-area modules around one :class:`MoodleClient`.
:data:`REQUIRED_FUNCTIONS` and :data:`REQUIRED_CAPABILITIES` list what the sync service's
token must be allowed, for ``bdtx lms check``; :data:`PARTICIPANT_FUNCTIONS` are called
only with a learner's or teacher's own token, by the sandbox's simulations.
"""

from __future__ import annotations

from types import MappingProxyType

from connector import (
    assignments,
    calendar,
    cohorts,
    completion,
    courses,
    enrol,
    feedback,
    grades,
    groups,
    messages,
    quizzes,
    roles,
    site,
    users,
)
from connector.client import MoodleClient

# wsfunction -> the feature of bdtx that calls it, for the service token.
REQUIRED_FUNCTIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        site.GET_SITE_INFO: "connection check (lms check)",
        users.CREATE_USERS: "provisioning: accounts",
        users.UPDATE_USERS: "provisioning: account changes, suspension",
        users.GET_USERS_BY_FIELD: "provisioning: account read-back",
        users.GET_USERS: "provisioning: account search",
        courses.CREATE_CATEGORIES: "provisioning: categories",
        courses.GET_CATEGORIES: "provisioning: category read-back",
        courses.CREATE_COURSES: "provisioning: courses",
        courses.UPDATE_COURSES: "provisioning: course changes, start dates",
        courses.GET_COURSES_BY_FIELD: "provisioning: course read-back",
        courses.DUPLICATE_COURSE: "provisioning: courses from the module template",
        courses.IMPORT_COURSE: "provisioning: template contents into existing courses",
        courses.GET_CONTENTS: "schedule: activity dates and availability",
        courses.GET_COURSE_MODULE: "grading: activity settings and pass grades",
        enrol.ENROL_USERS: "provisioning: enrolments",
        enrol.UNENROL_USERS: "provisioning: withdrawals",
        enrol.GET_ENROLLED_USERS: "provisioning: roster read-back",
        enrol.GET_USERS_COURSES: "progress: a learner's courses",
        groups.CREATE_GROUPS: "provisioning: classes as groups",
        groups.GET_COURSE_GROUPS: "provisioning: group read-back",
        groups.ADD_GROUP_MEMBERS: "provisioning: class membership",
        groups.DELETE_GROUP_MEMBERS: "provisioning: class changes",
        groups.GET_GROUP_MEMBERS: "provisioning: membership read-back",
        roles.ASSIGN_ROLES: "provisioning: teachers' roles",
        roles.UNASSIGN_ROLES: "provisioning: teachers' role changes",
        cohorts.CREATE_COHORTS: "provisioning: cohorts",
        cohorts.ADD_COHORT_MEMBERS: "provisioning: cohort membership",
        calendar.CREATE_EVENTS: "schedule: class sessions in the calendar",
        calendar.GET_EVENTS: "schedule: calendar read-back",
        calendar.UPDATE_EVENT_START_DAY: "schedule: moving activity dates",
        assignments.GET_ASSIGNMENTS: "grading: assignments and due dates",
        assignments.GET_SUBMISSIONS: "progress: submissions",
        assignments.GET_GRADES: "grading: assignment grades",
        assignments.SAVE_GRADE: "grading: grades from bdtx",
        assignments.SAVE_USER_EXTENSIONS: "schedule: deadline extensions",
        quizzes.GET_QUIZZES_BY_COURSES: "grading: quizzes and their dates",
        quizzes.GET_USER_ATTEMPTS: "progress: quiz attempts",
        quizzes.GET_USER_BEST_GRADE: "grading: quiz grades",
        completion.GET_ACTIVITIES_COMPLETION_STATUS: "progress: activity completion",
        completion.GET_COURSE_COMPLETION_STATUS: "progress: course completion",
        completion.OVERRIDE_ACTIVITY_COMPLETION_STATUS: "completion: teacher overrides",
        grades.GET_GRADE_ITEMS: "grading: gradebook pull",
        feedback.GET_RESPONSES_ANALYSIS: "grading: who answered the survey, and what",
        messages.SEND_INSTANT_MESSAGES: "grading reminders to reporters and assistants",
    }
)

# Called with a learner's or teacher's own token (sandbox simulations), never the service's.
PARTICIPANT_FUNCTIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        assignments.SAVE_SUBMISSION: "simulation: a learner submits",
        assignments.SUBMIT_FOR_GRADING: "simulation: a learner submits for grading",
        quizzes.START_ATTEMPT: "simulation: a learner starts a quiz",
        quizzes.PROCESS_ATTEMPT: "simulation: a learner answers a quiz",
        quizzes.GET_ATTEMPT_DATA: "simulation: a learner reads a quiz page",
        completion.UPDATE_ACTIVITY_COMPLETION_STATUS_MANUALLY: (
            "simulation: a learner ticks an activity"
        ),
    }
)

# Capabilities declared by Moodle (db/services.php) for the functions above.
_DECLARED: dict[str, tuple[str, ...]] = {
    calendar.CREATE_EVENTS: (
        "moodle/calendar:manageentries",
        "moodle/calendar:manageownentries",
        "moodle/calendar:managegroupentries",
    ),
    calendar.GET_EVENTS: (
        "moodle/calendar:manageentries",
        "moodle/calendar:manageownentries",
        "moodle/calendar:managegroupentries",
    ),
    calendar.UPDATE_EVENT_START_DAY: (
        "moodle/calendar:manageentries",
        "moodle/calendar:manageownentries",
        "moodle/calendar:managegroupentries",
    ),
    cohorts.ADD_COHORT_MEMBERS: ("moodle/cohort:assign",),
    cohorts.CREATE_COHORTS: ("moodle/cohort:manage",),
    completion.GET_COURSE_COMPLETION_STATUS: ("report/completion:view",),
    completion.OVERRIDE_ACTIVITY_COMPLETION_STATUS: ("moodle/course:overridecompletion",),
    courses.CREATE_CATEGORIES: ("moodle/category:manage",),
    courses.CREATE_COURSES: ("moodle/course:create", "moodle/course:visibility"),
    courses.DUPLICATE_COURSE: (
        "moodle/backup:backupcourse",
        "moodle/restore:restorecourse",
        "moodle/course:create",
    ),
    courses.GET_CATEGORIES: ("moodle/category:viewhiddencategories",),
    courses.GET_CONTENTS: ("moodle/course:update", "moodle/course:viewhiddencourses"),
    courses.IMPORT_COURSE: (
        "moodle/backup:backuptargetimport",
        "moodle/restore:restoretargetimport",
    ),
    courses.UPDATE_COURSES: (
        "moodle/course:update",
        "moodle/course:changecategory",
        "moodle/course:changefullname",
        "moodle/course:changeshortname",
        "moodle/course:changeidnumber",
        "moodle/course:changesummary",
        "moodle/course:visibility",
    ),
    enrol.GET_ENROLLED_USERS: (
        "moodle/user:viewdetails",
        "moodle/user:viewhiddendetails",
        "moodle/course:useremail",
        "moodle/user:update",
        "moodle/site:accessallgroups",
    ),
    enrol.GET_USERS_COURSES: ("moodle/course:viewparticipants",),
    groups.ADD_GROUP_MEMBERS: ("moodle/course:managegroups",),
    groups.CREATE_GROUPS: ("moodle/course:managegroups",),
    groups.DELETE_GROUP_MEMBERS: ("moodle/course:managegroups",),
    groups.GET_COURSE_GROUPS: ("moodle/course:managegroups",),
    groups.GET_GROUP_MEMBERS: ("moodle/course:managegroups",),
    messages.SEND_INSTANT_MESSAGES: ("moodle/site:sendmessage",),
    roles.ASSIGN_ROLES: ("moodle/role:assign",),
    roles.UNASSIGN_ROLES: ("moodle/role:assign",),
    users.CREATE_USERS: ("moodle/user:create",),
    users.GET_USERS: (
        "moodle/user:viewdetails",
        "moodle/user:viewhiddendetails",
        "moodle/course:useremail",
        "moodle/user:update",
    ),
    users.GET_USERS_BY_FIELD: (
        "moodle/user:viewdetails",
        "moodle/user:viewhiddendetails",
        "moodle/course:useremail",
        "moodle/user:update",
    ),
    users.UPDATE_USERS: ("moodle/user:update",),
    enrol.ENROL_USERS: ("enrol/manual:enrol",),
    enrol.UNENROL_USERS: ("enrol/manual:unenrol",),
    grades.GET_GRADE_ITEMS: ("gradereport/user:view",),
    feedback.GET_RESPONSES_ANALYSIS: ("mod/feedback:viewreports",),
    quizzes.GET_QUIZZES_BY_COURSES: ("mod/quiz:view",),
    quizzes.GET_USER_ATTEMPTS: ("mod/quiz:view",),
    quizzes.GET_USER_BEST_GRADE: ("mod/quiz:view",),
}

# Capabilities the functions' code checks beyond the declared ones, for the way bdtx
# calls them (on other users' data, in courses the service user is not enrolled in).
_CHECKED_BY_CODE: dict[str, tuple[str, ...]] = {
    assignments.SAVE_GRADE: ("mod/assign:grade",),
    assignments.GET_GRADES: ("mod/assign:grade",),
    assignments.GET_SUBMISSIONS: ("mod/assign:grade",),
    assignments.SAVE_USER_EXTENSIONS: ("mod/assign:grantextension",),
    assignments.GET_ASSIGNMENTS: ("mod/assign:view",),
    quizzes.GET_USER_ATTEMPTS: ("mod/quiz:viewreports",),
    quizzes.GET_USER_BEST_GRADE: ("mod/quiz:viewreports",),
    completion.GET_ACTIVITIES_COMPLETION_STATUS: ("report/progress:view",),
    grades.GET_GRADE_ITEMS: ("moodle/grade:viewall",),
    calendar.UPDATE_EVENT_START_DAY: ("moodle/course:manageactivities",),
    enrol.ENROL_USERS: ("moodle/role:assign",),
    # ``withcapability``: the course's staff and their roles (sync/read.py).
    enrol.GET_ENROLLED_USERS: ("moodle/role:review",),
}


def _by_capability(*tables: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    needed: dict[str, list[str]] = {}
    for table in tables:
        for function, capabilities in table.items():
            for capability in capabilities:
                functions = needed.setdefault(capability, [])
                if function not in functions:
                    functions.append(function)
    return {capability: tuple(sorted(needed[capability])) for capability in sorted(needed)}


# capability -> the functions that need it (declared by Moodle or checked by its code).
REQUIRED_CAPABILITIES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    _by_capability(_DECLARED, _CHECKED_BY_CODE)
)


class MoodleLms:
    """The Moodle connector: one attribute per area, all sharing one client."""

    def __init__(self, client: MoodleClient, *, user_rules: users.UserRules | None = None) -> None:
        self.client = client
        self.site = site.Site(client)
        self.users = users.Users(client, user_rules)
        self.courses = courses.Courses(client)
        self.enrol = enrol.Enrol(client)
        self.groups = groups.Groups(client)
        self.roles = roles.Roles(client)
        self.cohorts = cohorts.Cohorts(client)
        self.calendar = calendar.Calendar(client)
        self.assignments = assignments.Assignments(client)
        self.quizzes = quizzes.Quizzes(client)
        self.completion = completion.Completion(client)
        self.grades = grades.Grades(client)
        self.feedback = feedback.Feedback(client)
        self.messages = messages.Messages(client)

    def missing_functions(self) -> dict[str, str]:
        """Required functions the token's service does not offer, with what needs them.

        One call (``core_webservice_get_site_info``); empty when all are there.
        """
        info = self.site.get_site_info()
        return {
            name: REQUIRED_FUNCTIONS[name] for name in info.missing_functions(REQUIRED_FUNCTIONS)
        }
