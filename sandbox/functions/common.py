"""Checks and look-ups shared by the handlers."""

from __future__ import annotations

from typing import Any

from sandbox import access, errors
from sandbox.registry import CallContext
from sandbox.state import Activity, Course, User

COURSE_NOT_ACCESSIBLE = "Course or activity not accessible."


def course_or_missing(ctx: CallContext, course_id: int) -> Course:
    """The course, or the ``invalidrecord`` error ``get_record(MUST_EXIST)`` raises."""
    course = ctx.site.courses.get(course_id)
    if course is None:
        raise errors.missing_record_by_id("course", course_id)
    return course


def validate_course_context(ctx: CallContext, course_id: int) -> Course:
    """``validate_context`` on a course, wrapped as ``errorcoursecontextnotvalid``."""
    course = ctx.site.courses.get(course_id)
    if course is None:
        raise errors.course_context_not_valid(course_id, errors.INVALID_PARAMETER_MESSAGE)
    if not access.can_enter_course(ctx.site, ctx.caller, course_id):
        raise errors.course_context_not_valid(course_id, COURSE_NOT_ACCESSIBLE)
    return course


def require_course_login(ctx: CallContext, course_id: int) -> Course:
    """``require_login`` on a course: unwrapped ``requireloginerror`` when refused."""
    course = ctx.site.courses.get(course_id)
    if course is None:
        raise errors.missing_record_by_id("course", course_id)
    if not access.can_enter_course(ctx.site, ctx.caller, course_id):
        raise errors.require_login()
    return course


def user_or_invalid(ctx: CallContext, userid: int) -> User:
    """The user, or ``invaliduser``."""
    user = ctx.site.users.get(userid)
    if user is None or user.deleted:
        raise errors.invalid_user()
    return user


def activity_or_missing(ctx: CallContext, cmid: int) -> Activity:
    """A course module by id, or ``invalidrecordunknown``."""
    activity = ctx.site.activities.get(cmid)
    if activity is None:
        raise errors.missing_record_unknown()
    return activity


def module_instance(ctx: CallContext, modname: str, instance: int) -> Activity:
    """An activity by module name and instance id, or ``invalidrecord`` on its table."""
    activity = ctx.site.activity_of(modname, instance)
    if activity is None:
        raise errors.missing_record_by_id(modname, instance)
    return activity


def profile_image_url(ctx: CallContext, size: str) -> str:
    """The default avatar URL (``f1`` big, ``f2`` small)."""
    return f"{ctx.options.wwwroot}/theme/image.php/boost/core/1/u/{size}"


def course_image_url(ctx: CallContext, course: Course) -> str:
    """The generated course image URL."""
    return f"{ctx.options.wwwroot}/pluginfile.php/{course.contextid}/course/generated/course.svg"


def module_icon_url(ctx: CallContext, modname: str) -> str:
    """The icon URL of a module type."""
    return f"{ctx.options.wwwroot}/theme/image.php/boost/{modname}/1/monologo?filtericon=1"


def module_view_url(ctx: CallContext, activity: Activity) -> str:
    """The ``/mod/<name>/view.php?id=<cmid>`` URL of an activity."""
    return f"{ctx.options.wwwroot}/mod/{activity.modname}/view.php?id={activity.cmid}"


def feedback_item_record(activity: Activity, item: dict[str, Any], position: int) -> dict[str, Any]:
    """One question of a feedback form, as mod_feedback_get_items and _get_analysis give it."""
    return {
        "id": item["id"],
        "feedback": activity.instance,
        "template": 0,
        "name": item["name"],
        "nameformat": 1,
        "label": item["label"],
        "presentation": item["presentation"],
        "presentationformat": 1,
        "typ": item["typ"],
        "hasvalue": 1,
        "position": position,
        "required": bool(item.get("required", False)),
        "dependitem": 0,
        "dependvalue": "",
        "options": "h",
        "itemfiles": [],
        "itemnumber": position,
        "otherdata": None,
    }


def courses_by_ids(ctx: CallContext, course_ids: list[int]) -> tuple[list[Course], list[Any]]:
    """The given courses, or without ids the caller's, that the caller may enter; a course
    it may not enter (or that does not exist) is a warning, as Moodle's ``*_by_courses``
    functions answer."""
    site = ctx.site
    ids = course_ids or sorted(site.courses_of_user.get(ctx.caller.userid, set()))
    courses: list[Course] = []
    warnings: list[Any] = []
    for course_id in ids:
        course = site.courses.get(course_id)
        if course is None or not access.can_enter_course(site, ctx.caller, course_id):
            warnings.append(
                {
                    "item": "course",
                    "itemid": course_id,
                    "warningcode": "1",
                    "message": "No access rights in course context",
                }
            )
            continue
        courses.append(course)
    return courses, warnings
