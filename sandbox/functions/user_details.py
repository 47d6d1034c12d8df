"""The user records Moodle returns: the system profile and the course profile.

``core_user_get_users_by_field`` and ``core_user_get_users`` return the system profile
(with ``auth``, ``suspended``, ``lang``... and custom fields with ``displayvalue``);
``core_enrol_get_enrolled_users`` returns the course profile (with ``lastcourseaccess``,
``roles``, ``enrolledcourses``). Optional keys appear only when Moodle would print them:
empty ``idnumber``/``city``/``country``/custom fields are left out.
"""

from __future__ import annotations

from typing import Any

from sandbox import errors
from sandbox.access import ACCESS_ALL_GROUPS, ROLES, has_course_capability
from sandbox.functions.common import profile_image_url
from sandbox.registry import CallContext
from sandbox.state import Course, User

DEFAULT_FIELDS = (
    "id",
    "username",
    "fullname",
    "firstname",
    "lastname",
    "email",
    "address",
    "phone1",
    "phone2",
    "icq",
    "skype",
    "yahoo",
    "aim",
    "msn",
    "department",
    "institution",
    "interests",
    "firstaccess",
    "lastaccess",
    "auth",
    "confirmed",
    "idnumber",
    "lang",
    "theme",
    "timezone",
    "mailformat",
    "description",
    "descriptionformat",
    "city",
    "url",
    "country",
    "profileimageurlsmall",
    "profileimageurl",
    "customfields",
    "groups",
    "roles",
    "preferences",
    "enrolledcourses",
    "suspended",
)


def _customfields(ctx: CallContext, user: User, *, displayvalue: bool) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for profile_field in ctx.site.profile_fields:
        value = user.customfields.get(profile_field.shortname, "")
        if value == "":
            continue
        item: dict[str, Any] = {"type": profile_field.datatype, "value": value}
        if displayvalue:
            item["displayvalue"] = value
        item["name"] = profile_field.name
        item["shortname"] = profile_field.shortname
        found.append(item)
    return found


def _identity(ctx: CallContext, user: User, wanted: set[str]) -> dict[str, Any]:
    """The keys both profiles share, in Moodle's order."""
    out: dict[str, Any] = {"id": user.id}
    if "username" in wanted:
        out["username"] = user.username
    if "firstname" in wanted:
        out["firstname"] = user.firstname
    if "lastname" in wanted:
        out["lastname"] = user.lastname
    out["fullname"] = user.fullname
    if "email" in wanted:
        out["email"] = user.email
    if "address" in wanted and user.address:
        out["address"] = user.address
    if "phone1" in wanted and user.phone1:
        out["phone1"] = user.phone1
    if "phone2" in wanted and user.phone2:
        out["phone2"] = user.phone2
    if "department" in wanted:
        out["department"] = user.department
    if "institution" in wanted and user.institution:
        out["institution"] = user.institution
    if "idnumber" in wanted and user.idnumber:
        out["idnumber"] = user.idnumber
    if "firstaccess" in wanted:
        out["firstaccess"] = user.firstaccess
    if "lastaccess" in wanted:
        out["lastaccess"] = user.lastaccess
    return out


def _place_and_pictures(
    ctx: CallContext, user: User, wanted: set[str], out: dict[str, Any]
) -> None:
    if "description" in wanted and user.description is not None:
        out["description"] = user.description
        out["descriptionformat"] = user.descriptionformat
    if "city" in wanted and user.city:
        out["city"] = user.city
    if "country" in wanted and user.country:
        out["country"] = user.country
    if "profileimageurlsmall" in wanted:
        out["profileimageurlsmall"] = profile_image_url(ctx, "f2")
    if "profileimageurl" in wanted:
        out["profileimageurl"] = profile_image_url(ctx, "f1")


def system_profile(ctx: CallContext, user: User) -> dict[str, Any]:
    """The record ``core_user_get_users_by_field`` returns for a viewer with all rights."""
    wanted = set(DEFAULT_FIELDS)
    out = _identity(ctx, user, wanted)
    out["auth"] = user.auth
    out["suspended"] = user.suspended
    out["confirmed"] = user.confirmed
    out["lang"] = user.lang
    out["theme"] = user.theme
    out["timezone"] = user.timezone
    out["mailformat"] = user.mailformat
    out["trackforums"] = user.trackforums
    _place_and_pictures(ctx, user, wanted, out)
    customfields = _customfields(ctx, user, displayvalue=True)
    if customfields:
        out["customfields"] = customfields
    return out


def parse_userfields(raw: str | None) -> set[str]:
    """The ``userfields`` option: a comma list; unknown names are ``invaliduserfield``."""
    if raw is None:
        return set(DEFAULT_FIELDS)
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    for name in wanted:
        if name not in DEFAULT_FIELDS:
            raise errors.moodle_exception(
                "invaliduserfield", f"The field '{name}' does not exist or is not supported"
            )
    return wanted | {"id", "fullname"}


def course_profile(
    ctx: CallContext, user: User, course: Course, wanted: set[str]
) -> dict[str, Any]:
    """The record ``core_enrol_get_enrolled_users`` returns for one participant."""
    site = ctx.site
    out = _identity(ctx, user, wanted)
    if "lastaccess" in wanted:
        out["lastcourseaccess"] = 0
    _place_and_pictures(ctx, user, wanted, out)
    if "customfields" in wanted:
        customfields = _customfields(ctx, user, displayvalue=False)
        if customfields:
            out["customfields"] = customfields
    # Moodle lists the groups only to a viewer holding moodle/site:accessallgroups.
    if (
        "groups" in wanted
        and ctx.options.enrolled_users_include_groups
        and has_course_capability(site, ctx.caller, ACCESS_ALL_GROUPS, course.id)
    ):
        out["groups"] = [
            {
                "id": group.id,
                "name": group.name,
                "description": group.description,
                "descriptionformat": group.descriptionformat,
            }
            for group in site.user_groups_in_course(course.id, user.id)
        ]
    if "roles" in wanted:
        out["roles"] = [
            {"roleid": roleid, "name": "", "shortname": ROLES[roleid].shortname, "sortorder": 0}
            for roleid in site.roles_in("course", course.id, user.id)
        ]
    if "enrolledcourses" in wanted:
        courses = sorted(site.courses_of_user.get(user.id, set()))
        if courses:
            out["enrolledcourses"] = [
                {
                    "id": cid,
                    "fullname": site.courses[cid].fullname,
                    "shortname": site.courses[cid].shortname,
                }
                for cid in courses
            ]
    return out
