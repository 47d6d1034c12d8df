"""Migration 0009_savedb: a row outcome's original cells become a list, the header stored once.

A state database holding imports stored before (each row's cells as an object keyed by
its sheet's header texts) is converted in place: pairing each row's cells with its
stored header gives back the very object that was stored, key order included, on SQLite
and PostgreSQL; going back down restores the objects.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from store.db import alembic_config, make_engine, session_scope
from store.roster_repo import original_cells

LEARNERS = ("STT", "Mã định danh", "Họ và tên", "Ngày sinh", "Ghi chú")
STAFF = ("STT", "Họ và tên", "Vai trò")


def _row(columns: tuple[str, ...], *values: Any) -> dict[str, Any]:
    return dict(zip(columns, values, strict=True))


# import id -> the stored objects, in row order
STORED: dict[int, list[dict[str, Any]]] = {
    1: [
        _row(LEARNERS, 1, "7017859333", "Trần Quốc Minh", "1980-12-23T00:00:00", None),
        _row(LEARNERS, 2, "7017859334", "Lê Thị Hà", None, "nghỉ sinh"),
        _row(STAFF, 1, "Phạm Văn Đức", "Báo cáo viên"),
        _row(LEARNERS[:3], 3, "7017859335", "Ngô Bảo Châu"),  # a short row
        _row(LEARNERS, 4, "7017859336", "Võ Thị Sáu", "1990-01-02T00:00:00", 2.5),
    ],
    2: [
        _row(STAFF, 1, "Đặng Thu Thảo", ""),
        {},  # a row with no cells at all
    ],
}

OUTCOME = sa.table(
    "rowoutcome",
    sa.column("import_id", sa.Integer()),
    sa.column("source_file", sa.String()),
    sa.column("sheet", sa.String()),
    sa.column("row_number", sa.Integer()),
    sa.column("identity_code", sa.String()),
    sa.column("status", sa.String()),
    sa.column("reasons", sa.JSON()),
    sa.column("original", sa.JSON()),
)
IMPORT = SQLModel.metadata.tables["rosterimport"]  # unchanged by the migration


def _store_before(engine: sa.Engine) -> dict[int, list[int]]:
    """The rows of ``STORED`` as the schema before stored them; their ids per import."""
    ids: dict[int, list[int]] = {}
    with engine.begin() as connection:
        for import_id, originals in STORED.items():
            connection.execute(
                sa.insert(IMPORT).values(
                    id=import_id,
                    started_at=dt.datetime(2023, 8, import_id, tzinfo=dt.UTC),
                    files=["hoc-vien.xlsx"],
                    rows_read=len(originals),
                    imported=0,
                    rejected=0,
                    excluded=0,
                    counts={},
                    changes={},
                )
            )
            for number, original in enumerate(originals, start=2):
                key = connection.execute(
                    sa.insert(OUTCOME)
                    .values(
                        import_id=import_id,
                        source_file="hoc-vien.xlsx",
                        sheet="",
                        row_number=number,
                        identity_code="",
                        status="imported",
                        reasons=[],
                        original=original,
                    )
                    .returning(sa.literal_column("id"))
                ).scalar_one()
                ids.setdefault(import_id, []).append(key)
    return ids


def test_stored_original_cells_read_back_the_same_after_the_upgrade_and_down_again(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision("0009_savedb").down_revision
    assert isinstance(before, str)
    command.upgrade(config, before)
    ids = _store_before(engine)

    command.upgrade(config, "head")
    with session_scope(engine) as session:
        for import_id, originals in STORED.items():
            read = original_cells(session, import_id)
            assert [read[key] for key in ids[import_id]] == originals
            # key order too: the header is the sheet's column order
            assert [list(read[key]) for key in ids[import_id]] == [list(o) for o in originals]
        header = sa.table(
            "rowheader", sa.column("import_id", sa.Integer()), sa.column("column_names", sa.JSON())
        )
        stored_headers = session.execute(sa.select(header.c.import_id, header.c.column_names)).all()
    # each distinct header stored once per import, not once per row
    assert sorted((i, tuple(names)) for i, names in stored_headers) == sorted(
        [(1, LEARNERS), (1, STAFF), (1, LEARNERS[:3]), (2, STAFF), (2, ())]
    )

    command.downgrade(config, before)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(sa.literal_column("id"), OUTCOME.c.original).select_from(OUTCOME)
        ).all()
    by_id = dict(rows)
    for import_id, originals in STORED.items():
        assert [by_id[key] for key in ids[import_id]] == originals
    engine.dispose()
