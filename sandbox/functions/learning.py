"""What learners do on pages and feedback forms (mod_page_*, mod_feedback_*)."""

from __future__ import annotations

from typing import Any

from sandbox import access, completion
from sandbox.functions.common import (
    courses_by_ids,
    feedback_item_record,
    module_instance,
    require_course_login,
)
from sandbox.params import M, Param, S, V, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, FeedbackResponse


@ws_function("mod_page_view_page", S(pageid=V(Param.INT)))
def view_page(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Log a page view; completes a page whose completion rule is "view"."""
    activity = module_instance(ctx, "page", params["pageid"])
    require_course_login(ctx, activity.course)
    access.require_course(ctx.site, ctx.caller, "mod/page:view", activity.course)
    stored = completion.record(ctx.site, activity.cmid, ctx.caller.userid)
    if not stored.viewed:
        stored.viewed = True
        stored.timecompleted = stored.timecompleted or ctx.now
    return {"status": True, "warnings": []}


def _is_open(activity: Activity, now: int) -> bool:
    s = activity.settings
    return (not s.get("timeopen") or s["timeopen"] <= now) and (
        not s.get("timeclose") or now <= s["timeclose"]
    )


@ws_function(
    "mod_feedback_get_items", S(feedbackid=V(Param.INT), courseid=default(V(Param.INT), 0))
)
def get_items(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The questions of a feedback form; none, with a warning, while it is closed."""
    activity = module_instance(ctx, "feedback", params["feedbackid"])
    require_course_login(ctx, activity.course)
    if not _is_open(activity, ctx.now):
        return {
            "items": [],
            "warnings": [
                {
                    "item": str(activity.instance),
                    "warningcode": "feedbackisnotopen",
                    "message": "The feedback is not open",
                }
            ],
        }
    items = [
        feedback_item_record(activity, item, position)
        for position, item in enumerate(activity.settings.get("items", []), 1)
    ]
    return {"items": items, "warnings": []}


def _store_answers(ctx: CallContext, activity: Activity, responses: list[dict[str, Any]]) -> None:
    """Keep the answers by item id (form fields are named ``<typ>_<itemid>``)."""
    items = {item["id"] for item in activity.settings.get("items", [])}
    answers: dict[int, str] = {}
    for response in responses:
        _, _, item_id = str(response["name"]).rpartition("_")
        if item_id.isdigit() and int(item_id) in items:
            answers[int(item_id)] = str(response["value"])
    key = (activity.instance, ctx.caller.userid)
    stored = ctx.site.feedback_responses.get(key)
    if stored is None:
        stored = FeedbackResponse(
            id=ctx.site.ids.take("feedback_completed"),
            feedback=activity.instance,
            userid=ctx.caller.userid,
            timemodified=ctx.now,
        )
        ctx.site.feedback_responses[key] = stored
    stored.answers.update(answers)
    stored.timemodified = ctx.now


@ws_function(
    "mod_feedback_process_page",
    S(
        feedbackid=V(Param.INT),
        page=V(Param.INT),
        responses=default(M(S(name=V(Param.NOTAGS), value=V(Param.RAW))), []),
        goprevious=default(V(Param.BOOL), False),
        courseid=default(V(Param.INT), 0),
    ),
)
def process_page(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Submit the caller's answers; the single page completes the feedback."""
    activity = module_instance(ctx, "feedback", params["feedbackid"])
    require_course_login(ctx, activity.course)
    access.require_course(ctx.site, ctx.caller, "mod/feedback:complete", activity.course)
    if not _is_open(activity, ctx.now):
        return {
            "jumpto": 0,
            "completed": False,
            "completionpagecontents": "",
            "siteaftersubmit": "",
            "warnings": [
                {
                    "item": str(activity.instance),
                    "warningcode": "feedbackisnotopen",
                    "message": "The feedback is not open",
                }
            ],
        }
    ctx.site.feedback_done[(activity.instance, ctx.caller.userid)] = ctx.now
    _store_answers(ctx, activity, params["responses"])
    after = activity.settings.get("page_after_submit", "")
    return {
        "jumpto": 0,
        "completed": True,
        "completionpagecontents": (
            f'<div class="no-overflow"><div class="text_to_html">{after}</div></div>'
        ),
        "siteaftersubmit": "",
        "warnings": [],
    }


def _feedback_record(activity: Activity) -> dict[str, Any]:
    s = activity.settings
    return {
        "id": activity.instance,
        "course": activity.course,
        "name": activity.name,
        "intro": activity.intro,
        "introformat": 1,
        "lang": None,
        "anonymous": s.get("anonymous", 1),
        "email_notification": False,
        "multiple_submit": False,
        "autonumbering": False,
        "site_after_submit": "",
        "page_after_submit": s.get("page_after_submit", ""),
        "page_after_submitformat": 1,
        "publish_stats": False,
        "timeopen": s.get("timeopen", 0),
        "timeclose": s.get("timeclose", 0),
        "timemodified": activity.timemodified,
        "completionsubmit": activity.completionsubmit,
        "coursemodule": activity.cmid,
        "introfiles": [],
        "pageaftersubmitfiles": [],
    }


@ws_function("mod_feedback_get_feedbacks_by_courses", S(courseids=default(M(V(Param.INT)), [])))
def get_feedbacks_by_courses(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The feedbacks of the given (or the caller's) courses, with their open and close dates.

    Recorded: the service account gets them without being enrolled (it may enter any
    course); a course the caller may not enter is left out with a warning.
    """
    site = ctx.site
    courses, warnings = courses_by_ids(ctx, params["courseids"])
    feedbacks: list[dict[str, Any]] = []
    for course in courses:
        feedbacks.extend(
            _feedback_record(activity)
            for activity in site.course_activities(course)
            if activity.modname == "feedback"
        )
    return {"feedbacks": feedbacks, "warnings": warnings}
