"""Manual enrolments and course participants."""

from __future__ import annotations

from typing import Any

from sandbox import access, completion, errors
from sandbox.errors import InvalidParameter
from sandbox.functions.common import course_image_url, course_or_missing, validate_course_context
from sandbox.functions.user_details import course_profile, parse_userfields
from sandbox.params import M, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import CONTEXT_COURSE, Course, Enrolment, User

_ENROLMENT = Single(
    {
        "roleid": V(Param.INT),
        "userid": V(Param.INT),
        "courseid": V(Param.INT),
        "timestart": Value(Param.INT, Need.OPTIONAL),
        "timeend": Value(Param.INT, Need.OPTIONAL),
        "suspend": Value(Param.INT, Need.OPTIONAL),
    }
)


def _enrol_context(ctx: CallContext, course_id: int) -> Course:
    course = ctx.site.courses.get(course_id)
    if course is None:
        raise InvalidParameter("Context does not exist")
    if not access.can_enter_course(ctx.site, ctx.caller, course_id):
        raise errors.require_login()
    return course


def _no_instance(course_id: int) -> errors.MoodleError:
    return errors.moodle_exception(
        "wsnoinstance",
        "Manual enrolment plugin instance doesn't exist or is disabled for the course "
        f"(id = {course_id})",
    )


@ws_function("enrol_manual_enrol_users", S(enrolments=M(_ENROLMENT)))
def enrol_users(ctx: CallContext, params: dict[str, Any]) -> None:
    """Enrol users with a role, all or none; re-enrolling updates the enrolment."""
    site = ctx.site
    for row in params["enrolments"]:
        course = _enrol_context(ctx, row["courseid"])
        access.require_course(site, ctx.caller, "enrol/manual:enrol", course.id)
        if row["roleid"] not in access.assignable_roles(
            site, ctx.caller, CONTEXT_COURSE, course.id
        ):
            raise errors.moodle_exception(
                "wsusercannotassign",
                f"You don't have the permission to assign this role ({row['roleid']}) to this "
                f"user ({row['userid']}) in this course ({course.id}).",
            )
        if not course.manual_enrol:
            raise _no_instance(course.id)
        user = site.users.get(row["userid"])
        if user is None or user.deleted:
            raise errors.invalid_user()
    for row in params["enrolments"]:
        course_id, userid = row["courseid"], row["userid"]
        existing = site.enrolments.get(course_id, {}).get(userid)
        enrolment = Enrolment(
            userid=userid,
            courseid=course_id,
            timestart=row.get("timestart") or (existing.timestart if existing else 0),
            timeend=row.get("timeend") or (existing.timeend if existing else 0),
            suspended=bool(row.get("suspend")),
            timecreated=existing.timecreated if existing else ctx.now,
        )
        site.enrol(enrolment)
        site.assign_role(CONTEXT_COURSE, course_id, userid, row["roleid"])


@ws_function(
    "enrol_manual_unenrol_users",
    S(
        enrolments=M(
            Single(
                {
                    "userid": V(Param.INT),
                    "courseid": V(Param.INT),
                    "roleid": Value(Param.INT, Need.OPTIONAL),
                }
            )
        )
    ),
)
def unenrol_users(ctx: CallContext, params: dict[str, Any]) -> None:
    """Unenrol users, all or none; unenrolling someone not enrolled is not an error."""
    site = ctx.site
    for row in params["enrolments"]:
        course = _enrol_context(ctx, row["courseid"])
        access.require_course(site, ctx.caller, "enrol/manual:unenrol", course.id)
        if not course.manual_enrol:
            raise _no_instance(course.id)
        user = site.users.get(row["userid"])
        if user is None:
            raise InvalidParameter(f"User id not exist: {row['userid']}")
    for row in params["enrolments"]:
        if row.get("roleid") is not None:
            site.unassign_role(CONTEXT_COURSE, row["courseid"], row["userid"], row["roleid"])
        else:
            site.remove_enrolment(row["courseid"], row["userid"])


def _active(ctx: CallContext, course_id: int, user: User) -> bool:
    enrolment = ctx.site.enrolments[course_id][user.id]
    if enrolment.suspended or user.suspended:
        return False
    if enrolment.timestart and enrolment.timestart > ctx.now:
        return False
    return not (enrolment.timeend and enrolment.timeend < ctx.now)


def _holds(ctx: CallContext, course_id: int, userid: int, capability: str) -> bool:
    return any(
        access.role_allows(ctx.site, roleid, capability)
        for roleid in ctx.site.course_roles(course_id, userid)
    )


