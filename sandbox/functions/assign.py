"""Assignments: read, submit, grade and extend (mod_assign_*)."""

from __future__ import annotations

from typing import Any

from sandbox import access
from sandbox.functions.common import module_instance
from sandbox.params import M, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, AssignGrade, Course, Event, Submission

_CONFIGS = (
    ("onlinetext", "enabled", "1"),
    ("onlinetext", "wordlimit", "0"),
    ("onlinetext", "wordlimitenabled", "0"),
    ("comments", "enabled", "0"),
)


def _assignment_record(activity: Activity) -> dict[str, Any]:
    s = activity.settings
    return {
        "id": activity.instance,
        "cmid": activity.cmid,
        "course": activity.course,
        "name": activity.name,
        "nosubmissions": 0,
        "submissiondrafts": 0,
        "sendnotifications": 0,
        "sendlatenotifications": 0,
        "sendstudentnotifications": 1,
        "duedate": s.get("duedate", 0),
        "allowsubmissionsfromdate": s.get("allowsubmissionsfromdate", 0),
        "grade": s.get("grade", 100),
        "timemodified": activity.timemodified,
        "completionsubmit": 1 if activity.completionsubmit else 0,
        "cutoffdate": s.get("cutoffdate", 0),
        "gradingduedate": s.get("gradingduedate", 0),
        "teamsubmission": 0,
        "requireallteammemberssubmit": 0,
        "teamsubmissiongroupingid": 0,
        "blindmarking": 0,
        "hidegrader": 0,
        "revealidentities": 0,
        "attemptreopenmethod": "untilpass",
        "maxattempts": 1,
        "markingworkflow": 0,
        "markingallocation": 0,
        "markinganonymous": 0,
        "requiresubmissionstatement": 0,
        "preventsubmissionnotingroup": 0,
        "configs": [
            {"plugin": plugin, "subtype": "assignsubmission", "name": name, "value": value}
            for plugin, name, value in _CONFIGS
        ],
        "intro": activity.intro,
        "introformat": 1,
        "introfiles": [],
        "introattachments": [],
        "timelimit": 0,
        "submissionattachments": 0,
    }


def _course_entry(ctx: CallContext, course: Course) -> dict[str, Any]:
    activities = [a for a in ctx.site.course_activities(course) if a.modname == "assign"]
    return {
        "id": course.id,
        "fullname": course.fullname,
        "shortname": course.shortname,
        "timemodified": course.timemodified,
        "assignments": [_assignment_record(activity) for activity in activities],
    }


