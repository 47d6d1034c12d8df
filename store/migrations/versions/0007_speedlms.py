"""apply concurrency: the level an apply chose (and why), kept with the run

Revision ID: 0007_speedlms
Revises: 0006_reminders_extensions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_speedlms"
down_revision = "0006_reminders_extensions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place (ALTER TABLE ADD COLUMN): a text default, not a SQL expression, keeps Alembic
    # from copying ``syncrun`` on SQLite, which the journal's foreign keys refuse once a sync
    # has run (see tests/integration/store/test_syncrun_migrations.py).
    op.add_column("syncrun", sa.Column("tuning", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    op.drop_column("syncrun", "tuning")  # in place too (SQLite 3.35+)
