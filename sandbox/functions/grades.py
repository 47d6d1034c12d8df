"""The user grade report (gradereport_user_get_grade_items).

The course total uses natural aggregation over the graded items only (an empty grade
is excluded), so its maximum grows as items get graded, as recorded (100, then 110).
"""

from __future__ import annotations

from typing import Any

from sandbox import access, completion, errors
from sandbox.functions.common import validate_course_context
from sandbox.params import Param, S, V, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, Course, Enrolment, User

PASS_ICON = (
    '<i class="icon fa fa-check text-success fa-fw inline"  title="Pass" role="img" '
    'aria-label="Pass"></i>'
)
FAIL_ICON = (
    '<i class="icon fa fa-xmark text-danger fa-fw inline"  title="Fail" role="img" '
    'aria-label="Fail"></i>'
)


def _raw_grade(
    ctx: CallContext, activity: Activity, userid: int
) -> tuple[float | None, int | None, int | None]:
    """(grade, date submitted, date graded) of one activity for one user."""
    site = ctx.site
    if activity.modname == "assign":
        grade = site.assign_grades.get((activity.instance, userid))
        return (grade.grade, None, grade.timemodified) if grade else (None, None, None)
    best = completion.quiz_best_grade(site, activity.instance, userid)
    if best is None:
        return None, None, None
    attempts = [
        site.quiz_attempts[a]
        for a in site.attempts_of_user_quiz.get((activity.instance, userid), [])
    ]
    finished = max(a.timefinish for a in attempts if a.state == "finished")
    return best, finished, finished


def _common(graderaw: float | None, submitted: int | None, graded: int | None) -> dict[str, Any]:
    return {
        "graderaw": graderaw,
        "gradedatesubmitted": submitted,
        "gradedategraded": graded,
        "gradehiddenbydate": False,
        "gradeneedsupdate": False,
        "gradeishidden": False,
        "gradeislocked": False,
        "gradeisoverridden": False,
    }


def _tail(
    graderaw: float | None, grademax: float, formatted: str, feedbackformat: int
) -> dict[str, Any]:
    percentage = "-" if graderaw is None or not grademax else f"{graderaw / grademax * 100:.2f} %"
    return {
        "gradeformatted": formatted,
        "grademin": 0,
        "grademax": grademax,
        "rangeformatted": f"0&ndash;{grademax:g}",
        "percentageformatted": percentage,
        "feedback": "",
        "feedbackformat": feedbackformat,
    }


def _assign_feedback(ctx: CallContext, activity: Activity, userid: int) -> str:
    if activity.modname != "assign":
        return ""
    grade = ctx.site.assign_grades.get((activity.instance, userid))
    return grade.feedback if grade is not None else ""