@ws_function(
    "mod_assign_get_assignments",
    S(
        courseids=default(M(V(Param.INT)), []),
        capabilities=default(M(V(Param.TEXT)), []),
        includenotenrolledcourses=default(V(Param.BOOL), False),
    ),
)
def get_assignments(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Assignments of the given courses (default: the caller's courses)."""
    site = ctx.site
    course_ids = params["courseids"] or sorted(site.courses_of_user.get(ctx.caller.userid, set()))
    courses: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for course_id in course_ids:
        course = site.courses.get(course_id)
        enrolled = site.is_enrolled(course_id, ctx.caller.userid)
        allowed = course is not None and (
            enrolled
            or (
                params["includenotenrolledcourses"]
                and access.can_enter_course(site, ctx.caller, course_id)
            )
        )
        if not allowed or course is None:
            warnings.append(
                {
                    "item": "course",
                    "itemid": course_id,
                    "warningcode": "2",
                    "message": "User is not enrolled or does not have requested capability",
                }
            )
            continue
        courses.append(_course_entry(ctx, course))
    return {"courses": courses, "warnings": warnings}


def _assign(ctx: CallContext, assignment_id: int) -> Activity:
    return module_instance(ctx, "assign", assignment_id)


def _grade_text(value: float) -> str:
    return f"{value:.5f}"


def _gradable(
    ctx: CallContext, assignment_id: int, item: str, warnings: list[dict[str, Any]]
) -> Activity | None:
    """The assignment if the caller may grade it; else Moodle's warning (``item`` varies)."""
    activity = ctx.site.activity_of("assign", assignment_id)
    if activity is not None and access.has_course_capability(
        ctx.site, ctx.caller, "mod/assign:grade", activity.course
    ):
        return activity
    warnings.append(
        {
            "item": item,
            "itemid": assignment_id,
            "warningcode": "1",
            "message": "No access rights in module context",
        }
    )
    return None


@ws_function(
    "mod_assign_get_grades",
    S(assignmentids=M(V(Param.INT)), since=default(V(Param.INT), 0)),
)
def get_grades(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Grades given in each assignment (since a time)."""
    site = ctx.site
    assignments: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for assignment_id in params["assignmentids"]:
        activity = _gradable(ctx, assignment_id, "assignment", warnings)
        if activity is None:
            continue
        grades = sorted(
            (
                g
                for (aid, _), g in site.assign_grades.items()
                if aid == assignment_id and g.timemodified >= params["since"]
            ),
            key=lambda g: g.id,
        )
        if not grades:
            warnings.append(
                {
                    "item": "assignment",
                    "itemid": assignment_id,
                    "warningcode": "3",
                    "message": "No grades found",
                }
            )
            continue
        assignments.append(
            {
                "assignmentid": assignment_id,
                "grades": [
                    {
                        "id": g.id,
                        "userid": g.userid,
                        "attemptnumber": g.attemptnumber,
                        "timecreated": g.timecreated,
                        "timemodified": g.timemodified,
                        "grader": g.grader,
                        "grade": _grade_text(g.grade),
                    }
                    for g in grades
                ],
            }
        )
    return {"assignments": assignments, "warnings": warnings}


def _submission_record(ctx: CallContext, submission: Submission) -> dict[str, Any]:
    grade = ctx.site.assign_grades.get((submission.assignment, submission.userid))
    graded = grade is not None and grade.timemodified >= submission.timemodified
    return {
        "id": submission.id,
        "userid": submission.userid,
        "attemptnumber": submission.attemptnumber,
        "timecreated": submission.timecreated,
        "timemodified": submission.timemodified,
        "timestarted": None,
        "status": submission.status,
        "groupid": 0,
        "plugins": [
            {
                "type": "onlinetext",
                "name": "Online text",
                "fileareas": [{"area": "submissions_onlinetext", "files": []}],
                "editorfields": [
                    {
                        "name": "onlinetext",
                        "description": "Online text submissions",
                        "text": submission.text,
                        "format": submission.textformat,
                    }
                ],
            },
            {"type": "comments", "name": "Submission comments"},
        ],
        "gradingstatus": "graded" if graded else "notgraded",
    }


@ws_function(
    "mod_assign_get_submissions",
    S(
        assignmentids=M(V(Param.INT)),
        status=default(V(Param.ALPHA), ""),
        since=default(V(Param.INT), 0),
        before=default(V(Param.INT), 0),
    ),
)
def get_submissions(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Submissions of each assignment, filtered by status and time."""
    site = ctx.site
    assignments: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for assignment_id in params["assignmentids"]:
        activity = _gradable(ctx, assignment_id, "module", warnings)
        if activity is None:
            continue
        found = [
            s
            for (aid, _), s in site.submissions.items()
            if aid == assignment_id
            and (not params["status"] or s.status == params["status"])
            and s.timemodified >= params["since"]
            and (not params["before"] or s.timemodified <= params["before"])
        ]
        found.sort(key=lambda s: s.id)
        if not found:
            # As recorded: the assignment is still listed, with a warning beside it.
            warnings.append(
                {
                    "item": "module",
                    "itemid": assignment_id,
                    "warningcode": "3",
                    "message": "No submissions found",
                }
            )
        assignments.append(
            {
                "assignmentid": assignment_id,
                "submissions": [_submission_record(ctx, s) for s in found],
            }
        )
    return {"assignments": assignments, "warnings": warnings}


_PLUGINDATA_GRADE = Single(
    {
        "assignfeedbackcomments_editor": Single(
            {"text": V(Param.RAW), "format": V(Param.INT)}, Need.OPTIONAL
        ),
        "files_filemanager": Value(Param.INT, Need.OPTIONAL),
    },
    Need.OPTIONAL,
)


@ws_function(
    "mod_assign_save_grade",
    Single(
        {
            "assignmentid": V(Param.INT),
            "userid": V(Param.INT),
            "grade": V(Param.FLOAT),
            "attemptnumber": V(Param.INT),
            "addattempt": V(Param.BOOL),
            "workflowstate": V(Param.ALPHA),
            "applytoall": V(Param.BOOL),
            "plugindata": _PLUGINDATA_GRADE,
            "advancedgradingdata": Single(
                {
                    "guide": Value(Param.RAW, Need.OPTIONAL),
                    "rubric": Value(Param.RAW, Need.OPTIONAL),
                },
                Need.OPTIONAL,
            ),
        }
    ),
)
def save_grade(ctx: CallContext, params: dict[str, Any]) -> None:
    """Grade one user; a grade above the maximum is silently ignored, as recorded."""
    site = ctx.site
    activity = _assign(ctx, params["assignmentid"])
    access.require_course(site, ctx.caller, "mod/assign:grade", activity.course)
    value = params["grade"]
    if value > float(activity.settings.get("grade", 100)):
        return None
    key = (activity.instance, params["userid"])
    existing = site.assign_grades.get(key)
    feedback = (params.get("plugindata") or {}).get("assignfeedbackcomments_editor") or {}
    if existing is None:
        site.assign_grades[key] = AssignGrade(
            id=site.ids.take("assign_grades"),
            assignment=activity.instance,
            userid=params["userid"],
            grade=value,
            grader=ctx.caller.userid,
            timecreated=ctx.now,
            timemodified=ctx.now,
            feedback=feedback.get("text", ""),
        )
    else:
        existing.grade = value
        existing.grader = ctx.caller.userid
        existing.timemodified = ctx.now
        existing.feedback = feedback.get("text", existing.feedback)
    return None


def _open_for(activity: Activity, ctx: CallContext) -> bool:
    s = activity.settings
    deadline = ctx.site.extensions.get((activity.instance, ctx.caller.userid)) or s.get(
        "cutoffdate", 0
    )
    started = not s.get("allowsubmissionsfromdate") or s["allowsubmissionsfromdate"] <= ctx.now
    return started and (not deadline or ctx.now <= deadline)


@ws_function(
    "mod_assign_save_submission",
    S(
        assignmentid=V(Param.INT),
        plugindata=Single(
            {
                "onlinetext_editor": Single(
                    {"text": V(Param.RAW), "format": V(Param.INT), "itemid": V(Param.INT)},
                    Need.OPTIONAL,
                ),
                "files_filemanager": Value(Param.INT, Need.OPTIONAL),
            }
        ),
    ),
)
def save_submission(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Save the caller's online text; without drafts it is submitted at once."""
    site = ctx.site
    activity = _assign(ctx, params["assignmentid"])
    access.require_course(site, ctx.caller, "mod/assign:submit", activity.course)
    if not _open_for(activity, ctx):
        return [
            {
                "item": "assignment",
                "itemid": activity.instance,
                "warningcode": "couldnotsavesubmission",
                "message": "Could not save submission.",
            }
        ]
    editor = params["plugindata"].get("onlinetext_editor") or {}
    key = (activity.instance, ctx.caller.userid)
    submission = site.submissions.get(key)
    if submission is None:
        submission = Submission(
            id=site.ids.take("assign_submission"),
            assignment=activity.instance,
            userid=ctx.caller.userid,
            timecreated=ctx.now,
        )
        site.submissions[key] = submission
    submission.text = editor.get("text", submission.text)
    submission.textformat = editor.get("format", submission.textformat)
    submission.status = "submitted"
    submission.timemodified = ctx.now
    return []


@ws_function(
    "mod_assign_submit_for_grading",
    S(assignmentid=V(Param.INT), acceptsubmissionstatement=default(V(Param.BOOL), False)),
)
def submit_for_grading(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Submit a draft; with drafts off there is none, which Moodle reports as a warning."""
    activity = _assign(ctx, params["assignmentid"])
    access.require_course(ctx.site, ctx.caller, "mod/assign:submit", activity.course)
    submission = ctx.site.submissions.get((activity.instance, ctx.caller.userid))
    if submission is None or submission.status != "draft":
        return [
            {
                "item": f"User id: {ctx.caller.userid}, "
                f"Assignment id: {activity.instance} Notices:",
                "itemid": activity.instance,
                "warningcode": "couldnotsubmitforgrading",
                "message": "Could not submit assignment for grading.",
            }
        ]
    submission.status = "submitted"
    submission.timemodified = ctx.now
    return []


@ws_function(
    "mod_assign_save_user_extensions",
    S(assignmentid=V(Param.INT), userids=M(V(Param.INT)), dates=M(V(Param.INT))),
)
def save_user_extensions(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Grant due-date extensions; one not after the due date is refused as a warning."""
    activity = _assign(ctx, params["assignmentid"])
    access.require_course(ctx.site, ctx.caller, "mod/assign:grantextension", activity.course)
    userids, dates = params["userids"], params["dates"]
    if len(userids) != len(dates):
        return [
            {
                "item": "Length of userids and dates parameters differ.",
                "itemid": activity.instance,
                "warningcode": "invalidparameters",
                "message": "Invalid parameters.",
            }
        ]
    warnings: list[dict[str, Any]] = []
    duedate = activity.settings.get("duedate", 0)
    for userid, date in zip(userids, dates, strict=True):
        if duedate and date < duedate:
            warnings.append(
                {
                    "item": f"User id: {userid}, Assignment id: {activity.instance}, "
                    f"Extension date: {date}",
                    "itemid": activity.instance,
                    "warningcode": "couldnotgrantextensions",
                    "message": "Could not grant submission date extensions.",
                }
            )
            continue
        ctx.site.extensions[(activity.instance, userid)] = date
        _extension_event(ctx, activity, userid, date)
    return warnings


def _extension_event(ctx: CallContext, activity: Activity, userid: int, date: int) -> None:
    """The learner's own "due (extension)" event, as Moodle keeps one per extension."""
    site = ctx.site
    for event in site.events.values():
        if (event.modulename, event.instance, event.eventtype, event.userid) == (
            "assign",
            activity.instance,
            "extension",
            userid,
        ):
            event.timestart = event.timesort = date
            event.timemodified = ctx.now
            return
    event = Event(
        id=site.ids.take("event"),
        name=f"{activity.name} is due (extension)",
        eventtype="extension",
        timestart=date,
        description=f'<div class="no-overflow">{activity.intro}</div>',
        courseid=activity.course,
        userid=userid,
        modulename="assign",
        instance=activity.instance,
        timemodified=ctx.now,
        timesort=date,
        component="mod_assign",
    )
    site.events[event.id] = event
