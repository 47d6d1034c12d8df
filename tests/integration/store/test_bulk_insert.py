"""store.bulk.insert_rows stores exactly what SQLAlchemy's own insert stores, on both backends.

On SQLite it bypasses SQLAlchemy's per-row parameter processing (the driver's
executemany); the values must still go through each column type's processing (JSON,
dates with a time zone, booleans), so a row reads back, as stored text too, the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, String, cast, insert, select
from sqlmodel import SQLModel

from store.bulk import insert_rows
from store.db import session_scope
from store.models import Person, RosterImport

WHEN = dt.datetime(2023, 8, 20, 8, 30, 15, 123456, tzinfo=dt.UTC)


def _people(prefix: str) -> list[dict[str, Any]]:
    """Whole person rows (the bulk insert fills no column default)."""
    return [
        Person(
            identity_code=f"{prefix}{n:04d}",
            full_name="Nguyễn Văn A",
            lastname="Nguyễn Văn",
            firstname="A",
            birth_date=dt.date(1980, 1, 2),
            concurrent_hdtnhn=n % 3 == 0,
            updated_at=WHEN,
            left_at=None if n % 2 else WHEN,
        ).model_dump()
        for n in range(7)
    ]


PERSON_COLUMNS = tuple(_people("X")[0])


def _tuples(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row[name] for name in PERSON_COLUMNS) for row in rows]


def _outcomes(import_id: int) -> list[tuple[Any, ...]]:
    return [
        (
            import_id,
            "hoc-vien.xlsx",
            "",
            n,
            f"{n:010d}",
            "rejected",
            [{"code": "missing_email", "message": "Thiếu email"}],
            0,
            ["Trần Thị Ngọc", "1980-01-02T00:00:00", 3.5, None],
        )
        for n in range(5)
    ]


OUTCOME_COLUMNS = (
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


def _outcome(**given: Any) -> tuple[Any, ...]:
    """A row outcome's values in ``OUTCOME_COLUMNS`` order, the unnamed ones empty."""
    empty = {"source_file": "a.xlsx", "sheet": "", "identity_code": "", "status": "imported"}
    row = {"reasons": [], "header": 0, "cells": [], **empty, **given}
    return tuple(row[name] for name in OUTCOME_COLUMNS)


def test_rows_read_back_as_sqlalchemy_would_have_stored_them(engine: Engine) -> None:
    person = SQLModel.metadata.tables["person"]
    outcome = SQLModel.metadata.tables["rowoutcome"]
    with session_scope(engine) as session:
        imports = [RosterImport(started_at=WHEN), RosterImport(started_at=WHEN)]
        session.add_all(imports)
        session.flush()
        bulk_id, core_id = (i.id for i in imports)
        assert bulk_id is not None
        assert core_id is not None
        assert insert_rows(session, person, PERSON_COLUMNS, iter(_tuples(_people("B")))) == 7
        session.execute(insert(person), _people("C"))
        assert insert_rows(session, outcome, OUTCOME_COLUMNS, _outcomes(bulk_id)) == 5
        session.execute(
            insert(outcome),
            [dict(zip(OUTCOME_COLUMNS, r, strict=True)) for r in _outcomes(core_id)],
        )

    with session_scope(engine) as session:
        people = session.execute(select(person).order_by(person.c.identity_code)).all()
        as_text = session.execute(
            select(person.c.identity_code, cast(person.c.updated_at, String))
        ).all()
        outcomes = session.execute(select(outcome).order_by(outcome.c.id)).all()
    bulk = [row._asdict() for row in people if row.identity_code.startswith("B")]
    core = [row._asdict() for row in people if row.identity_code.startswith("C")]
    assert len(bulk) == len(core) == 7
    for mine, theirs in zip(bulk, core, strict=True):
        assert {**mine, "identity_code": ""} == {**theirs, "identity_code": ""}
    assert bulk[0]["birth_date"] == dt.date(1980, 1, 2)
    assert bulk[0]["is_learner"] is True
    assert bulk[1]["left_at"] is None
    stored_text = {code: text for code, text in as_text}
    assert len(set(stored_text.values())) == 1  # the same stored form, whichever way in
    by_import: dict[int, list[dict[str, Any]]] = {}
    for row in outcomes:
        values = row._asdict()
        by_import.setdefault(values.pop("import_id"), []).append(
            {k: v for k, v in values.items() if k != "id"}
        )
    assert by_import[bulk_id] == by_import[core_id]
    assert by_import[bulk_id][0]["cells"] == ["Trần Thị Ngọc", "1980-01-02T00:00:00", 3.5, None]
    assert by_import[bulk_id][0]["reasons"][0]["message"] == "Thiếu email"


def test_a_generator_is_inserted_in_several_chunks(engine: Engine, monkeypatch: Any) -> None:
    import store.bulk

    monkeypatch.setattr(store.bulk, "CHUNK", 3)
    person = SQLModel.metadata.tables["person"]
    rows = _tuples(_people("G"))
    with session_scope(engine) as session:
        assert insert_rows(session, person, PERSON_COLUMNS, (row for row in rows)) == 7
    with session_scope(engine) as session:
        stored = session.execute(select(person.c.identity_code)).scalars().all()
    assert sorted(stored) == [row[0] for row in rows]


def test_equal_values_in_a_column_keep_each_its_own_stored_form(engine: Engine) -> None:
    """A value repeated row after row is encoded once, but 1, True and 1.0 stay apart."""
    outcome = SQLModel.metadata.tables["rowoutcome"]
    shared = [{"code": "missing_email", "message": "Thiếu email"}]
    values: list[Any] = [1, True, 1.0, shared, shared, list(shared), False, 0, shared]
    with session_scope(engine) as session:
        imports = [RosterImport(started_at=WHEN), RosterImport(started_at=WHEN)]
        session.add_all(imports)
        session.flush()
        bulk_id, core_id = (i.id for i in imports)
        rows = [
            _outcome(import_id=bulk_id, row_number=n, reasons=value)
            for n, value in enumerate(values)
        ]
        assert insert_rows(session, outcome, OUTCOME_COLUMNS, rows) == len(values)
        session.execute(
            insert(outcome),
            [dict(zip(OUTCOME_COLUMNS, (core_id, *row[1:]), strict=True)) for row in rows],
        )
    with session_scope(engine) as session:
        stored = session.execute(
            select(outcome.c.import_id, cast(outcome.c.reasons, String)).order_by(outcome.c.id)
        ).all()
    bulk = [text for import_id, text in stored if import_id == bulk_id]
    core = [text for import_id, text in stored if import_id == core_id]
    assert bulk == core  # 1.0 after True (equal to it) is not stored as "true"
    assert [text.replace(" ", "") for text in bulk[:2]] == ["1", "true"]
