"""profile recheck: whether an apply read every participant's profile fields

Revision ID: 0010_profile_recheck
Revises: 0009_savedb
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_profile_recheck"
down_revision = "0009_savedb"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place (ALTER TABLE ADD COLUMN), not Alembic's batch copy: on SQLite a copy of
    # ``syncrun`` must drop the table the journal's actions refer to, which the foreign
    # key refuses once a sync has run. A plain-text default keeps SQLite in place and
    # reads as false on both SQLite (numeric affinity) and PostgreSQL.
    op.add_column(
        "syncrun",
        sa.Column("profiles_read_all", sa.Boolean(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("syncrun", "profiles_read_all")  # in place too (SQLite 3.35+)
