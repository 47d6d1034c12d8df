"""Home classes written by a first allocation, on SQLite and PostgreSQL.

A kind of seat (main, reference) nobody has a home for yet gets its homes copied from
the seats just stored, in the database (``INSERT ... SELECT``); these tests pin what that
copy must equal: the run's seats of that kind, nothing of another run or kind.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from roster.model import ImportResult
from store.classes_repo import allocate_run
from store.db import session_scope
from store.models import ClassHistory, ClassMember
from store.roster_repo import save_import
from tests.integration.store.test_damaged_roster_store import read
from tests.integration.store.test_roster_store import DATA, M4

NOW = dt.datetime(2023, 8, 20, 8, tzinfo=dt.UTC)
M5 = M4.model_copy(update={"id": "M5-2023", "module": 5, "concurrent_subjects": []})

Rows = set[tuple[str, str, str, str]]


@pytest.fixture(scope="module")
def sample() -> ImportResult:
    return read(DATA / "hoc-vien.xlsx")


def seats_and_homes(engine: Engine) -> tuple[Rows, Rows]:
    with session_scope(engine) as session:
        seats = {
            (s.run_id, s.identity_code, s.kind, s.class_id)
            for s in session.exec(select(ClassMember))
        }
        homes = {
            (h.run_id, h.identity_code, h.kind, h.class_id)
            for h in session.exec(select(ClassHistory))
        }
    return seats, homes


def test_a_first_allocation_makes_every_seat_of_each_run_a_home(
    engine: Engine, sample: ImportResult
) -> None:
    with session_scope(engine) as session:
        save_import(session, sample, files=["full"], now=NOW)
        allocate_run(session, M4, max_class_size=50)
        allocate_run(session, M5, max_class_size=50)

    seats, homes = seats_and_homes(engine)

    assert homes == seats
    kinds = {(run, kind) for run, _, kind, _ in seats}
    assert kinds == {("M4-2023", "main"), ("M4-2023", "reference"), ("M5-2023", "main")}


def test_reference_seats_added_later_get_homes_and_main_homes_stay(
    engine: Engine, sample: ImportResult
) -> None:
    without_reference = M4.model_copy(update={"concurrent_subjects": []})
    with session_scope(engine) as session:
        save_import(session, sample, files=["full"], now=NOW)
        allocate_run(session, without_reference, max_class_size=50)
    first_seats, first_homes = seats_and_homes(engine)
    assert {kind for _, _, kind, _ in first_seats} == {"main"}

    with session_scope(engine) as session:
        result = allocate_run(session, M4, max_class_size=50)

    seats, homes = seats_and_homes(engine)
    reference = {row for row in seats if row[2] == "reference"}
    assert len(reference) == len(result.reference.class_of) > 0
    assert homes == first_homes | reference
    assert {row for row in seats if row[2] == "main"} == first_seats
