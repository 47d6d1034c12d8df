"""Quizzes: read settings, attempt, grade (mod_quiz_*).

Every quiz of the template has one true/false question in slot 1 whose right answer is
``1``; the form field ``q<uniqueid>:1_answer`` carries the learner's answer.
"""

from __future__ import annotations

from typing import Any

from sandbox import access, completion, errors
from sandbox.functions.common import courses_by_ids, module_instance
from sandbox.params import M, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, QuizAttempt

_NAME_VALUE = S(name=V(Param.ALPHANUMEXT), value=V(Param.RAW))


def _quiz_record(activity: Activity, section_number: int) -> dict[str, Any]:
    s = activity.settings
    review = 69904
    return {
        "id": activity.instance,
        "coursemodule": activity.cmid,
        "course": activity.course,
        "name": activity.name,
        "intro": activity.intro,
        "introformat": 1,
        "introfiles": [],
        "section": section_number,
        "visible": bool(activity.visible),
        "groupmode": 0,
        "groupingid": 0,
        "lang": "",
        "timeopen": s.get("timeopen", 0),
        "timeclose": s.get("timeclose", 0),
        "timelimit": 0,
        "overduehandling": "autosubmit",
        "graceperiod": 86400,
        "preferredbehaviour": "deferredfeedback",
        "canredoquestions": 0,
        "attempts": s.get("attempts", 0),
        "attemptonlast": 0,
        "grademethod": 1,
        "decimalpoints": 2,
        "questiondecimalpoints": -1,
        "reviewattempt": review,
        "reviewcorrectness": review,
        "reviewmaxmarks": review,
        "reviewmarks": review,
        "reviewspecificfeedback": review,
        "reviewgeneralfeedback": review,
        "reviewrightanswer": review,
        "reviewoverallfeedback": 4368,
        "questionsperpage": 1,
        "navmethod": "free",
        "shuffleanswers": 1,
        "sumgrades": s.get("sumgrades", 1),
        "grade": s.get("grade", 10),
        "timecreated": activity.added,
        "timemodified": activity.timemodified,
        "password": "",
        "subnet": "",
        "browsersecurity": "",
        "delay1": 0,
        "delay2": 0,
        "showuserpicture": 0,
        "showblocks": 0,
        "completionattemptsexhausted": 0,
        "completionpass": 1 if activity.completionpassgrade else 0,
        "allowofflineattempts": 0,
        "autosaveperiod": 60,
        "hasfeedback": 0,
        "hasquestions": 1 if s.get("questions") else 0,
    }


