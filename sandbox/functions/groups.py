"""Course groups and their members."""

from __future__ import annotations

from typing import Any

from sandbox import access, errors
from sandbox.errors import InvalidParameter
from sandbox.functions.common import validate_course_context
from sandbox.params import M, Multiple, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Group

_NEW_GROUP = Single(
    {
        "courseid": V(Param.INT),
        "name": V(Param.TEXT),
        "description": V(Param.RAW),
        "descriptionformat": default(V(Param.INT), 1),
        "enrolmentkey": Value(Param.RAW, Need.OPTIONAL),
        "idnumber": Value(Param.RAW, Need.OPTIONAL),
        "visibility": Value(Param.INT, Need.OPTIONAL),
        "participation": Value(Param.BOOL, Need.OPTIONAL),
        "customfields": Multiple(
            S(shortname=V(Param.ALPHANUMEXT), value=V(Param.RAW)), Need.OPTIONAL
        ),
    }
)
_MEMBER = S(groupid=V(Param.INT), userid=V(Param.INT))


def group_record(group: Group, *, enrolmentkey: str | None) -> dict[str, Any]:
    """One group as Moodle returns it."""
    return {
        "id": group.id,
        "courseid": group.courseid,
        "name": group.name,
        "description": group.description,
        "descriptionformat": group.descriptionformat,
        "enrolmentkey": enrolmentkey,
        "idnumber": group.idnumber,
        "visibility": group.visibility,
        "participation": group.participation,
    }


@ws_function("core_group_create_groups", S(groups=M(_NEW_GROUP)))
def create_groups(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Create groups, all or none; names and id numbers are unique per course."""
    site = ctx.site
    pending: list[Group] = []
    for row in params["groups"]:
        course = validate_course_context(ctx, row["courseid"])
        access.require_course(site, ctx.caller, "moodle/course:managegroups", course.id)
        siblings = [site.groups[gid] for gid in site.groups_of_course.get(course.id, [])]
        siblings += [g for g in pending if g.courseid == course.id]
        if any(g.name == row["name"] for g in siblings):
            raise InvalidParameter("Group with the same name already exists in the course")
        idnumber = row.get("idnumber") or ""
        if idnumber and any(g.idnumber == idnumber for g in siblings):
            raise errors.moodle_exception("idnumbertaken", "This ID number is already in use")
        pending.append(
            Group(
                id=site.ids.take("groups"),
                courseid=course.id,
                name=row["name"],
                description=row["description"],
                descriptionformat=row["descriptionformat"],
                idnumber=idnumber,
                enrolmentkey=row.get("enrolmentkey") or "",
                visibility=row.get("visibility") or 0,
                participation=True if row.get("participation") is None else row["participation"],
                timecreated=ctx.now,
            )
        )
    for group in pending:
        site.add_group(group)
    return [group_record(group, enrolmentkey=group.enrolmentkey) for group in pending]


@ws_function("core_group_get_course_groups", S(courseid=V(Param.INT)))
def get_course_groups(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The groups of a course, by name."""
    course = validate_course_context(ctx, params["courseid"])
    access.require_course(ctx.site, ctx.caller, "moodle/course:managegroups", course.id)
    groups = [ctx.site.groups[gid] for gid in ctx.site.groups_of_course.get(course.id, [])]
    groups.sort(key=lambda g: (g.name, g.id))
    return [group_record(group, enrolmentkey=None) for group in groups]


def _group(ctx: CallContext, group_id: int) -> Group:
    group = ctx.site.groups.get(group_id)
    if group is None:
        raise errors.missing_record_by_id("groups", group_id)
    validate_course_context(ctx, group.courseid)
    access.require_course(ctx.site, ctx.caller, "moodle/course:managegroups", group.courseid)
    return group


@ws_function("core_group_add_group_members", S(members=M(_MEMBER)))
def add_group_members(ctx: CallContext, params: dict[str, Any]) -> None:
    """Add members, all or none; only users enrolled in the course may join."""
    site = ctx.site
    for row in params["members"]:
        group = _group(ctx, row["groupid"])
        user = site.users.get(row["userid"])
        if user is None or user.deleted:
            raise errors.invalid_user()
        if not site.is_enrolled(group.courseid, user.id):
            raise InvalidParameter("Only enrolled users may be members of groups")
    for row in params["members"]:
        site.add_group_member(row["groupid"], row["userid"], ctx.now)


@ws_function("core_group_delete_group_members", S(members=M(_MEMBER)))
def delete_group_members(ctx: CallContext, params: dict[str, Any]) -> None:
    """Remove members, all or none; removing a non-member is not an error."""
    site = ctx.site
    for row in params["members"]:
        _group(ctx, row["groupid"])
        user = site.users.get(row["userid"])
        if user is None or user.deleted:
            raise errors.invalid_user()
    for row in params["members"]:
        site.remove_group_member(row["groupid"], row["userid"])


@ws_function("core_group_get_group_members", S(groupids=M(V(Param.INT))))
def get_group_members(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The member ids of each group, in the order they joined."""
    result: list[dict[str, Any]] = []
    for group_id in params["groupids"]:
        _group(ctx, group_id)
        result.append(
            {"groupid": group_id, "userids": list(ctx.site.group_members.get(group_id, {}))}
        )
    return result
