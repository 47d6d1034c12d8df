"""Migrations adding a column to ``syncrun`` on a state database that has synced already.

Found on a real state database: adding the column by copying the table (Alembic's batch
mode, on SQLite, whenever the default is a SQL expression) had to drop ``syncrun``, which
the journal's actions refer to, and the foreign key refused it. The columns are added in
place; the journal and its runs stay.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from store.db import alembic_config, make_engine

SYNCRUN = sa.table(
    "syncrun",
    sa.column("id", sa.Integer()),
    sa.column("started_at", sa.DateTime()),
    sa.column("user", sa.String()),
    sa.column("mode", sa.String()),
    sa.column("status", sa.String()),
    sa.column("plan_digest", sa.String()),
    sa.column("counts", sa.JSON()),
    sa.column("errors", sa.JSON()),
    sa.column("message", sa.String()),
    sa.column("tuning", sa.JSON()),
    sa.column("host", sa.String()),
)
SYNCACTION = sa.table(
    "syncaction",
    sa.column("sync_run_id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("key", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("data", sa.JSON()),
    sa.column("status", sa.String()),
    sa.column("error", sa.String()),
    sa.column("updated_at", sa.DateTime()),
)


@pytest.mark.parametrize("revision", ["0007_speedlms", "0010_profile_recheck"])
def test_a_journaled_sync_survives_the_upgrade(database_url: str, revision: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision(revision)
    assert isinstance(before.down_revision, str)
    command.upgrade(config, before.down_revision)
    with engine.begin() as connection:
        existing = {c["name"] for c in sa.inspect(connection).get_columns("syncrun")}
        run = {
            "id": 1,
            "started_at": dt.datetime(2023, 8, 28, tzinfo=dt.UTC),
            "user": "it",
            "mode": "apply",
            "status": "done",
            "plan_digest": "",
            "counts": {"create_user:done": 1},
            "errors": [],
            "message": "",
            "tuning": {},
            "host": "",
        }
        connection.execute(
            sa.insert(SYNCRUN).values({k: v for k, v in run.items() if k in existing})
        )
        connection.execute(
            sa.insert(SYNCACTION).values(
                sync_run_id=1,
                seq=1,
                kind="create_user",
                key="7000000001",
                reason="",
                data={},
                status="done",
                error="",
                updated_at=dt.datetime(2023, 8, 28, tzinfo=dt.UTC),
            )
        )

    command.upgrade(config, "head")
    with engine.connect() as connection:
        runs = connection.execute(
            sa.text("SELECT id, tuning, profiles_read_all FROM syncrun")
        ).all()
        actions = connection.execute(sa.text("SELECT sync_run_id, key FROM syncaction")).all()
    # The runs before read as no tuning recorded and not a full read of profile fields.
    assert [(i, json.loads(t) if isinstance(t, str) else t, bool(f)) for i, t, f in runs] == [
        (1, {}, False)
    ]
    assert actions == [(1, "7000000001")]

    command.downgrade(config, before.down_revision)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM syncaction")).scalar_one() == 1
    engine.dispose()
