"""The completion lists of a run: who completed, who did not and why, who is exempt.

They are the annex of the official completion decision (issue 9 §5): per school, per
district office and for the province. Each list row carries what an office files (name,
birth date, school, level, subject, module, result); the not-completed list gives every
reason, the exempt list the exemption reason; reference-subject seats are listed apart
(never certified). Rows are sorted by school, then by name in Vietnamese order: a key with
the diacritics folded first, then the NFC name itself, so "Anh" < "Ánh" < "Bình".

Pure: functions of plain rows (the stored results of one pull, people and schools).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from grading.rule import LearnerResult as Decision
from grading.rule import Outcome
from grading.targets import PlacedResult, TargetLine, target_lines

__all__ = [
    "CompletionLists",
    "ListKind",
    "ListRow",
    "PersonRow",
    "ResultRow",
    "SchoolRow",
    "build_lists",
    "fold",
    "name_key",
    "slug",
]


class ListKind(StrEnum):
    """The lists of a workbook, in order; the value is the sheet title."""

    COMPLETED = "Hoàn thành"
    NOT_COMPLETED = "Chưa hoàn thành"
    EXEMPT = "Miễn"
    REFERENCE = "Môn tham khảo (không cấp chứng nhận)"


_KIND_OF = {
    Outcome.COMPLETED: ListKind.COMPLETED,
    Outcome.NOT_COMPLETED: ListKind.NOT_COMPLETED,
    Outcome.EXEMPT: ListKind.EXEMPT,
    Outcome.REFERENCE: ListKind.REFERENCE,
}


@dataclass(frozen=True)
class PersonRow:
    identity_code: str
    full_name: str
    birth_date: dt.date | None = None
    school_code: str = ""
    district: str = ""
    level: str = ""
    subject: str = ""
    audience: str = ""
    exemption_reason: str = ""
    exempt: bool = False  # miễn: not trained this year, listed as exempt


@dataclass(frozen=True)
class SchoolRow:
    code: str
    name: str
    district: str = ""


@dataclass(frozen=True)
class ResultRow:
    """One stored seat decision (``store.models.LearnerResult``)."""

    identity_code: str
    course_idnumber: str
    outcome: str
    class_code: str = ""
    seat: str = "main"
    explanation: str = ""
    survey_answered: bool = False
    survey_positive: bool | None = None


@dataclass(frozen=True)
class ListRow:
    """One line of a list, as printed (STT is its place in the list)."""

    identity_code: str
    full_name: str
    birth_date: dt.date | None
    school_code: str
    school_name: str
    district: str
    level: str
    subject: str
    audience: str
    module: str
    result: str
    reason: str = ""


def fold(text: str) -> str:
    """``text`` without diacritics, case-folded (đ is d): the first sort key."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def name_key(name: str) -> tuple[str, str]:
    """Vietnamese order: diacritics folded first, then the NFC name itself."""
    return fold(name), unicodedata.normalize("NFC", name)


def slug(text: str) -> str:
    """A file-name part: ASCII letters and digits joined by ``-`` ("Đồng Xoài" → "dong-xoai")."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-") or "khong-ro"


def _row_key(row: ListRow) -> tuple[str, str, str, str, str]:
    folded, nfc = name_key(row.full_name)
    return fold(row.school_name), row.school_code, folded, nfc, row.identity_code


@dataclass(frozen=True)
class CompletionLists:
    """The lists of one scope (province, district or school) and what the summary counts."""

    rows: Mapping[ListKind, tuple[ListRow, ...]]
    placed: tuple[PlacedResult, ...] = field(default=())

    def of(self, kind: ListKind) -> tuple[ListRow, ...]:
        return self.rows.get(kind, ())

    def counts(self) -> dict[str, int]:
        """Rows per list, keyed by the outcome value (completed, not_completed, ...)."""
        values = {kind: outcome.value for outcome, kind in _KIND_OF.items()}
        return {values[kind]: len(self.of(kind)) for kind in ListKind}

    def summary(self) -> list[TargetLine]:
        """The targets' lines (``grading.targets``) for the learners of this scope."""
        return target_lines(self.placed)

    def restrict(
        self, *, school: str | None = None, district: str | None = None
    ) -> CompletionLists:
        """The lists of one school (by code) or one district."""

        def keep(school_code: str, row_district: str) -> bool:
            if school is not None and school_code != school:
                return False
            return district is None or row_district == district

        return CompletionLists(
            rows={
                kind: tuple(r for r in rows if keep(r.school_code, r.district))
                for kind, rows in self.rows.items()
            },
            placed=tuple(p for p in self.placed if keep(p.school, p.district)),
        )

    def schools(self) -> list[str]:
        """School codes with at least one row, in order."""
        return sorted({r.school_code for rows in self.rows.values() for r in rows})

    def districts(self) -> list[str]:
        """Districts with at least one row (none when the roster has no districts)."""
        return sorted({r.district for rows in self.rows.values() for r in rows if r.district})


