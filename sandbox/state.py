"""The sandbox LMS's site, held in memory and indexed for O(1) look-ups.

Every table is a dict keyed by id; the secondary indexes (username, idnumber, e-mail,
course shortname, enrolments by course, group members by group...) are kept in step by
the few mutating methods here, so handlers never scan all users per row. One
:class:`threading.RLock` guards the whole site: the dispatcher holds it for the length of
each call, which makes every call atomic towards concurrent callers.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

SITE_COURSE_ID = 1

CONTEXT_SYSTEM = "system"
CONTEXT_CATEGORY = "coursecat"
CONTEXT_COURSE = "course"
CONTEXT_MODULE = "module"
CONTEXT_USER = "user"


@dataclass(slots=True)
class ProfileField:
    """A custom user profile field the site defines (``user_info_field``)."""

    shortname: str
    name: str
    datatype: str = "text"


@dataclass(slots=True)
class User:
    """A row of ``mdl_user`` plus its profile-field data and preferences."""

    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    auth: str = "manual"
    idnumber: str = ""
    password_hash: str | None = None
    lang: str = "en"
    timezone: str = "99"
    city: str = ""
    country: str = ""
    description: str | None = None
    descriptionformat: int = 1
    department: str = ""
    institution: str = ""
    phone1: str = ""
    phone2: str = ""
    address: str = ""
    theme: str = ""
    calendartype: str = "gregorian"
    mailformat: int = 1
    maildisplay: int = 2
    trackforums: int = 0
    suspended: bool = False
    confirmed: bool = True
    deleted: bool = False
    firstaccess: int = 0
    lastaccess: int = 0
    timecreated: int = 0
    timemodified: int = 0
    middlename: str = ""
    alternatename: str = ""
    firstnamephonetic: str = ""
    lastnamephonetic: str = ""
    customfields: dict[str, str] = field(default_factory=dict)
    preferences: dict[str, str] = field(default_factory=dict)

    @property
    def fullname(self) -> str:
        """Moodle's default ``fullnamedisplay``: firstname lastname."""
        return f"{self.firstname} {self.lastname}"


@dataclass(slots=True)
class Category:
    """A course category."""

    id: int
    name: str
    parent: int = 0
    idnumber: str = ""
    description: str = ""
    descriptionformat: int = 1
    sortorder: int = 0
    visible: int = 1
    timemodified: int = 0
    depth: int = 1
    path: str = ""
    theme: str = ""


@dataclass(slots=True)
class Section:
    """A course section; ``modules`` is its sequence of course-module ids."""

    id: int
    course: int
    number: int
    name: str | None = None
    summary: str = ""
    visible: int = 1
    availability: str | None = None
    modules: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Course:
    """A course and its settings."""

    id: int
    category: int
    fullname: str
    shortname: str
    idnumber: str = ""
    summary: str = ""
    summaryformat: int = 1
    format: str = "topics"
    showgrades: int = 1
    newsitems: int = 5
    startdate: int = 0
    enddate: int = 0
    visible: int = 1
    groupmode: int = 0
    groupmodeforce: int = 0
    enablecompletion: int = 1
    completionnotify: int = 0
    lang: str = ""
    maxbytes: int = 0
    showreports: int = 0
    showactivitydates: bool = True
    showcompletionconditions: bool = True
    timecreated: int = 0
    timemodified: int = 0
    cacherev: int = 0
    sortorder: int = 0
    manual_enrol: bool = True
    sections: list[int] = field(default_factory=list)
    contextid: int = 0
    gradecategory: int = 0


@dataclass(slots=True)
class Activity:
    """A course module and its activity instance, in one record.

    ``settings`` holds the module-specific columns (dates, grades, intro...).
    """

    cmid: int
    course: int
    section: int
    modname: str
    instance: int
    name: str
    idnumber: str = ""
    intro: str = ""
    completion: int = 0
    completionview: bool = False
    completionusegrade: bool = False
    completionpassgrade: bool = False
    completionsubmit: bool = False
    visible: int = 1
    added: int = 0
    timemodified: int = 0
    contextid: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    # One of the course's completion criteria (when its completion is tracked).
    course_criterion: bool = True


