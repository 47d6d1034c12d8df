"""Learners' and reporters' activity of a module run, simulated on a provisioned sandbox LMS.

:func:`simulate_until` does what the run's learners and reporters would have done by an
instant: quiz attempts (``mod_quiz_start_attempt`` + ``mod_quiz_process_attempt``),
final-assignment submissions (``mod_assign_save_submission``, and
``mod_assign_submit_for_grading`` where the assignment keeps drafts), survey answers
(``mod_feedback_get_items`` + ``mod_feedback_process_page``) and grades
(``mod_assign_save_grade``) — each one a web-service call made with the person's own token,
with real parameters, through the sandbox's protocol entry point (:meth:`SandboxLms.call`:
the PHP form encoding and parameter validation of an HTTP request, without the socket).
Each call runs with the sandbox's clock set to the action's instant; the system clock is
never touched, and the sandbox's own clock is given back afterwards.

Who and what (the run's courses, classes, learners, reporters and activity instances) is
read from the sandbox's site, as an administrator would see it; when the activities open
and close is read as a learner reads it (``mod_quiz_get_quizzes_by_courses``,
``mod_assign_get_assignments``, ``mod_feedback_get_feedbacks_by_courses``). The plan —
which learner does what, and when — is :mod:`sandbox.activity_plan`'s, seeded.

Idempotent: an action whose effect the site already holds (the attempt, the submission,
the answer, the grade) is not made again, so calling it day after day with a later ``now``
does each action once, at its own instant, whatever the days between the calls.

The summary says what was done, what the LMS refused, and the result each learner's seat
should get from what was done by ``now`` (:class:`ExpectedResult`), to compare with a pull.

A known gap: the late class's reporter grades after the class's grading deadline, which is
also when the sync ends their enrolment. The sandbox lets an enrolled user in after their
enrolment's end; real Moodle's ``require_login`` would not (only active enrolments count),
so on a real site such a grade needs the enrolment kept open a while past the deadline.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.activity_plan import (
    ALWAYS,
    Action,
    ActionKind,
    ActivityMix,
    ClassInLms,
    CourseInLms,
    ExpectedResult,
    OutsiderGrade,
    Person,
    RunPhases,
    RunPlan,
    Window,
    expected_at,
    plan_run,
)
from sandbox.errors import MoodleError
from sandbox.lms import SandboxLms
from sandbox.state import Course, Site
from scheduler.timeline import run_timeline

if TYPE_CHECKING:
    from config.settings import RunSettings

STUDENT, TEACHER, EDITING_TEACHER = 5, 4, 3
DEFAULT_SEED = 2023


@dataclass(frozen=True)
class ActivitySummary:
    """One run's simulation up to ``now``."""

    run_id: str
    now: int
    done: Mapping[str, int]  # action kind -> actions made by this call
    already_done: int  # actions up to now the site already held (an earlier call)
    pending: int  # planned actions after now
    calls: Mapping[str, int]  # web-service function -> calls made by this call
    refused: tuple[str, ...]  # what the LMS refused, and what could not be planned
    expected: tuple[ExpectedResult, ...]
    late_classes: tuple[str, ...]
    outsider_grades: tuple[OutsiderGrade, ...]

    def counts(self) -> dict[str, int]:
        """``completed`` and ``reason:<reason>`` counts of the expected results."""
        counts: Counter[str] = Counter()
        for result in self.expected:
            if result.completed:
                counts["completed"] += 1
            counts.update(f"reason:{reason.value}" for reason in result.reasons)
        return dict(sorted(counts.items()))


