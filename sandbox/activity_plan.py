"""What the learners and reporters of one module run do, and when: a seeded, pure plan.

:func:`plan_run` turns a run's classes (as found in the LMS), its timeline and the
activities' open windows (as a learner reads them) into dated actions — quiz attempts,
final-assignment submissions, survey answers, grades — and says which result each learner
should get once the actions up to an instant are done (:func:`expected_at`). Executing the
actions through the LMS's web services is :mod:`sandbox.activity`'s job.

The story (shares in :class:`ActivityMix`): most learners pass; some fail the quiz (one
wrong attempt), some pass it only on a second attempt; some never submit the final
assignment; some submit and are never graded; some are graded below the pass mark; every
grade of one class is saved after its grading deadline; one grade is saved by a reporter of
another class of the same course; most learners answer the survey, a share negatively.

Every draw comes from a :class:`random.Random` seeded with the seed and stable keys (run,
course, username), never from the order of the roster: the same seed gives the same plan,
and a learner's story does not change when someone else joins or leaves.

Instants: each action falls inside the run phase it belongs to (quiz and submission in the
online phases, grades in the grading window) and inside the activity's open window in the
LMS; when the two do not meet (a template whose survey opens after day 16), the window
within the run's days decides; when the window lies outside the run altogether (activity
dates not moved to the run), the action is not planned and a problem says so.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from grading.rule import Reason

MINUTE = 60
HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class ActivityMix:
    """How the simulated learners and reporters behave (shares of learners, 0-1)."""

    quiz_fail: float = 0.05  # one wrong attempt, no other
    quiz_retry: float = 0.10  # of the others: a wrong attempt first, then a right one
    never_submit: float = 0.03
    never_graded: float = 0.02  # of those who submit
    below_pass: float = 0.02  # of those graded
    survey_answers: float = 0.80
    survey_negative: float = 0.15  # of those who answer
    late_classes: int = 1  # classes graded after their grading deadline
    outsider_grades: int = 1  # grades saved by a reporter of another class
    late_by_hours: tuple[int, int] = (2, 48)  # how long after the deadline a late class is graded


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in epoch seconds."""

    start: int
    end: int

    def __bool__(self) -> bool:
        return self.end > self.start

    def meet(self, other: Window) -> Window:
        return Window(max(self.start, other.start), min(self.end, other.end))


NEVER = Window(0, 0)
ALWAYS = Window(0, 2**62)


@dataclass(frozen=True)
class Person:
    userid: int
    username: str
    identity_code: str  # the LMS account's ID number
    active: bool = True  # False: suspended (account or enrolment): cannot log in, does nothing


@dataclass(frozen=True)
class ClassInLms:
    """A class: a group of a run course, its learners and its reporters (teacher role)."""

    class_id: str  # the group's ID number
    learners: tuple[Person, ...]
    reporters: tuple[Person, ...]


@dataclass(frozen=True)
class CourseInLms:
    """A run course, its activities (instance ids) and their open windows."""

    course_id: int
    idnumber: str
    classes: tuple[ClassInLms, ...]
    quiz_id: int | None = None
    assign_id: int | None = None
    feedback_id: int | None = None
    quiz_window: Window = NEVER
    submission_window: Window = NEVER
    survey_window: Window = NEVER
    grade_max: float = 100.0
    submission_drafts: bool = False  # a submission must then be submitted for grading


@dataclass(frozen=True)
class RunPhases:
    """The run's instants the plan needs (epoch seconds), from its timeline."""

    day1: int
    online_1: Window
    online_2: Window
    submission_due: int
    grading_due: dict[str, int]  # class id -> its grading deadline (extensions included)
    default_grading_due: int

    def due(self, class_id: str) -> int:
        return self.grading_due.get(class_id, self.default_grading_due)


class ActionKind(StrEnum):
    QUIZ = "quiz_attempt"
    SUBMIT = "submission"
    SURVEY = "survey_answer"
    GRADE = "grade"


@dataclass(frozen=True)
class Action:
    """One thing a person does in the LMS, at an instant, with their own token."""

    at: int
    kind: ActionKind
    course_id: int
    activity_id: int
    actor: Person  # who calls: the learner, or the grader
    learner: Person  # whose work it is
    attempt: int = 0  # quiz: the attempt's number (1, 2)
    correct: bool = False  # quiz: the right answer given
    grade: float = 0.0  # grade: the value, on the assignment's scale
    positive: bool = True  # survey: a positive rating


@dataclass(frozen=True)
class OutsiderGrade:
    learner: Person
    class_id: str
    grader: Person
    grader_class_id: str