@dataclass(slots=True)
class Group:
    """A course group."""

    id: int
    courseid: int
    name: str
    description: str = ""
    descriptionformat: int = 1
    idnumber: str = ""
    enrolmentkey: str = ""
    visibility: int = 0
    participation: bool = True
    timecreated: int = 0


@dataclass(slots=True)
class Enrolment:
    """A manual enrolment of one user in one course."""

    userid: int
    courseid: int
    timestart: int = 0
    timeend: int = 0
    suspended: bool = False
    timecreated: int = 0


@dataclass(slots=True)
class Cohort:
    """A cohort in the system or a category context."""

    id: int
    name: str
    idnumber: str = ""
    description: str = ""
    descriptionformat: int = 1
    visible: bool = True
    theme: str = ""
    category: int = 0
    members: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class Event:
    """A calendar event."""

    id: int
    name: str
    eventtype: str
    timestart: int
    description: str = ""
    format: int = 1
    courseid: int = 0
    categoryid: int = 0
    groupid: int = 0
    userid: int = 0
    modulename: str = ""
    instance: int = 0
    timeduration: int = 0
    visible: int = 1
    sequence: int = 1
    timemodified: int = 0
    timesort: int = 0
    component: str | None = None


@dataclass(slots=True)
class BackgroundTask:
    """A queued adhoc task, run by :func:`sandbox.tasks.run_background_tasks` ("cron").

    ``kind`` is the Moodle task it stands for, e.g. ``refresh_mod_calendar_events``.
    """

    kind: str
    courseid: int


@dataclass(slots=True)
class Submission:
    """An assignment submission (online text)."""

    id: int
    assignment: int
    userid: int
    status: str = "new"
    text: str = ""
    textformat: int = 1
    timecreated: int = 0
    timemodified: int = 0
    attemptnumber: int = 0


@dataclass(slots=True)
class FeedbackResponse:
    """One learner's answers to a feedback (survey): item id -> raw value."""

    id: int
    feedback: int
    userid: int
    timemodified: int
    answers: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class AssignGrade:
    """A grade given to one user in one assignment."""

    id: int
    assignment: int
    userid: int
    grade: float
    grader: int
    timecreated: int = 0
    timemodified: int = 0
    attemptnumber: int = 0
    feedback: str = ""


@dataclass(slots=True)
class QuizAttempt:
    """One attempt of one user at a quiz."""

    id: int
    quiz: int
    userid: int
    attempt: int
    state: str = "inprogress"
    timestart: int = 0
    timefinish: int = 0
    timemodified: int = 0
    sumgrades: float | None = None
    answers: dict[str, str] = field(default_factory=dict)
    gradednotificationsenttime: int | None = None


@dataclass(slots=True)
class Completion:
    """One user's completion record for one course module."""

    state: int = 0
    timecompleted: int = 0
    overrideby: int | None = None
    viewed: bool = False
    # When the course completion criterion on this activity was met (0: never). Moodle
    # keeps a met criterion: marking the activity incomplete again does not undo it.
    criterion_met: int = 0


@dataclass(slots=True)
class Message:
    """An instant message."""

    id: int
    useridfrom: int
    useridto: int
    text: str
    timecreated: int
    conversationid: int


class IdSequences:
    """Per-table id counters that, like PostgreSQL sequences, never roll back."""

    def __init__(self) -> None:
        self._next: dict[str, int] = defaultdict(lambda: 1)

    def take(self, table: str) -> int:
        """The next id of ``table``."""
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def skip_to(self, table: str, next_id: int) -> None:
        """Make ``next_id`` the next id handed out (never moves backwards)."""
        self._next[table] = max(self._next[table], next_id)

    def peek(self, table: str) -> int:
        """The id :meth:`take` would return next."""
        return self._next[table]

    def snapshot(self) -> dict[str, int]:
        """Every counter, for saving."""
        return dict(self._next)


