"""Shared fixtures: the state database on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from store.db import make_engine, migrate
from tests.postgres import PostgresCluster


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.new_database()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated state database, on each backend."""
    engine = make_engine(database_url)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Keep the sandbox's contract gap visible in every run that replayed the recordings."""
    contract = sys.modules.get("tests.integration.test_sandbox_contract")
    if contract is None:
        return
    from tests.contract import recorded

    terminalreporter.section("sandbox LMS vs. recorded Moodle")
    for function in contract.NOT_IMPLEMENTED:
        cases = sum(1 for n in contract.ALL_CASES if recorded(n)["function"] == function)
        terminalreporter.write_line(f"not implemented: {function} ({cases} recorded cases)")
    terminalreporter.write_line(
        f"replayed {len(contract.REPLAYED)} of {len(contract.ALL_CASES)} recorded cases, "
        f"{len(contract.KNOWN_DIFFERENCES)} of them known to differ (KNOWN_DIFFERENCES)"
    )
