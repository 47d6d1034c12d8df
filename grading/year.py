"""The year result of one person: completed the year's BDTX plan or not, or exempt.

Domain (004 §V.1; 002 §V.2): a learner who completed at least N modules of 40 periods
organised in the school year (default 3) completes the year: "Hoàn thành kế hoạch BDTX";
otherwise "Không hoàn thành kế hoạch BDTX". Exempt people are listed as exempt, never
as failed. Only main seats count (a reference subject is never certified), and a module
counts once however many runs of it the person completed.

Pure: a function of each person's run results.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from grading.lists import PersonRow, SchoolRow, fold, name_key
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


@dataclass(frozen=True)
class YearRow:
    """One line of the year list, as printed."""

    identity_code: str
    full_name: str
    birth_date: dt.date | None
    school_code: str
    school_name: str
    district: str
    level: str
    subject: str
    result: YearResult
    note: str = ""  # what is missing, or the exemption reason


def year_list(
    runs_by_person: Mapping[str, Iterable[RunOutcome]],
    people: Mapping[str, PersonRow],
    schools: Mapping[str, SchoolRow],
    *,
    required: int = 3,
) -> list[YearRow]:
    """The year list of the province: every person with a run result or exempt, sorted by
    school then by name in Vietnamese order. ``people`` by identity code (``exempt`` set
    for the exempt), ``schools`` by code."""
    exempt = frozenset(code for code, person in people.items() if person.exempt)
    codes = set(runs_by_person) | exempt
    rows: list[YearRow] = []
    for result in year_results(
        {code: list(runs_by_person.get(code, ())) for code in codes},
        required=required,
        exempt=exempt,
    ):
        person = people.get(result.identity_code) or PersonRow(
            result.identity_code, result.identity_code
        )
        school = schools.get(person.school_code)
        if result.rating is YearRating.EXEMPT:
            note = person.exemption_reason
        elif result.rating is YearRating.NOT_COMPLETED:
            note = f"Còn thiếu {result.missing} mô đun"
        else:
            note = ""
        rows.append(
            YearRow(
                identity_code=result.identity_code,
                full_name=unicodedata.normalize("NFC", person.full_name),
                birth_date=person.birth_date,
                school_code=person.school_code,
                school_name=school.name if school else person.school_code,
                district=person.district or (school.district if school else ""),
                level=person.level,
                subject=person.subject,
                result=result,
                note=note,
            )
        )
    return sorted(
        rows,
        key=lambda r: (fold(r.school_name), r.school_code, *name_key(r.full_name), r.identity_code),
    )
