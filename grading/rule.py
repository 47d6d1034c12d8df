"""The completion rule of one module run: automatic pass AND assessor pass.

A learner completes a module when both hold (domain: 003 step 4; 002 §V; 004 §V):

* **automatic pass** — every required activity is complete in the LMS and each graded one
  (a quiz) is at or above its pass grade;
* **assessor pass** — the final assignment was submitted and graded at or above the pass
  mark (default 5 of 10, scaled to the item's maximum) by a reporter or assistant
  assigned to the learner's class.

Anything else is "not completed", with every reason that applies, so a school can act on
it. A grade saved by anyone else (Moodle does not check who grades whom) is not accepted:
it is flagged for the Sở. Exempt people are "exempt"; reference-subject seats are
reported apart and never certified.

Pure: a function of the evidence, the policy and the class's assessors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from grading.evidence import ActivityEvidence, LearnerEvidence, Seat

EPSILON = 1e-6  # grades come as decimal strings ("50.00000"): compare with a tolerance


class Outcome(StrEnum):
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"
    EXEMPT = "exempt"
    REFERENCE = "reference"  # a reference-subject seat: reported apart, never certified

    @property
    def label(self) -> str:
        """Vietnamese, as the completion lists print it."""
        return _OUTCOME_LABELS[self]


_OUTCOME_LABELS = {
    Outcome.COMPLETED: "Hoàn thành",
    Outcome.NOT_COMPLETED: "Chưa hoàn thành",
    Outcome.EXEMPT: "Miễn",
    Outcome.REFERENCE: "Môn tham khảo (không cấp chứng nhận)",
}


class Reason(StrEnum):
    """Why a learner did not complete: each one a school can act on."""

    NO_AUTO_PASS = "no_auto_pass"
    NOT_SUBMITTED = "not_submitted"
    NOT_GRADED = "not_graded"
    BELOW_PASS_MARK = "below_pass_mark"
    GRADER_NOT_ASSESSOR = "grader_not_assessor"

    @property
    def label(self) -> str:
        """Vietnamese, for the lists and reports."""
        return _REASON_LABELS[self]


_REASON_LABELS = {
    Reason.NO_AUTO_PASS: "Chưa đạt đánh giá tự động trên hệ thống",
    Reason.NOT_SUBMITTED: "Chưa nộp bài tập cuối khóa",
    Reason.NOT_GRADED: "Đã nộp bài tập cuối khóa nhưng chưa được chấm",
    Reason.BELOW_PASS_MARK: "Bài tập cuối khóa chưa đạt điểm yêu cầu",
    Reason.GRADER_NOT_ASSESSOR: "Bài được chấm bởi người không phụ trách lớp (chờ Sở xem xét)",
}


@dataclass(frozen=True)
class CompletionPolicy:
    """A run's completion settings.

    ``required_activities``: ID numbers of the activities the automatic pass needs (the
    final assignment and the survey may be among them or not: the run's choice).
    ``pass_mark`` out of ``pass_scale``: the assessor pass mark, scaled to the final
    assignment's maximum (5 of 10 on an item out of 100 is 50).
    """

    required_activities: tuple[str, ...] = ("quiz_auto",)
    pass_mark: float = 5.0
    pass_scale: float = 10.0
    graded_pass_percent: float | None = None  # None: each graded activity's own pass grade

    def __post_init__(self) -> None:
        if self.pass_scale <= 0 or not 0 <= self.pass_mark <= self.pass_scale:
            raise ValueError(
                f"pass mark {self.pass_mark} must lie between 0 and the scale {self.pass_scale}"
            )

    def threshold(self, grade_max: float) -> float:
        """The final-assignment grade that passes, on an item out of ``grade_max``."""
        return self.pass_mark / self.pass_scale * grade_max


@dataclass(frozen=True)
class ActivityShortfall:
    """One required activity that keeps the automatic pass from holding."""

    idnumber: str
    missing: bool = False  # the LMS has no state for it (not in the course, or never read)
    incomplete: bool = False
    grade: float | None = None
    pass_grade: float | None = None

    def describe(self) -> str:
        """Vietnamese, e.g. ``quiz_auto: 3/5 điểm, chưa đạt``."""
        if self.missing:
            return f"{self.idnumber}: không có trên hệ thống"
        if self.grade is not None and self.pass_grade is not None:
            return (
                f"{self.idnumber}: {_number(self.grade)}/{_number(self.pass_grade)} điểm, chưa đạt"
            )
        if self.pass_grade is not None:
            return f"{self.idnumber}: chưa làm bài"
        return f"{self.idnumber}: chưa hoàn thành"


@dataclass(frozen=True)
class LearnerResult:
    """The decision for one learner's seat in one run, with every reason that applies."""

    identity_code: str
    class_code: str
    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    shortfalls: tuple[ActivityShortfall, ...] = ()
    final_grade: float | None = None
    final_grade_max: float | None = None
    grader_id: int | None = None
    auto_pass: bool = False
    assessor_pass: bool = False

    @property
    def completed(self) -> bool:
        return self.outcome is Outcome.COMPLETED

    @property
    def flagged(self) -> bool:
        """A case the Sở must look at: a grade saved by someone outside the class."""
        return Reason.GRADER_NOT_ASSESSOR in self.reasons

    def explain(self) -> str:
        """Every reason in Vietnamese, with the details, for the not-completed list."""
        parts: list[str] = []
        for reason in self.reasons:
            text = reason.label
            if reason is Reason.NO_AUTO_PASS and self.shortfalls:
                text += " (" + "; ".join(s.describe() for s in self.shortfalls) + ")"
            if reason is Reason.BELOW_PASS_MARK and self.final_grade is not None:
                text += f" ({_number(self.final_grade)}/{_number(self.final_grade_max or 0)})"
            parts.append(text)
        return "; ".join(parts)


def _number(value: float) -> str:
    return f"{value:g}"


def activity_shortfall(
    idnumber: str, activity: ActivityEvidence | None, pass_percent: float | None = None
) -> ActivityShortfall | None:
    """Why one required activity fails the automatic pass (None: it passes).

    ``pass_percent`` replaces a graded activity's own pass grade by a share of its maximum.
    """
    if activity is None:
        return ActivityShortfall(idnumber, missing=True)
    if activity.is_graded_item or (pass_percent is not None and activity.grade_max):
        assert activity.grade_max is not None
        needed = (
            activity.grade_max * pass_percent / 100.0
            if pass_percent is not None
            else activity.pass_grade or 0.0
        )
        if activity.grade is None or activity.grade + EPSILON < needed:
            return ActivityShortfall(idnumber, grade=activity.grade, pass_grade=needed)
        return None
    if not activity.complete:
        return ActivityShortfall(idnumber, incomplete=True)
    return None


def automatic_shortfalls(
    evidence: LearnerEvidence, policy: CompletionPolicy
) -> tuple[ActivityShortfall, ...]:
    """Every required activity that fails the automatic pass (empty: it holds)."""
    found = (
        activity_shortfall(idnumber, evidence.activities.get(idnumber), policy.graded_pass_percent)
        for idnumber in policy.required_activities
    )
    return tuple(s for s in found if s is not None)


def assessor_reasons(
    evidence: LearnerEvidence, policy: CompletionPolicy, assessors: frozenset[int]
) -> tuple[Reason, ...]:
    """Why the assessor pass does not hold (empty: it does)."""
    final = evidence.final
    if not final.submitted:
        return (Reason.NOT_SUBMITTED,)
    if final.grade is None:
        return (Reason.NOT_GRADED,)
    if final.grader_id not in assessors:
        return (Reason.GRADER_NOT_ASSESSOR,)
    if final.grade + EPSILON < policy.threshold(final.grade_max):
        return (Reason.BELOW_PASS_MARK,)
    return ()


def decide(
    evidence: LearnerEvidence, policy: CompletionPolicy, assessors: frozenset[int]
) -> LearnerResult:
    """The result of one learner's seat: completed, or not with every reason; exempt;
    or a reference seat (reasons computed, never certified).

    ``assessors``: the LMS ids of the reporters and assistants of the learner's class.
    """
    shortfalls = automatic_shortfalls(evidence, policy)
    assessor = assessor_reasons(evidence, policy, assessors)
    reasons = ((Reason.NO_AUTO_PASS,) if shortfalls else ()) + assessor
    if evidence.exempt:
        outcome = Outcome.EXEMPT
    elif evidence.seat is Seat.REFERENCE:
        outcome = Outcome.REFERENCE
    else:
        outcome = Outcome.NOT_COMPLETED if reasons else Outcome.COMPLETED
    return LearnerResult(
        identity_code=evidence.identity_code,
        class_code=evidence.class_code,
        outcome=outcome,
        reasons=() if outcome is Outcome.EXEMPT else reasons,
        shortfalls=shortfalls,
        final_grade=evidence.final.grade,
        final_grade_max=evidence.final.grade_max if evidence.final.grade is not None else None,
        grader_id=evidence.final.grader_id,
        auto_pass=not shortfalls,
        assessor_pass=not assessor,
    )


def decide_run(
    evidence: Iterable[LearnerEvidence],
    policy: CompletionPolicy,
    assessors_by_class: Mapping[str, frozenset[int]],
) -> list[LearnerResult]:
    """Every learner's result; a class without assessors accepts no grade."""
    return [
        decide(item, policy, assessors_by_class.get(item.class_code, frozenset()))
        for item in evidence
    ]
