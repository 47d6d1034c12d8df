"""Completion: activity and course status, manual marks and overrides (core_completion_*)."""

from __future__ import annotations

from typing import Any

from sandbox import access, completion, errors
from sandbox.functions.common import (
    activity_or_missing,
    require_course_login,
    validate_course_context,
)
from sandbox.params import Param, S, V
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity

REQUIREMENT = {
    "page_view": "Viewing the page",
    "manual": "Marking yourself complete",
    "quiz": "Achieving grade, Achieving passing grade",
    "assign": "Achieving grade",
    "feedback": "",
}


@ws_function(
    "core_completion_get_activities_completion_status",
    S(courseid=V(Param.INT), userid=V(Param.INT)),
)
def get_activities_completion_status(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The completion state of every tracked activity of a course for one user."""
    course = validate_course_context(ctx, params["courseid"])
    userid = params["userid"]
    if userid != ctx.caller.userid:
        access.require_course(ctx.site, ctx.caller, "report/completion:view", course.id)
    statuses = []
    for activity in ctx.site.course_activities(course):
        if not activity.completion:
            continue
        record = completion.status_record(ctx.site, activity, userid)
        statuses.append(
            {
                "cmid": activity.cmid,
                "modname": activity.modname,
                "instance": activity.instance,
                "state": record["state"],
                "timecompleted": record["timecompleted"],
                "tracking": activity.completion,
                **{k: v for k, v in record.items() if k not in ("state", "timecompleted")},
            }
        )
    return {"statuses": statuses, "warnings": []}


def _requirement(activity: Activity) -> str:
    if activity.completion == 1:
        return REQUIREMENT["manual"]
    if activity.modname == "page":
        return REQUIREMENT["page_view"]
    return REQUIREMENT.get(activity.modname, "")


@ws_function(
    "core_completion_get_course_completion_status", S(courseid=V(Param.INT), userid=V(Param.INT))
)
def get_course_completion_status(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Course completion (all criteria required): one criterion per tracked activity the
    course counts (the recorded template: all five; with a "module completed" activity:
    that one)."""
    course = validate_course_context(ctx, params["courseid"])
    userid = params["userid"]
    if userid != ctx.caller.userid:
        access.require_course(ctx.site, ctx.caller, "report/completion:view", course.id)
    completions = []
    for activity in ctx.site.course_activities(course):
        if not activity.completion or not activity.course_criterion:
            continue
        result = completion.activity_completion(ctx.site, activity, userid)
        done = result.state in (completion.COMPLETE, completion.COMPLETE_PASS)
        when = result.timecompleted
        stored = ctx.site.completions.get((activity.cmid, userid))
        if not done and stored is not None and stored.criterion_met:
            # Recorded: a criterion once met stays met when the activity is marked
            # incomplete again (un-completing does not propagate to the course).
            done, when = True, stored.criterion_met
        url = f"{ctx.options.wwwroot}/mod/{activity.modname}/view.php?id={activity.cmid}"
        completions.append(
            {
                "type": 4,
                "title": "Activity completion",
                "status": "Yes" if done else "No",
                "complete": done,
                "timecompleted": when if done else None,
                "details": {
                    "type": "Activity completion",
                    "criteria": f'<a href="{url}">{activity.name}</a>',
                    "requirement": _requirement(activity),
                    "status": "",
                },
            }
        )
    completed = bool(completions) and all(item["complete"] for item in completions)
    return {
        "completionstatus": {"completed": completed, "aggregation": 1, "completions": completions},
        "warnings": [],
    }


@ws_function(
    "core_completion_update_activity_completion_status_manually",
    S(cmid=V(Param.INT), completed=V(Param.BOOL)),
)
def update_manually(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Mark the caller's own manual completion of an activity."""
    activity = activity_or_missing(ctx, params["cmid"])
    require_course_login(ctx, activity.course)
    if not activity.visible and not access.has_course_capability(
        ctx.site, ctx.caller, "moodle/course:viewhiddenactivities", activity.course
    ):
        raise errors.require_login()  # a hidden activity: "not accessible" (real Moodle 4.5)
    if activity.completion != 1:
        raise errors.moodle_exception(
            "cannotmanualctrack", "Activity does not provide manual completion tracking"
        )
    stored = completion.record(ctx.site, activity.cmid, ctx.caller.userid)
    stored.state = completion.COMPLETE if params["completed"] else completion.INCOMPLETE
    stored.timecompleted = ctx.now if params["completed"] else 0
    stored.overrideby = None
    if params["completed"] and not stored.criterion_met:
        stored.criterion_met = ctx.now
    return {"status": True, "warnings": []}


@ws_function(
    "core_completion_override_activity_completion_status",
    S(userid=V(Param.INT), cmid=V(Param.INT), newstate=V(Param.INT)),
)
def override_status(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Force a user's completion state of an activity (0 or 1)."""
    activity = activity_or_missing(ctx, params["cmid"])
    require_course_login(ctx, activity.course)
    if activity.completion == 0:
        # Real Moodle 4.5 (tried): an activity without completion tracking is left as it
        # is, without an error, before any other check; the answer says tracking 0.
        return {
            "cmid": activity.cmid,
            "userid": params["userid"],
            "state": completion.INCOMPLETE,
            "timecompleted": 0,
            "overrideby": None,
            "tracking": 0,
        }
    if params["newstate"] not in (completion.INCOMPLETE, completion.COMPLETE):
        raise errors.moodle_exception(
            "err_system",
            "An internal error occurred in the completion system. "
            "(System administrators can enable debugging information to see more detail.)",
        )
    if not access.has_course_capability(
        ctx.site, ctx.caller, "moodle/course:overridecompletion", activity.course
    ):
        raise errors.MoodleError(
            "core\\exception\\required_capability_exception", "nopermission", "error/nopermission"
        )
    stored = completion.record(ctx.site, activity.cmid, params["userid"])
    stored.state = params["newstate"]
    stored.timecompleted = ctx.now
    stored.overrideby = ctx.caller.userid
    if stored.state == completion.COMPLETE and not stored.criterion_met:
        stored.criterion_met = ctx.now  # course completion follows at once (recorded)
    return {
        "cmid": activity.cmid,
        "userid": params["userid"],
        "state": stored.state,
        "timecompleted": stored.timecompleted,
        "overrideby": stored.overrideby,
        "tracking": activity.completion,
    }


@ws_function("core_completion_mark_course_self_completed", S(courseid=V(Param.INT)))
def mark_course_self_completed(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Self completion; the template course has no such criterion."""
    course = validate_course_context(ctx, params["courseid"])
    if not completion.is_tracked(ctx.site, course.id, ctx.caller.userid):
        raise errors.moodle_exception(
            "nottracked", "You are currently not being tracked by completion in this course"
        )
    raise errors.moodle_exception("noselfcompletioncriteria", "No self completion criteria")