def _user_grades(ctx: CallContext, course: Course, user: User) -> dict[str, Any]:
    gradable = [a for a in ctx.site.course_activities(course) if a.modname in ("quiz", "assign")]
    raws = {a.cmid: _raw_grade(ctx, a, user.id) for a in gradable}
    graded = [a for a in gradable if raws[a.cmid][0] is not None]
    total_max = sum(float(a.settings["grade"]) for a in graded)
    # Recorded: a user without any grade has feedback format 0 and a course total out of
    # every item; once graded, format 2 and a total out of the graded items only.
    feedbackformat = 2 if graded else 0
    items: list[dict[str, Any]] = []
    for activity in gradable:
        graderaw, submitted, when = raws[activity.cmid]
        grademax = float(activity.settings["grade"])
        item: dict[str, Any] = {
            "id": activity.cmid,
            "itemname": activity.name,
            "itemtype": "mod",
            "itemmodule": activity.modname,
            "iteminstance": activity.instance,
            "itemnumber": 0,
            "idnumber": activity.idnumber,
            "categoryid": course.id,
            "outcomeid": None,
            "scaleid": None,
            "locked": False,
            "cmid": activity.cmid,
        }
        if graded:
            weight = grademax / total_max if graderaw is not None else 0
            item["weightraw"] = round(weight, 5)
            item["weightformatted"] = f"{weight * 100:.2f} %"
            if graderaw is None:
                # Recorded: an empty item is flagged once the user has other grades.
                item["status"] = "novalue"
        if graderaw is None:
            formatted = "-"
        else:
            icon = PASS_ICON if graderaw >= float(activity.settings["gradepass"]) else FAIL_ICON
            formatted = f"{icon}{graderaw:.2f}"
        item.update(_common(graderaw, submitted, when))
        item.update(_tail(graderaw, grademax, formatted, feedbackformat))
        comment = _assign_feedback(ctx, activity, user.id)
        if comment:
            # Recorded: the grader's comment shows on the item, in its editor's format.
            item.update(feedback=comment, feedbackformat=1)
        items.append(item)
    total = sum(raws[a.cmid][0] or 0.0 for a in graded) if graded else None
    dates = [raws[a.cmid][2] or 0 for a in graded]
    course_item: dict[str, Any] = {
        "id": 100000 + course.id,
        "itemname": None,
        "itemtype": "course",
        "itemmodule": None,
        "iteminstance": course.gradecategory or course.id,
        "itemnumber": None,
        "idnumber": None,
        "categoryid": None,
        "outcomeid": None,
        "scaleid": None,
        "locked": False,
    }
    course_item.update(_common(total, None, max(dates) if dates else None))
    course_max = total_max if graded else sum(float(a.settings["grade"]) for a in gradable)
    shown = "-" if total is None else f"{total:.2f}"
    course_item.update(_tail(total, course_max, shown, feedbackformat))
    items.append(course_item)
    return {
        "courseid": course.id,
        "courseidnumber": course.idnumber,
        "userid": user.id,
        "userfullname": user.fullname,
        "useridnumber": user.idnumber,
        "maxdepth": 2,
        "gradeitems": items,
    }


def _active(enrolment: Enrolment, now: int) -> bool:
    return (
        not enrolment.suspended
        and enrolment.timestart <= now
        and (not enrolment.timeend or now < enrolment.timeend)
    )


@ws_function(
    "gradereport_user_get_grade_items",
    S(courseid=V(Param.INT), userid=default(V(Param.INT), 0), groupid=default(V(Param.INT), 0)),
)
def get_grade_items(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Grade items of one user, or of every student (by last name) when userid is 0.

    In a separate-groups course a caller without ``moodle/site:accessallgroups`` sees
    the students of one of their groups (their first by name, unless ``groupid`` names
    another of theirs); another group, a user of another group, or belonging to no group
    at all is ``notingroup``.
    """
    site = ctx.site
    course = validate_course_context(ctx, params["courseid"])
    userid = params["userid"]
    if userid != ctx.caller.userid:
        access.require_course(site, ctx.caller, "moodle/grade:viewall", course.id)
    if userid and not access.user_groups_visible(site, ctx.caller, course, userid):
        raise errors.not_in_group()
    group_id = params["groupid"] or access.active_group(site, ctx.caller, course)
    if not access.group_visible(site, ctx.caller, course, group_id):
        raise errors.not_in_group()
    if userid:
        user = site.users.get(userid)
        if user is None or not site.is_enrolled(course.id, userid):
            raise errors.moodle_exception("notenrolled", "The user is not enrolled in this course")
        users = [user]
    else:
        # Moodle lists only active enrolments here (grade_report_showonlyactiveenrol, on by
        # default): an enrolment whose end has passed drops out of the all-users report,
        # while a report for that one user (``userid``) still answers.
        users = [
            site.users[uid]
            for uid, enrolment in site.enrolments.get(course.id, {}).items()
            if completion.STUDENT in site.roles_in("course", course.id, uid)
            and _active(enrolment, ctx.now)
        ]
        if group_id:
            members = site.group_members.get(group_id, {})
            users = [u for u in users if u.id in members]
        users.sort(key=lambda u: (u.lastname, u.firstname, u.id))
    return {"usergrades": [_user_grades(ctx, course, user) for user in users], "warnings": []}
