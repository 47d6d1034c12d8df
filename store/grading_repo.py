"""Grading pulls and the completion results they led to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from sqlalchemy import Engine, insert
from sqlmodel import Session, col, select

from grading.evidence import LearnerEvidence
from grading.rule import LearnerResult as Decision
from store.db import session_scope
from store.models import GradingPull, LearnerResult


def start_pull(engine: Engine, run_id: str, now: dt.datetime) -> int:
    with session_scope(engine) as session:
        pull = GradingPull(run_id=run_id, started_at=now)
        session.add(pull)
        session.flush()
        assert pull.id is not None
        return pull.id


def finish_pull(
    engine: Engine,
    pull_id: int,
    *,
    status: str,
    now: dt.datetime,
    counts: Mapping[str, int],
    calls: Mapping[str, int],
    problems: Iterable[str],
) -> None:
    with session_scope(engine) as session:
        pull = session.get(GradingPull, pull_id)
        assert pull is not None
        pull.status = status
        pull.finished_at = now
        pull.counts = dict(counts)
        pull.calls = dict(calls)
        pull.problems = list(problems)
        session.add(pull)


def save_results(
    engine: Engine,
    pull_id: int,
    run_id: str,
    decided: Iterable[tuple[LearnerEvidence, Decision, bool | None]],
) -> int:
    """Store one row per seat: its evidence, the decision, whether the survey was positive."""
    rows = [
        {
            "pull_id": pull_id,
            "identity_code": decision.identity_code,
            "course_idnumber": evidence.course_idnumber,
            "run_id": run_id,
            "class_code": decision.class_code,
            "seat": evidence.seat.value,
            "outcome": decision.outcome.value,
            "reasons": ",".join(r.value for r in decision.reasons),
            "explanation": decision.explain(),
            "final_grade": decision.final_grade,
            "final_grade_max": decision.final_grade_max,
            "grader_id": decision.grader_id,
            "auto_pass": decision.auto_pass,
            "assessor_pass": decision.assessor_pass,
            "survey_answered": evidence.survey_answered,
            "survey_positive": positive,
            "activities": {
                idnumber: {"complete": a.complete, "grade": a.grade, "pass": a.pass_grade}
                for idnumber, a in evidence.activities.items()
            },
        }
        for evidence, decision, positive in decided
    ]
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(LearnerResult), rows)
    return len(rows)


def latest_pull(session: Session, run_id: str) -> GradingPull | None:
    """The newest finished pull of a run."""
    return session.exec(
        select(GradingPull)
        .where(GradingPull.run_id == run_id, GradingPull.status == "done")
        .order_by(col(GradingPull.id).desc())
    ).first()


def results_of(session: Session, pull_id: int) -> list[LearnerResult]:
    return list(
        session.exec(
            select(LearnerResult)
            .where(LearnerResult.pull_id == pull_id)
            .order_by(col(LearnerResult.class_code), col(LearnerResult.identity_code))
        )
    )
