"""Importing a roster: read the files (edge), then validate and decide (pure core).

``import_roster`` is the entry point for the CLI: it reads the school list, the
reporters' file and the learners' list, and returns an ``ImportResult`` in which every
row read has exactly one status. ``build_result`` is the same without files: it takes
rows and schools, so tests and other callers can feed it data directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from roster.crosscheck import (
    duplicate_reasons,
    identity_conflict_reasons,
    shared_email_reasons,
)
from roster.eligibility import CoreKey, Decision, EligibilityPolicy, decide
from roster.errors import RosterFormatError
from roster.headers import Field, RosterKind
from roster.model import (
    CoreStaff,
    Exemption,
    ImportResult,
    Learner,
    RowOutcome,
    School,
)
from roster.readers import RawRow, read_rows
from roster.reasons import Effect, Reason, ReasonCode, Status, reason, status_of
from roster.schools import SchoolIndex
from roster.subjects import SubjectCatalog
from roster.text import cell_text
from roster.validate import (
    ParsedRow,
    PersonRecord,
    RowContext,
    ValidationRules,
    validate_core_staff_row,
    validate_learner_row,
)

__all__ = ["ImportOptions", "build_result", "import_roster", "read_schools"]

_EFFECT_ORDER = {Effect.REJECT: 0, Effect.EXCLUDE: 1, Effect.NOTE: 2}


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """Everything configurable about an import (the lead wires it to the TOML config)."""

    header_overrides: Mapping[str, str] = field(default_factory=dict)
    """Header text -> field name (``roster.headers.Field`` values), for all files."""
    learners_sheet: str | None = None
    core_staff_sheet: str | None = None
    schools_sheet: str | None = None
    rules: ValidationRules = field(default_factory=ValidationRules)
    policy: EligibilityPolicy = field(default_factory=EligibilityPolicy)


# -- edges: files -------------------------------------------------------------------


def read_schools(
    path: Path | str,
    *,
    header_overrides: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> tuple[School, ...]:
    """The province's school list. Reference data must be clean: a row without code or
    name, or a code used twice, raises ``RosterFormatError`` naming the rows."""
    schools: list[School] = []
    bad_rows: list[int] = []
    seen: dict[str, int] = {}
    duplicated: list[str] = []
    file, sheet_name = Path(path).name, sheet
    for raw in read_rows(path, RosterKind.SCHOOLS, header_overrides=header_overrides, sheet=sheet):
        sheet_name = raw.source.sheet
        code = cell_text(raw.get(Field.SCHOOL_CODE))
        name = cell_text(raw.get(Field.SCHOOL_NAME))
        if not code or not name:
            bad_rows.append(raw.source.row)
            continue
        if code.upper() in seen:
            duplicated.append(f"{code} (dòng {seen[code.upper()]} và {raw.source.row})")
        seen[code.upper()] = raw.source.row
        schools.append(
            School(
                code=code,
                name=name,
                kind=cell_text(raw.get(Field.SCHOOL_KIND)),
                district=cell_text(raw.get(Field.DISTRICT)),
                cluster=cell_text(raw.get(Field.CLUSTER)),
            )
        )
    if bad_rows:
        rows = ", ".join(str(r) for r in bad_rows[:10]) + ("..." if len(bad_rows) > 10 else "")
        problem = f"thiếu mã trường hoặc tên trường ở dòng {rows}."
        raise RosterFormatError(problem, file=file, sheet=sheet_name)
    if duplicated:
        problem = f"mã trường bị trùng: {', '.join(duplicated[:10])}."
        raise RosterFormatError(problem, file=file, sheet=sheet_name)
    if not schools:
        raise RosterFormatError("danh sách trường không có dòng nào.", file=file, sheet=sheet_name)
    return tuple(schools)


def import_roster(
    learners: Path | str,
    *,
    schools: Path | str | Sequence[School],
    today: dt.date,
    core_staff: Path | str | None = None,
    options: ImportOptions | None = None,
) -> ImportResult:
    """Read and import a roster. ``today`` dates the age check of birth dates.

    Raises ``RosterFormatError`` (one clear Vietnamese message) when a file is not the
    expected list; problems of single rows are reported in the result instead.
    """
    options = options or ImportOptions()
    overrides = options.header_overrides
    if isinstance(schools, str | Path):
        school_list = read_schools(schools, header_overrides=overrides, sheet=options.schools_sheet)
    else:
        school_list = tuple(schools)
    core_rows: list[RawRow] = []
    if core_staff is not None:
        core_rows = list(
            read_rows(
                core_staff,
                RosterKind.CORE_STAFF,
                header_overrides=overrides,
                sheet=options.core_staff_sheet,
            )
        )
    learner_rows = read_rows(
        learners, RosterKind.LEARNERS, header_overrides=overrides, sheet=options.learners_sheet
    )
    return build_result(
        learner_rows,
        core_rows,
        school_list,
        today=today,
        rules=options.rules,
        policy=options.policy,
    )


# -- pure core ----------------------------------------------------------------------


def build_result(
    learner_rows: Iterable[RawRow],
    core_rows: Iterable[RawRow],
    schools: Sequence[School],
    *,
    today: dt.date,
    rules: ValidationRules | None = None,
    policy: EligibilityPolicy | None = None,
) -> ImportResult:
    """Validate every row, check across rows, decide eligibility, build the result."""
    rules = rules or ValidationRules()
    policy = policy or EligibilityPolicy()
    context = RowContext(SchoolIndex(schools), SubjectCatalog(rules.subject_aliases), rules, today)
    headers = _HeaderCheck(rules)
    learners = [
        validate_learner_row(raw, context) for raw in headers.watch(learner_rows, learners=True)
    ]
    cores = [validate_core_staff_row(raw, context) for raw in headers.watch(core_rows)]

    extra: dict[int, list[Reason]] = {}
    for index, found in duplicate_reasons(learners).items():
        extra.setdefault(index, []).extend(found)
    for index, found in duplicate_reasons(cores, key=_core_key).items():
        extra.setdefault(len(learners) + index, []).extend(found)
    merged = {i for i, rs in extra.items() if any(_is_merged(r) for r in rs)}
    for index, found in shared_email_reasons([*learners, *cores], skip=merged).items():
        extra.setdefault(index, []).extend(found)
    for_learners, for_cores = identity_conflict_reasons(learners, cores)
    for index, found in for_learners.items():
        extra.setdefault(index, []).extend(found)
    for index, found in for_cores.items():
        extra.setdefault(len(learners) + index, []).extend(found)

    conflicted = {cores[i].record.identity_code for i in for_cores}
    assignments = _core_assignments([c for c in cores if c.record.identity_code not in conflicted])
    builder = _ResultBuilder(schools, listed_core=assignments if cores else None)
    learner_count = len(learners)
    learners.reverse()  # each validated row let go once added: the result takes its place
    for index in range(learner_count):
        builder.add_learner(learners.pop(), extra.get(index, []), policy, assignments)
    for index, row in enumerate(cores):
        builder.add_core_staff(row, extra.get(learner_count + index, []))
    return replace(builder.result(), notices=tuple(headers.notices))


class _HeaderCheck:
    """Looks at each sheet's header once, as its rows go by: unknown columns become
    notices; a learners' list without the column deciding who must take modules 1-3
    first is a file error, unless the configuration says what to assume."""

    def __init__(self, rules: ValidationRules) -> None:
        self.rules = rules
        self.notices: list[str] = []
        self._seen: set[tuple[str, str | None]] = set()

    def watch(self, rows: Iterable[RawRow], *, learners: bool = False) -> Iterator[RawRow]:
        header = None  # the last row's: rows of one sheet share their header
        for raw in rows:
            if raw.header is not header:
                header = raw.header
                key = (raw.source.file, raw.source.sheet)
                if key not in self._seen:
                    self._seen.add(key)
                    self._check(raw, learners=learners)
            yield raw

    def _check(self, raw: RawRow, *, learners: bool) -> None:
        where = f"Tệp “{raw.source.file}”" + (
            f", trang tính “{raw.source.sheet}”" if raw.source.sheet else ""
        )
        if raw.header.unknown:
            names = ", ".join(f"“{c}”" for c in raw.header.unknown)
            self.notices.append(f"{where}: các cột không dùng đến (đã bỏ qua): {names}.")
        if not learners or raw.has(Field.MODULES_123_DONE):
            return
        column = Field.MODULES_123_DONE.label
        assumed = self.rules.assume_modules_123
        if assumed is None:
            raise RosterFormatError(
                f"thiếu cột “{column}”: cột này quyết định ai phải học MĐ 1, 2, 3 trước. "
                "Hãy thêm cột, hoặc ghi trong cấu hình [roster] assume_modules_123 = "
                '"done" (coi là đã hoàn thành) hay "not_done" (chưa hoàn thành).',
                file=raw.source.file,
                sheet=raw.source.sheet,
            )
        meaning = "đã hoàn thành" if assumed else "chưa hoàn thành"
        self.notices.append(
            f"{where}: không có cột “{column}”; theo cấu hình, mọi người được coi là {meaning}."
        )


def _core_key(record: PersonRecord) -> tuple[str, str, str]:
    """One core staff assignment: a person may be core in several levels or subjects."""
    return (record.identity_code, str(record.level or ""), record.subject or "")


def _core_assignments(cores: Sequence[ParsedRow]) -> frozenset[CoreKey]:
    """Assignments readable from the reporters' file, even on rows rejected for e-mail."""
    return frozenset(
        (row.record.identity_code, row.record.level, row.record.subject)
        for row in cores
        if row.record.identity_ok and row.record.level is not None and row.record.subject
    )