@dataclass
class Site:
    """All data of the sandbox LMS. Mutate only while holding :attr:`lock`."""

    profile_fields: list[ProfileField] = field(default_factory=list)
    users: dict[int, User] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    courses: dict[int, Course] = field(default_factory=dict)
    sections: dict[int, Section] = field(default_factory=dict)
    activities: dict[int, Activity] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    cohorts: dict[int, Cohort] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    submissions: dict[tuple[int, int], Submission] = field(default_factory=dict)
    assign_grades: dict[tuple[int, int], AssignGrade] = field(default_factory=dict)
    extensions: dict[tuple[int, int], int] = field(default_factory=dict)
    quiz_attempts: dict[int, QuizAttempt] = field(default_factory=dict)
    completions: dict[tuple[int, int], Completion] = field(default_factory=dict)
    feedback_done: dict[tuple[int, int], int] = field(default_factory=dict)
    feedback_responses: dict[tuple[int, int], FeedbackResponse] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    conversations: dict[frozenset[int], int] = field(default_factory=dict)
    # What an administrator changed in the stock roles (Define roles): roleid ->
    # capability -> allowed. Empty: the roles as Moodle installs them.
    role_changes: dict[int, dict[str, bool]] = field(default_factory=dict)
    background_tasks: list[BackgroundTask] = field(default_factory=list)
    ids: IdSequences = field(default_factory=IdSequences)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # Secondary indexes.
    user_by_username: dict[str, int] = field(default_factory=dict)
    users_by_email: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    users_by_email_lower: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    users_by_idnumber: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    course_by_shortname: dict[str, int] = field(default_factory=dict)
    course_by_idnumber: dict[str, int] = field(default_factory=dict)
    category_by_idnumber: dict[str, int] = field(default_factory=dict)
    activity_by_instance: dict[tuple[str, int], int] = field(default_factory=dict)
    enrolments: dict[int, dict[int, Enrolment]] = field(default_factory=lambda: defaultdict(dict))
    courses_of_user: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    groups_of_course: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    group_members: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    groups_of_user: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    role_assignments: dict[tuple[str, int], dict[int, list[int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    cohort_by_idnumber: dict[str, int] = field(default_factory=dict)
    attempts_of_user_quiz: dict[tuple[int, int], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )

    # ---- users ---------------------------------------------------------------------

    def add_user(self, user: User) -> User:
        """Insert a user and index it."""
        self.users[user.id] = user
        self._index_user(user)
        return user

    def _index_user(self, user: User) -> None:
        self.user_by_username[user.username] = user.id
        self.users_by_email[user.email].add(user.id)
        self.users_by_email_lower[user.email.lower()].add(user.id)
        if user.idnumber:
            self.users_by_idnumber[user.idnumber].add(user.id)

    def _unindex_user(self, user: User) -> None:
        if self.user_by_username.get(user.username) == user.id:
            del self.user_by_username[user.username]
        self.users_by_email[user.email].discard(user.id)
        self.users_by_email_lower[user.email.lower()].discard(user.id)
        if user.idnumber:
            self.users_by_idnumber[user.idnumber].discard(user.id)

    def update_user(self, user: User, changes: dict[str, Any]) -> None:
        """Apply column changes to a user, keeping the indexes right."""
        self._unindex_user(user)
        for name, value in changes.items():
            setattr(user, name, value)
        self._index_user(user)

    def email_taken(self, email: str, *, except_id: int | None = None) -> bool:
        """Whether another user holds ``email``, compared case-insensitively."""
        holders = self.users_by_email_lower.get(email.lower(), set())
        return any(uid != except_id for uid in holders)

    # ---- categories and courses ------------------------------------------------------

    def add_category(self, category: Category) -> Category:
        """Insert a category and index it."""
        self.categories[category.id] = category
        if category.idnumber:
            self.category_by_idnumber[category.idnumber] = category.id
        return category

    def add_course(self, course: Course) -> Course:
        """Insert a course and index it."""
        self.courses[course.id] = course
        self.course_by_shortname[course.shortname] = course.id
        if course.idnumber:
            self.course_by_idnumber[course.idnumber] = course.id
        return course

    def update_course(self, course: Course, changes: dict[str, Any]) -> None:
        """Apply setting changes to a course, keeping the indexes right."""
        if self.course_by_shortname.get(course.shortname) == course.id:
            del self.course_by_shortname[course.shortname]
        if course.idnumber and self.course_by_idnumber.get(course.idnumber) == course.id:
            del self.course_by_idnumber[course.idnumber]
        for name, value in changes.items():
            setattr(course, name, value)
        self.course_by_shortname[course.shortname] = course.id
        if course.idnumber:
            self.course_by_idnumber[course.idnumber] = course.id

    def remove_course(self, course_id: int) -> None:
        """Delete a course with its sections, activities, groups, enrolments and events."""
        course = self.courses.pop(course_id)
        self.course_by_shortname.pop(course.shortname, None)
        if course.idnumber:
            self.course_by_idnumber.pop(course.idnumber, None)
        self.clear_course_content(course)
        for section_id in course.sections:
            self.sections.pop(section_id, None)
        for group_id in list(self.groups_of_course.get(course_id, [])):
            self.remove_group(group_id)
        for userid in list(self.enrolments.get(course_id, {})):
            self.remove_enrolment(course_id, userid)
        self.role_assignments.pop((CONTEXT_COURSE, course_id), None)
        for event_id in [e.id for e in self.events.values() if e.courseid == course_id]:
            del self.events[event_id]

    def add_section(self, section: Section) -> Section:
        """Insert a section and attach it to its course."""
        self.sections[section.id] = section
        self.courses[section.course].sections.append(section.id)
        return section

    def course_sections(self, course: Course) -> list[Section]:
        """The sections of a course in section-number order."""
        found = [self.sections[sid] for sid in course.sections]
        return sorted(found, key=lambda section: section.number)

    def add_activity(self, activity: Activity) -> Activity:
        """Insert an activity and append it to its section."""
        self.activities[activity.cmid] = activity
        self.activity_by_instance[(activity.modname, activity.instance)] = activity.cmid
        self.sections[activity.section].modules.append(activity.cmid)
        return activity

    def course_activities(self, course: Course) -> list[Activity]:
        """The activities of a course in course-page order."""
        found: list[Activity] = []
        for section in self.course_sections(course):
            found.extend(self.activities[cmid] for cmid in section.modules)
        return found

    def activity_of(self, modname: str, instance: int) -> Activity | None:
        """The activity of a module instance, e.g. ``("assign", 3)``."""
        cmid = self.activity_by_instance.get((modname, instance))
        return None if cmid is None else self.activities.get(cmid)

    def clear_course_content(self, course: Course) -> None:
        """Remove every activity (and its events) from a course; sections stay."""
        for section in self.course_sections(course):
            for cmid in section.modules:
                activity = self.activities.pop(cmid)
                self.activity_by_instance.pop((activity.modname, activity.instance), None)
                for event_id in [
                    e.id
                    for e in self.events.values()
                    if e.modulename == activity.modname and e.instance == activity.instance
                ]:
                    del self.events[event_id]
            section.modules.clear()

    # ---- enrolments, groups, roles ---------------------------------------------------

    def enrol(self, enrolment: Enrolment) -> None:
        """Create or replace a user's enrolment in a course."""
        self.enrolments[enrolment.courseid][enrolment.userid] = enrolment
        self.courses_of_user[enrolment.userid].add(enrolment.courseid)

    def remove_enrolment(self, course_id: int, userid: int) -> None:
        """Unenrol: drop the enrolment, the course roles and the group memberships."""
        self.enrolments.get(course_id, {}).pop(userid, None)
        self.courses_of_user.get(userid, set()).discard(course_id)
        self.role_assignments.get((CONTEXT_COURSE, course_id), {}).pop(userid, None)
        for group_id in list(self.groups_of_user.get(userid, set())):
            group = self.groups.get(group_id)
            if group is not None and group.courseid == course_id:
                self.remove_group_member(group_id, userid)

    def is_enrolled(self, course_id: int, userid: int) -> bool:
        """Whether ``userid`` has an enrolment in ``course_id``."""
        return userid in self.enrolments.get(course_id, {})

    def add_group(self, group: Group) -> Group:
        """Insert a group into its course."""
        self.groups[group.id] = group
        self.groups_of_course[group.courseid].append(group.id)
        return group

    def remove_group(self, group_id: int) -> None:
        """Delete a group and its memberships."""
        group = self.groups.pop(group_id)
        self.groups_of_course[group.courseid].remove(group_id)
        for userid in list(self.group_members.get(group_id, {})):
            self.remove_group_member(group_id, userid)
        self.group_members.pop(group_id, None)

    def add_group_member(self, group_id: int, userid: int, when: int) -> None:
        """Put a user into a group (idempotent)."""
        members = self.group_members[group_id]
        if userid not in members:
            members[userid] = when
            self.groups_of_user[userid].add(group_id)

    def remove_group_member(self, group_id: int, userid: int) -> None:
        """Take a user out of a group (idempotent)."""
        self.group_members.get(group_id, {}).pop(userid, None)
        self.groups_of_user.get(userid, set()).discard(group_id)

    def user_groups_in_course(self, course_id: int, userid: int) -> list[Group]:
        """The groups of ``course_id`` that ``userid`` belongs to, by id."""
        found = [
            self.groups[gid]
            for gid in self.groups_of_user.get(userid, set())
            if gid in self.groups and self.groups[gid].courseid == course_id
        ]
        return sorted(found, key=lambda group: group.id)

    def assign_role(self, contextlevel: str, instanceid: int, userid: int, roleid: int) -> None:
        """Give ``userid`` the role ``roleid`` in a context (idempotent)."""
        roles = self.role_assignments[(contextlevel, instanceid)].setdefault(userid, [])
        if roleid not in roles:
            roles.append(roleid)

    def unassign_role(self, contextlevel: str, instanceid: int, userid: int, roleid: int) -> None:
        """Take a role away from ``userid`` in a context (idempotent)."""
        roles = self.role_assignments.get((contextlevel, instanceid), {}).get(userid)
        if roles and roleid in roles:
            roles.remove(roleid)

    def roles_in(self, contextlevel: str, instanceid: int, userid: int) -> list[int]:
        """The roles ``userid`` holds directly in a context."""
        return list(self.role_assignments.get((contextlevel, instanceid), {}).get(userid, []))

    def course_roles(self, course_id: int, userid: int) -> list[int]:
        """Roles held in the course or inherited from its category chain."""
        roles = self.roles_in(CONTEXT_COURSE, course_id, userid)
        course = self.courses.get(course_id)
        category_id = course.category if course else 0
        while category_id:
            roles.extend(self.roles_in(CONTEXT_CATEGORY, category_id, userid))
            category = self.categories.get(category_id)
            category_id = category.parent if category else 0
        return roles

    # ---- cohorts -------------------------------------------------------------------

    def add_cohort(self, cohort: Cohort) -> Cohort:
        """Insert a cohort and index it."""
        self.cohorts[cohort.id] = cohort
        if cohort.idnumber:
            self.cohort_by_idnumber[cohort.idnumber] = cohort.id
        return cohort
