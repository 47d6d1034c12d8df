"""Saving a roster import: schools, people, and what became of every input row.

People are keyed by identity code. Saving the same roster twice changes nothing (no
row is rewritten, no timestamp moves); saving a later roster records exactly who is
new, whose data changed (which fields) and who left. A person whose row was *rejected*
this time is neither changed nor marked as left: a typo in a school's file must not
take anyone out of training.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, SQLModel, col, select

from roster.model import CoreRole, CoreStaff, Exemption, ImportResult, Learner
from roster.reasons import Status
from store.bulk import insert_rows
from store.models import Person, RosterImport, School
from sync.safety import NeedsAccept, Thresholds, check_import

# The fields of Person that come from the roster and are compared between imports.
COMPARED_FIELDS = (
    "full_name",
    "lastname",
    "firstname",
    "birth_date",
    "gender",
    "email",
    "phone",
    "school_code",
    "district",
    "level",
    "audience",
    "position",
    "subject",
    "is_learner",
    "is_core_staff",
    "staff_role",
    "staff_subject",
    "staff_level",
    "track",
    "exemption",
    "exemption_reason",
    "concurrent_hdtnhn",
    "status",
)


_STAFF_ROLES = {CoreRole.REPORTER: "reporter", CoreRole.ASSISTANT: "assistant"}


@dataclass
class ImportChanges:
    """What one import changed in the stored roster."""

    new: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # identity -> fields
    left: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.new or self.changed or self.left or self.returned)

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "changed": self.changed,
            "left": self.left,
            "returned": self.returned,
            "unchanged": self.unchanged,
        }


def _split_name(full_name: str) -> tuple[str, str]:
    parts = full_name.split()
    if len(parts) < 2:
        return full_name, full_name
    return " ".join(parts[:-1]), parts[-1]


def _value(enum_or_text: object) -> str:
    # An enum member's ``_value_`` is its value (``.value`` is a slower descriptor).
    return "" if enum_or_text is None else str(getattr(enum_or_text, "_value_", enum_or_text))


def _learner_values(learner: Learner, staff: tuple[str, str, str]) -> tuple[Any, ...]:
    """A learner's fields in ``COMPARED_FIELDS`` order (``staff``: the staff fields' defaults).

    A tuple at once, not a dict: built 110,000 times for a province.
    """
    reduction = learner.reduction
    return (
        learner.full_name,
        learner.lastname,
        learner.firstname,
        learner.birth_date,
        _value(learner.gender),
        learner.email,
        learner.phone or "",
        learner.school_code,
        learner.district,
        _value(learner.level),
        _value(learner.audience),
        learner.position,
        learner.subject,
        True,  # is_learner
        learner.core_staff,
        *staff,  # staff_role, staff_subject, staff_level
        _value(learner.track),
        "reduced" if reduction else "",
        reduction.label if reduction else "",
        learner.hdtnhn_concurrent,
        "active",
    )


def _staff_fields(staff: CoreStaff) -> dict[str, Any]:
    return {
        "is_core_staff": True,
        "staff_role": "assistant"
        if staff.role and staff.role.name == "ASSISTANT"
        else ("reporter" if staff.role else ""),
        "staff_subject": staff.subject,
        "staff_level": _value(staff.level),
    }


def _staff_only_fields(staff: CoreStaff) -> dict[str, Any]:
    return {
        "full_name": staff.full_name,
        "lastname": staff.lastname,
        "firstname": staff.firstname,
        "email": staff.email or "",
        "phone": staff.phone or "",
        "school_code": staff.school_code or "",
        "level": _value(staff.level),
        "is_learner": False,
    }


def _exempt_fields(exemption: Exemption) -> dict[str, Any]:
    lastname, firstname = _split_name(exemption.full_name)
    return {
        "full_name": exemption.full_name,
        "lastname": lastname,
        "firstname": firstname,
        "school_code": exemption.school_code or "",
        "level": _value(exemption.level),
        "audience": _value(exemption.audience),
        "subject": exemption.subject or "",
        "is_learner": False,
        "exemption": "exempt" if exemption.kind.is_exempt else "reduced",
        "exemption_reason": exemption.note or exemption.kind.label,
    }


def desired_people(result: ImportResult) -> dict[str, dict[str, Any]]:
    """Every person the import vouches for, with their stored fields (pure)."""
    return {
        code: dict(zip(COMPARED_FIELDS, values, strict=True))
        for code, values in _desired_values(result).items()
    }


_compared = itemgetter(*COMPARED_FIELDS)


def _desired_values(result: ImportResult) -> dict[str, tuple[Any, ...]]:
    """``desired_people``, each person's fields as a tuple in ``COMPARED_FIELDS`` order.

    A tuple of 23 values takes a fifth of the memory of a dict of them: a province's
    110,000 people take 30 MB instead of 130 MB while the import is planned and stored.
    """
    defaults = {name: Person.model_fields[name].default for name in COMPARED_FIELDS}
    defaults["status"] = "active"
    staff_defaults = (defaults["staff_role"], defaults["staff_subject"], defaults["staff_level"])
    people: dict[str, tuple[Any, ...]] = {}
    for exemption in result.exemptions:
        people[exemption.identity_code] = _compared({**defaults, **_exempt_fields(exemption)})
    for learner in result.learners:
        people[learner.identity_code] = _learner_values(learner, staff_defaults)
    for staff in result.core_staff:
        values = people.get(staff.identity_code)
        base = (
            {**defaults, **_staff_only_fields(staff)}
            if values is None
            else dict(zip(COMPARED_FIELDS, values, strict=True))
        )
        people[staff.identity_code] = _compared({**base, **_staff_fields(staff)})
    return people


def save_schools(session: Session, result: ImportResult) -> None:
    stored = {s.code: s for s in session.exec(select(School))}
    new: list[tuple[str, ...]] = []  # bulk: a new SQLModel object costs ~0.2 ms (3,000 schools)
    for school in result.schools:
        row = stored.get(school.code)
        values = {
            "name": school.name,
            "kind": school.kind,
            "district": school.district,
            "cluster": school.cluster,
        }
        if row is None:
            new.append((school.code, *values.values()))
        elif any(getattr(row, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            session.add(row)
    insert_rows(session, _table("school"), ("code", "name", "kind", "district", "cluster"), new)


# Rows per INSERT/UPDATE statement: executemany in chunks keeps memory flat.
CHUNK = 2000


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _execute_chunks(session: Session, statement: Executable, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, rows[start : start + CHUNK])


def save_import(
    session: Session,
    result: ImportResult,
    *,
    files: list[str],
    now: dt.datetime,
    limits: Thresholds | None = None,
) -> tuple[RosterImport, ImportChanges]:
    """Store ``result`` as a new import; return the import record and what changed.

    With ``limits`` (the safety gate; ``None`` once the user passed ``--accept``), an import
    that would mark too many people as left raises :class:`NeedsAccept` before anything is
    stored. Rows go in with bulk statements (no ORM object per row): a province of 110,000
    learners stores in seconds, in flat memory.
    """
    people = plan_people(session, result, now)
    if limits is not None:
        violations = check_import(len(people.changes.left), people.active_before, limits)
        if violations:
            raise NeedsAccept(violations)
    counts = result.status_counts()
    record = RosterImport(
        started_at=now,
        files=files,
        rows_read=result.rows_read,
        imported=counts[Status.IMPORTED],
        rejected=counts[Status.REJECTED],
        excluded=counts[Status.EXCLUDED],
        counts={code.value: n for code, n in sorted(result.reason_counts().items())},
    )
    session.add(record)
    session.flush()
    assert record.id is not None
    save_schools(session, result)
    _save_outcomes(session, result, record.id)
    _write_people(session, people, record.id)
    record.changes = people.changes.as_dict()
    session.add(record)
    return record, people.changes


_OUTCOME_COLUMNS = (
    "import_id",
    "source_file",
    "sheet",
    "row_number",
    "identity_code",
    "status",
    "reasons",
    "header",
    "cells",
)


def _save_outcomes(session: Session, result: ImportResult, import_id: int) -> None:
    """Every row's outcome, its original cells as a list; each sheet's column texts once.

    The column texts used to be repeated in every row, as the keys of its cells: most of
    the bytes a province's import wrote. ``original_cells`` pairs them back.
    """
    headers: dict[tuple[str, ...], int] = {}
    no_reasons: list[dict[str, str]] = []  # one shared object: encoded once per run of it

    def rows() -> Iterator[tuple[Any, ...]]:
        columns: tuple[str, ...] | None = None
        seq = 0
        for outcome in result.outcomes:
            if outcome.columns is not columns:
                columns = outcome.columns
                seq = headers.setdefault(columns, len(headers))
            source = outcome.source
            yield (
                import_id,
                source.file,
                source.sheet or "",
                source.row,
                outcome.identity_code or "",
                outcome.status.value,
                [{"code": r.code.value, "message": r.message} for r in outcome.reasons]
                if outcome.reasons
                else no_reasons,
                seq,
                [v if type(v) in _JSON_TYPES else _jsonable(v) for v in outcome.values],
            )

    insert_rows(session, _table("rowoutcome"), _OUTCOME_COLUMNS, rows())
    insert_rows(
        session,
        _table("rowheader"),
        ("import_id", "seq", "column_names"),
        ((import_id, seq, list(names)) for names, seq in headers.items()),
    )


@dataclass
class PeoplePlan:
    """What an import would write to the people table, decided before writing anything."""

    changes: ImportChanges
    inserts: list[tuple[str, tuple[Any, ...]]]  # identity code, COMPARED_FIELDS values
    updates: list[dict[str, Any]]
    active_before: int  # people active before the import: the base of the import gate
    now: dt.datetime


_STATUS = COMPARED_FIELDS.index("status")


def plan_people(session: Session, result: ImportResult, now: dt.datetime) -> PeoplePlan:
    """Compare ``result`` with the stored people (reads only): who is new, changed, left."""
    wanted = _desired_values(result)
    held_back: set[str] = set()
    excluded: set[str] = set()
    for outcome in result.outcomes:
        code = outcome.identity_code
        if code and code not in wanted:
            if outcome.status is Status.REJECTED:
                held_back.add(code)
            elif outcome.status is Status.EXCLUDED:
                excluded.add(code)
    table = _table("person")
    columns = [table.c.identity_code, *(table.c[name] for name in COMPARED_FIELDS)]
    # Compared as tuples (the fields in COMPARED_FIELDS order): one comparison per person.
    stored: dict[str, tuple[Any, ...]] = {
        row[0]: row[1:] for row in session.execute(select(*columns))
    }
    stamp = {"updated_at": now}
    inserts: list[tuple[str, tuple[Any, ...]]] = []
    updates: list[dict[str, Any]] = []
    changes = ImportChanges()
    for code in sorted(wanted):
        values = wanted[code]
        person = stored.get(code)
        if person is None:
            inserts.append((code, values))
            changes.new.append(code)
            continue
        if values == person:
            changes.unchanged += 1
            continue
        differing = [
            name
            for name, before, after in zip(COMPARED_FIELDS, person, values, strict=True)
            if before != after
        ]
        if not differing:
            changes.unchanged += 1
            continue
        if person[_STATUS] != "active":
            changes.returned.append(code)
        changed = [name for name in differing if name != "status"]
        if changed:
            changes.changed[code] = changed
        fields = dict(zip(COMPARED_FIELDS, values, strict=True))
        updates.append({"key": code, **fields, **stamp, "left_at": None})
    for code, person in sorted(stored.items()):
        if code in wanted or code in held_back or person[_STATUS] != "active":
            continue
        status = "excluded" if code in excluded else "left"
        before = dict(zip(COMPARED_FIELDS, person, strict=True))
        updates.append({"key": code, **before, "status": status, **stamp, "left_at": now})
        changes.left.append(code)
    active = sum(1 for person in stored.values() if person[_STATUS] == "active")
    return PeoplePlan(changes, inserts, updates, active, now)


def _write_people(session: Session, people: PeoplePlan, import_id: int) -> None:
    table = _table("person")
    stamp = {"last_import_id": import_id}
    if people.inserts:
        now = people.now
        insert_rows(
            session,
            table,
            ("identity_code", *COMPARED_FIELDS, "left_at", "updated_at", "last_import_id"),
            ((code, *values, None, now, import_id) for code, values in people.inserts),
        )
    if people.updates:
        names = [*COMPARED_FIELDS, "updated_at", "last_import_id", "left_at"]
        statement = (
            update(table)
            .where(table.c.identity_code == bindparam("key"))
            .values({name: bindparam(name) for name in names})
        )
        rows = [{**row, **stamp} for row in people.updates]
        _execute_chunks(session, statement, rows)


_JSON_TYPES = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def original_cells(session: Session, import_id: int) -> dict[int, dict[str, Any]]:
    """Each stored row's original cells by column text (row outcome id -> cells), as read.

    A header text repeated in a sheet keeps its last cell, as the mapping stored before.
    """
    header = _table("rowheader")
    outcome = _table("rowoutcome")
    query = select(header.c.seq, header.c.column_names).where(header.c.import_id == import_id)
    names: dict[int, list[str]] = {seq: columns for seq, columns in session.execute(query)}
    rows = session.execute(
        select(outcome.c.id, outcome.c.header, outcome.c.cells).where(
            outcome.c.import_id == import_id
        )
    )
    return {key: dict(zip(names[seq], cells, strict=False)) for key, seq, cells in rows}


def latest_import(session: Session) -> RosterImport | None:
    return session.exec(select(RosterImport).order_by(col(RosterImport.id).desc())).first()
