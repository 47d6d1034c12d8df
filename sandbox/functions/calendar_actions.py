"""A course's action events for a user's timeline (``core_calendar_get_action_events_by_course``).

As recorded (``core_calendar_get_action_events_by_course__*``, the grading scenario):

* each activity event comes with what the caller can do about it, or not at all when
  there is nothing: a learner sees "Add submission" until they submitted (and their own
  extension event), "Answer the questions" until they answered the survey, "Attempt quiz
  now" until they finished an attempt; a teacher sees the assignment's grading-due event
  with "Grade" and the number of submissions waiting (the whole course's), only while
  there are some; nobody sees an "open" event of an activity already open;
* the service user, enrolled nowhere, gets Moodle's "Invalid response value detected"
  (the function's answer fails its own description).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandbox import errors
from sandbox.functions.calendar import awaits_grading
from sandbox.functions.calendar_move import exported_event
from sandbox.params import Param, S, V, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, Event

STUDENT, TEACHERS = 5, frozenset({3, 4})


def _action(
    ctx: CallContext, event: Event, activity: Activity, userid: int
) -> dict[str, Any] | None:
    """What ``userid`` can do about the event (``None``: the event is not listed)."""
    site, course = ctx.site, event.courseid
    roles = set(site.course_roles(course, userid))
    root = f"{ctx.options.wwwroot}/mod/{activity.modname}/view.php?id={activity.cmid}"
    if event.eventtype == "open" and event.timestart <= ctx.now:
        return None
    if activity.modname == "assign" and event.eventtype == "gradingdue":
        waiting = _waiting(ctx, activity)
        if not roles & TEACHERS or not waiting:
            return None
        return _made("Grade", f"{root}&action=grader", waiting, True, show=True)
    if STUDENT not in roles:
        return None
    if activity.modname == "assign" and event.eventtype in ("due", "extension"):
        submission = site.submissions.get((activity.instance, userid))
        if submission is not None and submission.status == "submitted":
            return None
        opens = activity.settings.get("allowsubmissionsfromdate", 0)
        return _made("Add submission", f"{root}&action=editsubmission", 1, ctx.now >= opens)
    if activity.modname == "feedback":
        if (activity.instance, userid) in site.feedback_responses:
            return None
        return _made("Answer the questions", root, 1, _open(ctx, activity))
    if activity.modname == "quiz":
        finished = any(
            a.quiz == activity.instance and a.userid == userid and a.state == "finished"
            for a in site.quiz_attempts.values()
        )
        return None if finished else _made("Attempt quiz now", root, 1, _open(ctx, activity))
    return None


def _open(ctx: CallContext, activity: Activity) -> bool:
    opens = activity.settings.get("timeopen", 0)
    closes = activity.settings.get("timeclose", 0)
    return (not opens or opens <= ctx.now) and (not closes or ctx.now < closes)


def _waiting(ctx: CallContext, activity: Activity) -> int:
    site = ctx.site
    if not awaits_grading(ctx, activity.instance):
        return 0
    return sum(
        1
        for (assign, userid), submission in site.submissions.items()
        if assign == activity.instance
        and submission.status == "submitted"
        and (
            (grade := site.assign_grades.get((assign, userid))) is None
            or grade.timemodified < submission.timemodified
        )
    )


def _made(
    name: str, url: str, count: int, actionable: bool, *, show: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "url": url,
        "itemcount": count,
        "actionable": actionable,
        "showitemcount": show,
    }


def _exported(
    ctx: CallContext, event: Event, activity: Activity, action: dict[str, Any]
) -> dict[str, Any]:
    exported = exported_event(ctx, event, activity)
    learner = 5 in ctx.site.course_roles(event.courseid, ctx.caller.userid)
    exported["course"]["hasprogress"] = learner
    exported.update(canedit=False, candelete=False)
    if event.eventtype == "extension":
        exported.update(activitystr="Assignment requires action", timeusermidnight=0)
    if activity.modname == "quiz" and event.eventtype == "close":
        exported["icon"]["alttext"] = "Close window"
    elif activity.modname == "quiz":
        exported["icon"]["alttext"] = "Activity event"
    ordered: dict[str, Any] = {}
    for key, value in exported.items():
        if key == "purpose":
            ordered["action"] = action
        ordered[key] = value
    return ordered


@ws_function(
    "core_calendar_get_action_events_by_course",
    S(
        courseid=V(Param.INT),
        timesortfrom=default(V(Param.INT), None),
        timesortto=default(V(Param.INT), None),
        aftereventid=default(V(Param.INT), 0),
        limitnum=default(V(Param.INT), 20),
        searchvalue=default(V(Param.RAW), ""),
    ),
)
def get_action_events_by_course(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    site, userid = ctx.site, ctx.caller.userid
    course = params["courseid"]
    if userid not in site.enrolments.get(course, {}):
        raise errors.MoodleError(
            "core\\exception\\invalid_response_exception",
            "invalidresponse",
            "Invalid response value detected",
        )
    listed = []
    for event in sorted(site.events.values(), key=lambda e: (e.timesort, e.id)):
        if event.courseid != course or not event.modulename or event.id <= params["aftereventid"]:
            continue
        if event.eventtype == "extension" and event.userid != userid:
            continue
        if params["timesortfrom"] is not None and event.timesort < params["timesortfrom"]:
            continue
        if params["timesortto"] is not None and event.timesort > params["timesortto"]:
            continue
        activity = site.activity_of(event.modulename, event.instance)
        if activity is None:
            continue
        action = _action(ctx, event, activity, userid)
        if action is not None:
            listed.append(_exported(ctx, replace(event), activity, action))
        if len(listed) >= params["limitnum"]:
            break
    return {
        "events": listed,
        "firstid": listed[0]["id"] if listed else None,
        "lastid": listed[-1]["id"] if listed else None,
    }
