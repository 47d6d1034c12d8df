"""The completion rule: automatic pass AND assessor pass, every reason, the grader check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grading.evidence import ActivityEvidence, FinalAssignment, LearnerEvidence, Seat
from grading.rule import (
    CompletionPolicy,
    Outcome,
    Reason,
    decide,
    decide_run,
)

REPORTER, ASSISTANT, OUTSIDER = 13, 14, 3
ASSESSORS = frozenset({REPORTER, ASSISTANT})
POLICY = CompletionPolicy(required_activities=("lesson", "quiz_auto"))


def quiz(grade: float | None, *, pass_grade: float = 5.0) -> ActivityEvidence:
    return ActivityEvidence(
        "quiz_auto",
        complete=grade is not None and grade >= pass_grade,
        grade=grade,
        grade_max=10.0,
        pass_grade=pass_grade,
    )


def learner(
    *,
    lesson: bool = True,
    quiz_grade: float | None = 10.0,
    submitted: bool = True,
    grade: float | None = 80.0,
    grade_max: float = 100.0,
    grader: int | None = REPORTER,
    seat: Seat = Seat.MAIN,
    exempt: bool = False,
) -> LearnerEvidence:
    return LearnerEvidence(
        identity_code="0702060001",
        class_code="M4-THCS-GV-TOAN-01",
        seat=seat,
        exempt=exempt,
        activities={
            "lesson": ActivityEvidence("lesson", complete=lesson),
            "quiz_auto": quiz(quiz_grade),
        },
        final=FinalAssignment(
            submitted=submitted,
            grade=grade,
            grade_max=grade_max,
            grader_id=grader if grade is not None else None,
        ),
    )


def test_both_passes_complete_the_module() -> None:
    result = decide(learner(), POLICY, ASSESSORS)
    assert result.outcome is Outcome.COMPLETED
    assert result.reasons == ()
    assert result.auto_pass
    assert result.assessor_pass
    assert result.completed


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"quiz_grade": 3.0}, (Reason.NO_AUTO_PASS,)),
        ({"quiz_grade": None}, (Reason.NO_AUTO_PASS,)),
        ({"lesson": False}, (Reason.NO_AUTO_PASS,)),
        ({"submitted": False, "grade": None}, (Reason.NOT_SUBMITTED,)),
        ({"grade": None}, (Reason.NOT_GRADED,)),
        ({"grade": 49.0}, (Reason.BELOW_PASS_MARK,)),
        ({"grader": OUTSIDER}, (Reason.GRADER_NOT_ASSESSOR,)),
        ({"quiz_grade": 0.0, "grade": None}, (Reason.NO_AUTO_PASS, Reason.NOT_GRADED)),
        (
            {"lesson": False, "submitted": False, "grade": None},
            (Reason.NO_AUTO_PASS, Reason.NOT_SUBMITTED),
        ),
        ({"quiz_grade": 4.99, "grade": 20.0}, (Reason.NO_AUTO_PASS, Reason.BELOW_PASS_MARK)),
    ],
)
def test_each_reason_and_their_combinations(
    changes: dict[str, object], reasons: tuple[Reason, ...]
) -> None:
    result = decide(learner(**changes), POLICY, ASSESSORS)  # type: ignore[arg-type]
    assert result.outcome is Outcome.NOT_COMPLETED
    assert result.reasons == reasons
    assert not result.completed


def test_the_pass_mark_is_scaled_to_the_items_maximum() -> None:
    # 5 of 10 on an item out of 100 is 50; on an item out of 20 it is 10.
    assert decide(learner(grade=50.0), POLICY, ASSESSORS).completed
    assert not decide(learner(grade=49.5), POLICY, ASSESSORS).completed
    assert decide(learner(grade=10.0, grade_max=20.0), POLICY, ASSESSORS).completed
    assert not decide(learner(grade=9.0, grade_max=20.0), POLICY, ASSESSORS).completed
    strict = CompletionPolicy(required_activities=("lesson",), pass_mark=7.0)
    assert not decide(learner(grade=60.0), strict, ASSESSORS).completed
    assert decide(learner(grade=70.0), strict, ASSESSORS).completed


def test_a_grade_exactly_at_the_mark_passes_despite_decimal_noise() -> None:
    # Moodle answers "50.00000"; a float parsed from it may sit a hair below 50.
    assert decide(learner(grade=49.9999999999), POLICY, ASSESSORS).completed
    assert decide(learner(quiz_grade=4.9999999999), POLICY, ASSESSORS).completed


def test_a_grade_by_someone_outside_the_class_is_flagged_not_accepted() -> None:
    result = decide(learner(grader=OUTSIDER, grade=95.0), POLICY, ASSESSORS)
    assert result.outcome is Outcome.NOT_COMPLETED
    assert result.flagged
    assert result.grader_id == OUTSIDER
    assert "không phụ trách lớp" in result.explain()
    # The assistant of the class is one of its assessors.
    assert decide(learner(grader=ASSISTANT), POLICY, ASSESSORS).completed


def test_a_class_without_assessors_accepts_no_grade() -> None:
    [result] = decide_run([learner()], POLICY, {})
    assert result.reasons == (Reason.GRADER_NOT_ASSESSOR,)
    [ok] = decide_run([learner()], POLICY, {"M4-THCS-GV-TOAN-01": ASSESSORS})
    assert ok.completed


def test_a_required_activity_the_lms_does_not_report_fails_the_automatic_pass() -> None:
    policy = CompletionPolicy(required_activities=("lesson", "quiz_auto", "checklist"))
    result = decide(learner(), policy, ASSESSORS)
    assert result.reasons == (Reason.NO_AUTO_PASS,)
    assert [s.idnumber for s in result.shortfalls] == ["checklist"]
    assert result.shortfalls[0].missing


def test_exempt_people_are_exempt_whatever_the_lms_says() -> None:
    result = decide(
        learner(quiz_grade=None, submitted=False, grade=None, exempt=True), POLICY, ASSESSORS
    )
    assert result.outcome is Outcome.EXEMPT
    assert result.reasons == ()
    assert not result.completed


def test_reference_seats_are_never_certified() -> None:
    passing = decide(learner(seat=Seat.REFERENCE), POLICY, ASSESSORS)
    assert passing.outcome is Outcome.REFERENCE
    assert not passing.completed
    failing = decide(learner(seat=Seat.REFERENCE, quiz_grade=1.0), POLICY, ASSESSORS)
    assert failing.outcome is Outcome.REFERENCE
    assert failing.reasons == (Reason.NO_AUTO_PASS,)


def test_the_explanation_names_each_reason_with_its_details() -> None:
    result = decide(learner(quiz_grade=3.0, grade=40.0), POLICY, ASSESSORS)
    text = result.explain()
    assert "Chưa đạt đánh giá tự động trên hệ thống (quiz_auto: 3/5 điểm, chưa đạt)" in text
    assert "Bài tập cuối khóa chưa đạt điểm yêu cầu (40/100)" in text
    never = decide(learner(quiz_grade=None), POLICY, ASSESSORS).explain()
    assert "quiz_auto: chưa làm bài" in never


@pytest.mark.parametrize(("mark", "scale"), [(11.0, 10.0), (-1.0, 10.0), (5.0, 0.0)])
def test_an_impossible_pass_mark_is_refused(mark: float, scale: float) -> None:
    with pytest.raises(ValueError, match="pass mark"):
        CompletionPolicy(pass_mark=mark, pass_scale=scale)


grades = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))


@given(
    lesson=st.booleans(),
    quiz_grade=st.one_of(st.none(), st.floats(min_value=0, max_value=10, allow_nan=False)),
    submitted=st.booleans(),
    grade=grades,
    grader=st.sampled_from([REPORTER, ASSISTANT, OUTSIDER]),
)
def test_completed_exactly_when_both_passes_hold(
    lesson: bool, quiz_grade: float | None, submitted: bool, grade: float | None, grader: int
) -> None:
    result = decide(
        learner(
            lesson=lesson, quiz_grade=quiz_grade, submitted=submitted, grade=grade, grader=grader
        ),
        POLICY,
        ASSESSORS,
    )
    auto = lesson and quiz_grade is not None and quiz_grade >= 5.0 - 1e-6
    assessor = submitted and grade is not None and grader in ASSESSORS and grade >= 50.0 - 1e-6
    assert result.completed == (auto and assessor)
    assert (result.reasons == ()) == result.completed
    assert (Reason.NO_AUTO_PASS in result.reasons) == (not auto)


def test_a_run_may_set_its_own_quiz_pass_percentage() -> None:
    # The quiz's own pass grade is 5/10; the run asks 80 %.
    strict = CompletionPolicy(required_activities=("quiz_auto",), graded_pass_percent=80.0)
    assert not decide(learner(quiz_grade=7.0), strict, ASSESSORS).completed
    result = decide(learner(quiz_grade=7.0), strict, ASSESSORS)
    assert result.shortfalls[0].pass_grade == pytest.approx(8.0)
    assert decide(learner(quiz_grade=8.0), strict, ASSESSORS).completed
