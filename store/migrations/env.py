"""Alembic environment: migrations run on the engine the application passes in."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata
engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # APScheduler keeps the daemon's jobs in its own table (scheduler/aps.py).
        include_name=lambda name, type_, _parent: (
            not (type_ == "table" and name == "apscheduler_jobs")
        ),
    )
    with context.begin_transaction():
        context.run_migrations()