def build_lists(
    results: Iterable[ResultRow],
    people: Mapping[str, PersonRow],
    schools: Mapping[str, SchoolRow],
    *,
    module: str,
    reference_subjects: Sequence[str] = (),
) -> CompletionLists:
    """The province's lists from the results of one pull.

    ``people`` by identity code, ``schools`` by code; ``module`` as printed ("Mô đun 4");
    ``reference_subjects``: the run's concurrent subjects, printed as the subject of a
    reference seat (a stored seat does not name its subject; it is one of these, never
    the person's own).
    A learner's district is the person's, else the school's. A result whose person is no
    longer stored still appears (under the identity code) rather than being dropped.
    """
    rows: dict[ListKind, list[ListRow]] = {kind: [] for kind in ListKind}
    placed: list[PlacedResult] = []
    for result in results:
        outcome = Outcome(result.outcome)
        person = people.get(result.identity_code) or PersonRow(
            result.identity_code, result.identity_code
        )
        school = schools.get(person.school_code)
        school_name = school.name if school else person.school_code
        district = person.district or (school.district if school else "")
        subject = person.subject
        if outcome is Outcome.REFERENCE:
            subject = "; ".join(s for s in reference_subjects if s != person.subject) or subject
        rows[_KIND_OF[outcome]].append(
            ListRow(
                identity_code=person.identity_code,
                full_name=unicodedata.normalize("NFC", person.full_name),
                birth_date=person.birth_date,
                school_code=person.school_code,
                school_name=school_name,
                district=district,
                level=person.level,
                subject=subject,
                audience=person.audience,
                module=module,
                result=outcome.label,
                reason=_reason(outcome, result, person),
            )
        )
        placed.append(
            PlacedResult(
                Decision(result.identity_code, result.class_code, outcome),
                level=person.level,
                subject=person.subject,
                school=person.school_code,
                district=district,
                survey_answered=result.survey_answered,
                survey_positive=bool(result.survey_positive),
            )
        )
    return CompletionLists(
        rows={kind: tuple(sorted(found, key=_row_key)) for kind, found in rows.items()},
        placed=tuple(placed),
    )


def exempt_without_seat(
    people: Iterable[PersonRow],
    seated: Collection[str],
    *,
    levels: Collection[str],
    audiences: Collection[str],
) -> list[ResultRow]:
    """Exempt people of the run's levels and audiences who hold no seat in it.

    Exempt people (miễn) are not enrolled, so no pull decides them; the lists still name
    them, as exempt with the school's reason, never as not completed.
    """
    return [
        ResultRow(identity_code=p.identity_code, course_idnumber="", outcome=Outcome.EXEMPT.value)
        for p in people
        if p.exempt
        and p.identity_code not in seated
        and p.level in levels
        and p.audience in audiences
    ]


def _reason(outcome: Outcome, result: ResultRow, person: PersonRow) -> str:
    if outcome is Outcome.NOT_COMPLETED:
        return result.explanation
    if outcome is Outcome.EXEMPT:
        return person.exemption_reason
    return ""
