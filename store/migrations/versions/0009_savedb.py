"""savedb: a row outcome's original cells as a list, the sheet's column texts stored once

Each row outcome stored its original cells as a JSON object whose keys were the sheet's
header texts, repeated in every row (159 MB of a province's 125,805 rows went mostly to
them). Now the column texts are stored once per import and sheet (``rowheader``) and each
row keeps the list of its values (``rowoutcome.cells``, aligned with ``rowheader.column_names``
of its ``header``). Existing rows are converted: pairing them back gives the same object.

Revision ID: 0009_savedb
Revises: 0008_daemon
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009_savedb"
down_revision = "0008_daemon"
branch_labels = None
depends_on = None

_outcome = sa.table(
    "rowoutcome",
    sa.column("id", sa.Integer()),
    sa.column("import_id", sa.Integer()),
    sa.column("original", sa.JSON()),
    sa.column("header", sa.Integer()),
    sa.column("cells", sa.JSON()),
)
_header = sa.table(
    "rowheader",
    sa.column("import_id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("column_names", sa.JSON()),
)

# Rows per UPDATE: bounds the memory of one batch of parameters.
_CHUNK = 5000


def _import_ids(bind: sa.Connection) -> list[int]:
    query = sa.select(_outcome.c.import_id).distinct().order_by(_outcome.c.import_id)
    return list(bind.execute(query).scalars())


def _execute_chunks(bind: sa.Connection, statement: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        bind.execute(statement, rows[start : start + _CHUNK])


def upgrade() -> None:
    op.create_table(
        "rowheader",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("column_names", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["rosterimport.id"]),
        sa.PrimaryKeyConstraint("import_id", "seq"),
    )
    with op.batch_alter_table("rowoutcome", schema=None) as batch_op:
        batch_op.add_column(sa.Column("header", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("cells", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    bind = op.get_bind()
    to_cells = (
        sa.update(_outcome)
        .where(_outcome.c.id == sa.bindparam("key"))
        .values(header=sa.bindparam("seq"), cells=sa.bindparam("cell_values"))
    )
    for import_id in _import_ids(bind):
        headers: dict[tuple[str, ...], int] = {}
        rows: list[dict[str, Any]] = []
        query = sa.select(_outcome.c.id, _outcome.c.original).where(
            _outcome.c.import_id == import_id
        )
        for key, original in bind.execute(query):
            seq = headers.setdefault(tuple(original), len(headers))
            rows.append({"key": key, "seq": seq, "cell_values": list(original.values())})
        bind.execute(
            sa.insert(_header),
            [
                {"import_id": import_id, "seq": seq, "column_names": list(names)}
                for names, seq in headers.items()
            ],
        )
        _execute_chunks(bind, to_cells, rows)
    with op.batch_alter_table("rowoutcome", schema=None) as batch_op:
        batch_op.alter_column("header", server_default=None)
        batch_op.alter_column("cells", server_default=None)
        batch_op.drop_column("original")


def downgrade() -> None:
    with op.batch_alter_table("rowoutcome", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("original", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    bind = op.get_bind()
    to_original = (
        sa.update(_outcome)
        .where(_outcome.c.id == sa.bindparam("key"))
        .values(original=sa.bindparam("cells_by_name"))
    )
    for import_id in _import_ids(bind):
        query = sa.select(_header.c.seq, _header.c.column_names).where(
            _header.c.import_id == import_id
        )
        names = dict(bind.execute(query).all())
        query = sa.select(_outcome.c.id, _outcome.c.header, _outcome.c.cells).where(
            _outcome.c.import_id == import_id
        )
        rows = [
            {"key": key, "cells_by_name": dict(zip(names.get(seq, []), cells, strict=False))}
            for key, seq, cells in bind.execute(query)
        ]
        _execute_chunks(bind, to_original, rows)
    with op.batch_alter_table("rowoutcome", schema=None) as batch_op:
        batch_op.alter_column("original", server_default=None)
        batch_op.drop_column("cells")
        batch_op.drop_column("header")
    op.drop_table("rowheader")
