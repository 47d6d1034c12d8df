"""Who answered a feedback (survey), and what: mod_feedback_get_responses_analysis,
mod_feedback_get_non_respondents, mod_feedback_get_analysis.

As recorded on Moodle 4.5 (``_meta__grading_scenario.json``): for a non-anonymous
feedback the responses analysis lists each attempt with the user and every answer, in
(lastname, firstname) order; the non-respondents are the learners who may answer
(``mod/feedback:complete``: students, not teachers) and did not, by user id, and real
Moodle pages them 20 at a time when ``perpage`` is 0 (then ``page`` is an offset, not a
page number: a quirk of ``get_non_respondents`` kept here). All three need
``mod/feedback:viewreports``. A group id limits them to that group's members.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox import access, errors
from sandbox.functions.common import feedback_item_record, module_instance
from sandbox.params import Param, S, V, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, Site, User

STUDENT_ROLE = 5
DEFAULT_PAGE_COUNT = 20  # FEEDBACK_DEFAULT_PAGE_COUNT
ANONYMOUS_YES = 1


def _report_access(ctx: CallContext, feedbackid: int) -> Activity:
    activity = module_instance(ctx, "feedback", feedbackid)
    access.require_course(ctx.site, ctx.caller, "mod/feedback:viewreports", activity.course)
    return activity


def _in_group(site: Site, groupid: int, userid: int) -> bool:
    return not groupid or userid in site.group_members.get(groupid, {})


def _options(activity: Activity, item: dict[str, Any]) -> list[str]:
    presentation = str(item.get("presentation", ""))
    return presentation.split(">>>>>", 1)[-1].split("|")


def _printval(activity: Activity, item: dict[str, Any], raw: str) -> str:
    options = _options(activity, item)
    try:
        return options[int(raw) - 1]
    except (ValueError, IndexError):
        return raw


def _response_records(activity: Activity, answers: dict[int, str]) -> list[dict[str, Any]]:
    records = []
    for item in activity.settings.get("items", []):
        raw = answers.get(item["id"])
        if raw is None:
            continue
        records.append(
            {
                "id": item["id"],
                "name": f"({item['label']}) {item['name']}",
                "printval": _printval(activity, item, raw),
                "rawval": raw,
            }
        )
    return records


def _sort_key(user: User | None) -> tuple[str, str]:
    return (user.lastname, user.firstname) if user else ("", "")


@ws_function(
    "mod_feedback_get_responses_analysis",
    S(
        feedbackid=V(Param.INT),
        groupid=default(V(Param.INT), 0),
        page=default(V(Param.INT), 0),
        perpage=default(V(Param.INT), 0),
        courseid=default(V(Param.INT), 0),
    ),
)
def get_responses_analysis(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Every attempt with its user and answers (non-anonymous), or numbered (anonymous)."""
    site = ctx.site
    activity = _report_access(ctx, params["feedbackid"])
    responses = [
        r
        for (instance, userid), r in site.feedback_responses.items()
        if instance == activity.instance and _in_group(site, params["groupid"], userid)
    ]
    anonymous = activity.settings.get("anonymous", 2) == ANONYMOUS_YES
    responses.sort(key=lambda r: (_sort_key(site.users.get(r.userid)), r.id))
    if params["perpage"]:
        start = params["page"] * params["perpage"]
        responses = responses[start : start + params["perpage"]]
    attempts = [
        {
            "id": r.id,
            "courseid": 0,
            "userid": r.userid,
            "timemodified": r.timemodified,
            "fullname": site.users[r.userid].fullname if r.userid in site.users else "",
            "responses": _response_records(activity, r.answers),
        }
        for r in responses
    ]
    if anonymous:
        anon = [
            {
                "id": attempt["id"],
                "courseid": 0,
                "number": number,
                "responses": attempt["responses"],
            }
            for number, attempt in enumerate(attempts, 1)
        ]
        return {
            "attempts": [],
            "totalattempts": 0,
            "anonattempts": anon,
            "totalanonattempts": len(anon),
            "warnings": [],
        }
    return {
        "attempts": attempts,
        "totalattempts": len(attempts),
        "anonattempts": [],
        "totalanonattempts": 0,
        "warnings": [],
    }


