"""The sync's records: runs, the journal of actions, and the accounts it manages."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, insert, update
from sqlmodel import Session, SQLModel, col, select

from connector.redact import redact
from store.db import session_scope
from store.models import LmsAccount, SyncAction, SyncBatch, SyncRun
from sync.kept import AppliedWrite
from sync.model import Action, ActionKind, Plan

if TYPE_CHECKING:
    from sync.apply import ActionOutcome, Batch

Clock = Callable[[], dt.datetime]

IN_FLIGHT = "đang gửi thì tiến trình bị dừng: không rõ LMS đã làm chưa"


@dataclass(frozen=True)
class Owner:
    """The process running a sync: a later run checks whether it is still alive."""

    host: str
    pid: int

    @classmethod
    def current(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid())


def process_alive(host: str, pid: int | None) -> bool:
    """Whether the process that started a run still runs (on this host; else: no)."""
    if pid is None or host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_run(
    engine: Engine,
    *,
    mode: str,
    user: str,
    digest: str,
    now: dt.datetime,
    owner: Owner | None = None,
) -> int:
    """Record a new run, owned by this process (or ``owner``)."""
    owner = owner or Owner.current()
    with session_scope(engine) as session:
        run = SyncRun(
            started_at=now,
            user=user,
            mode=mode,
            status="running",
            plan_digest=digest,
            host=owner.host,
            pid=owner.pid,
        )
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def settle_killed_runs(
    engine: Engine,
    *,
    now: dt.datetime,
    by_run: int | None,
    alive: Callable[[str, int | None], bool] = process_alive,
) -> list[int]:
    """Runs left 'running' by a process that died become 'killed', counted from the journal.

    Their counts and errors are what their journal holds (every batch that was answered
    before the process died), their end the last journal write, and their message says
    who noticed. Returns the runs so marked.
    """
    with session_scope(engine) as session:
        stale = [
            run
            for run in session.exec(select(SyncRun).where(col(SyncRun.status) == "running"))
            if run.id != by_run and not alive(run.host, run.pid)
        ]
        for run in stale:
            assert run.id is not None
            _in_flight_unknown(session, run.id)
            counts, errors, last = journal_summary(session, run.id)
            run.status = "killed"
            run.counts, run.errors = counts, errors
            run.finished_at = last or run.started_at
            run.message = _killed_message(counts, by_run, now)
            session.add(run)
        return [run.id for run in stale if run.id is not None]


def _in_flight_unknown(session: Session, run_id: int) -> None:
    """Batches sent but never answered when the process died: their outcome is unknown.

    Their time stays the time they were sent: the run's last sign of life.
    """
    in_flight = list(
        session.exec(
            select(SyncBatch.seq).where(
                col(SyncBatch.sync_run_id) == run_id, col(SyncBatch.status) == "sent"
            )
        )
    )
    if not in_flight:
        return
    session.execute(
        update(SyncAction)
        .where(
            col(SyncAction.sync_run_id) == run_id,
            col(SyncAction.batch_seq).in_(in_flight),
            col(SyncAction.status) == "pending",
        )
        .values(status="unknown", error=IN_FLIGHT)
    )
    for seq in in_flight:
        batch = session.get(SyncBatch, (run_id, seq))
        assert batch is not None
        batch.status, batch.unknown, batch.error = "unknown", batch.size, IN_FLIGHT
        session.add(batch)


def fail_run(engine: Engine, run_id: int, error: BaseException, *, now: dt.datetime) -> None:
    """An apply that crashed: 'failed', with what its journal holds and the error."""
    with session_scope(engine) as session:
        counts, errors, _ = journal_summary(session, run_id)
    message = f"Lỗi ngoài dự kiến, đã dừng: {type(error).__name__}: {error}"
    finish_run(
        engine, run_id, status="failed", counts=counts, errors=errors, message=message, now=now
    )


def journal_summary(
    session: Session, run_id: int
) -> tuple[dict[str, int], list[dict[str, str]], dt.datetime | None]:
    """Counts per ``kind:status``, failures and the time of the last write of a journal."""
    counts: dict[str, int] = {}
    statement = (
        select(SyncAction.kind, SyncAction.status, func.count(), func.max(SyncAction.updated_at))
        .where(col(SyncAction.sync_run_id) == run_id)
        .group_by(col(SyncAction.kind), col(SyncAction.status))
    )
    last: dt.datetime | None = None
    for kind, status, number, latest in session.exec(statement):
        counts[f"{kind}:{status}"] = int(number)
        last = latest if last is None or (latest is not None and latest > last) else last
    failures = session.exec(
        select(SyncAction)
        .where(col(SyncAction.sync_run_id) == run_id, col(SyncAction.status) == "failed")
        .order_by(col(SyncAction.seq))
        .limit(500)
    )
    errors = [
        {"action": f"{a.kind}:{a.key}", "reason": a.reason, "error": a.error} for a in failures
    ]
    return counts, errors, last


def _killed_message(counts: dict[str, int], by_run: int | None, now: dt.datetime) -> str:
    totals: Counter[str] = Counter()
    for key, number in counts.items():
        totals[key.rsplit(":", 1)[1]] += number
    noticed = f"lần chạy #{by_run}" if by_run is not None else "lệnh chạy sau"
    return (
        "Tiến trình bị dừng đột ngột khi đang chạy (bị tắt, mất điện hoặc máy khởi động lại); "
        f"{noticed} phát hiện lúc {now:%d/%m/%Y %H:%M} UTC. Theo nhật ký từng lô: "
        f"{totals['done']} xong, {totals['failed']} lỗi, {totals['unknown']} chưa rõ kết quả, "
        f"{totals['pending']} chưa chạy. Lần chạy sau đọc lại LMS và chỉ làm phần còn lại."
    )


def resolve_unknown(
    engine: Engine, still_planned: set[tuple[str, str]], *, by_run: int | None
) -> dict[str, int]:
    """Settle earlier runs' ``unknown`` actions with what a fresh read-back of the LMS found.

    ``still_planned`` holds the (kind, key) of every action the new plan, made from that
    read-back, still has to do: an unknown action among them did not land (``not_done``);
    any other did, or is no longer needed (``done``). Returns how many of each.
    """
    found: dict[str, list[int]] = {"done": [], "not_done": []}
    with session_scope(engine) as session:
        rows = session.exec(
            select(SyncAction.id, SyncAction.kind, SyncAction.key).where(
                col(SyncAction.status) == "unknown", col(SyncAction.resolution) == ""
            )
        )
        for action_id, kind, key in rows:
            assert action_id is not None
            found["not_done" if (kind, key) in still_planned else "done"].append(action_id)
        for resolution, ids in found.items():
            for start in range(0, len(ids), 500):
                session.execute(
                    update(SyncAction)
                    .where(col(SyncAction.id).in_(ids[start : start + 500]))
                    .values(resolution=resolution, resolved_by_run=by_run)
                )
    return {resolution: len(ids) for resolution, ids in found.items()}


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
    tuning: dict[str, Any] | None = None,
    profiles_read_all: bool = False,
) -> None:
    with session_scope(engine) as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.status, run.counts = status, counts
        run.profiles_read_all = profiles_read_all
        if tuning is not None:
            run.tuning = tuning
        run.errors = [{k: redact(v) for k, v in error.items()} for error in errors[:500]]
        run.message, run.finished_at = redact(message)[:2000], now
        session.add(run)


class DbJournal:
    """The applier's journal: each batch's outcomes committed as they come."""

    def __init__(self, engine: Engine, run_id: int, clock: Clock) -> None:
        self.engine = engine
        self.run_id = run_id
        self.clock = clock
        self._accounts: list[tuple[str, int, str]] = []

    def sending(self, batch: Batch, actions: Sequence[Action]) -> None:
        """The batch goes out: record it as sent, and which actions it carries."""
        now = self.clock()
        keys = [action.key for action in actions]
        with session_scope(self.engine) as session:
            session.add(
                SyncBatch(
                    sync_run_id=self.run_id,
                    seq=batch.seq,
                    kind=batch.kind.value,
                    call=batch.call,
                    size=batch.size,
                    status="sent",
                    recorded_at=now,
                )
            )
            for start in range(0, len(keys), 500):
                session.execute(
                    update(SyncAction)
                    .where(
                        col(SyncAction.sync_run_id) == self.run_id,
                        col(SyncAction.kind) == batch.kind.value,
                        col(SyncAction.key).in_(keys[start : start + 500]),
                    )
                    .values(batch_seq=batch.seq, updated_at=now)
                )

    def record(self, outcomes: Sequence[ActionOutcome], batch: Batch | None = None) -> None:
        """One transaction per batch: the batch, its outcomes and the accounts it created.

        Outcomes sharing kind, status and error go in one bulk UPDATE (500 keys a time).
        """
        now = self.clock()
        grouped: dict[tuple[str, str, str], list[str]] = {}
        tally: Counter[str] = Counter()
        for outcome in outcomes:
            group = (outcome.action.kind.value, outcome.status, redact(outcome.error)[:2000])
            grouped.setdefault(group, []).append(outcome.action.key)
            tally[outcome.status] += 1
        accounts, self._accounts = self._accounts, []
        with session_scope(self.engine) as session:
            if batch is not None:
                _settle_batch(session, self.run_id, batch, tally, outcomes, now)
            record_accounts(session, accounts, now)
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


def _settle_batch(
    session: Session,
    run_id: int,
    batch: Batch,
    tally: Counter[str],
    outcomes: Sequence[ActionOutcome],
    now: dt.datetime,
) -> None:
    """The batch's own record: its counts, and one status for the whole request."""
    row = session.get(SyncBatch, (run_id, batch.seq))
    if row is None:  # recorded without having been announced as sent
        row = SyncBatch(
            sync_run_id=run_id,
            seq=batch.seq,
            kind=batch.kind.value,
            call=batch.call,
            size=batch.size,
            status="sent",
            recorded_at=now,
        )
    for status in ("unknown", "pending", "done", "failed"):
        if tally[status]:
            row.status = status
            break
    row.done, row.failed = tally["done"], tally["failed"]
    row.unknown, row.pending = tally["unknown"], tally["pending"]
    errors = [o.error for o in outcomes if o.status != "done" and o.error]
    row.error = (errors[0] if errors else "")[:2000]
    row.recorded_at = now
    session.add(row)


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


