"""Activity and course completion, computed from what each user did.

States as in Moodle: 0 incomplete, 1 complete, 2 complete with a pass grade, 3 complete
with a fail grade. An override (``core_completion_override_activity_completion_status``)
wins over the computed state until it is overridden again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.state import Activity, Completion, Site

INCOMPLETE, COMPLETE, COMPLETE_PASS, COMPLETE_FAIL = 0, 1, 2, 3
STUDENT = 5

RULE_TEXT = {
    "completionview": "View",
    "completionusegrade": "Receive a grade",
    "completionpassgrade": "Receive a passing grade",
    "completionsubmit_assign": "Make a submission",
    "completionsubmit_feedback": "Submit feedback",
}


@dataclass(frozen=True)
class ActivityCompletion:
    """The completion of one activity for one user."""

    state: int
    timecompleted: int
    overrideby: int | None
    details: list[dict[str, Any]]


def record(site: Site, cmid: int, userid: int) -> Completion:
    """The stored completion row, created empty on first use."""
    return site.completions.setdefault((cmid, userid), Completion())


def _rule(name: str, status: int, text_key: str | None = None) -> dict[str, Any]:
    return {
        "rulename": name,
        "rulevalue": {"status": status, "description": RULE_TEXT[text_key or name]},
    }


def quiz_best_grade(site: Site, quiz_id: int, userid: int) -> float | None:
    """The best finished attempt's grade on the quiz scale, None without one."""
    activity = site.activity_of("quiz", quiz_id)
    if activity is None:
        return None
    grades: list[float] = []
    for attempt_id in site.attempts_of_user_quiz.get((quiz_id, userid), []):
        attempt = site.quiz_attempts[attempt_id]
        if attempt.state == "finished" and attempt.sumgrades is not None:
            sumgrades = float(activity.settings.get("sumgrades", 1)) or 1.0
            grades.append(attempt.sumgrades / sumgrades * float(activity.settings["grade"]))
    return max(grades) if grades else None


def _graded(grade: float | None, gradepass: float) -> int:
    if grade is None:
        return INCOMPLETE
    return COMPLETE_PASS if grade >= gradepass else COMPLETE_FAIL


def _automatic(
    site: Site, activity: Activity, userid: int
) -> tuple[int, int, list[dict[str, Any]]]:
    """(state, timecompleted, details) from the user's actions."""
    stored = site.completions.get((activity.cmid, userid)) or Completion()
    s = activity.settings
    if activity.modname == "page":
        status = COMPLETE if stored.viewed else INCOMPLETE
        return status, stored.timecompleted if status else 0, [_rule("completionview", status)]
    if activity.modname == "quiz":
        status = _graded(quiz_best_grade(site, activity.instance, userid), float(s["gradepass"]))
        attempts = site.attempts_of_user_quiz.get((activity.instance, userid), [])
        finished = [
            site.quiz_attempts[a].timefinish for a in attempts if site.quiz_attempts[a].timefinish
        ]
        when = max(finished) if finished and status else 0
        # As recorded: "receive a grade" says pass for a passing grade, and merely complete
        # (not fail) for a failing one; only the "passing grade" rule says fail.
        received = COMPLETE if status == COMPLETE_FAIL else status
        details = [_rule("completionusegrade", received), _rule("completionpassgrade", status)]
        return status, when, details
    if activity.modname == "assign":
        submission = site.submissions.get((activity.instance, userid))
        submitted = submission is not None and submission.status == "submitted"
        grade = site.assign_grades.get((activity.instance, userid))
        graded = _graded(grade.grade if grade else None, float(s["gradepass"]))
        details = [
            _rule(
                "completionsubmit", COMPLETE if submitted else INCOMPLETE, "completionsubmit_assign"
            ),
            _rule("completionusegrade", graded),
        ]
        state = graded if submitted and graded else INCOMPLETE
        times = [
            t
            for t in (
                submission.timemodified if submitted and submission else 0,
                grade.timemodified if grade else 0,
            )
            if t
        ]
        return state, max(times) if state and times else 0, details
    if activity.modname == "feedback":
        done = site.feedback_done.get((activity.instance, userid))
        status = COMPLETE if done is not None else INCOMPLETE
        details = [_rule("completionsubmit", status, "completionsubmit_feedback")]
        return status, done or 0, details
    return INCOMPLETE, 0, []


def activity_completion(site: Site, activity: Activity, userid: int) -> ActivityCompletion:
    """The completion of ``activity`` for ``userid``, overrides applied."""
    stored = site.completions.get((activity.cmid, userid))
    if activity.completion == 1:
        state = stored.state if stored else INCOMPLETE
        return ActivityCompletion(
            state,
            stored.timecompleted if stored else 0,
            stored.overrideby if stored else None,
            [],
        )
    state, when, details = _automatic(site, activity, userid)
    if stored is not None and stored.overrideby is not None:
        state, when = stored.state, stored.timecompleted
        details = [
            {"rulename": d["rulename"], "rulevalue": {**d["rulevalue"], "status": state}}
            for d in details
        ]
        return ActivityCompletion(state, when, stored.overrideby, details)
    return ActivityCompletion(state, when, None, details)


def is_tracked(site: Site, course_id: int, userid: int) -> bool:
    """Whether the user is tracked by completion in the course (holds the student role)."""
    return STUDENT in site.roles_in("course", course_id, userid) and site.is_enrolled(
        course_id, userid
    )


def status_record(site: Site, activity: Activity, userid: int) -> dict[str, Any]:
    """The completion fields ``get_activities_completion_status`` and ``get_contents`` share."""
    result = activity_completion(site, activity, userid)
    return {
        "state": result.state,
        "timecompleted": result.timecompleted,
        "overrideby": result.overrideby,
        "valueused": False,
        "hascompletion": True,
        "isautomatic": activity.completion == 2,
        "istrackeduser": is_tracked(site, activity.course, userid),
        "uservisible": True,
        "details": result.details,
        "isoverallcomplete": result.state in (COMPLETE, COMPLETE_PASS),
    }
