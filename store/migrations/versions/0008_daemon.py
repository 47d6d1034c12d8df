"""daemon: job run records and the single-instance lock

Revision ID: 0008_daemon
Revises: 0007_speedlms
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008_daemon"
down_revision = "0007_speedlms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobrun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("scheduled_for", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outage_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("retry_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("jobrun", schema=None) as batch_op:
        batch_op.create_index("ix_jobrun_job_id", ["job_id"], unique=False)
        batch_op.create_index("ix_jobrun_outcome", ["outcome"], unique=False)
    op.create_table(
        "daemonlock",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("heartbeat", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("clock_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("daemonlock")
    with op.batch_alter_table("jobrun", schema=None) as batch_op:
        batch_op.drop_index("ix_jobrun_outcome")
        batch_op.drop_index("ix_jobrun_job_id")
    op.drop_table("jobrun")
