"""A damaged roster does not damage the stored state, on SQLite and PostgreSQL.

An import past the leavers threshold and an allocation past the class-moves threshold
store nothing; the class history keeps leavers' and closed classes' homes; the migration
gives every seated learner and assigned reporter of an existing database a home.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from alembic import command
from sqlalchemy import Engine, func, text
from sqlmodel import select

from roster.importer import import_roster
from roster.model import ImportResult
from store.classes_repo import allocate_run
from store.db import alembic_config, make_engine, session_scope
from store.models import (
    ClassHistory,
    ClassMember,
    ClassStaff,
    Person,
    RosterImport,
    RowOutcome,
    StaffHistory,
)
from store.roster_repo import desired_people, save_import
from sync.safety import NeedsAccept, Thresholds
from tests.integration.store.test_roster_store import DATA, M4, TODAY

NOW = dt.datetime(2023, 8, 20, 8, tzinfo=dt.UTC)
GATES = Thresholds()


def learners_file(folder: Path, *, keep: float) -> Path:
    """The sample learner file with only the first ``keep`` share of its rows."""
    workbook = openpyxl.load_workbook(DATA / "hoc-vien.xlsx")
    sheet = workbook.worksheets[0]
    last = 3 + int((sheet.max_row - 3) * keep)
    sheet.delete_rows(last + 1, sheet.max_row - last)
    target = folder / f"hoc-vien-{keep}.xlsx"
    workbook.save(target)
    return target


def read(learners: Path) -> ImportResult:
    return import_roster(
        learners, schools=DATA / "truong.xlsx", core_staff=DATA / "bao-cao-vien.xlsx", today=TODAY
    )


def count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()  # type: ignore[no-any-return]


def statuses(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        return {p.identity_code: p.status for p in session.exec(select(Person))}


@pytest.fixture(scope="module")
def sample() -> ImportResult:
    return read(DATA / "hoc-vien.xlsx")


def test_a_header_only_learner_file_marks_nobody_left_without_accept(
    engine: Engine, sample: ImportResult, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        save_import(session, sample, files=["full"], now=NOW, limits=GATES)
    before = statuses(engine)
    outcomes = count(engine, RowOutcome)
    empty = read(learners_file(tmp_path, keep=0))
    assert empty.learners == ()
    with pytest.raises(NeedsAccept) as stop, session_scope(engine) as session:
        save_import(session, empty, files=["empty"], now=NOW, limits=GATES)
    (violation,) = stop.value.violations
    assert violation.subject == "Lần nhập"
    active = {code for code, status in before.items() if status == "active"}
    assert violation.base == len(active)
    assert violation.count == len(active - set(desired_people(empty))) > 5000  # staff stay
    assert statuses(engine) == before
    assert count(engine, RosterImport) == 1
    assert count(engine, RowOutcome) == outcomes
    # Accepted: stored, and the learners are marked as left.
    with session_scope(engine) as session:
        _, changes = save_import(session, empty, files=["empty"], now=NOW, limits=None)
    assert len(changes.left) == violation.count
    assert count(engine, RosterImport) == 2


def test_an_allocation_moving_too_many_stores_nothing_and_homes_outlive_it(
    engine: Engine, sample: ImportResult, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        save_import(session, sample, files=["full"], now=NOW, limits=GATES)
        allocate_run(session, M4, max_class_size=50, limits=GATES)
    seats = count(engine, ClassMember)
    assert count(engine, ClassHistory) == seats > 5000
    first_homes = homes(engine)
    assert count(engine, StaffHistory) == count(engine, ClassStaff) > 0
    half = read(learners_file(tmp_path, keep=0.5))
    with session_scope(engine) as session:
        save_import(session, half, files=["half"], now=NOW, limits=None)
    with pytest.raises(NeedsAccept) as stop, session_scope(engine) as session:
        allocate_run(session, M4, max_class_size=50, limits=GATES)
    assert {v.subject for v in stop.value.violations} == {"Phân lớp đợt M4-2023"}
    assert count(engine, ClassMember) == seats
    with session_scope(engine) as session:
        result = allocate_run(session, M4, max_class_size=50, limits=None)
    assert result.class_moves > 0
    assert count(engine, ClassMember) < seats
    # Every learner of the full roster keeps their home class: the leavers, and those a
    # closed class moved, too (the half file's one newcomer gets one).
    assert homes(engine) > first_homes


def homes(engine: Engine) -> set[tuple[str, str, str]]:
    with session_scope(engine) as session:
        return {(h.identity_code, h.kind, h.class_id) for h in session.exec(select(ClassHistory))}


def test_the_migration_gives_every_seat_and_reporter_of_a_database_a_home(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO person (identity_code, full_name, lastname, firstname, gender,"
                    " email, phone, school_code, district, level, audience, position, subject,"
                    " is_learner, is_core_staff, staff_role, staff_subject, staff_level, track,"
                    " exemption, exemption_reason, concurrent_hdtnhn, status, updated_at)"
                    " VALUES (:code, 'A B', 'A', 'B', '', '', '', '', '', 'THCS', 'GV', '',"
                    " 'Toán', true, false, '', '', '', 'main', '', '', false, 'active', :now)"
                ),
                [{"code": "7000000001", "now": NOW}, {"code": "7000000002", "now": NOW}],
            )
            connection.execute(
                text(
                    "INSERT INTO trainingclass (id, run_id, level, audience, subject, ordinal,"
                    " name, kind, grading_extension_days) VALUES ('M4-2023/THCS/GV/Toán/01',"
                    " 'M4-2023', 'THCS', 'GV', 'Toán', 1, 'Lớp 01', 'main', 0)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO classmember (run_id, identity_code, kind, class_id) VALUES"
                    " ('M4-2023', '7000000001', 'main', 'M4-2023/THCS/GV/Toán/01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO classstaff (class_id, identity_code, role) VALUES"
                    " ('M4-2023/THCS/GV/Toán/01', '7000000002', 'reporter')"
                )
            )
        command.upgrade(config, "head")
        with session_scope(engine) as session:
            homes = [
                (h.run_id, h.identity_code, h.kind, h.class_id)
                for h in session.exec(select(ClassHistory))
            ]
            staff = [
                (h.run_id, h.class_id, h.identity_code, h.role)
                for h in session.exec(select(StaffHistory))
            ]
        assert homes == [("M4-2023", "7000000001", "main", "M4-2023/THCS/GV/Toán/01")]
        assert staff == [("M4-2023", "M4-2023/THCS/GV/Toán/01", "7000000002", "reporter")]
    finally:
        engine.dispose()
