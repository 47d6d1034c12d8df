"""Role assignments and cohorts."""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from sandbox import access, errors
from sandbox.errors import InvalidParameter
from sandbox.params import M, Multiple, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import (
    CONTEXT_CATEGORY,
    CONTEXT_COURSE,
    CONTEXT_SYSTEM,
    CONTEXT_USER,
    Cohort,
)

_ASSIGNMENT = Single(
    {
        "roleid": V(Param.INT),
        "userid": V(Param.INT),
        "contextid": Value(Param.INT, Need.OPTIONAL),
        "contextlevel": Value(Param.ALPHA, Need.OPTIONAL),
        "instanceid": Value(Param.INT, Need.OPTIONAL),
    }
)


def _context(ctx: CallContext, row: dict[str, Any]) -> tuple[str, int]:
    """(contextlevel, instanceid) of an assignment row, or ``Context does not exist``."""
    site = ctx.site
    if row.get("contextid") is not None:
        contextid = row["contextid"]
        if contextid == 1:
            return CONTEXT_SYSTEM, 0
        for course in site.courses.values():
            if course.contextid == contextid:
                return CONTEXT_COURSE, course.id
        raise InvalidParameter("Context does not exist")
    level, instance = row.get("contextlevel"), row.get("instanceid")
    if level is None or instance is None:
        raise InvalidParameter("Missing parameters: contextid or contextlevel + instanceid")
    tables: dict[str, Container[int]] = {
        CONTEXT_SYSTEM: {0, instance},
        CONTEXT_COURSE: site.courses,
        CONTEXT_CATEGORY: site.categories,
        CONTEXT_USER: site.users,
    }
    table = tables.get(level)
    if table is None or instance not in table:
        raise InvalidParameter("Context does not exist")
    return level, instance


def _check_assignment(ctx: CallContext, row: dict[str, Any]) -> tuple[str, int]:
    level, instance = _context(ctx, row)
    course_id = instance if level == CONTEXT_COURSE else 0
    if row["userid"] not in ctx.site.users:
        raise errors.invalid_user()
    if row["roleid"] not in access.assignable_roles(ctx.site, ctx.caller, level, course_id):
        raise errors.moodle_exception(
            "wscannotassignrole",
            f"You don't have the permission to assign this role ({row['roleid']}) to this "
            f"user ({row['userid']}) in this context.",
        )
    return level, instance


@ws_function("core_role_assign_roles", S(assignments=M(_ASSIGNMENT)))
def assign_roles(ctx: CallContext, params: dict[str, Any]) -> None:
    """Assign roles in system, category or course contexts, all or none."""
    checked = [(_check_assignment(ctx, row), row) for row in params["assignments"]]
    for (level, instance), row in checked:
        ctx.site.assign_role(level, instance, row["userid"], row["roleid"])


@ws_function("core_role_unassign_roles", S(unassignments=M(_ASSIGNMENT)))
def unassign_roles(ctx: CallContext, params: dict[str, Any]) -> None:
    """Take roles away, all or none; a role not held is not an error."""
    checked = [(_check_assignment(ctx, row), row) for row in params["unassignments"]]
    for (level, instance), row in checked:
        ctx.site.unassign_role(level, instance, row["userid"], row["roleid"])


_TYPE_VALUE = S(type=V(Param.TEXT), value=V(Param.RAW))
_NEW_COHORT = Single(
    {
        "categorytype": _TYPE_VALUE,
        "name": V(Param.RAW),
        "idnumber": V(Param.RAW),
        "description": Value(Param.RAW, Need.OPTIONAL),
        "descriptionformat": default(V(Param.INT), 1),
        "visible": Value(Param.BOOL, Need.OPTIONAL),
        "theme": Value(Param.PLUGIN, Need.OPTIONAL),
        "customfields": Multiple(
            S(shortname=V(Param.ALPHANUMEXT), value=V(Param.RAW)), Need.OPTIONAL
        ),
    }
)