@ws_function("mod_quiz_get_quizzes_by_courses", S(courseids=default(M(V(Param.INT)), [])))
def get_quizzes_by_courses(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The quizzes of the given (or the caller's) courses."""
    site = ctx.site
    courses, warnings = courses_by_ids(ctx, params["courseids"])
    quizzes: list[dict[str, Any]] = []
    for course in courses:
        for activity in site.course_activities(course):
            if activity.modname == "quiz":
                number = site.sections[activity.section].number
                quizzes.append(_quiz_record(activity, number))
    return {"quizzes": quizzes, "warnings": warnings}


def attempt_record(attempt: QuizAttempt, activity: Activity, *, with_marks: bool) -> dict[str, Any]:
    """One attempt as Moodle returns it."""
    record: dict[str, Any] = {
        "id": attempt.id,
        "quiz": attempt.quiz,
        "userid": attempt.userid,
        "attempt": attempt.attempt,
        "uniqueid": attempt.id,
        "layout": "1,0",
        "currentpage": 0,
        "preview": 0,
        "state": attempt.state,
        "timestart": attempt.timestart,
        "timefinish": attempt.timefinish,
        "timemodified": attempt.timemodified,
        "timemodifiedoffline": attempt.timemodified,
        "timecheckstate": activity.settings.get("timeclose")
        if attempt.state == "inprogress"
        else None,
        "sumgrades": attempt.sumgrades,
    }
    if with_marks:
        record["gradeitemmarks"] = []
    record["gradednotificationsenttime"] = attempt.gradednotificationsenttime
    return record


@ws_function(
    "mod_quiz_start_attempt",
    S(
        quizid=V(Param.INT),
        preflightdata=default(M(_NAME_VALUE), []),
        forcenew=default(V(Param.BOOL), False),
    ),
)
def start_attempt(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Start a new attempt for the caller while the quiz is open."""
    site = ctx.site
    activity = module_instance(ctx, "quiz", params["quizid"])
    access.require_course(site, ctx.caller, "mod/quiz:attempt", activity.course)
    s = activity.settings
    if (s.get("timeopen") and ctx.now < s["timeopen"]) or (
        s.get("timeclose") and ctx.now > s["timeclose"]
    ):
        raise errors.moodle_exception("attempterror", "This quiz is not currently available")
    previous = site.attempts_of_user_quiz[(activity.instance, ctx.caller.userid)]
    if any(site.quiz_attempts[a].state == "inprogress" for a in previous):
        raise errors.moodle_exception("attemptstillinprogress", "Attempt still in progress")
    if s.get("attempts") and len(previous) >= s["attempts"]:
        raise errors.moodle_exception("attempterror", "No more attempts allowed")
    attempt = QuizAttempt(
        id=site.ids.take("quiz_attempts"),
        quiz=activity.instance,
        userid=ctx.caller.userid,
        attempt=len(previous) + 1,
        timestart=ctx.now,
        timemodified=ctx.now,
    )
    site.quiz_attempts[attempt.id] = attempt
    previous.append(attempt.id)
    return {"attempt": attempt_record(attempt, activity, with_marks=False), "warnings": []}


def _own_attempt(ctx: CallContext, attempt_id: int) -> tuple[QuizAttempt, Activity]:
    attempt = ctx.site.quiz_attempts.get(attempt_id)
    if attempt is None:
        raise errors.missing_record_by_id("quiz_attempts", attempt_id)
    if attempt.userid != ctx.caller.userid:
        raise errors.moodle_exception("notyourattempt", "This is not your attempt!")
    return attempt, module_instance(ctx, "quiz", attempt.quiz)


def _score(activity: Activity, attempt: QuizAttempt) -> float:
    total = 0.0
    for question in activity.settings.get("questions", []):
        answer = attempt.answers.get(f"q{attempt.id}:{question['slot']}_answer")
        if answer is not None and answer == question["answer"]:
            total += 1.0
    return total


@ws_function(
    "mod_quiz_process_attempt",
    S(
        attemptid=V(Param.INT),
        data=default(M(S(name=V(Param.RAW), value=V(Param.RAW))), []),
        finishattempt=default(V(Param.BOOL), False),
        timeup=default(V(Param.BOOL), False),
        preflightdata=default(M(_NAME_VALUE), []),
    ),
)
def process_attempt(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Save answers and, when asked, finish and grade the attempt."""
    attempt, activity = _own_attempt(ctx, params["attemptid"])
    if attempt.state != "inprogress":
        raise errors.moodle_exception(
            "attemptalreadyclosed", "This attempt has already been finished."
        )
    for item in params["data"]:
        attempt.answers[item["name"]] = item["value"]
    attempt.timemodified = ctx.now
    if params["finishattempt"] or params["timeup"]:
        attempt.state = "finished"
        attempt.timefinish = ctx.now
        attempt.sumgrades = _score(activity, attempt)
        attempt.gradednotificationsenttime = ctx.now
    return {"state": attempt.state, "warnings": []}


@ws_function(
    "mod_quiz_get_attempt_data",
    S(attemptid=V(Param.INT), page=V(Param.INT), preflightdata=default(M(_NAME_VALUE), [])),
)
def get_attempt_data(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The questions of one page of the caller's attempt."""
    attempt, activity = _own_attempt(ctx, params["attemptid"])
    questions = []
    for question in activity.settings.get("questions", []):
        slot = question["slot"]
        answered = f"q{attempt.id}:{slot}_answer" in attempt.answers
        questions.append(
            {
                "slot": slot,
                "type": question["type"],
                "page": 0,
                "questionnumber": str(slot),
                "number": slot,
                "html": f'<div id="question-{attempt.id}-{slot}" class="que {question["type"]}">'
                f'<input type="radio" name="q{attempt.id}:{slot}_answer" value="1"/>'
                f'<input type="radio" name="q{attempt.id}:{slot}_answer" value="0"/></div>',
                "responsefileareas": [],
                "sequencecheck": 1,
                "lastactiontime": attempt.timemodified,
                "hasautosavedstep": False,
                "flagged": False,
                "state": "complete" if answered else "todo",
                "stateclass": "answersaved" if answered else "notyetanswered",
                "status": "Answer saved" if answered else "Not yet answered",
                "blockedbyprevious": False,
                "mark": "",
                "maxmark": 1,
                "settings": None,
            }
        )
    return {
        "attempt": attempt_record(attempt, activity, with_marks=False),
        "messages": [],
        "nextpage": -1,
        "questions": questions,
        "warnings": [],
    }


@ws_function(
    "mod_quiz_get_user_attempts",
    S(
        quizid=V(Param.INT),
        userid=default(V(Param.INT), 0),
        status=default(V(Param.ALPHA), "finished"),
        includepreviews=default(V(Param.BOOL), False),
    ),
)
def get_user_attempts(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """A user's attempts at a quiz, filtered by state (all, finished, unfinished)."""
    site = ctx.site
    activity = module_instance(ctx, "quiz", params["quizid"])
    userid = params["userid"] or ctx.caller.userid
    if userid != ctx.caller.userid:
        access.require_course(site, ctx.caller, "mod/quiz:viewreports", activity.course)
    status = params["status"]
    if status not in ("all", "finished", "unfinished"):
        raise errors.InvalidParameter("Invalid status value")
    attempts = [
        site.quiz_attempts[a]
        for a in site.attempts_of_user_quiz.get((activity.instance, userid), [])
    ]
    if status == "finished":
        attempts = [a for a in attempts if a.state == "finished"]
    elif status == "unfinished":
        attempts = [a for a in attempts if a.state != "finished"]
    return {
        "attempts": [attempt_record(a, activity, with_marks=True) for a in attempts],
        "warnings": [],
    }


@ws_function(
    "mod_quiz_get_user_best_grade", S(quizid=V(Param.INT), userid=default(V(Param.INT), 0))
)
def get_user_best_grade(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The user's best grade on the quiz scale and the pass grade."""
    site = ctx.site
    activity = module_instance(ctx, "quiz", params["quizid"])
    userid = params["userid"] or ctx.caller.userid
    if userid != ctx.caller.userid:
        access.require_course(site, ctx.caller, "mod/quiz:viewreports", activity.course)
    best = completion.quiz_best_grade(site, activity.instance, userid)
    result: dict[str, Any] = {"hasgrade": best is not None}
    if best is not None:
        result["grade"] = best
    result["gradetopass"] = activity.settings.get("gradepass", 0)
    result["warnings"] = []
    return result


_OVERRIDE_KEYS = ("userid", "groupid", "timeopen", "timeclose", "timelimit", "attempts", "password")


@ws_function(
    "mod_quiz_save_overrides",
    S(
        data=S(
            quizid=V(Param.INT),
            overrides=M(
                Single(
                    {
                        "id": Value(Param.INT, Need.OPTIONAL),
                        "userid": Value(Param.INT, Need.OPTIONAL),
                        "groupid": Value(Param.INT, Need.OPTIONAL),
                        "timeopen": Value(Param.INT, Need.OPTIONAL),
                        "timeclose": Value(Param.INT, Need.OPTIONAL),
                        "timelimit": Value(Param.INT, Need.OPTIONAL),
                        "attempts": Value(Param.INT, Need.OPTIONAL),
                        "password": Value(Param.RAW, Need.OPTIONAL),
                    }
                )
            ),
        )
    ),
)
def save_overrides(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Create or update user/group overrides of a quiz's dates."""
    site = ctx.site
    activity = module_instance(ctx, "quiz", params["data"]["quizid"])
    access.require_course(site, ctx.caller, "moodle/course:update", activity.course)
    # A list of {"id", **_OVERRIDE_KEYS} so that the site stays JSON-serialisable.
    overrides: list[dict[str, Any]] = activity.settings.setdefault("overrides", [])
    ids: list[int] = []
    for row in params["data"]["overrides"]:
        if bool(row.get("userid")) == bool(row.get("groupid")):
            raise errors.InvalidParameter("An override needs either a userid or a groupid")
        stored = next((o for o in overrides if row.get("id") and o["id"] == row["id"]), None)
        if stored is None:
            stored = {"id": site.ids.take("quiz_overrides"), **dict.fromkeys(_OVERRIDE_KEYS)}
            overrides.append(stored)
        stored.update({key: row[key] for key in _OVERRIDE_KEYS if key in row})
        ids.append(stored["id"])
    return {"ids": ids}


@ws_function("mod_quiz_get_overrides", S(quizid=V(Param.INT)))
def get_overrides(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """The overrides of a quiz."""
    activity = module_instance(ctx, "quiz", params["quizid"])
    access.require_course(ctx.site, ctx.caller, "moodle/course:update", activity.course)
    overrides: list[dict[str, Any]] = activity.settings.get("overrides", [])
    return {
        "overrides": [
            {"id": o["id"], "quiz": activity.instance, **{k: o[k] for k in _OVERRIDE_KEYS}}
            for o in sorted(overrides, key=lambda o: int(o["id"]))
        ]
    }
