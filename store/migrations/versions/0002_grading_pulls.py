"""grading pulls and the completion results of each

Revision ID: 0002_grading
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_grading"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gradingpull",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("gradingpull", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gradingpull_run_id"), ["run_id"], unique=False)
    op.create_table(
        "learnerresult",
        sa.Column("pull_id", sa.Integer(), nullable=False),
        sa.Column("identity_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "course_idnumber", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("class_code", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("seat", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("reasons", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("explanation", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("final_grade", sa.Float(), nullable=True),
        sa.Column("final_grade_max", sa.Float(), nullable=True),
        sa.Column("grader_id", sa.Integer(), nullable=True),
        sa.Column("auto_pass", sa.Boolean(), nullable=False),
        sa.Column("assessor_pass", sa.Boolean(), nullable=False),
        sa.Column("survey_answered", sa.Boolean(), nullable=False),
        sa.Column("survey_positive", sa.Boolean(), nullable=True),
        sa.Column("activities", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["pull_id"], ["gradingpull.id"]),
        sa.PrimaryKeyConstraint("pull_id", "identity_code", "course_idnumber"),
    )
    with op.batch_alter_table("learnerresult", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_learnerresult_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("learnerresult", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learnerresult_run_id"))
    op.drop_table("learnerresult")
    with op.batch_alter_table("gradingpull", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gradingpull_run_id"))
    op.drop_table("gradingpull")