def record_accounts(
    session: Session, accounts: Sequence[tuple[str, int, str]], now: dt.datetime
) -> None:
    """:func:`record_account` for many (identity code, user id, username): bulk statements."""
    codes = [code for code, _, _ in accounts]
    known: set[str] = set()
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        known.update(
            session.exec(
                select(LmsAccount.identity_code).where(col(LmsAccount.identity_code).in_(chunk))
            )
        )
    rows = [
        {
            "identity_code": code,
            "lms_user_id": user_id,
            "username": username,
            "created_at": now,
            "suspended": False,
        }
        for code, (user_id, username) in {c: (i, u) for c, i, u in accounts}.items()
        if code not in known
    ]
    if rows:
        session.execute(insert(SQLModel.metadata.tables["lmsaccount"]), rows)


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


def last_full_profile_read(session: Session, since: dt.datetime) -> dt.datetime | None:
    """When the latest apply that read every participant's profile fields (and got to
    its end) started, if one did since ``since``."""
    statement = (
        select(SyncRun.started_at)
        .where(
            col(SyncRun.mode) == "apply",
            col(SyncRun.status).in_(("done", "done_with_errors")),
            col(SyncRun.profiles_read_all),
            col(SyncRun.started_at) >= since,
        )
        .order_by(col(SyncRun.started_at).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def history(session: Session, limit: int = 20) -> list[SyncRun]:
    return list(session.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)))


