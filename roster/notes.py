"""Reading exemptions (miễn) and reductions (giảm) from the ``Ghi chú`` column.

Schools write these in their own words ("Nghỉ hưu trong năm học", "Nghỉ thai sản",
"Nghỉ ốm dài ngày (có giấy xác nhận)", "nghi huu T12/2023"...). A rule matches whole
words of the folded note (no accents, any case); a rule's ``unless`` words veto it, so
"Nghỉ sản đi dạy lại" (back from leave) is not a maternity leave.
"""

from __future__ import annotations

from dataclasses import dataclass

from roster.model import ExemptionKind
from roster.text import fold

__all__ = ["DEFAULT_NOTE_RULES", "NoteRule", "classify_note"]

_BACK_AT_WORK = ("di day lai", "day lai", "tro lai", "quay lai", "di lam lai", "da di lam")


@dataclass(frozen=True, slots=True)
class NoteRule:
    """``kind`` applies when the note contains any of ``words`` and none of ``unless``.

    Words are folded phrases (``"nghi huu"``), matched on word boundaries.
    """

    kind: ExemptionKind
    words: tuple[str, ...]
    unless: tuple[str, ...] = ()


DEFAULT_NOTE_RULES: tuple[NoteRule, ...] = (
    NoteRule(ExemptionKind.RETIRING, ("nghi huu", "ve huu", "huu tri")),
    NoteRule(
        ExemptionKind.STUDY_LEAVE,
        (
            "di hoc",
            "hoc tap trung",
            "hoc dai han",
            "cu di hoc",
            "thac si",
            "tien si",
            "nghien cuu sinh",
        ),
        unless=_BACK_AT_WORK,
    ),
    NoteRule(ExemptionKind.PROVINCIAL_CORE, ("cot can cap tinh", "cot can tinh")),
    NoteRule(ExemptionKind.MATERNITY, ("thai san", "nghi san", "sinh con"), unless=_BACK_AT_WORK),
    NoteRule(
        ExemptionKind.LONG_ILLNESS,
        ("om dai ngay", "nghi om", "om nang", "benh", "dieu tri", "nam vien"),
        unless=_BACK_AT_WORK,
    ),
)


def classify_note(
    note: str, rules: tuple[NoteRule, ...] = DEFAULT_NOTE_RULES
) -> ExemptionKind | None:
    """The first rule's kind that the note matches; ``None`` for any other note."""
    words = f" {fold(note)} "
    if words.isspace():
        return None
    for rule in rules:
        if any(f" {w} " in words for w in rule.words) and not any(
            f" {w} " in words for w in rule.unless
        ):
            return rule.kind
    return None