def _when(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class _FixedClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


# ---- finding the run in the site ------------------------------------------------------------


def _person(site: Site, userid: int, *, enrolment_suspended: bool) -> Person | None:
    user = site.users.get(userid)
    if user is None or user.deleted:
        return None
    active = not (user.suspended or enrolment_suspended)
    return Person(userid, user.username, user.idnumber, active=active)


def _class_in_lms(site: Site, course: Course, group_id: int) -> ClassInLms:
    learners: list[Person] = []
    reporters: list[Person] = []
    for userid in sorted(site.group_members.get(group_id, {})):
        enrolment = site.enrolments.get(course.id, {}).get(userid)
        if enrolment is None:
            continue
        person = _person(site, userid, enrolment_suspended=enrolment.suspended)
        if person is None:
            continue
        roles = set(site.course_roles(course.id, userid))
        if STUDENT in roles:
            learners.append(person)
        elif roles & {TEACHER, EDITING_TEACHER}:
            reporters.append(person)
    return ClassInLms(site.groups[group_id].idnumber, tuple(learners), tuple(reporters))


def _instance(site: Site, course: Course, modname: str, idnumber: str) -> int | None:
    for activity in site.course_activities(course):
        if activity.modname == modname and activity.idnumber == idnumber:
            return activity.instance
    return None


def run_courses(site: Site, run: RunSettings, category_prefix: str) -> list[CourseInLms]:
    """The run's courses (in its category ``<prefix>-<run id>``), classes and activities."""
    category = site.category_by_idnumber.get(f"{category_prefix}-{run.id}")
    found: list[CourseInLms] = []
    for course in sorted(site.courses.values(), key=lambda c: c.idnumber):
        if category is None or course.category != category:
            continue
        classes = tuple(
            _class_in_lms(site, course, group_id)
            for group_id in sorted(
                site.groups_of_course.get(course.id, []), key=lambda g: site.groups[g].idnumber
            )
        )
        ids = run.activities
        found.append(
            CourseInLms(
                course_id=course.id,
                idnumber=course.idnumber,
                classes=classes,
                quiz_id=_instance(site, course, "quiz", ids.quiz),
                assign_id=_instance(site, course, "assign", ids.final_product),
                feedback_id=_instance(site, course, "feedback", ids.survey),
            )
        )
    return found


# ---- calling as someone ---------------------------------------------------------------------


class _Caller:
    """Web-service calls with each person's own token, counted by function."""

    def __init__(self, lms: SandboxLms) -> None:
        self.lms = lms
        self.tokens: dict[str, str] = {}
        self.calls: Counter[str] = Counter()

    def __call__(self, person: Person, function: str, params: Mapping[str, Any]) -> Any:
        token = self.tokens.get(person.username)
        if token is None:
            token = self.tokens[person.username] = self.lms.issue_token(person.username)
        self.calls[function] += 1
        return self.lms.call(function, params, token=token)


def _window(opens: int, closes: int) -> Window:
    return Window(opens or 0, closes or ALWAYS.end)


def _read_windows(call: _Caller, course: CourseInLms) -> CourseInLms:
    """The activities' open windows as a learner of the course reads them."""
    reader = next((p for k in course.classes for p in k.learners if p.active), None)
    if reader is None:
        return course
    ids = {"courseids": [course.course_id]}
    quiz = next(
        (
            q
            for q in call(reader, "mod_quiz_get_quizzes_by_courses", ids)["quizzes"]
            if q["id"] == course.quiz_id
        ),
        None,
    )
    assignments = call(reader, "mod_assign_get_assignments", ids)["courses"]
    assign = next(
        (a for c in assignments for a in c["assignments"] if a["id"] == course.assign_id), None
    )
    feedback = next(
        (
            f
            for f in call(reader, "mod_feedback_get_feedbacks_by_courses", ids)["feedbacks"]
            if f["id"] == course.feedback_id
        ),
        None,
    )
    return CourseInLms(
        course_id=course.course_id,
        idnumber=course.idnumber,
        classes=course.classes,
        quiz_id=course.quiz_id if quiz else None,
        assign_id=course.assign_id if assign else None,
        feedback_id=course.feedback_id if feedback else None,
        quiz_window=_window(quiz["timeopen"], quiz["timeclose"]) if quiz else Window(0, 0),
        submission_window=(
            _window(assign["allowsubmissionsfromdate"], assign["cutoffdate"] or assign["duedate"])
            if assign
            else Window(0, 0)
        ),
        survey_window=(
            _window(feedback["timeopen"], feedback["timeclose"]) if feedback else Window(0, 0)
        ),
        grade_max=float(assign["grade"]) if assign else 100.0,
        submission_drafts=bool(assign["submissiondrafts"]) if assign else False,
    )


# ---- doing it -------------------------------------------------------------------------------


def _already_done(site: Site, action: Action) -> bool:
    learner = action.learner.userid
    key = (action.activity_id, learner)
    if action.kind is ActionKind.QUIZ:
        # the attempt started at the action's own instant (the sandbox clock was set to it)
        attempts = (site.quiz_attempts[a] for a in site.attempts_of_user_quiz.get(key, []))
        return any(a.timestart == action.at and a.state == "finished" for a in attempts)
    if action.kind is ActionKind.SUBMIT:
        submission = site.submissions.get(key)
        return submission is not None and submission.status == "submitted"
    if action.kind is ActionKind.SURVEY:
        return key in site.feedback_done
    return key in site.assign_grades


def _attempt_quiz(call: _Caller, action: Action) -> str | None:
    started = call(action.actor, "mod_quiz_start_attempt", {"quizid": action.activity_id})
    attempt = started["attempt"]["id"]
    answer = "1" if action.correct else "0"  # the template's true/false question: "1" is right
    call(
        action.actor,
        "mod_quiz_process_attempt",
        {
            "attemptid": attempt,
            "finishattempt": 1,
            "data": [
                {"name": f"q{attempt}:1_:sequencecheck", "value": "1"},
                {"name": f"q{attempt}:1_answer", "value": answer},
            ],
        },
    )
    return None


def _submit(call: _Caller, action: Action, drafts: bool) -> str | None:
    name = action.actor.username
    warnings = call(
        action.actor,
        "mod_assign_save_submission",
        {
            "assignmentid": action.activity_id,
            "plugindata": {
                "onlinetext_editor": {
                    "text": f"<p>Sản phẩm cuối mô đun của {name}</p>",
                    "format": 1,
                    "itemid": 0,
                }
            },
        },
    )
    if not warnings and drafts:
        warnings = call(
            action.actor,
            "mod_assign_submit_for_grading",
            {"assignmentid": action.activity_id, "acceptsubmissionstatement": 1},
        )
    return warnings[0]["message"] if warnings else None


def _answer_survey(call: _Caller, action: Action, rating_label: str, seed: int) -> str | None:
    params = {"feedbackid": action.activity_id}
    answer = call(action.actor, "mod_feedback_get_items", params)
    items = [item for item in answer["items"] if item["typ"] == "multichoice"]
    if not items:
        return "; ".join(w["message"] for w in answer["warnings"]) or "no question to answer"
    rating = next((i for i in items if i["label"] == rating_label), items[0])
    rng = random.Random(f"{seed}/survey/{action.actor.username}/{action.activity_id}")
    responses = []
    for item in items:
        count = len(str(item["presentation"]).split(">>>>>", 1)[-1].split("|"))
        positive = range(1, count // 2 + 1)
        value = 1
        if item is rating:
            value = rng.choice(positive if action.positive else range(count // 2 + 1, count + 1))
        responses.append({"name": f"{item['typ']}_{item['id']}", "value": str(value)})
    result = call(
        action.actor,
        "mod_feedback_process_page",
        {**params, "page": 0, "responses": responses},
    )
    if result["completed"]:
        return None
    return "; ".join(w["message"] for w in result["warnings"]) or "not completed"


def _grade(call: _Caller, action: Action) -> str | None:
    call(
        action.actor,
        "mod_assign_save_grade",
        {
            "assignmentid": action.activity_id,
            "userid": action.learner.userid,
            "grade": action.grade,
            "attemptnumber": -1,
            "addattempt": 0,
            "workflowstate": "",
            "applytoall": 1,
            "plugindata": {
                "assignfeedbackcomments_editor": {
                    "text": f"Nhận xét cho {action.learner.username}",
                    "format": 1,
                }
            },
        },
    )
    return None


def _act(
    call: _Caller, action: Action, course: CourseInLms, rating_label: str, seed: int
) -> str | None:
    """Make the action's calls; the LMS's refusal, if any."""
    try:
        if action.kind is ActionKind.QUIZ:
            return _attempt_quiz(call, action)
        if action.kind is ActionKind.SUBMIT:
            return _submit(call, action, course.submission_drafts)
        if action.kind is ActionKind.SURVEY:
            return _answer_survey(call, action, rating_label, seed)
        return _grade(call, action)
    except MoodleError as error:
        return error.message


# ---- the run --------------------------------------------------------------------------------


def _phases(run: RunSettings, extensions: Mapping[str, int], classes: Iterable[str]) -> RunPhases:
    timeline = run_timeline(run, extensions=extensions)

    def epoch(moment: dt.datetime) -> int:
        return int(moment.timestamp())

    return RunPhases(
        day1=epoch(timeline.start),
        online_1=Window(epoch(timeline.online_1.start), epoch(timeline.online_1.end)),
        online_2=Window(epoch(timeline.online_2.start), epoch(timeline.online_2.end)),
        submission_due=epoch(timeline.submission_due),
        grading_due={c: epoch(timeline.grading_due(c)) for c in classes},
        default_grading_due=epoch(timeline.grading_due()),
    )


def _pass_percent(run: RunSettings) -> float:
    marks = run.pass_marks
    return 100.0 * marks.final_product / marks.final_product_scale


def plan_for(
    lms: SandboxLms,
    run: RunSettings,
    *,
    seed: int = DEFAULT_SEED,
    mix: ActivityMix | None = None,
    extensions: Mapping[str, int] | None = None,
    category_prefix: str = "BDTX",
) -> RunPlan:
    """The plan of ``run`` on this site, as :func:`simulate_until` would follow it (reads
    the activity windows as a learner, with the sandbox's clock as it is)."""
    with lms.site.lock:
        return _plan(
            _Caller(lms), run, seed, mix or ActivityMix(), extensions or {}, category_prefix
        )


def _plan(
    call: _Caller,
    run: RunSettings,
    seed: int,
    mix: ActivityMix,
    extensions: Mapping[str, int],
    category_prefix: str,
) -> RunPlan:
    lms = call.lms
    courses = [_read_windows(call, c) for c in run_courses(lms.site, run, category_prefix)]
    classes = [k.class_id for c in courses for k in c.classes]
    phases = _phases(run, extensions, classes)
    return plan_run(run.id, courses, phases, mix=mix, seed=seed, pass_percent=_pass_percent(run))


def _simulate_run(
    lms: SandboxLms,
    run: RunSettings,
    now: int,
    *,
    seed: int,
    mix: ActivityMix,
    extensions: Mapping[str, int],
    category_prefix: str,
    rating_label: str,
) -> ActivitySummary:
    call = _Caller(lms)
    clock = _FixedClock(now)
    lms.clock = clock
    plan = _plan(call, run, seed, mix, extensions, category_prefix)
    courses = {seat.course.course_id: seat.course for seat in plan.seats}
    due = [action for action in plan.actions if action.at <= now]
    done: Counter[str] = Counter()
    refused: list[str] = list(plan.problems)
    refused_actions: set[int] = set()
    already = 0
    for index, action in enumerate(due):
        if _already_done(lms.site, action):
            already += 1
            continue
        clock.now = action.at
        problem = _act(call, action, courses[action.course_id], rating_label, seed)
        if problem is None:
            done[action.kind.value] += 1
        else:
            refused_actions.add(index)
            refused.append(
                f"{action.kind.value} of {action.learner.username} by {action.actor.username} "
                f"at {_when(action.at)} in course {courses[action.course_id].idnumber}: {problem}"
            )
    kept = [a for i, a in enumerate(due) if i not in refused_actions]
    return ActivitySummary(
        run_id=run.id,
        now=now,
        done=dict(sorted(done.items())),
        already_done=already,
        pending=len(plan.actions) - len(due),
        calls=dict(sorted(call.calls.items())),
        refused=tuple(refused),
        expected=expected_at(plan, kept),
        late_classes=plan.late_classes,
        outsider_grades=plan.outsider_grades,
    )


def simulate_until(
    lms: SandboxLms,
    runs: Sequence[RunSettings],
    now: dt.datetime,
    *,
    seed: int = DEFAULT_SEED,
    mix: ActivityMix | None = None,
    extensions: Mapping[str, Mapping[str, int]] | None = None,
    category_prefix: str = "BDTX",
    rating_label: str = "satisfaction",
) -> tuple[ActivitySummary, ...]:
    """Do what each run's learners and reporters would have done by ``now`` (aware).

    ``extensions``: run id -> class id -> extra grading days the Sở granted (a class's
    grading deadline moves, and so does its late grading). ``rating_label``: the label of
    the survey's rating question (the one answered positively or negatively).
    """
    if now.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    moment = int(now.timestamp())
    saved_clock = lms.clock
    summaries = []
    with lms.site.lock:
        try:
            for run in runs:
                summaries.append(
                    _simulate_run(
                        lms,
                        run,
                        moment,
                        seed=seed,
                        mix=mix or ActivityMix(),
                        extensions=(extensions or {}).get(run.id, {}),
                        category_prefix=category_prefix,
                        rating_label=rating_label,
                    )
                )
        finally:
            lms.clock = saved_clock
    return tuple(summaries)


__all__ = [
    "ActivityMix",
    "ActivitySummary",
    "ExpectedResult",
    "OutsiderGrade",
    "plan_for",
    "run_courses",
    "simulate_until",
]
