"""class history: the class each learner had, and the staff each class had, kept after
they leave or the class closes

Revision ID: 0003_class_history
Revises: 0002_grading
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_class_history"
down_revision = "0002_grading"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classhistory",
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("identity_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("class_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "identity_code", "kind"),
    )
    # Everyone seated so far: their class is their home class.
    op.execute(
        "INSERT INTO classhistory (run_id, identity_code, kind, class_id) "
        "SELECT run_id, identity_code, kind, class_id FROM classmember"
    )

    op.create_table(
        "staffhistory",
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("class_id", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
        sa.Column("identity_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "class_id", "identity_code"),
    )
    op.execute(
        "INSERT INTO staffhistory (run_id, class_id, identity_code, role) "
        "SELECT c.run_id, s.class_id, s.identity_code, s.role "
        "FROM classstaff s JOIN trainingclass c ON c.id = s.class_id"
    )


def downgrade() -> None:
    op.drop_table("staffhistory")
    op.drop_table("classhistory")
