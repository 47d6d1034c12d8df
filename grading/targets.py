"""The plan's targets, per run: completion and survey, for the province and each part of it.

The plans (003 §9; 004 §VI) set two targets for every run:

* **more than 98 %** of the learners complete the module ("Trên 98% CBQL, GV tham gia
  khoá bồi dưỡng hoàn thành");
* **more than 75 %** of the learners give positive feedback in the end-of-module survey
  ("Trên 75% ... phản hồi tích cực"): the share is of all learners of the run, so a
  learner who did not answer counts as not positive. The answered rate is shown beside it.

Learners are the main seats that are not exempt; reference seats and exempt people count
in neither numerator nor denominator. Lines are given for the province and per level,
subject, district and school. "More than" is strict, as the plans write it.

Pure: a function of the results and where each learner belongs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from grading.rule import LearnerResult, Outcome

COMPLETION_TARGET = 98.0
SURVEY_TARGET = 75.0
DIMENSIONS: tuple[str, ...] = ("province", "level", "subject", "district", "school")


@dataclass(frozen=True)
class PlacedResult:
    """A learner's result with what the targets are broken down by."""

    result: LearnerResult
    level: str
    subject: str
    school: str
    district: str = ""
    survey_answered: bool = False
    survey_positive: bool = False

    @property
    def counts(self) -> bool:
        return self.result.outcome in (Outcome.COMPLETED, Outcome.NOT_COMPLETED)


@dataclass(frozen=True)
class TargetLine:
    dimension: str  # province / level / subject / district / school
    key: str
    learners: int
    completed: int
    answered: int
    positive: int
    completion_target: float = COMPLETION_TARGET
    survey_target: float = SURVEY_TARGET

    @property
    def completion_rate(self) -> float:
        return _percent(self.completed, self.learners)

    @property
    def answered_rate(self) -> float:
        return _percent(self.answered, self.learners)

    @property
    def positive_rate(self) -> float:
        return _percent(self.positive, self.learners)

    @property
    def meets_completion(self) -> bool:
        return self.learners > 0 and self.completion_rate > self.completion_target

    @property
    def meets_survey(self) -> bool:
        return self.learners > 0 and self.positive_rate > self.survey_target


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


_KEYS: dict[str, Callable[[PlacedResult], str]] = {
    "province": lambda r: "",
    "level": lambda r: r.level,
    "subject": lambda r: r.subject,
    "district": lambda r: r.district,
    "school": lambda r: r.school,
}


def target_lines(
    results: Iterable[PlacedResult],
    *,
    completion_target: float = COMPLETION_TARGET,
    survey_target: float = SURVEY_TARGET,
    dimensions: tuple[str, ...] = DIMENSIONS,
) -> list[TargetLine]:
    """One line per dimension and key (the province first), keys in order.

    A dimension whose key is empty for everyone (no districts in the roster) is left out,
    except the province line.
    """
    counted = [r for r in results if r.counts]
    lines: list[TargetLine] = []
    for dimension in dimensions:
        key_of = _KEYS[dimension]
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for placed in counted:
            key = key_of(placed)
            if dimension != "province" and not key:
                continue
            numbers = tally[key]
            numbers[0] += 1
            numbers[1] += placed.result.completed
            numbers[2] += placed.survey_answered
            numbers[3] += placed.survey_answered and placed.survey_positive
        if dimension == "province" and not tally:
            tally[""] = [0, 0, 0, 0]
        for key in sorted(tally):
            learners, completed, answered, positive = tally[key]
            lines.append(
                TargetLine(
                    dimension,
                    key,
                    learners,
                    completed,
                    answered,
                    positive,
                    completion_target,
                    survey_target,
                )
            )
    return lines