@dataclass(frozen=True)
class ExpectedResult:
    """The result the completion rule should give a learner's seat, from what was done."""

    course_idnumber: str
    class_id: str
    identity_code: str
    username: str
    reasons: tuple[Reason, ...]
    survey_positive: bool | None  # None: not answered
    graded_late: bool = False

    @property
    def completed(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class Seat:
    course: CourseInLms
    klass: ClassInLms
    learner: Person


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    seats: tuple[Seat, ...]
    actions: tuple[Action, ...]  # in time order
    late_classes: tuple[str, ...]
    outsider_grades: tuple[OutsiderGrade, ...]
    pass_percent: float
    problems: tuple[str, ...] = field(default=())


# ---- drawing instants ----------------------------------------------------------------------


def _when(epoch: int) -> str:
    """An instant for a problem message (UTC); the open ends of a window as such."""
    if epoch <= 0:
        return "always"
    if epoch >= ALWAYS.end:
        return "never"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _pick(rng: random.Random, window: Window) -> int:
    return rng.randrange(window.start, window.end)


def _choose_window(allowed: Window, preferred: Sequence[Window], run_span: Window) -> Window:
    """The part of ``allowed`` in the preferred phases (the longest one), else in the run."""
    parts = [allowed.meet(phase) for phase in preferred]
    parts = [part for part in parts if part]
    if parts:
        return max(parts, key=lambda part: part.end - part.start)
    return allowed.meet(run_span)


# ---- the story of one learner -------------------------------------------------------------


@dataclass(frozen=True)
class _Story:
    quiz_fails: bool
    quiz_retries: bool
    submits: bool
    graded: bool
    below_pass: bool
    answers_survey: bool
    negative: bool


def _story(rng: random.Random, mix: ActivityMix) -> _Story:
    draws = [rng.random() for _ in range(7)]
    submits = draws[2] >= mix.never_submit
    graded = submits and draws[3] >= mix.never_graded
    answers = draws[5] < mix.survey_answers
    return _Story(
        quiz_fails=draws[0] < mix.quiz_fail,
        quiz_retries=draws[1] < mix.quiz_retry,
        submits=submits,
        graded=graded,
        below_pass=graded and draws[4] < mix.below_pass,
        answers_survey=answers,
        negative=answers and draws[6] < mix.survey_negative,
    )


def _grade_value(rng: random.Random, grade_max: float, pass_percent: float, below: bool) -> float:
    """A grade clearly on one side of the pass mark (whole numbers, as reporters give)."""
    if below:
        low, high = max(0.0, pass_percent - 35.0), max(0.0, pass_percent - 5.0)
    else:
        low, high = min(100.0, pass_percent + 10.0), 100.0
    return float(round(grade_max * rng.uniform(low, high) / 100.0))


@dataclass
class _Planner:
    run_id: str
    phases: RunPhases
    mix: ActivityMix
    seed: int
    pass_percent: float
    actions: list[Action] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    course_windows: dict[int, tuple[Window, Window, Window]] = field(default_factory=dict)

    def rng(self, *keys: object) -> random.Random:
        return random.Random("/".join(str(k) for k in (self.seed, self.run_id, *keys)))

    @property
    def run_span(self) -> Window:
        return Window(self.phases.day1, self.phases.default_grading_due)

    def open_window(
        self, course: CourseInLms, what: str, window: Window, limit: Window, phases: list[Window]
    ) -> Window:
        """Where in ``window`` (the activity's, cut to ``limit``) to act: see
        :func:`_choose_window`; a problem when nowhere."""
        chosen = _choose_window(window.meet(limit), phases, self.run_span)
        if not chosen:
            self.problems.append(
                f"{course.idnumber}: {what} is not open during the run (open "
                f"{_when(window.start)} to {_when(window.end)}; the run "
                f"{_when(self.run_span.start)} to {_when(self.run_span.end)}): not simulated"
            )
        return chosen

    def windows(self, course: CourseInLms) -> tuple[Window, Window, Window]:
        """Where the quiz, the submission and the survey fall in ``course``."""
        p = self.phases
        online = Window(p.day1, p.submission_due)
        found = []
        for what, activity, window, limit, phases in (
            ("the quiz", course.quiz_id, course.quiz_window, online, [p.online_1, p.online_2]),
            (
                "the final assignment",
                course.assign_id,
                course.submission_window,
                online,
                [p.online_2],
            ),
            ("the survey", course.feedback_id, course.survey_window, ALWAYS, [p.online_2]),
        ):
            if activity is None:
                self.problems.append(f"{course.idnumber}: no {what[4:]} found: not simulated")
                found.append(NEVER)
            else:
                found.append(self.open_window(course, what, window, limit, phases))
        return found[0], found[1], found[2]

    def learner(
        self,
        course: CourseInLms,
        klass: ClassInLms,
        person: Person,
        grader: Person | None,
        late: bool,
    ) -> None:
        if not person.active:
            return
        rng = self.rng(course.idnumber, person.username)
        story = _story(rng, self.mix)
        quiz, submission, survey = self.course_windows[course.course_id]
        if course.quiz_id is not None and quiz:
            self._quiz(rng, course, person, story, quiz)
        if course.assign_id is not None and submission and story.submits:
            submitted_at = _pick(rng, submission)
            self._add(submitted_at, ActionKind.SUBMIT, course, course.assign_id, person, person)
            if story.graded and grader is not None:
                self._grade(rng, course, klass, person, grader, story, submitted_at, late)
        # answers stop with the class's enrolments, at its grading deadline
        survey = survey.meet(Window(self.phases.day1, self.phases.due(klass.class_id)))
        if course.feedback_id is not None and survey and story.answers_survey:
            self.actions.append(
                Action(
                    _pick(rng, survey),
                    ActionKind.SURVEY,
                    course.course_id,
                    course.feedback_id,
                    person,
                    person,
                    positive=not story.negative,
                )
            )

    def _quiz(
        self,
        rng: random.Random,
        course: CourseInLms,
        person: Person,
        story: _Story,
        window: Window,
    ) -> None:
        assert course.quiz_id is not None
        first = _pick(rng, window)
        passes = not story.quiz_fails
        retry = passes and story.quiz_retries and first + HOUR < window.end
        self.actions.append(
            Action(
                first,
                ActionKind.QUIZ,
                course.course_id,
                course.quiz_id,
                person,
                person,
                attempt=1,
                correct=passes and not retry,
            )
        )
        if retry:
            second = _pick(rng, Window(first + HOUR, window.end))
            self.actions.append(
                Action(
                    second,
                    ActionKind.QUIZ,
                    course.course_id,
                    course.quiz_id,
                    person,
                    person,
                    attempt=2,
                    correct=True,
                )
            )

    def _grade(
        self,
        rng: random.Random,
        course: CourseInLms,
        klass: ClassInLms,
        person: Person,
        grader: Person,
        story: _Story,
        submitted_at: int,
        late: bool,
    ) -> None:
        assert course.assign_id is not None
        due = self.phases.due(klass.class_id)
        if late:
            low, high = self.mix.late_by_hours
            window = Window(due + low * HOUR, due + high * HOUR)
        else:
            window = Window(max(submitted_at + MINUTE, self.phases.submission_due), due)
        if not window:
            window = Window(submitted_at + MINUTE, submitted_at + 2 * MINUTE)
        grade = _grade_value(rng, course.grade_max, self.pass_percent, story.below_pass)
        self.actions.append(
            Action(
                _pick(rng, window),
                ActionKind.GRADE,
                course.course_id,
                course.assign_id,
                grader,
                person,
                grade=grade,
            )
        )

    def _add(
        self,
        at: int,
        kind: ActionKind,
        course: CourseInLms,
        activity_id: int,
        actor: Person,
        learner: Person,
    ) -> None:
        self.actions.append(Action(at, kind, course.course_id, activity_id, actor, learner))


# ---- the run ------------------------------------------------------------------------------


def _active(people: Iterable[Person]) -> list[Person]:
    return [person for person in people if person.active]


def _late_classes(planner: _Planner, courses: Sequence[CourseInLms]) -> tuple[str, ...]:
    graded = sorted(
        klass.class_id for course in courses for klass in course.classes if _active(klass.reporters)
    )
    count = min(planner.mix.late_classes, len(graded))
    return tuple(sorted(planner.rng("late").sample(graded, count)))


def _outsider_candidates(
    courses: Sequence[CourseInLms], late: Iterable[str]
) -> list[tuple[CourseInLms, ClassInLms, Person, ClassInLms]]:
    """(course, class, reporter of another class of the course not teaching it, that class)."""
    found = []
    for course in courses:
        for klass in course.classes:
            if klass.class_id in late or not klass.learners:
                continue
            own = {p.userid for p in klass.reporters}
            for other in course.classes:
                outsiders = [p for p in _active(other.reporters) if p.userid not in own]
                if other is not klass and outsiders:
                    found.append((course, klass, outsiders[0], other))
                    break
    return found


def _outsider_grades(
    planner: _Planner, courses: Sequence[CourseInLms], late: Iterable[str]
) -> dict[int, OutsiderGrade]:
    """Learner id -> the outsider who grades them (one learner per chosen class)."""
    candidates = _outsider_candidates(courses, late)
    count = min(planner.mix.outsider_grades, len(candidates))
    chosen = planner.rng("outsider").sample(candidates, count)
    grades: dict[int, OutsiderGrade] = {}
    for course, klass, grader, other in chosen:
        rng = planner.rng("outsider", course.idnumber, klass.class_id)
        learners = sorted(klass.learners, key=lambda p: p.username)
        # a learner whose own story has them submit and be graded
        graded = [
            p
            for p in _active(learners)
            if _story(planner.rng(course.idnumber, p.username), planner.mix).graded
        ]
        if graded:
            learner = rng.choice(graded)
            grades[learner.userid] = OutsiderGrade(learner, klass.class_id, grader, other.class_id)
    return grades


def plan_run(
    run_id: str,
    courses: Sequence[CourseInLms],
    phases: RunPhases,
    *,
    mix: ActivityMix,
    seed: int,
    pass_percent: float = 50.0,
) -> RunPlan:
    """Every action of the run's learners and reporters, in time order (pure).

    ``pass_percent``: the run's assessor pass mark as a share of the final assignment's
    maximum; grades are drawn at least 5 points away from it, so the expectation holds.
    """
    planner = _Planner(run_id, phases, mix, seed, pass_percent)
    late = _late_classes(planner, courses)
    outsiders = _outsider_grades(planner, courses, late)
    seats: list[Seat] = []
    for course in courses:
        planner.course_windows[course.course_id] = planner.windows(course)
        for klass in course.classes:
            reporter = min(_active(klass.reporters), key=lambda p: p.username, default=None)
            for person in sorted(klass.learners, key=lambda p: p.username):
                seats.append(Seat(course, klass, person))
                outsider = outsiders.get(person.userid)
                grader = outsider.grader if outsider is not None else reporter
                late_here = klass.class_id in late and outsider is None
                planner.learner(course, klass, person, grader, late_here)
    actions = sorted(planner.actions, key=_action_order)
    return RunPlan(
        run_id=run_id,
        seats=tuple(seats),
        actions=tuple(actions),
        late_classes=late,
        outsider_grades=tuple(outsiders[uid] for uid in sorted(outsiders)),
        pass_percent=pass_percent,
        problems=tuple(planner.problems),
    )


_KIND_ORDER = {kind: index for index, kind in enumerate(ActionKind)}


def _action_order(action: Action) -> tuple[int, int, str, int]:
    return (action.at, _KIND_ORDER[action.kind], action.learner.username, action.attempt)


# ---- what the rule should say ---------------------------------------------------------------


def _seat_key(action: Action) -> tuple[int, int]:
    return (action.course_id, action.learner.userid)


def expected_at(plan: RunPlan, done: Iterable[Action]) -> tuple[ExpectedResult, ...]:
    """Each seat's result once ``done`` (actions the LMS took) are in, in seat order.

    Derived from the story, not from :mod:`grading.rule`: the quiz passes with a right
    answer; the final assignment needs a submission, then a grade, saved by a reporter of the
    learner's class, at or above the pass mark.
    """
    quiz_passed: set[tuple[int, int]] = set()
    submitted: set[tuple[int, int]] = set()
    graded: dict[tuple[int, int], Action] = {}
    survey: dict[tuple[int, int], bool] = {}
    for action in done:
        key = _seat_key(action)
        if action.kind is ActionKind.QUIZ and action.correct:
            quiz_passed.add(key)
        elif action.kind is ActionKind.SUBMIT:
            submitted.add(key)
        elif action.kind is ActionKind.GRADE:
            graded[key] = action
        elif action.kind is ActionKind.SURVEY:
            survey[key] = action.positive
    late = set(plan.late_classes)
    results = []
    for seat in plan.seats:
        key = (seat.course.course_id, seat.learner.userid)
        reasons: list[Reason] = [] if key in quiz_passed else [Reason.NO_AUTO_PASS]
        grade = graded.get(key)
        if key not in submitted:
            reasons.append(Reason.NOT_SUBMITTED)
        elif grade is None:
            reasons.append(Reason.NOT_GRADED)
        elif grade.actor.userid not in {p.userid for p in seat.klass.reporters}:
            reasons.append(Reason.GRADER_NOT_ASSESSOR)
        elif grade.grade < seat.course.grade_max * plan.pass_percent / 100.0:
            reasons.append(Reason.BELOW_PASS_MARK)
        results.append(
            ExpectedResult(
                course_idnumber=seat.course.idnumber,
                class_id=seat.klass.class_id,
                identity_code=seat.learner.identity_code,
                username=seat.learner.username,
                reasons=tuple(reasons),
                survey_positive=survey.get(key),
                graded_late=grade is not None and seat.klass.class_id in late,
            )
        )
    return tuple(results)