def _can_answer(site: Site, course_id: int, userid: int) -> bool:
    enrolment = site.enrolments.get(course_id, {}).get(userid)
    user = site.users.get(userid)
    if enrolment is None or enrolment.suspended or user is None or user.suspended:
        return False
    return STUDENT_ROLE in site.course_roles(course_id, userid)


@ws_function(
    "mod_feedback_get_non_respondents",
    S(
        feedbackid=V(Param.INT),
        groupid=default(V(Param.INT), 0),
        sort=default(V(Param.ALPHA), "lastaccess"),
        page=default(V(Param.INT), 0),
        perpage=default(V(Param.INT), 0),
        courseid=default(V(Param.INT), 0),
    ),
)
def get_non_respondents(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Learners who may answer and did not; 20 per call unless ``perpage`` says more."""
    site = ctx.site
    activity = module_instance(ctx, "feedback", params["feedbackid"])
    if activity.settings.get("anonymous", 2) == ANONYMOUS_YES:
        raise errors.moodle_exception("anonymous", "This feedback is anonymous")
    access.require_course(ctx.site, ctx.caller, "mod/feedback:viewreports", activity.course)
    if params["sort"] not in ("firstname", "lastname", "lastaccess"):
        raise errors.InvalidParameter(
            "Invalid sort param, must be firstname, lastname or lastaccess."
        )
    missing = sorted(
        userid
        for userid in site.enrolments.get(activity.course, {})
        if _can_answer(site, activity.course, userid)
        and _in_group(site, params["groupid"], userid)
        and (activity.instance, userid) not in site.feedback_responses
    )
    if params["sort"] in ("firstname", "lastname"):
        field = params["sort"]
        missing.sort(key=lambda uid: (getattr(site.users[uid], field), uid))
    if params["perpage"]:
        start, count = params["perpage"] * params["page"], params["perpage"]
    else:
        start, count = params["page"], DEFAULT_PAGE_COUNT
    users = [
        {"courseid": 0, "userid": uid, "fullname": site.users[uid].fullname, "started": False}
        for uid in missing[start : start + count]
    ]
    return {"users": users, "total": len(missing), "warnings": []}


@ws_function(
    "mod_feedback_get_analysis",
    S(
        feedbackid=V(Param.INT),
        groupid=default(V(Param.INT), 0),
        courseid=default(V(Param.INT), 0),
    ),
)
def get_analysis(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Counts per option of each question: who answered is not exposed."""
    site = ctx.site
    activity = module_instance(ctx, "feedback", params["feedbackid"])
    access.require_course(ctx.site, ctx.caller, "mod/feedback:viewanalysepage", activity.course)
    responses = [
        r
        for (instance, userid), r in site.feedback_responses.items()
        if instance == activity.instance and _in_group(site, params["groupid"], userid)
    ]
    items = activity.settings.get("items", [])
    itemsdata = []
    for position, item in enumerate(items, 1):
        options = _options(activity, item)
        answered = [r.answers.get(item["id"]) for r in responses]
        answered = [a for a in answered if a is not None]
        data = []
        for index, text in enumerate(options, 1):
            count = sum(1 for a in answered if a == str(index))
            share = count / len(answered) if answered else 0.0
            # PHP's json_encode writes a whole float without its ".0".
            quotient: float | int = int(share) if share.is_integer() else share
            data.append(
                json.dumps(
                    {"answertext": text, "answercount": count, "quotient": quotient},
                    separators=(",", ":"),
                )
            )
        itemsdata.append({"item": feedback_item_record(activity, item, position), "data": data})
    return {
        "completedcount": len(responses),
        "itemscount": len(items),
        "itemsdata": itemsdata,
        "warnings": [],
    }
