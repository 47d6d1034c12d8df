"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel, select

from store.db import alembic_config, head_revisions, make_engine, migrate, session_scope
from store.models import Person, RosterImport


def test_migrated_schema_has_every_model_table(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrate_twice_is_harmless_and_keeps_data(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(RosterImport(started_at=datetime(2023, 8, 1, tzinfo=UTC), files=["a.xlsx"]))
        session.add(
            Person(
                identity_code="7043896584",
                full_name="Phạm Thị Quyên",
                lastname="Phạm Thị",
                firstname="Quyên",
                birth_date=date(1985, 9, 26),
                updated_at=datetime(2023, 8, 1, tzinfo=UTC),
            )
        )
    migrate(engine)
    with session_scope(engine) as session:
        person = session.exec(select(Person)).one()
        assert person.full_name == "Phạm Thị Quyên"
        assert person.birth_date == date(1985, 9, 26)
        assert session.exec(select(RosterImport)).one().files == ["a.xlsx"]


def test_migrations_build_exactly_the_schema_the_models_describe(engine: Engine) -> None:
    """A column added to a model without its migration (or the reverse) shows here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_a_database_at_the_newest_revision_is_not_handed_to_alembic(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command migrates first: at the head it costs one query, not Alembic's load."""
    from alembic import command
    from alembic.script import ScriptDirectory

    engine = make_engine(database_url)
    try:
        assert head_revisions() == frozenset(
            ScriptDirectory.from_config(alembic_config(engine)).get_heads()
        )
        upgrades: list[Any] = []
        upgrade = command.upgrade

        def counting(*args: Any, **kwargs: Any) -> None:
            upgrades.append(args)
            upgrade(*args, **kwargs)

        monkeypatch.setattr(command, "upgrade", counting)
        migrate(engine)  # empty database: Alembic builds the schema
        assert len(upgrades) == 1
        assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
        migrate(engine)
        assert len(upgrades) == 1
    finally:
        engine.dispose()
