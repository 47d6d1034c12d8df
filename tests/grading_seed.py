"""A grading pull stored straight in the state database, for tests of what reads it
(deadlines, reminders): one ``GradingPull`` and a ``LearnerResult`` per seat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session

from store.models import GradingPull, LearnerResult

COURSE = "BDTX-M4-2023-THCS-GV-TOAN"

Seat = tuple[str, str, str | None, float | None]
"""(identity code, class code, reasons, final grade); reasons "" = completed, a
comma-separated list = not completed, ``None`` = an exempt seat (stored without reasons)."""


def store_pull(
    session: Session,
    run_id: str,
    seats: Iterable[Seat],
    *,
    started: dt.datetime,
    status: str = "done",
    finished: dt.datetime | None = None,
    course: str = COURSE,
) -> int:
    """Store the pull and its seats; return the pull's id."""
    pull = GradingPull(run_id=run_id, started_at=started, finished_at=finished, status=status)
    session.add(pull)
    session.flush()
    assert pull.id is not None
    for code, class_code, reasons, grade in seats:
        outcome = "exempt" if reasons is None else ("not_completed" if reasons else "completed")
        session.add(
            LearnerResult(
                pull_id=pull.id,
                identity_code=code,
                course_idnumber=course,
                run_id=run_id,
                class_code=class_code,
                outcome=outcome,
                reasons=reasons or "",
                final_grade=grade,
            )
        )
    return pull.id