def run_record(session: Session, run: SyncRun, *, with_batches: bool) -> dict[str, Any]:
    """A run as ``sync history`` shows it: its journal's totals, unknown outcomes and
    what the read-back found for them, and (``with_batches``) every batch sent."""
    assert run.id is not None
    totals = {"done": 0, "failed": 0, "unknown": 0, "pending": 0}
    resolved = {"done": 0, "not_done": 0}
    statement = (
        select(SyncAction.status, SyncAction.resolution, func.count())
        .where(col(SyncAction.sync_run_id) == run.id)
        .group_by(col(SyncAction.status), col(SyncAction.resolution))
    )
    for status, resolution, number in session.exec(statement):
        totals[status] = totals.get(status, 0) + int(number)
        if status == "unknown" and resolution in resolved:
            resolved[resolution] += int(number)
    not_sent = session.exec(
        select(func.count()).where(
            col(SyncAction.sync_run_id) == run.id, col(SyncAction.batch_seq).is_(None)
        )
    ).one()
    batches = session.exec(
        select(SyncBatch).where(col(SyncBatch.sync_run_id) == run.id).order_by(col(SyncBatch.seq))
    ).all()
    record: dict[str, Any] = {
        **run.model_dump(exclude={"host", "pid"}),
        "totals": totals,
        "unknown_resolved": resolved,
        "batch_count": len(batches),
        "not_sent": int(not_sent),  # unresolvable, or left when the run stopped
    }
    if with_batches:
        record["batches"] = [b.model_dump(exclude={"sync_run_id"}) for b in batches]
    return record
