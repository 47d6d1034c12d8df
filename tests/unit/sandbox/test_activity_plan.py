"""The pure plan of a run's simulated activity: who does what, when, and what it leads to."""

from __future__ import annotations

from grading.rule import Reason
from sandbox.activity_plan import (
    DAY,
    ActionKind,
    ActivityMix,
    ClassInLms,
    CourseInLms,
    Person,
    RunPhases,
    Window,
    expected_at,
    plan_run,
)

DAY1 = 1_700_000_000
PHASES = RunPhases(
    day1=DAY1,
    online_1=Window(DAY1, DAY1 + 7 * DAY),
    online_2=Window(DAY1 + 9 * DAY, DAY1 + 16 * DAY),
    submission_due=DAY1 + 16 * DAY,
    grading_due={"C2": DAY1 + 30 * DAY},  # class C2 was extended by 4 days
    default_grading_due=DAY1 + 26 * DAY,
)


def _people(prefix: str, count: int, first_id: int) -> tuple[Person, ...]:
    return tuple(Person(first_id + n, f"{prefix}{n:03d}", f"ID{prefix}{n}") for n in range(count))


def _course(*, reporters: bool = True, survey: Window | None = None) -> CourseInLms:
    classes = tuple(
        ClassInLms(
            f"C{k}",
            _people(f"l{k}", 40, 1000 * k),
            _people(f"r{k}", 1, 900 + k) if reporters else (),
        )
        for k in (1, 2)
    )
    return CourseInLms(
        course_id=7,
        idnumber="BDTX-X",
        classes=classes,
        quiz_id=1,
        assign_id=2,
        feedback_id=3,
        quiz_window=Window(DAY1 - DAY, DAY1 + 20 * DAY),
        submission_window=Window(DAY1, DAY1 + 20 * DAY),
        survey_window=survey or Window(DAY1, DAY1 + 40 * DAY),
        grade_max=10.0,
    )


def test_each_kind_of_action_stays_in_its_phase_and_window() -> None:
    plan = plan_run("R", [_course()], PHASES, mix=ActivityMix(late_classes=0), seed=1)
    by_kind = {kind: [a for a in plan.actions if a.kind is kind] for kind in ActionKind}
    assert all(by_kind.values())
    online = (PHASES.online_1, PHASES.online_2)
    for action in by_kind[ActionKind.QUIZ]:
        assert any(w.start <= action.at < w.end for w in online)
    for action in by_kind[ActionKind.SUBMIT] + by_kind[ActionKind.SURVEY]:
        assert PHASES.online_2.start <= action.at < PHASES.online_2.end
    submitted = {a.learner: a.at for a in by_kind[ActionKind.SUBMIT]}
    for action in by_kind[ActionKind.GRADE]:
        due = PHASES.due("C2" if action.learner.username.startswith("l2") else "C1")
        assert max(submitted[action.learner], PHASES.submission_due) <= action.at < due
    assert [a.at for a in plan.actions] == sorted(a.at for a in plan.actions)


def test_the_late_class_is_graded_after_its_own_extended_deadline() -> None:
    mix = ActivityMix(late_classes=2, outsider_grades=0)
    plan = plan_run("R", [_course()], PHASES, mix=mix, seed=3)
    assert plan.late_classes == ("C1", "C2")
    for action in plan.actions:
        if action.kind is ActionKind.GRADE:
            due = PHASES.due("C2" if action.learner.username.startswith("l2") else "C1")
            assert due + 2 * 3600 <= action.at < due + 48 * 3600
    expected = expected_at(plan, plan.actions)
    graded = [r for r in expected if not {Reason.NOT_SUBMITTED, Reason.NOT_GRADED} & set(r.reasons)]
    assert graded
    assert all(r.graded_late for r in graded)


def test_grades_stay_clear_of_the_pass_mark_on_the_items_scale() -> None:
    mix = ActivityMix(below_pass=0.5, never_graded=0.0, late_classes=0, outsider_grades=0)
    plan = plan_run("R", [_course()], PHASES, mix=mix, seed=5, pass_percent=70.0)
    grades = [a.grade for a in plan.actions if a.kind is ActionKind.GRADE]
    below = [g for g in grades if g < 7.0]
    assert below
    assert len(below) < len(grades)
    assert all(g <= 6.5 or g >= 8.0 for g in grades)
    expected = expected_at(plan, plan.actions)
    assert sum(Reason.BELOW_PASS_MARK in r.reasons for r in expected) == len(below)


def test_an_outsider_is_a_reporter_of_another_class_and_never_the_learners_own() -> None:
    plan = plan_run(
        "R", [_course()], PHASES, mix=ActivityMix(outsider_grades=2, late_classes=0), seed=11
    )
    assert len(plan.outsider_grades) == 2
    for outsider in plan.outsider_grades:
        assert outsider.grader_class_id != outsider.class_id
        [grade] = [
            a for a in plan.actions if a.kind is ActionKind.GRADE and a.learner == outsider.learner
        ]
        assert grade.actor == outsider.grader
    expected = {r.username: r for r in expected_at(plan, plan.actions)}
    for outsider in plan.outsider_grades:
        assert expected[outsider.learner.username].reasons[-1] is Reason.GRADER_NOT_ASSESSOR


def test_a_class_without_reporters_is_never_graded() -> None:
    plan = plan_run("R", [_course(reporters=False)], PHASES, mix=ActivityMix(), seed=2)
    assert not [a for a in plan.actions if a.kind is ActionKind.GRADE]
    assert plan.late_classes == ()
    assert plan.outsider_grades == ()
    for result in expected_at(plan, plan.actions):
        assert result.reasons[-1] in (Reason.NOT_SUBMITTED, Reason.NOT_GRADED)


def test_a_survey_open_only_after_day_16_is_answered_before_the_class_deadline() -> None:
    late_survey = Window(DAY1 + 21 * DAY, DAY1 + 28 * DAY)
    plan = plan_run("R", [_course(survey=late_survey)], PHASES, mix=ActivityMix(), seed=4)
    answers = [a for a in plan.actions if a.kind is ActionKind.SURVEY]
    assert answers
    for action in answers:
        due = PHASES.due("C2" if action.learner.username.startswith("l2") else "C1")
        assert late_survey.start <= action.at < min(due, late_survey.end)
    assert plan.problems == ()


def test_a_window_outside_the_run_is_a_problem_and_nothing_is_planned_in_it() -> None:
    closed = Window(DAY1 + 400 * DAY, DAY1 + 420 * DAY)
    plan = plan_run("R", [_course(survey=closed)], PHASES, mix=ActivityMix(), seed=4)
    assert not [a for a in plan.actions if a.kind is ActionKind.SURVEY]
    [problem] = plan.problems
    assert problem.startswith("BDTX-X: the survey is not open during the run")
