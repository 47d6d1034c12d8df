"""Storing imports and allocations, on SQLite and PostgreSQL.

Re-importing the same files changes nothing; importing ``later/`` changes exactly what
``later/changes.txt`` lists; re-allocating moves only the people whose data changed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from config.settings import RunSettings
from roster.importer import import_roster
from roster.model import ImportResult
from store.classes_repo import allocate_run
from store.db import session_scope
from store.models import ClassMember, Person, RowHeader, RowOutcome
from store.roster_repo import original_cells, save_import
from tests.contract import CONTRACT_DIR

DATA = CONTRACT_DIR.parent / "data" / "binhphuoc-2023"
TODAY = dt.date(2023, 8, 20)
M4 = RunSettings(
    id="M4-2023",
    module=4,
    start=dt.date(2023, 9, 4),
    concurrent_subjects=["Hoạt động trải nghiệm, hướng nghiệp"],
)


def _import(folder: Path) -> ImportResult:
    return import_roster(
        folder / "hoc-vien.xlsx",
        schools=folder / "truong.xlsx",
        core_staff=folder / "bao-cao-vien.xlsx",
        today=TODAY,
    )


@pytest.fixture(scope="module")
def sample() -> ImportResult:
    return _import(DATA)


@pytest.fixture(scope="module")
def later() -> ImportResult:
    return _import(DATA / "later")


def listed_changes() -> dict[str, set[str]]:
    by_kind: dict[str, set[str]] = {}
    for line in (DATA / "later" / "changes.txt").read_text("utf-8").splitlines():
        kind, _, rest = line.partition(": ")
        kind = re.sub(r"\s*\(.*\)", "", kind).strip()
        by_kind.setdefault(kind, set()).add(rest.split()[0])
    return by_kind


def save(engine: Engine, result: ImportResult, when: dt.datetime):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return save_import(session, result, files=["x.xlsx"], now=when)[1]


NOW = dt.datetime(2023, 8, 20, 8, tzinfo=dt.UTC)


def test_every_row_is_stored_with_its_outcome(engine: Engine, sample: ImportResult) -> None:
    changes = save(engine, sample, NOW)
    with session_scope(engine) as session:
        outcomes = list(session.exec(select(RowOutcome)))
        people = list(session.exec(select(Person)))
    assert len(outcomes) == sample.rows_read
    assert {o.status for o in outcomes} == {"imported", "rejected", "excluded"}
    assert all(o.reasons for o in outcomes if o.status != "imported")
    assert len(changes.new) == len(people) > 5000
    assert all(p.full_name == p.full_name.strip() for p in people)


def _as_stored(value: object) -> object:
    """A cell as JSON keeps it: dates and times as ISO text."""
    return value.isoformat() if isinstance(value, dt.date | dt.time) else value


def test_every_rows_original_cells_read_back_as_read(engine: Engine, sample: ImportResult) -> None:
    with session_scope(engine) as session:
        record, _ = save_import(session, sample, files=["x.xlsx"], now=NOW)
    assert record.id is not None
    with session_scope(engine) as session:
        cells = original_cells(session, record.id)
        order = session.exec(
            select(RowOutcome.id).where(RowOutcome.import_id == record.id).order_by(RowOutcome.id)
        ).all()
        headers = session.exec(select(RowHeader)).all()
    expected = [
        {column: _as_stored(value) for column, value in zip(o.columns, o.values, strict=False)}
        for o in sample.outcomes
    ]
    assert [cells[key] for key in order] == expected
    assert [list(cells[key]) for key in order] == [list(row) for row in expected]  # key order
    assert any(isinstance(v, dt.datetime) for o in sample.outcomes for v in o.values)
    # each sheet's header texts stored once, not once per row
    assert sorted(tuple(h.column_names) for h in headers) == sorted(
        {o.columns for o in sample.outcomes}
    )


def test_reimporting_the_same_files_changes_nothing(engine: Engine, sample: ImportResult) -> None:
    save(engine, sample, NOW)
    with session_scope(engine) as session:
        stamps = {p.identity_code: p.updated_at for p in session.exec(select(Person))}
    again = save(engine, sample, NOW + dt.timedelta(days=1))
    assert not again.any
    assert again.unchanged == len(stamps)
    with session_scope(engine) as session:
        assert {p.identity_code: p.updated_at for p in session.exec(select(Person))} == stamps


def test_later_roster_changes_exactly_what_changes_txt_lists(
    engine: Engine, sample: ImportResult, later: ImportResult
) -> None:
    save(engine, sample, NOW)
    with session_scope(engine) as session:
        allocate_run(session, M4, max_class_size=50)
        seats_before = {
            (s.identity_code, s.kind): s.class_id for s in session.exec(select(ClassMember))
        }
    changes = save(engine, later, NOW + dt.timedelta(days=7))
    listed = listed_changes()
    assert set(changes.new) == listed["new hire"]
    assert set(changes.left) == listed["left the list"]
    assert changes.returned == []
    changed_fields = {
        "e-mail changed": {"email"},
        "moved school": {"school_code"},
        "name corrected": {"full_name"},
        "subject changed": {"subject"},
    }
    expected_changed = set().union(*(listed[kind] for kind in changed_fields))
    assert set(changes.changed) == expected_changed
    for kind, fields in changed_fields.items():
        for code in listed[kind]:
            assert fields <= set(changes.changed[code]), (kind, code, changes.changed[code])

    with session_scope(engine) as session:
        result = allocate_run(session, M4, max_class_size=50)
        seats_after = {
            (s.identity_code, s.kind): s.class_id for s in session.exec(select(ClassMember))
        }
    moved = {
        code
        for (code, kind), cid in seats_after.items()
        if seats_before.get((code, kind), cid) != cid
    }
    gone = {code for (code, _) in set(seats_before) - set(seats_after)}
    # Only people whose subject changed change class; leavers free their seats; nobody else moves.
    assert moved <= listed["subject changed"]
    assert gone <= listed["left the list"] | listed["subject changed"]
    assert {m.person_id for m in result.moves} <= listed["subject changed"] | listed[
        "left the list"
    ]
