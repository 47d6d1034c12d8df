"""grading extensions (who, when, why) and the grading reminders sent

Revision ID: 0006_reminders_extensions
Revises: 0005_closing
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006_reminders_extensions"
down_revision = "0005_closing"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "gradingextension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", _text(32), nullable=False),
        sa.Column("class_id", _text(160), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("previous_until", sa.Date(), nullable=False),
        sa.Column("previous_days", sa.Integer(), nullable=False),
        sa.Column("reason", _text(1000), nullable=False),
        sa.Column("granted_by", _text(64), nullable=False),
        sa.Column("granted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("lms_updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("lms_enrolments", sa.Integer(), nullable=False),
        sa.Column("lms_error", _text(2000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_gradingextension_run_id", "gradingextension", ["run_id"])
    op.create_index("ix_gradingextension_class_id", "gradingextension", ["class_id"])
    op.create_table(
        "gradingreminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", _text(32), nullable=False),
        sa.Column("class_id", _text(160), nullable=False),
        sa.Column("identity_code", _text(32), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("due_epoch", sa.Integer(), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("lms_user_id", sa.Integer(), nullable=True),
        sa.Column("msgid", sa.Integer(), nullable=True),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("pull_id", sa.Integer(), nullable=True),
        sa.Column("text", _text(4000), nullable=False),
        sa.Column("error", _text(2000), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "run_id", "class_id", "identity_code", "offset_days", "due_epoch", name="uq_reminder"
        ),
    )
    op.create_index("ix_gradingreminder_run_id", "gradingreminder", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_gradingreminder_run_id", table_name="gradingreminder")
    op.drop_table("gradingreminder")
    op.drop_index("ix_gradingextension_class_id", table_name="gradingextension")
    op.drop_index("ix_gradingextension_run_id", table_name="gradingextension")
    op.drop_table("gradingextension")
