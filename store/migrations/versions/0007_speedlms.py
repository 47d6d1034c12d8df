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
    with op.batch_alter_table("syncrun", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tuning", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("syncrun", schema=None) as batch_op:
        batch_op.drop_column("tuning")
