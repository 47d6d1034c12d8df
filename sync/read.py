"""Reading the LMS's actual state in as few calls as real Moodle allows.

The recorded floor for a province (5,544 learners, 28 courses) is one
``core_enrol_get_enrolled_users`` per course with a short ``userfields`` list: it brings
every enrolled user's account fields, roles and groups. So:

1. all categories: 1 call;
2. the courses of each run category (``core_course_get_courses_by_field`` by category),
   then one look-up per desired course still not found (only on a first provisioning);
3. the participants of every managed course: 1 call per course, without their roles
   (Moodle runs a query per participant for ``roles``); then the course's staff, the
   participants holding :data:`STAFF_CAPABILITY`, with their roles: 1 cheap call per
   course that lists a few assessors. Every other participant is a learner. Custom
   profile fields (also queried per participant) only where the plan may find them
   changed (:func:`_profile_read`): usually one look-up of one account;
4. the groups of a course only when a desired class was not seen among its members'
   groups (by name, which Moodle keeps unique per course). Moodle reports participants'
   groups only to a service user with ``moodle/site:accessallgroups``; without it, each
   course's groups and their members are read instead (two more calls per course);
5. accounts by identity code only for people not seen enrolled anywhere (new people,
   leavers); by e-mail for addresses new to the LMS (new accounts, changed e-mails), and
   by username for accounts about to be created.

A no-change re-sync of a province therefore reads in about ``3 + runs + 2 × courses``
calls, and asks Moodle for no more per participant than the leanest complete read does
(its ``suspended`` is a column of the user record already loaded).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from connector.courses import CourseInfo
from connector.enrol import EnrolledUser
from connector.lms import MoodleLms
from connector.users import UserDetails
from sync.model import (
    STUDENT_ROLE,
    ActualCourse,
    ActualEnrolment,
    ActualGroup,
    ActualState,
    ActualUser,
    DesiredState,
    DesiredUser,
)

PARTICIPANT_FIELDS = (
    "id",
    "username",
    "firstname",
    "lastname",
    "email",
    "idnumber",
    "suspended",
    "groups",
)
"""What the plan compares of every participant. ``suspended`` is a column of the user
record Moodle has already loaded; ``roles`` is not asked here (a query per participant
in Moodle): see :data:`STAFF_CAPABILITY`."""
STAFF_CAPABILITY = "mod/assign:grade"
"""Held by the non-editing teacher (the assessors' role), the editing teacher and the
manager in stock Moodle, not by the student: ``core_enrol_get_enrolled_users`` with it as
``withcapability`` lists a course's staff (a few assessors) and only they are asked their
``roles``. A participant who does not hold it is taken to be enrolled as a learner
(:data:`~sync.model.STUDENT_ROLE`) only: so a learner enrolled with a teaching role, an
assessor enrolled as a learner, or anyone holding two roles is still found. Known limit:
a participant left with no role at all (unassigned by hand) looks like a learner. Needs
``moodle/role:review`` (the Manager archetype has it)."""
STAFF_FIELDS = ("id", "roles")
CUSTOMFIELDS = "customfields"
"""Asked of every participant only when the accounts' profile fields cannot be trusted
to hold what was last written (:func:`_profile_read`): Moodle loads every custom profile
field of every participant for it."""


def participant_fields(desired: DesiredState) -> tuple[str, ...]:
    """The ``userfields`` of the participants' read: only what the plan will compare."""
    if any(user.customfields for user in desired.users.values()):
        return (*PARTICIPANT_FIELDS, CUSTOMFIELDS)
    return PARTICIPANT_FIELDS


def _customfields(data: Iterable[object]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in data:
        shortname = getattr(item, "shortname", "")
        value = getattr(item, "value", None)
        if shortname and value is not None:
            fields[shortname] = str(value)
    return fields


def _user_from(source: EnrolledUser | UserDetails, suspended_default: bool) -> ActualUser:
    suspended = source.suspended if source.suspended is not None else suspended_default
    return ActualUser(
        id=source.id,
        username=source.username or "",
        idnumber=source.idnumber or "",
        firstname=source.firstname or "",
        lastname=source.lastname or "",
        email=source.email or "",
        suspended=bool(suspended),
        customfields=_customfields(source.customfields),
    )


WrittenCustomfields = Mapping[str, Mapping[str, tuple[str, int]]]
"""Identity code -> profile field -> (the value an apply last wrote, its sync run)."""


@dataclass(frozen=True)
class _ProfileRead:
    """How the accounts' custom profile fields are read (see :func:`_profile_read`)."""

    with_participants: bool  # every participant's (the dearest part of the answer)
    to_read: frozenset[str] = frozenset()  # identity codes whose fields must be read
    trusted: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def _wanted_fields(desired: DesiredState, fields: frozenset[str]) -> dict[str, dict[str, str]]:
    """The profile values the plan compares: managed accounts', on the site's fields."""
    wanted: dict[str, dict[str, str]] = {}
    for code in sorted(desired.managed & set(desired.users)):
        values = {k: v for k, v in desired.users[code].customfields.items() if k in fields}
        if values:
            wanted[code] = values
    return wanted


def _profile_read(
    lms: MoodleLms,
    desired: DesiredState,
    written: WrittenCustomfields | None,
    site_customfields: frozenset[str] | None,
) -> _ProfileRead:
    """Read profile fields only where the plan can find them changed.

    A managed account whose every compared value is the one an apply last wrote (the
    journal) is trusted to hold it, once the site is seen to have kept such writes: the
    account written longest ago for each field is read (1 call); if it lacks the value
    (the field did not exist then: Moodle dropped it without a word), every participant's
    fields are read as before. Accounts whose values differ from the last write (the
    roster changed, or never written) are read by id. Known limit: a value changed by
    hand in Moodle on a trusted account is not seen until the roster changes it.
    """
    fields = site_customfields
    if fields is None:
        fields = frozenset(f for u in desired.users.values() for f in u.customfields)
    wanted = _wanted_fields(desired, fields)
    if not wanted:
        return _ProfileRead(with_participants=False)
    if written is None:
        return _ProfileRead(with_participants=True)
    to_read: set[str] = set()
    trusted: dict[str, Mapping[str, str]] = {}
    oldest: dict[str, tuple[int, str]] = {}  # field -> (sync run, identity code)
    for code, values in wanted.items():
        before = written.get(code, {})
        if any(before.get(name, ("", 0))[0] != value for name, value in values.items()):
            to_read.add(code)
            continue
        trusted[code] = values
        for name in values:
            oldest[name] = min(oldest.get(name, (before[name][1], code)), (before[name][1], code))
    if len(to_read) > max(len(wanted) // 8, 1):
        return _ProfileRead(with_participants=True)  # a new roster: one pass is cheaper
    samples = sorted({code for _, code in oldest.values()})
    seen = lms.users.get_users_by_field("idnumber", samples) if samples else {}
    for name, (_, code) in oldest.items():
        found = seen.get(code)
        if found is None or _customfields(found.customfields).get(name) != trusted[code][name]:
            return _ProfileRead(with_participants=True)
    return _ProfileRead(with_participants=False, to_read=frozenset(to_read), trusted=trusted)


def read_actual(
    lms: MoodleLms,
    desired: DesiredState,
    *,
    known_suspended: Iterable[str] = (),
    written_customfields: WrittenCustomfields | None = None,
    site_customfields: frozenset[str] | None = None,
) -> ActualState:
    """The LMS state relevant to ``desired``.

    ``known_suspended``: identity codes this software suspended (Moodle hides ``suspended``
    from some service users; our own record fills the gap). ``written_customfields``: the
    profile values earlier applies wrote (the journal), so that profile fields are read
    only where they may differ (:func:`_profile_read`); without it every participant's
    are. ``site_customfields``: the fields the plan compares (default: every desired one).
    """
    suspended_by_us = frozenset(known_suspended)
    categories = {c.idnumber: c.id for c in lms.courses.get_categories() if c.idnumber}
    courses = _read_courses(lms, desired, categories)
    profiles = _profile_read(lms, desired, written_customfields, site_customfields)

    users: dict[str, ActualUser] = {}
    enrolments: dict[str, dict[int, ActualEnrolment]] = {}
    groups: dict[tuple[str, str], ActualGroup] = {}
    userfields = participant_fields(desired) if profiles.with_participants else PARTICIPANT_FIELDS
    for idnumber, course in sorted(courses.items()):
        participants = lms.enrol.get_enrolled_users(course.id, userfields=userfields)
        staff = _staff_roles(lms, course) if participants else {}
        for person in participants:
            code = person.idnumber or ""
            if code:
                users.setdefault(code, _user_from(person, code in suspended_by_us))
        # Moodle lists a participant's groups only to a service user holding
        # moodle/site:accessallgroups in the course; without it, ask the groups.
        if participants and not any("groups" in p.model_fields_set for p in participants):
            course_groups, members_of = _groups_and_members(lms, idnumber, course)
        else:
            course_groups = _groups_seen(lms, desired, idnumber, course, participants)
            members_of = {p.id: p.group_ids for p in participants}
        groups.update(course_groups)
        enrolments[idnumber] = {
            person.id: ActualEnrolment(
                userid=person.id,
                idnumber=person.idnumber or "",
                roles=staff.get(person.id, LEARNER_ROLES),
                groupids=members_of.get(person.id, frozenset()),
            )
            for person in participants
        }

    if not profiles.with_participants:
        _fill_profiles(lms, users, profiles)
    missing = sorted((set(desired.users) | desired.managed) - set(users))
    for code, found in lms.users.get_users_by_field("idnumber", missing).items():
        users[code] = _user_from(found, code in suspended_by_us)

    to_create = [u for code, u in sorted(desired.users.items()) if code not in users]
    # E-mails new to the LMS (new accounts, changed addresses): who holds them already?
    new_emails = [u.email for u in to_create] + [
        u.email
        for code, u in sorted(desired.users.items())
        if code in users and users[code].email.lower() != u.email.lower()
    ]
    emails_in_use = {
        email: (found.id, found.idnumber or "")
        for email, found in lms.users.get_users_by_field("email", new_emails).items()
    }
    for user in users.values():
        emails_in_use.setdefault(user.email.lower(), (user.id, user.idnumber))
    taken = lms.users.get_users_by_field("username", _username_candidates(to_create, users))
    return ActualState(
        users=users,
        categories=categories,
        courses=courses,
        groups=groups,
        enrolments=enrolments,
        emails_in_use=emails_in_use,
        usernames_taken=frozenset(taken),
        profiles_read_all=profiles.with_participants or not profiles.trusted,
    )


def _fill_profiles(lms: MoodleLms, users: dict[str, ActualUser], profiles: _ProfileRead) -> None:
    """Participants read without profile fields: the trusted values, then those read."""
    for code, values in profiles.trusted.items():
        if code in users:
            users[code] = replace(users[code], customfields=dict(values))
    ids = {users[code].id: code for code in sorted(profiles.to_read) if code in users}
    for user_id, found in lms.users.get_users_by_field("id", sorted(ids)).items():
        code = ids[user_id]
        users[code] = replace(users[code], customfields=_customfields(found.customfields))


LEARNER_ROLES = frozenset({STUDENT_ROLE})


def _staff_roles(lms: MoodleLms, course: ActualCourse) -> dict[int, frozenset[str]]:
    """The roles of the course's participants who hold :data:`STAFF_CAPABILITY`."""
    return {
        person.id: frozenset(r.shortname for r in person.roles if r.shortname)
        for person in lms.enrol.get_enrolled_users(
            course.id, userfields=STAFF_FIELDS, withcapability=STAFF_CAPABILITY
        )
    }


def _read_courses(
    lms: MoodleLms, desired: DesiredState, categories: Mapping[str, int]
) -> dict[str, ActualCourse]:
    by_shortname = {c.shortname: idnumber for idnumber, c in desired.courses.items()}
    found: dict[str, ActualCourse] = {}
    category_ids = sorted(
        {
            categories[c.category_idnumber]
            for c in desired.courses.values()
            if c.category_idnumber in categories
        }
    )
    for category_id in category_ids:
        for course in lms.courses.get_courses_by_field("category", category_id).courses:
            # By idnumber, or by shortname for a copy an interrupted apply did not finish.
            idnumber = course.idnumber if course.idnumber in desired.courses else None
            idnumber = idnumber or by_shortname.get(course.shortname)
            if idnumber is not None:
                found[idnumber] = _course(course)
    # Not in its category although the category exists: moved by hand. (A course whose
    # category does not exist yet cannot exist: no look-up on a first provisioning.)
    for idnumber in sorted(set(desired.courses) - set(found)):
        course_wanted = desired.courses[idnumber]
        if course_wanted.category_idnumber not in categories:
            continue
        for course in lms.courses.get_courses_by_field(
            "shortname", course_wanted.shortname
        ).courses:
            if course.shortname == course_wanted.shortname:
                found[idnumber] = _course(course)
    return found


def _course(course: CourseInfo) -> ActualCourse:
    return ActualCourse(
        id=course.id,
        idnumber=course.idnumber or "",
        shortname=course.shortname,
        fullname=course.fullname,
        categoryid=course.categoryid or 0,
        startdate=course.startdate,
        enddate=course.enddate,
        groupmode=course.groupmode,
        groupmodeforce=course.groupmodeforce,
    )


def _groups_seen(
    lms: MoodleLms,
    desired: DesiredState,
    idnumber: str,
    course: ActualCourse,
    participants: list[EnrolledUser],
) -> dict[tuple[str, str], ActualGroup]:
    """The course's groups from its participants' groups, matched to classes by name.

    Moodle keeps group names unique in a course. A class nobody is in yet, or a group no
    class wants, is not identified this way: only then are the course's groups read.
    """
    seen = {g.name: g.id for p in participants for g in p.groups}
    wanted = {key: g for key, g in desired.groups.items() if key[0] == idnumber}
    wanted_names = {g.name for g in wanted.values()}
    # Every class seen, and nobody in a group no class wants (a closed class, or one
    # made by hand): names suffice. Otherwise the course's groups tell which are ours.
    if wanted_names == set(seen):
        return {
            key: ActualGroup(seen[g.name], course.id, key[1], g.name) for key, g in wanted.items()
        }
    return _course_groups(lms, idnumber, course)


def _course_groups(
    lms: MoodleLms, idnumber: str, course: ActualCourse
) -> dict[tuple[str, str], ActualGroup]:
    return {
        (idnumber, group.idnumber): ActualGroup(group.id, course.id, group.idnumber, group.name)
        for group in lms.groups.get_course_groups(course.id)
        if group.idnumber
    }


def _groups_and_members(
    lms: MoodleLms, idnumber: str, course: ActualCourse
) -> tuple[dict[tuple[str, str], ActualGroup], dict[int, frozenset[int]]]:
    """The course's groups and who is in them: two calls."""
    groups = _course_groups(lms, idnumber, course)
    members: dict[int, set[int]] = {}
    ids = [g.id for g in groups.values()]
    for group_id, user_ids in lms.groups.get_group_members(ids).items() if ids else ():
        for user_id in user_ids:
            members.setdefault(user_id, set()).add(group_id)
    return groups, {user: frozenset(gids) for user, gids in members.items()}


def _username_candidates(
    to_create: Iterable[DesiredUser], users: Mapping[str, ActualUser]
) -> list[str]:
    """Each preferred username and a few numbered variants, minus those we already know."""
    known = {u.username for u in users.values()}
    candidates: set[str] = set()
    for user in to_create:
        base = user.username
        candidates.update([base, *(f"{base}{n}" for n in range(2, 6))])
    return sorted(candidates - known)


def adoptable(unknown_creates: Iterable[str], actual: ActualState) -> dict[str, tuple[int, str]]:
    """Accounts a lost create batch made after all: identity code -> (id, username).

    (The applier adopts them: ``sync.apply``.)"""
    return {
        code: (actual.users[code].id, actual.users[code].username)
        for code in unknown_creates
        if code in actual.users
    }
