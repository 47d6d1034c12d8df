"""closing a run: the write-back journal (CompletionWrite) and the closing record (RunClosing)

Revision ID: 0005_closing
Revises: 0004_journal_batches
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_closing"
down_revision = "0004_journal_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "completionwrite",
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("identity_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "course_idnumber", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("pull_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("lms_user_id", sa.Integer(), nullable=False),
        sa.Column("cmid", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("planned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "identity_code", "course_idnumber"),
    )
    with op.batch_alter_table("completionwrite", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_completionwrite_status"), ["status"], unique=False
        )
    op.create_table(
        "runclosing",
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("pull_id", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )


def downgrade() -> None:
    op.drop_table("runclosing")
    with op.batch_alter_table("completionwrite", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_completionwrite_status"))
    op.drop_table("completionwrite")
