"""Checks across rows (pure): duplicated identity codes and e-mails shared by people.

* Rows with one key (identity code; for core staff also level and subject) and the same
  data are one person listed twice: the first row stays, each later row is excluded as
  ``DUPLICATE_MERGED`` pointing at it.
* Rows with one key and different data conflict: all of them are rejected
  (``CONFLICTING_DUPLICATE``), naming the other rows and the fields that differ.
* An e-mail used by rows of different identity codes is held back on all those rows
  (``SHARED_EMAIL``): an account is tied to one e-mail and one person.
* An identity code given to a different person (another name) in the learners' list and
  in the reporters' list is rejected on the rows of both lists (``IDENTITY_CONFLICT``),
  naming the other file and row: which person holds the code is for the school to say.
  The same person in both lists (core staff who also learns) stays legitimate.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence

from roster.model import RowSource
from roster.reasons import Reason, ReasonCode, reason
from roster.text import fold
from roster.validate import ParsedRow, PersonRecord

__all__ = [
    "duplicate_reasons",
    "identity_conflict_reasons",
    "identity_key",
    "shared_email_reasons",
]

RowReasons = dict[int, list[Reason]]


def identity_key(record: PersonRecord) -> Hashable:
    """A learner is one identity code."""
    return record.identity_code


def duplicate_reasons(
    rows: Sequence[ParsedRow], key: Callable[[PersonRecord], Hashable] = identity_key
) -> RowReasons:
    """Reasons to add, by row index, for rows sharing a key (rows without a code skipped)."""
    groups = _repeated(
        (key(row.record), index) for index, row in enumerate(rows) if row.record.identity_code
    )
    found: RowReasons = {}
    for indices in groups.values():
        first = rows[indices[0]]
        if all(rows[i].record.comparable == first.record.comparable for i in indices):
            for i in indices[1:]:
                where = _where(rows[i].raw.source, first.raw.source)
                found.setdefault(i, []).append(
                    reason(
                        ReasonCode.DUPLICATE_MERGED,
                        f"Trùng hoàn toàn với {where} (cùng mã định danh, cùng thông tin): "
                        "đã gộp vào dòng đó",
                    )
                )
            continue
        for i in indices:
            found.setdefault(i, []).append(_conflict(rows, i, indices))
    return found


def _repeated(items: Iterable[tuple[Hashable, int]]) -> dict[Hashable, list[int]]:
    """The row indices of each key given more than once, in order (keys seen once: no
    list made, most rows of a province)."""
    first: dict[Hashable, int] = {}
    repeated: dict[Hashable, list[int]] = {}
    for key, index in items:
        seen = first.setdefault(key, index)
        if seen != index:
            group = repeated.get(key)
            if group is None:
                repeated[key] = [seen, index]
            else:
                group.append(index)
    return repeated


def _conflict(rows: Sequence[ParsedRow], index: int, group: Sequence[int]) -> Reason:
    row = rows[index]
    others = [rows[i] for i in group if i != index]
    differing: list[str] = []
    for other in others:
        for label, mine, theirs in zip(
            row.record.comparable_labels,
            row.record.comparable,
            other.record.comparable,
            strict=True,
        ):
            if mine != theirs and label not in differing:
                differing.append(label)
    where = ", ".join(_where(row.raw.source, o.raw.source) for o in others)
    fields = ", ".join(differing) if differing else "thông tin"
    return reason(
        ReasonCode.CONFLICTING_DUPLICATE,
        f"Mã định danh {row.record.identity_code} trùng với {where} nhưng khác: {fields}",
    )


def shared_email_reasons(rows: Sequence[ParsedRow], skip: set[int] | None = None) -> RowReasons:
    """Reasons to add, by row index, for valid e-mails used by different identity codes.

    ``skip`` holds indices of rows already merged into another (not a second person).
    """
    skip = skip or set()
    by_email = _repeated(
        (row.record.email, index)
        for index, row in enumerate(rows)
        if row.record.email_ok and index not in skip
    )
    found: RowReasons = {}
    for indices in by_email.values():
        people = {_person(rows[i], i) for i in indices}
        if len(people) < 2:
            continue
        for i in indices:
            me = _person(rows[i], i)
            where = ", ".join(
                _where(rows[i].raw.source, rows[j].raw.source)
                for j in indices
                if _person(rows[j], j) != me
            )
            found.setdefault(i, []).append(
                reason(ReasonCode.SHARED_EMAIL, f"Email trùng với người khác ({where})")
            )
    return found


def identity_conflict_reasons(
    learners: Sequence[ParsedRow], cores: Sequence[ParsedRow]
) -> tuple[RowReasons, RowReasons]:
    """Reasons to add (learner rows, core staff rows) where one identity code names two
    different people across the lists. People are told apart by their folded name (case,
    accents and spacing differences are the same person) and, when both rows have one,
    their birth date."""
    core_codes = {core.record.identity_code for core in cores}
    learners_by_code: dict[str, list[int]] = {}
    for index, row in enumerate(learners):
        code = row.record.identity_code
        if code and code in core_codes:
            learners_by_code.setdefault(code, []).append(index)
    for_learners: RowReasons = {}
    for_cores: RowReasons = {}
    for core_index, core in enumerate(cores):
        for learner_index in learners_by_code.get(core.record.identity_code, []):
            learner = learners[learner_index]
            if _same_person(learner.record, core.record):
                continue
            for_learners.setdefault(learner_index, []).append(_identity_conflict(learner, core))
            for_cores.setdefault(core_index, []).append(_identity_conflict(core, learner))
    return for_learners, for_cores


def _same_person(one: PersonRecord, other: PersonRecord) -> bool:
    if fold(one.full_name) != fold(other.full_name):
        return False
    return one.birth_date is None or other.birth_date is None or one.birth_date == other.birth_date


def _identity_conflict(row: ParsedRow, other: ParsedRow) -> Reason:
    where = _where(row.raw.source, other.raw.source)
    return reason(
        ReasonCode.IDENTITY_CONFLICT,
        f"Mã định danh {row.record.identity_code} cũng được dùng cho người khác "
        f"({other.record.full_name or 'không rõ tên'}, {where}): cần xác định đúng người",
    )


def _person(row: ParsedRow, index: int) -> str:
    """Who a row is: its identity code, or the row itself when it has none."""
    return row.record.identity_code or f"#row{index}"


def _where(here: RowSource, there: RowSource) -> str:
    """``dòng N`` in the same file, ``file dòng N`` in another one."""
    if (here.file, here.sheet) == (there.file, there.sheet):
        return f"dòng {there.row}"
    return f"{there.file} dòng {there.row}"
