"""Grading reminders: what the selection needs from the state database, and the records of
every reminder claimed and sent (the "never twice" of :mod:`grading.reminders`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from grading.deadlines import EXEMPT, SeatStatus, parse_reasons
from grading.reminders import Assessor, ClassWork, SlotKey
from store.db import session_scope
from store.extensions_repo import extension_days
from store.grading_repo import latest_pull
from store.models import (
    ClassStaff,
    GradingReminder,
    LearnerResult,
    LmsAccount,
    Person,
    TrainingClass,
)

ASSESSOR_ROLES = ("reporter", "assistant")
FAILED = "failed"
SENDING = "sending"


@dataclass(frozen=True)
class RunClasses:
    """A run's classes (id -> name) and their extensions: enough to know if anything is due."""

    names: dict[str, str]
    extensions: dict[str, int]


def load_run_classes(engine: Engine, run_id: str) -> RunClasses:
    with Session(engine) as session:
        classes = list(session.exec(select(TrainingClass).where(TrainingClass.run_id == run_id)))
        return RunClasses({c.id: c.name for c in classes}, extension_days(session, classes))


@dataclass(frozen=True)
class PullWork:
    pull_id: int | None
    pulled_at: dt.datetime | None
    work: list[ClassWork]


def load_class_work(engine: Engine, run_id: str, class_ids: Sequence[str]) -> PullWork:
    """The classes' waiting submissions at the latest finished pull, and their assessors."""
    with Session(engine) as session:
        pull = latest_pull(session, run_id)
        if pull is None or not class_ids:
            return PullWork(None if pull is None else pull.id, None, [])
        waiting = dict.fromkeys(class_ids, 0)
        rows = session.execute(
            sa_select(
                col(LearnerResult.class_code),
                col(LearnerResult.identity_code),
                col(LearnerResult.reasons),
                col(LearnerResult.final_grade),
                col(LearnerResult.outcome),
            ).where(
                col(LearnerResult.pull_id) == pull.id,
                col(LearnerResult.class_code).in_(class_ids),
            )
        )
        for class_code, code, reasons, grade, outcome in rows:
            seat = SeatStatus(code, parse_reasons(reasons), grade, exempt=outcome == EXEMPT)
            if seat.submitted and not seat.graded:
                waiting[class_code] += 1
        assessors = _assessors(session, [c for c, n in waiting.items() if n > 0])
        names = {
            c.id: c.name
            for c in session.exec(
                select(TrainingClass).where(col(TrainingClass.id).in_(list(class_ids)))
            )
        }
        work = [
            ClassWork(class_id, names.get(class_id, ""), count, tuple(assessors.get(class_id, ())))
            for class_id, count in sorted(waiting.items())
            if count > 0
        ]
        return PullWork(pull.id, pull.finished_at or pull.started_at, work)


def _assessors(session: Session, class_ids: Sequence[str]) -> dict[str, list[Assessor]]:
    if not class_ids:
        return {}
    staff = list(
        session.exec(
            select(ClassStaff).where(
                col(ClassStaff.class_id).in_(list(class_ids)),
                col(ClassStaff.role).in_(ASSESSOR_ROLES),
            )
        )
    )
    codes = sorted({s.identity_code for s in staff})
    people = {
        p.identity_code: p
        for p in session.exec(select(Person).where(col(Person.identity_code).in_(codes)))
    }
    accounts = {
        a.identity_code: a
        for a in session.exec(select(LmsAccount).where(col(LmsAccount.identity_code).in_(codes)))
    }
    result: dict[str, list[Assessor]] = {}
    for member in staff:
        person = people.get(member.identity_code)
        account = accounts.get(member.identity_code)
        result.setdefault(member.class_id, []).append(
            Assessor(
                identity_code=member.identity_code,
                full_name=person.full_name if person else "",
                role=member.role,
                active=person is not None and person.status == "active",
                lms_user_id=account.lms_user_id if account else None,
                suspended=bool(account and account.suspended),
            )
        )
    return result


def sent_keys(engine: Engine, run_id: str) -> set[SlotKey]:
    """Every reminder of the run that must not be sent again (all but the failed ones)."""
    with Session(engine) as session:
        rows = session.exec(
            select(GradingReminder).where(
                GradingReminder.run_id == run_id, GradingReminder.status != FAILED
            )
        )
        return {_key(row) for row in rows}


def _key(row: GradingReminder) -> SlotKey:
    return SlotKey(row.run_id, row.class_id, row.identity_code, row.offset_days, row.due_epoch)


@dataclass(frozen=True)
class Claim:
    """A reminder slot to be sent: its record's id and what the message says of the class."""

    key: SlotKey
    lms_user_id: int
    waiting: int


def claim(
    engine: Engine, claims: Iterable[Claim], *, pull_id: int | None, now: dt.datetime
) -> dict[SlotKey, int]:
    """Record the slots as ``sending`` before the message goes out; returns slot -> record
    id for those this caller holds. A slot another process holds (or sent meanwhile) is
    left out; a failed one is taken over."""
    held: dict[SlotKey, int] = {}
    for item in claims:
        key = item.key
        try:
            with session_scope(engine) as session:
                row = session.exec(
                    select(GradingReminder).where(
                        GradingReminder.run_id == key.run_id,
                        GradingReminder.class_id == key.class_code,
                        GradingReminder.identity_code == key.identity_code,
                        GradingReminder.offset_days == key.offset_days,
                        GradingReminder.due_epoch == key.due_epoch,
                    )
                ).first()
                if row is None:
                    row = GradingReminder(
                        run_id=key.run_id,
                        class_id=key.class_code,
                        identity_code=key.identity_code,
                        offset_days=key.offset_days,
                        due_epoch=key.due_epoch,
                        status=SENDING,
                        lms_user_id=item.lms_user_id,
                        waiting=item.waiting,
                        pull_id=pull_id,
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                    session.flush()
                else:
                    taken = session.execute(
                        update(GradingReminder)
                        .where(
                            col(GradingReminder.id) == row.id,
                            col(GradingReminder.status) == FAILED,
                        )
                        .values(
                            status=SENDING, waiting=item.waiting, pull_id=pull_id, updated_at=now
                        )
                    )
                    if taken.rowcount != 1:  # type: ignore[attr-defined]
                        continue
                assert row.id is not None
                held[key] = row.id
        except IntegrityError:
            continue  # another process claimed it first
    return held


def settle(
    engine: Engine,
    record_ids: Iterable[int],
    *,
    status: str,
    now: dt.datetime,
    text: str = "",
    msgid: int | None = None,
    error: str = "",
) -> None:
    """Store what became of claimed reminders."""
    ids = list(record_ids)
    if not ids:
        return
    with session_scope(engine) as session:
        session.execute(
            update(GradingReminder)
            .where(col(GradingReminder.id).in_(ids))
            .values(
                status=status, text=text[:4000], msgid=msgid, error=error[:2000], updated_at=now
            )
        )


def reminders_of(engine: Engine, run_id: str) -> list[GradingReminder]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(GradingReminder)
                .where(GradingReminder.run_id == run_id)
                .order_by(col(GradingReminder.id))
            )
        )
