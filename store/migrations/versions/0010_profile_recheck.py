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
    with op.batch_alter_table("syncrun", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "profiles_read_all", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("syncrun", schema=None) as batch_op:
        batch_op.drop_column("profiles_read_all")
