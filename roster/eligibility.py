"""Who is enrolled in what (pure, configurable; defaults follow the 2023 plan).

Rules, in this order, for a row whose data is valid:

1. Teachers of a subject with its own plan (``Tiếng Anh``) are excluded.
2. A person exempt (miễn) per ``Ghi chú`` (retiring, long study leave, provincial core
   staff) is excluded with the note as reason.
3. Core staff (``Cốt cán`` marked, or listed in the reporters' file for this level and
   subject) are not enrolled in their subject; one who is also an HĐTNHN concurrent
   learner takes only that reference subject (if the policy allows), others are excluded.
4. Without modules 1, 2, 3 done: routed to the modules 1–3 track (or excluded).
5. Reduced (giảm: maternity, long illness): enrolled and flagged (or excluded).
6. HĐTNHN concurrent learners (``Kiêm nhiệm HĐTNHN (MĐ 4)``) on the main track get
   HĐTNHN as a reference subject for module 4.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from roster.model import ExemptionKind, Level, Track
from roster.notes import DEFAULT_NOTE_RULES, NoteRule, classify_note
from roster.reasons import Effect, Reason, ReasonCode, reason
from roster.subjects import ENGLISH, HDTNHN
from roster.validate import PersonRecord

__all__ = [
    "CoreKey",
    "Decision",
    "EligibilityPolicy",
    "PrerequisitePolicy",
    "ReducedPolicy",
    "decide",
]

CoreKey = tuple[str, Level, str]
"""(identity code, level, subject) of a core staff assignment."""


class PrerequisitePolicy(StrEnum):
    """What to do with learners who have not completed modules 1, 2, 3."""

    ROUTE = "route"  # enrol them in modules 1-3 instead
    EXCLUDE = "exclude"  # leave them out of this import


class ReducedPolicy(StrEnum):
    """What to do with learners on a reduced programme (giảm)."""

    ENROL = "enrol"  # enrol them, flagged with the reason
    EXCLUDE = "exclude"


@dataclass(frozen=True, slots=True)
class EligibilityPolicy:
    separate_plan_subjects: frozenset[str] = frozenset({ENGLISH})
    prerequisite: PrerequisitePolicy = PrerequisitePolicy.ROUTE
    reduced: ReducedPolicy = ReducedPolicy.ENROL
    concurrent_subject: str = HDTNHN
    """The reference subject of ``Kiêm nhiệm HĐTNHN (MĐ 4)`` learners."""
    core_staff_take_reference: bool = True
    """Core staff who are concurrent learners take the reference subject only."""
    note_rules: tuple[NoteRule, ...] = DEFAULT_NOTE_RULES


@dataclass(frozen=True, slots=True)
class Decision:
    """The eligibility of one person: exclusions and notes, and, if enrolled, how."""

    reasons: tuple[Reason, ...]
    track: Track | None  # None when excluded
    reference_subjects: tuple[str, ...]
    exemption: ExemptionKind | None  # miễn or giảm read from Ghi chú
    core_staff: bool

    @property
    def excluded(self) -> bool:
        return self.track is None


def decide(
    record: PersonRecord,
    policy: EligibilityPolicy,
    core_assignments: Collection[CoreKey] = frozenset(),
) -> Decision:
    """Apply the rules above to a record whose level, audience and subject are known."""
    subject = record.subject or ""
    exemption = classify_note(record.note, policy.note_rules)
    core = record.core_flag or (
        record.level is not None
        and (record.identity_code, record.level, subject) in core_assignments
    )
    reasons: list[Reason] = []
    if subject in policy.separate_plan_subjects:
        reasons.append(
            reason(
                ReasonCode.SEPARATE_PLAN,
                f"Giáo viên {subject}: bồi dưỡng theo kế hoạch riêng, không thuộc kế hoạch này",
            )
        )
    if exemption is not None and exemption.is_exempt:
        reasons.append(reason(ReasonCode.EXEMPT, f"Miễn bồi dưỡng: {record.note}"))
    if core:
        return _core_decision(record, policy, reasons, exemption)
    if reasons:
        return Decision(tuple(reasons), None, (), exemption, core_staff=False)
    return _learner_decision(record, policy, exemption)


def _core_decision(
    record: PersonRecord,
    policy: EligibilityPolicy,
    reasons: list[Reason],
    exemption: ExemptionKind | None,
) -> Decision:
    reference = policy.concurrent_subject
    wants_reference = record.hdtnhn_concurrent and record.subject != reference
    if not reasons and wants_reference and policy.core_staff_take_reference:
        note = reason(
            ReasonCode.CORE_REFERENCE_ONLY,
            f"Cốt cán môn {record.subject}: không học đại trà môn này, "
            f"chỉ học môn tham khảo {reference}",
        )
        return Decision((note,), Track.REFERENCE_ONLY, (reference,), exemption, core_staff=True)
    reasons.append(
        reason(
            ReasonCode.CORE_STAFF,
            f"Cốt cán môn {record.subject} ({record.level}): không học đại trà, "
            "làm báo cáo viên/trợ giảng",
        )
    )
    return Decision(tuple(reasons), None, (), exemption, core_staff=True)


def _learner_decision(
    record: PersonRecord, policy: EligibilityPolicy, exemption: ExemptionKind | None
) -> Decision:
    reasons: list[Reason] = []
    track = Track.MAIN
    if not record.modules_123_done:
        if policy.prerequisite is PrerequisitePolicy.EXCLUDE:
            reasons.append(
                reason(ReasonCode.PREREQUISITE_MISSING, "Chưa hoàn thành mô đun 1, 2, 3")
            )
        else:
            track = Track.PREREQUISITE
            reasons.append(
                reason(
                    ReasonCode.ROUTED_TO_PREREQUISITE,
                    "Chưa hoàn thành MĐ 1, 2, 3: ghi danh học MĐ 1, 2, 3 trước",
                )
            )
    if exemption is not None:  # not exempt here, so a reduction
        if policy.reduced is ReducedPolicy.EXCLUDE:
            reasons.append(reason(ReasonCode.REDUCED, f"Giảm bồi dưỡng: {record.note}"))
        else:
            reasons.append(
                reason(ReasonCode.REDUCED_ENROLLED, f"Giảm bồi dưỡng, vẫn ghi danh: {record.note}")
            )
    if any(r.code.effect is Effect.EXCLUDE for r in reasons):
        return Decision(tuple(reasons), None, (), exemption, core_staff=False)
    references: tuple[str, ...] = ()
    reference = policy.concurrent_subject
    if record.hdtnhn_concurrent and record.subject != reference:
        if track is Track.MAIN:
            references = (reference,)
            reasons.append(
                reason(
                    ReasonCode.REFERENCE_SUBJECT_ADDED,
                    f"Kiêm nhiệm: thêm môn tham khảo {reference} (MĐ 4)",
                )
            )
        else:
            reasons.append(
                reason(
                    ReasonCode.REFERENCE_SUBJECT_DROPPED,
                    f"Kiêm nhiệm {reference} chưa xếp: cần hoàn thành MĐ 1, 2, 3 trước",
                )
            )
    return Decision(tuple(reasons), track, references, exemption, core_staff=False)
