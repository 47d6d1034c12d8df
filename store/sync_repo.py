"""The sync's records: runs, the journal of actions, and the accounts it manages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, insert, update
from sqlmodel import Session, SQLModel, col, select

from store.db import session_scope
from store.models import LmsAccount, SyncAction, SyncRun
from sync.apply import ActionOutcome
from sync.kept import AppliedWrite
from sync.model import ActionKind, Plan

Clock = Callable[[], dt.datetime]


def start_run(engine: Engine, *, mode: str, user: str, digest: str, now: dt.datetime) -> int:
    """Record a new run; runs left 'running' by a killed process become 'interrupted'."""
    with session_scope(engine) as session:
        for stale in session.exec(select(SyncRun).where(col(SyncRun.status) == "running")):
            stale.status = "interrupted"
            stale.finished_at = stale.finished_at or now
            session.add(stale)
        run = SyncRun(started_at=now, user=user, mode=mode, status="running", plan_digest=digest)
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def journal_plan(engine: Engine, run_id: int, plan: Plan, now: dt.datetime) -> None:
    """Write every action of the plan as pending, before anything is sent (bulk insert)."""
    rows = [
        {
            "sync_run_id": run_id,
            "seq": seq,
            "kind": action.kind.value,
            "key": action.key,
            "reason": action.reason[:500],
            "data": {k: v for k, v in action.data.items() if k != "password"},
            "status": "pending",
            "error": "",
            "updated_at": now,
        }
        for seq, action in enumerate(plan.actions)
    ]
    table = SQLModel.metadata.tables["syncaction"]
    with session_scope(engine) as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(table), rows[start : start + 2000])


def finish_run(
    engine: Engine,
    run_id: int,
    *,
    status: str,
    counts: dict[str, int],
    errors: list[dict[str, str]],
    message: str,
    now: dt.datetime,
) -> None:
    with session_scope(engine) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.status, run.counts, run.errors = status, counts, errors[:500]
        run.message, run.finished_at = message[:2000], now
        session.add(run)


class DbJournal:
    """The applier's journal: each batch's outcomes committed as they come."""

    def __init__(self, engine: Engine, run_id: int, clock: Clock) -> None:
        self.engine = engine
        self.run_id = run_id
        self.clock = clock
        self._accounts: list[tuple[str, int, str]] = []

    def record(self, outcomes: Sequence[ActionOutcome]) -> None:
        """One transaction per batch: its outcomes and the accounts it created."""
        now = self.clock()
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for outcome in outcomes:
            group = (outcome.action.kind.value, outcome.status, outcome.error[:2000])
            grouped.setdefault(group, []).append(outcome.action.key)
        accounts, self._accounts = self._accounts, []
        with session_scope(self.engine) as session:
            for code, user_id, username in accounts:
                record_account(session, code, user_id, username, now)
            for (kind, status, error), keys in grouped.items():
                for start in range(0, len(keys), 500):
                    session.execute(
                        update(SyncAction)
                        .where(
                            col(SyncAction.sync_run_id) == self.run_id,
                            col(SyncAction.kind) == kind,
                            col(SyncAction.key).in_(keys[start : start + 500]),
                        )
                        .values(status=status, error=error, updated_at=now)
                    )

    def account_created(self, identity_code: str, user_id: int, username: str) -> None:
        # Written with the batch's outcomes, in :meth:`record`, which the applier calls
        # right after the batch.
        self._accounts.append((identity_code, user_id, username))

    def suspension_set(self, identity_code: str, suspended: bool) -> None:
        with session_scope(self.engine) as session:
            account = session.get(LmsAccount, identity_code)
            if account is not None:
                account.suspended = suspended
                session.add(account)


def record_account(
    session: Session, identity_code: str, user_id: int, username: str, now: dt.datetime
) -> None:
    account = session.get(LmsAccount, identity_code)
    if account is None:
        session.add(
            LmsAccount(
                identity_code=identity_code, lms_user_id=user_id, username=username, created_at=now
            )
        )


def unsettled_creates(session: Session) -> list[str]:
    """Identity codes whose account creation was sent but never confirmed (lost answers)."""
    statement = select(SyncAction.key).where(
        col(SyncAction.kind) == ActionKind.CREATE_USER.value,
        col(SyncAction.status).in_(["unknown", "pending"]),
    )
    return sorted(set(session.exec(statement)))


def applied_writes(session: Session, kinds: Sequence[str]) -> list[AppliedWrite]:
    """The actions of these kinds that earlier applies sent and Moodle accepted ("done").

    The one place the not-kept guard (``sync.kept``) reads the journal.
    """
    statement = select(SyncAction).where(
        col(SyncAction.kind).in_(list(kinds)), col(SyncAction.status) == "done"
    )
    return [
        AppliedWrite(row.sync_run_id, row.seq, row.kind, row.key, row.data or {})
        for row in session.exec(statement)
    ]


def suspended_by_us(session: Session) -> list[str]:
    return list(
        session.exec(select(LmsAccount.identity_code).where(col(LmsAccount.suspended).is_(True)))
    )


def history(session: Session, limit: int = 20) -> list[SyncRun]:
    return list(session.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)))
