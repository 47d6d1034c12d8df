"""journal per batch: SyncBatch, each action's batch and read-back resolution, run's process

Revision ID: 0004_journal_batches
Revises: 0003_class_history
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_journal_batches"
down_revision = "0003_class_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "syncbatch",
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("call", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sync_run_id"], ["syncrun.id"]),
        sa.PrimaryKeyConstraint("sync_run_id", "seq"),
    )
    with op.batch_alter_table("syncaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "resolution",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("resolved_by_run", sa.Integer(), nullable=True))
        batch_op.create_index("ix_syncaction_status", ["status"], unique=False)
    with op.batch_alter_table("syncrun", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "host",
                sqlmodel.sql.sqltypes.AutoString(length=255),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("syncrun", schema=None) as batch_op:
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
    with op.batch_alter_table("syncaction", schema=None) as batch_op:
        batch_op.drop_index("ix_syncaction_status")
        batch_op.drop_column("resolved_by_run")
        batch_op.drop_column("resolution")
        batch_op.drop_column("batch_seq")
    op.drop_table("syncbatch")