def _is_merged(item: Reason) -> bool:
    return item.code is ReasonCode.DUPLICATE_MERGED


def _ordered(reasons: Iterable[Reason]) -> tuple[Reason, ...]:
    """Rejections first, then exclusions, then notes; no reason twice."""
    items = tuple(reasons)
    if len(items) < 2:  # most rows: nothing to order or merge
        return items
    unique = list(dict.fromkeys(items))
    return tuple(sorted(unique, key=lambda r: _EFFECT_ORDER[r.code.effect]))


class _ResultBuilder:
    """Accumulates outcomes, learners, core staff and exemptions, row after row."""

    def __init__(self, schools: Sequence[School], listed_core: frozenset[CoreKey] | None) -> None:
        self.schools = tuple(schools)
        self.listed_core = listed_core
        self.outcomes: list[RowOutcome] = []
        self.learners: list[Learner] = []
        self.core_staff: list[CoreStaff] = []
        self.exemptions: list[Exemption] = []
        self.derived_core: set[CoreKey] = set()
        # Decisions by what decides them (see add_learner): a few hundred on a province.
        self.decisions: dict[
            tuple[object, ...], tuple[Decision, tuple[tuple[Reason, ...], Status]]
        ] = {}

    def result(self) -> ImportResult:
        return ImportResult(
            outcomes=tuple(self.outcomes),
            learners=tuple(self.learners),
            core_staff=tuple(self.core_staff),
            exemptions=tuple(self.exemptions),
            schools=self.schools,
        )

    def _outcome(self, row: ParsedRow, reasons: Iterable[Reason]) -> Status:
        ordered = _ordered(reasons)
        return self._add_outcome(row, ordered, status_of(ordered))

    def _add_outcome(self, row: ParsedRow, ordered: tuple[Reason, ...], status: Status) -> Status:
        self.outcomes.append(
            RowOutcome(
                source=row.raw.source,
                status=status,
                reasons=ordered,
                columns=row.raw.header.columns,
                values=row.raw.values,
                identity_code=row.record.identity_code or None,
            )
        )
        return status

    def add_learner(
        self,
        row: ParsedRow,
        extra: list[Reason],
        policy: EligibilityPolicy,
        assignments: frozenset[CoreKey],
    ) -> None:
        if extra and any(_is_merged(r) for r in extra):
            self._outcome(row, extra)  # the kept row carries everything else
            return
        record = row.record
        decision: Decision | None = None
        if record.level is not None and record.audience is not None and record.subject:
            decision, alone = self._decide(record, policy, assignments)
            if not extra and not row.reasons and not decision.core_staff:
                status = self._add_outcome(row, *alone)  # most rows: the decision's reasons
                self._add_decided(row, decision, status)
                return
        reasons = [*row.reasons, *extra]
        if decision is not None:
            if status_of(reasons) is Status.REJECTED:
                # Fix the data first; the exclusions still tell the school what follows.
                reasons.extend(r for r in decision.reasons if r.code.effect is Effect.EXCLUDE)
            else:
                reasons.extend(decision.reasons)
                if decision.core_staff:
                    reasons.extend(self._unlisted_core_note(record))
        status = self._outcome(row, reasons)
        if decision is not None:
            self._add_decided(row, decision, status)

    def _add_decided(self, row: ParsedRow, decision: Decision, status: Status) -> None:
        """An exemption, a core staff member, a learner: what a decided row adds."""
        if status is Status.REJECTED:
            return
        if decision.exemption is not None:
            self.exemptions.append(_exemption(row, decision))
        if decision.core_staff:
            self._add_derived_core(row)
        if status is Status.IMPORTED:
            self.learners.append(_learner(row, decision))

    def _decide(
        self, record: PersonRecord, policy: EligibilityPolicy, assignments: frozenset[CoreKey]
    ) -> tuple[Decision, tuple[tuple[Reason, ...], Status]]:
        """``decide``, made once for each combination of what it reads: the subject, the
        note, core staff or not (as ``decide`` tells), the level and the two flags; with
        the outcome of a row that has no other reason (its ordered reasons, its status)."""
        core = (
            record.core_flag or (record.identity_code, record.level, record.subject) in assignments
        )
        key = (
            record.subject,
            record.note,
            core,
            record.level,
            record.hdtnhn_concurrent,
            record.modules_123_done,
        )
        found = self.decisions.get(key)
        if found is None:
            decision = decide(record, policy, assignments)
            ordered = _ordered(decision.reasons)
            found = self.decisions[key] = (decision, (ordered, status_of(ordered)))
        return found

    def _unlisted_core_note(self, record: PersonRecord) -> list[Reason]:
        if self.listed_core is None or record.level is None:
            return []
        if (record.identity_code, record.level, record.subject or "") in self.listed_core:
            return []
        return [
            reason(
                ReasonCode.CORE_NOT_LISTED,
                "Đánh dấu cốt cán nhưng chưa có trong danh sách báo cáo viên, trợ giảng",
            )
        ]

    def _add_derived_core(self, row: ParsedRow) -> None:
        """Core staff known only from the ``Cốt cán`` column: listed without a role."""
        record = row.record
        if record.level is None or not record.subject:
            return
        key: CoreKey = (record.identity_code, record.level, record.subject)
        if (self.listed_core is not None and key in self.listed_core) or key in self.derived_core:
            return
        self.derived_core.add(key)
        self.core_staff.append(
            CoreStaff(
                identity_code=record.identity_code,
                full_name=record.full_name,
                lastname=record.lastname,
                firstname=record.firstname,
                email=record.email if record.email_ok else None,
                phone=record.phone,
                school_code=record.school.code if record.school else None,
                cluster=record.school.cluster if record.school else None,
                level=record.level,
                subject=record.subject,
                role=None,
                source=row.raw.source,
            )
        )

    def add_core_staff(self, row: ParsedRow, extra: list[Reason]) -> None:
        reasons = [*row.reasons, *extra] if not any(_is_merged(r) for r in extra) else extra
        status = self._outcome(row, reasons)
        if status is not Status.IMPORTED:
            return
        record = row.record
        assert record.level is not None
        assert record.subject is not None
        self.core_staff.append(
            CoreStaff(
                identity_code=record.identity_code,
                full_name=record.full_name,
                lastname=record.lastname,
                firstname=record.firstname,
                email=record.email,
                phone=record.phone,
                school_code=record.school.code if record.school else None,
                cluster=record.school.cluster if record.school else None,
                level=record.level,
                subject=record.subject,
                role=record.core_role,
                source=row.raw.source,
            )
        )


