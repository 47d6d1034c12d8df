"""The year result of one person: completed the year's BDTX plan or not, or exempt.

Domain (004 §V.1; 002 §V.2): a learner who completed at least N modules of 40 periods
organised in the school year (default 3) completes the year: "Hoàn thành kế hoạch BDTX";
otherwise "Không hoàn thành kế hoạch BDTX". Exempt people are listed as exempt, never
as failed. Only main seats count (a reference subject is never certified), and a module
counts once however many runs of it the person completed.

Pure: a function of each person's run results.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from grading.rule import Outcome


class YearRating(StrEnum):
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"
    EXEMPT = "exempt"

    @property
    def label(self) -> str:
        """Vietnamese, as the year list prints it."""
        return _LABELS[self]


_LABELS = {
    YearRating.COMPLETED: "Hoàn thành kế hoạch BDTX",
    YearRating.NOT_COMPLETED: "Không hoàn thành kế hoạch BDTX",
    YearRating.EXEMPT: "Miễn BDTX",
}


@dataclass(frozen=True)
class RunOutcome:
    """One person's result in one run of the year (main seats only are certified)."""

    module: int
    outcome: Outcome


@dataclass(frozen=True)
class YearResult:
    identity_code: str
    rating: YearRating
    modules_completed: tuple[int, ...]
    modules_required: int

    @property
    def missing(self) -> int:
        """How many more modules the year needed (0 when completed or exempt)."""
        if self.rating is not YearRating.NOT_COMPLETED:
            return 0
        return self.modules_required - len(self.modules_completed)


def year_result(
    identity_code: str,
    runs: Iterable[RunOutcome],
    *,
    required: int = 3,
    exempt: bool = False,
) -> YearResult:
    """The year rating of one person from their runs' outcomes."""
    if required < 1:
        raise ValueError("a year needs at least one module")
    runs = list(runs)
    completed = tuple(sorted({r.module for r in runs if r.outcome is Outcome.COMPLETED}))
    if exempt or (runs and all(r.outcome is Outcome.EXEMPT for r in runs)):
        rating = YearRating.EXEMPT
    elif len(completed) >= required:
        rating = YearRating.COMPLETED
    else:
        rating = YearRating.NOT_COMPLETED
    return YearResult(identity_code, rating, completed, required)


def year_results(
    runs_by_person: Mapping[str, Iterable[RunOutcome]],
    *,
    required: int = 3,
    exempt: frozenset[str] = frozenset(),
) -> list[YearResult]:
    """Every person's year result, in identity-code order."""
    return [
        year_result(code, runs_by_person[code], required=required, exempt=code in exempt)
        for code in sorted(runs_by_person)
    ]
