"""The write-back journal and the closing record of a run (see ``grading.writeback`` and
``grading.closing``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, insert, update
from sqlmodel import col, select

from store.db import session_scope
from store.models import CompletionWrite, RunClosing

WriteKey = tuple[str, str]  # (identity code, course idnumber)


def journal_of(engine: Engine, run_id: str) -> list[CompletionWrite]:
    """Every write-back row of a run, detached from the session."""
    with session_scope(engine) as session:
        rows = list(
            session.exec(
                select(CompletionWrite)
                .where(CompletionWrite.run_id == run_id)
                .order_by(col(CompletionWrite.course_idnumber), col(CompletionWrite.identity_code))
            )
        )
        session.expunge_all()
        return rows


def plan_writes(engine: Engine, rows: Sequence[Mapping[str, Any]]) -> None:
    """Journal new writes (status pending) before any of them is sent."""
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(CompletionWrite), [dict(r) for r in rows])


def set_status(
    engine: Engine,
    run_id: str,
    settled: Iterable[tuple[WriteKey, str, str, str | None]],
    now: dt.datetime,
) -> None:
    """Record outcomes: (key, status, error, resolution or None to keep it), in one
    transaction."""
    with engine.begin() as connection:
        for (identity_code, course_idnumber), status, error, resolution in settled:
            values: dict[str, Any] = {"status": status, "error": error[:2000], "updated_at": now}
            if resolution is not None:
                values["resolution"] = resolution
            connection.execute(
                update(CompletionWrite)
                .where(
                    col(CompletionWrite.run_id) == run_id,
                    col(CompletionWrite.identity_code) == identity_code,
                    col(CompletionWrite.course_idnumber) == course_idnumber,
                )
                .values(**values)
            )


def closing_of(engine: Engine, run_id: str) -> RunClosing | None:
    with session_scope(engine) as session:
        closing = session.get(RunClosing, run_id)
        if closing is not None:
            session.expunge(closing)
        return closing


def closed_runs(engine: Engine) -> set[str]:
    """The runs whose closing is done."""
    with session_scope(engine) as session:
        statement = select(RunClosing.run_id).where(col(RunClosing.status) == "done")
        return set(session.exec(statement))


def save_closing(engine: Engine, closing: RunClosing) -> None:
    """Insert or update the closing record of a run."""
    with session_scope(engine) as session:
        session.merge(closing)