def _learner(row: ParsedRow, decision: Decision) -> Learner:
    """The learner of an imported row (its checks guarantee every required value)."""
    record = row.record
    assert record.school is not None
    assert record.level is not None
    assert record.audience is not None
    assert record.subject is not None
    assert decision.track is not None
    reduction = (
        decision.exemption if decision.exemption and not decision.exemption.is_exempt else None
    )
    return Learner(
        identity_code=record.identity_code,
        full_name=record.full_name,
        lastname=record.lastname,
        firstname=record.firstname,
        birth_date=record.birth_date,
        gender=record.gender,
        email=record.email,
        phone=record.phone,
        school_code=record.school.code,
        school_name=record.school.name,
        district=record.school.district,
        cluster=record.school.cluster,
        level=record.level,
        audience=record.audience,
        position=record.position,
        subject=record.subject,
        track=decision.track,
        core_staff=decision.core_staff,
        modules_123_done=record.modules_123_done,
        hdtnhn_concurrent=record.hdtnhn_concurrent,
        reduction=reduction,
        note=record.note,
        reference_subjects=decision.reference_subjects,
        source=row.raw.source,
    )


def _exemption(row: ParsedRow, decision: Decision) -> Exemption:
    record = row.record
    assert decision.exemption is not None
    return Exemption(
        identity_code=record.identity_code,
        full_name=record.full_name,
        school_code=record.school.code if record.school else None,
        level=record.level,
        audience=record.audience,
        subject=record.subject,
        kind=decision.exemption,
        note=record.note,
        source=row.raw.source,
    )