def _participants(ctx: CallContext, course: Course, options: dict[str, str]) -> list[User]:
    site = ctx.site
    ids = list(site.enrolments.get(course.id, {}))
    group_id = int(options.get("groupid") or 0)
    if group_id:
        members = site.group_members.get(group_id, {})
        ids = [uid for uid in ids if uid in members]
    elif not access.sees_all_groups(site, ctx.caller, course):
        # Separate groups: only the members of the caller's groups (none: nobody).
        own = access.own_group_ids(site, course.id, ctx.caller.userid)
        ids = [uid for uid in ids if own & access.own_group_ids(site, course.id, uid)]
    users = [site.users[uid] for uid in ids if uid in site.users and not site.users[uid].deleted]
    if options.get("onlyactive") not in (None, "", "0"):
        users = [user for user in users if _active(ctx, course.id, user)]
    capability = options.get("withcapability")
    if capability:
        users = [user for user in users if _holds(ctx, course.id, user.id, capability)]
    sortby = options.get("sortby", "id")
    if sortby not in ("id", "firstname", "lastname", "siteorder"):
        raise InvalidParameter(
            f"Invalid value for sortby parameter (value: {sortby}),"
            "allowed values are: id,firstname,lastname,siteorder"
        )
    direction = options.get("sortdirection", "ASC").upper()
    if direction not in ("ASC", "DESC"):
        raise InvalidParameter(
            f"Invalid value for sortdirection parameter\n                        "
            f"(value: {direction}),allowed values are: ASC,DESC"
        )
    if sortby == "siteorder":
        users.sort(key=lambda u: (u.lastname, u.firstname, u.id))
    else:
        users.sort(key=lambda u: (getattr(u, sortby), u.id))
    if direction == "DESC":
        users.reverse()
    start = int(options.get("limitfrom") or 0)
    count = int(options.get("limitnumber") or 0)
    return users[start : start + count] if count else users[start:]


@ws_function(
    "core_enrol_get_enrolled_users",
    S(
        courseid=V(Param.INT),
        options=default(M(S(name=V(Param.ALPHANUMEXT), value=V(Param.RAW))), []),
    ),
)
def get_enrolled_users(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Participants of a course with their course profile; options filter and trim.

    In a separate-groups course a caller without ``moodle/site:accessallgroups`` gets the
    members of their own groups only, and is refused another group's ``groupid``.
    """
    course = course_or_missing(ctx, params["courseid"])
    validate_course_context(ctx, course.id)
    access.require_course(ctx.site, ctx.caller, "moodle/course:viewparticipants", course.id)
    options = {option["name"]: option["value"] for option in params["options"]}
    if options.get("withcapability"):
        access.require_course(ctx.site, ctx.caller, "moodle/role:review", course.id)
    group_id = int(options.get("groupid") or 0)
    if group_id and ctx.caller.userid not in ctx.site.group_members.get(group_id, {}):
        # Another group than one's own: only with moodle/site:accessallgroups.
        access.require_course(ctx.site, ctx.caller, access.ACCESS_ALL_GROUPS, course.id)
    wanted = parse_userfields(options.get("userfields"))
    return [
        course_profile(ctx, user, course, wanted) for user in _participants(ctx, course, options)
    ]


def _progress(ctx: CallContext, course: Course, userid: int) -> float | None:
    tracked = [a for a in ctx.site.course_activities(course) if a.completion]
    if not course.enablecompletion or not tracked:
        return None
    done = sum(
        1
        for activity in tracked
        if completion.activity_completion(ctx.site, activity, userid).state
        in (completion.COMPLETE, completion.COMPLETE_PASS)
    )
    return done * 100 / len(tracked) if done else 0


def users_course_record(
    ctx: CallContext, course: Course, userid: int, with_count: bool
) -> dict[str, Any]:
    """One course of ``core_enrol_get_users_courses``."""
    site = ctx.site
    progress = _progress(ctx, course, userid)
    record: dict[str, Any] = {
        "id": course.id,
        "shortname": course.shortname,
        "fullname": course.fullname,
        "displayname": course.fullname,
    }
    if with_count:
        record["enrolledusercount"] = len(site.enrolments.get(course.id, {}))
    record.update(
        {
            "idnumber": course.idnumber,
            "visible": course.visible,
            "summary": course.summary,
            "summaryformat": course.summaryformat,
            "format": course.format,
            "courseimage": course_image_url(ctx, course),
            "showgrades": bool(course.showgrades),
            "lang": course.lang,
            "enablecompletion": bool(course.enablecompletion),
            "completionhascriteria": bool(course.enablecompletion),
            "completionusertracked": completion.is_tracked(site, course.id, userid),
            "category": course.category,
            "progress": progress,
            "completed": progress == 100,
            "startdate": course.startdate,
            "enddate": course.enddate,
            "marker": 0,
            "lastaccess": None,
            "isfavourite": False,
            "hidden": False,
            "overviewfiles": [],
            "showactivitydates": course.showactivitydates,
            "showcompletionconditions": course.showcompletionconditions,
            "timemodified": course.timemodified,
        }
    )
    return record


@ws_function(
    "core_enrol_get_users_courses",
    S(userid=V(Param.INT), returnusercount=default(V(Param.BOOL), True)),
)
def get_users_courses(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The courses a user is enrolled in, by course id."""
    userid = params["userid"]
    if userid != ctx.caller.userid:
        access.require_system(ctx.caller, "moodle/user:viewdetails")
    if userid not in ctx.site.users:
        raise errors.missing_record_by_id("user", userid)
    course_ids = sorted(ctx.site.courses_of_user.get(userid, set()))
    return [
        users_course_record(ctx, ctx.site.courses[cid], userid, params["returnusercount"])
        for cid in course_ids
    ]