def _cohort_category(ctx: CallContext, categorytype: dict[str, str]) -> int:
    kind, value = categorytype["type"], categorytype["value"]
    site = ctx.site
    if kind == "system":
        return 0
    if kind == "idnumber" and value in site.category_by_idnumber:
        return site.category_by_idnumber[value]
    if kind == "id" and value.isdigit() and int(value) in site.categories:
        return int(value)
    raise InvalidParameter(f"category {kind}={value} not exists")


@ws_function("core_cohort_create_cohorts", S(cohorts=M(_NEW_COHORT)))
def create_cohorts(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Create cohorts, all or none; id numbers are unique site-wide."""
    site = ctx.site
    pending: list[Cohort] = []
    for row in params["cohorts"]:
        category = _cohort_category(ctx, row["categorytype"])
        if category:
            if not access.has_category_capability(
                site, ctx.caller, "moodle/cohort:manage", category
            ):
                raise errors.required_capability("Create, delete and move cohorts")
        else:
            access.require_system(ctx.caller, "moodle/cohort:manage")
        idnumber = row["idnumber"]
        if idnumber and (
            idnumber in site.cohort_by_idnumber or any(c.idnumber == idnumber for c in pending)
        ):
            raise InvalidParameter(f"record already exists: idnumber={idnumber}")
        pending.append(
            Cohort(
                id=site.ids.take("cohort"),
                name=row["name"],
                idnumber=idnumber,
                description=row.get("description") or "",
                descriptionformat=row["descriptionformat"],
                visible=True if row.get("visible") is None else row["visible"],
                theme=row.get("theme") or "",
                category=category,
            )
        )
    for cohort in pending:
        site.add_cohort(cohort)
    return [
        {
            "id": c.id,
            "name": c.name,
            "idnumber": c.idnumber,
            "description": c.description,
            "descriptionformat": c.descriptionformat,
            "visible": c.visible,
            "theme": c.theme,
        }
        for c in pending
    ]


def _find_cohort(ctx: CallContext, kind: str, value: str) -> Cohort | None:
    site = ctx.site
    if kind == "idnumber":
        cohort_id = site.cohort_by_idnumber.get(value)
    elif kind == "id" and value.isdigit():
        cohort_id = int(value)
    else:
        cohort_id = None
    return None if cohort_id is None else site.cohorts.get(cohort_id)


def _find_user(ctx: CallContext, kind: str, value: str) -> int | None:
    site = ctx.site
    if kind == "username":
        return site.user_by_username.get(value)
    if kind == "id" and value.isdigit():
        return int(value) if int(value) in site.users else None
    if kind == "idnumber":
        holders = site.users_by_idnumber.get(value, set())
        return min(holders) if holders else None
    return None


@ws_function(
    "core_cohort_add_cohort_members",
    S(
        members=M(
            S(
                cohorttype=S(type=V(Param.ALPHANUMEXT), value=V(Param.RAW)),
                usertype=S(type=V(Param.ALPHANUMEXT), value=V(Param.RAW)),
            )
        )
    ),
)
def add_cohort_members(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Add members by cohort and user look-up; unknown ones become warnings."""
    warnings: list[dict[str, Any]] = []
    for row in params["members"]:
        cohorttype, usertype = row["cohorttype"], row["usertype"]
        cohort = _find_cohort(ctx, cohorttype["type"], cohorttype["value"])
        if cohort is None:
            warnings.append(
                {
                    "warningcode": "1",
                    "message": f"cohort {cohorttype['type']}={cohorttype['value']} not exists",
                }
            )
            continue
        userid = _find_user(ctx, usertype["type"], usertype["value"])
        if userid is None:
            warnings.append(
                {
                    "warningcode": "2",
                    "message": f"user {usertype['type']}={usertype['value']} not exists",
                }
            )
            continue
        access.require_system(ctx.caller, "moodle/cohort:assign")
        cohort.members.setdefault(userid, ctx.now)
    return {"warnings": warnings}
