"""Plain rows for the grading deadlines (grading/deadlines.py): classes, reporters, roster
counts and the latest finished pull's per-seat status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from grading.deadlines import EXEMPT, Reporter, SeatStatus, parse_reasons
from store.extensions_repo import extension_days
from store.grading_repo import latest_pull
from store.models import ClassMember, ClassStaff, LearnerResult, Person, TrainingClass

REPORTER = "reporter"


@dataclass(frozen=True)
class DeadlineRows:
    run_id: str
    classes: dict[str, str]  # class id -> name
    extensions: dict[str, int]  # class id -> extra grading days
    reporters: dict[str, list[Reporter]]
    roster: dict[str, int]  # class id -> learners on the roster
    pull_id: int | None
    seats: dict[str, list[SeatStatus]] | None  # None: no finished pull yet


def load_deadline_rows(engine: Engine, run_id: str) -> DeadlineRows:
    with Session(engine) as session:
        classes = list(session.exec(select(TrainingClass).where(TrainingClass.run_id == run_id)))
        ids = [c.id for c in classes]
        reporters: dict[str, list[Reporter]] = {}
        staff = session.exec(
            select(ClassStaff.class_id, Person.identity_code, Person.full_name, Person.email)
            .join(Person, col(Person.identity_code) == col(ClassStaff.identity_code))
            .where(col(ClassStaff.class_id).in_(ids), ClassStaff.role == REPORTER)
        )
        for class_id, code, name, email in staff:
            reporters.setdefault(class_id, []).append(Reporter(code, name, email))
        roster: dict[str, int] = {
            class_id: count
            for class_id, count in session.exec(
                select(ClassMember.class_id, func.count())
                .where(ClassMember.run_id == run_id)
                .group_by(col(ClassMember.class_id))
            )
        }
        pull = latest_pull(session, run_id)
        seats: dict[str, list[SeatStatus]] | None = None
        if pull is not None:
            seats = {}
            # five columns: more than sqlmodel's typed select() takes
            results = session.execute(
                sa_select(
                    col(LearnerResult.class_code),
                    col(LearnerResult.identity_code),
                    col(LearnerResult.reasons),
                    col(LearnerResult.final_grade),
                    col(LearnerResult.outcome),
                ).where(col(LearnerResult.pull_id) == pull.id)
            )
            for class_code, code, reasons, grade, outcome in results:
                seats.setdefault(class_code, []).append(
                    SeatStatus(code, parse_reasons(reasons), grade, exempt=outcome == EXEMPT)
                )
        return DeadlineRows(
            run_id=run_id,
            classes={c.id: c.name for c in classes},
            extensions=extension_days(session, classes),
            reporters=reporters,
            roster=roster,
            pull_id=None if pull is None else pull.id,
            seats=seats,
        )
