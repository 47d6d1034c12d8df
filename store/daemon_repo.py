"""The daemon's records: its single-instance lock and every job run (SQLite and PostgreSQL).

The lock is one row (``daemonlock``, name ``daemon``). Taking it is an INSERT (the
primary key lets only one in) or, when a row is there and its holder is gone
(``scheduler/lock.py``), an UPDATE guarded by the row's old holder and heartbeat: a
compare-and-set both databases do atomically, so of two newcomers only one wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from scheduler.jobs import FINISHED, JobRecordView
from scheduler.lock import Holder, LockHeld, Me, may_take_over
from store.db import session_scope
from store.models import DaemonLock, JobRun

LOCK_NAME = "daemon"
MESSAGE_LIMIT = 2000


def _holder(row: DaemonLock) -> Holder:
    return Holder(row.host, row.pid, row.since, row.heartbeat, row.clock_at)


def lock_holder(engine: Engine) -> Holder | None:
    with session_scope(engine) as session:
        row = session.get(DaemonLock, LOCK_NAME)
        return _holder(row) if row is not None else None


def acquire_lock(
    engine: Engine,
    me: Me,
    *,
    now: dt.datetime,
    lease: dt.timedelta,
    alive: Callable[[int], bool] | None = None,
) -> Holder | None:
    """Take the lock; returns the dead holder it was taken from (None: it was free).

    Raises :class:`LockHeld` naming the live holder.
    """
    extra: dict[str, Callable[[int], bool]] = {} if alive is None else {"alive": alive}
    try:
        with session_scope(engine) as session:
            session.add(
                DaemonLock(name=LOCK_NAME, host=me.host, pid=me.pid, since=now, heartbeat=now)
            )
        return None
    except IntegrityError:
        pass
    current = lock_holder(engine)
    if current is None:  # released in between: try once more from the start
        return acquire_lock(engine, me, now=now, lease=lease, alive=alive)
    if not may_take_over(current, me, now=now, lease=lease, **extra):
        raise LockHeld(current)
    with engine.begin() as connection:
        taken = connection.execute(
            update(DaemonLock)
            .where(
                col(DaemonLock.name) == LOCK_NAME,
                col(DaemonLock.host) == current.host,
                col(DaemonLock.pid) == current.pid,
                col(DaemonLock.heartbeat) == current.heartbeat,
            )
            .values(host=me.host, pid=me.pid, since=now, heartbeat=now, clock_at=None)
        ).rowcount
    if taken != 1:
        holder = lock_holder(engine)
        raise LockHeld(holder or current)
    return current


def heartbeat(engine: Engine, me: Me, *, now: dt.datetime, clock_at: dt.datetime | None) -> bool:
    """Renew the lock; False if it is no longer ours (taken over: stop at once)."""
    with engine.begin() as connection:
        renewed = connection.execute(
            update(DaemonLock)
            .where(
                col(DaemonLock.name) == LOCK_NAME,
                col(DaemonLock.host) == me.host,
                col(DaemonLock.pid) == me.pid,
            )
            .values(heartbeat=now, clock_at=clock_at)
        ).rowcount
    return bool(renewed == 1)


def release_lock(engine: Engine, me: Me) -> None:
    with engine.begin() as connection:
        connection.execute(
            delete(DaemonLock).where(
                col(DaemonLock.name) == LOCK_NAME,
                col(DaemonLock.host) == me.host,
                col(DaemonLock.pid) == me.pid,
            )
        )


# -- job runs ----------------------------------------------------------------------------


def start_job(
    engine: Engine,
    *,
    job_id: str,
    kind: str,
    run_id: str,
    scheduled_for: dt.datetime,
    attempt: int,
    outage_since: dt.datetime | None,
    now: dt.datetime,
    me: Me,
) -> int:
    with session_scope(engine) as session:
        record = JobRun(
            job_id=job_id,
            kind=kind,
            run_id=run_id,
            scheduled_for=scheduled_for,
            started_at=now,
            attempt=attempt,
            outage_since=outage_since,
            host=me.host,
            pid=me.pid,
        )
        session.add(record)
        session.flush()
        assert record.id is not None
        return record.id


def finish_job(
    engine: Engine,
    record_id: int,
    *,
    outcome: str,
    now: dt.datetime,
    counts: Mapping[str, Any] | None = None,
    message: str = "",
    retry_at: dt.datetime | None = None,
    outage_since: dt.datetime | None = None,
) -> None:
    with session_scope(engine) as session:
        record = session.get(JobRun, record_id)
        assert record is not None
        record.outcome = outcome
        record.ended_at = now
        record.counts = dict(counts or {})
        record.message = message[:MESSAGE_LIMIT]
        record.retry_at = retry_at
        if outage_since is not None:
            record.outage_since = outage_since
        session.add(record)


def settle_dead_jobs(engine: Engine, *, now: dt.datetime) -> int:
    """Records left ``running`` when the lock holder died become ``killed``.

    Called by the daemon that holds the lock, so no other job can be running.
    """
    with session_scope(engine) as session:
        rows = list(session.exec(select(JobRun).where(col(JobRun.outcome) == "running")))
        for row in rows:
            row.outcome = "killed"
            row.ended_at = now
            row.message = (row.message + " Tiến trình bị dừng đột ngột; sẽ chạy lại.").strip()
            session.add(row)
        return len(rows)


def fold_skipped(engine: Engine, record_id: int) -> int:
    """A run that found nothing to do right after another such run of the same job is
    folded into that one (its ``checks`` count grows, its times move on): an empty inbox
    is looked at 288 times a day and needs one row, not 288. Returns the record kept."""
    with session_scope(engine) as session:
        record = session.get(JobRun, record_id)
        assert record is not None
        previous = session.exec(
            select(JobRun)
            .where(col(JobRun.job_id) == record.job_id, col(JobRun.id) < record_id)
            .order_by(col(JobRun.id).desc())
            .limit(1)
        ).first()
        if previous is None or previous.outcome != "skipped" or record.outcome != "skipped":
            return record_id
        checks = int(previous.counts.get("checks", 1)) + 1
        first = previous.counts.get("first_check", previous.started_at.isoformat())
        previous.counts = {**record.counts, "checks": checks, "first_check": first}
        previous.scheduled_for = record.scheduled_for
        previous.started_at = record.started_at
        previous.ended_at = record.ended_at
        session.add(previous)
        session.delete(record)
        assert previous.id is not None
        return previous.id


def record_views(engine: Engine) -> list[JobRecordView]:
    """What the planning needs, whatever the history's length: the last record of each
    job, and the latest slot each job finished (as a record that sorts before it)."""
    with session_scope(engine) as session:
        last_ids = select(func.max(JobRun.id)).group_by(col(JobRun.job_id))
        latest = session.exec(select(JobRun).where(col(JobRun.id).in_(last_ids))).all()
        finished = session.exec(
            select(JobRun.job_id, func.max(JobRun.scheduled_for))
            .where(col(JobRun.outcome).in_(FINISHED))
            .group_by(col(JobRun.job_id))
        ).all()
    views = [
        JobRecordView(
            r.id or 0, r.job_id, r.scheduled_for, r.outcome, r.attempt, r.retry_at, r.outage_since
        )
        for r in latest
    ]
    views += [
        JobRecordView(-1, job_id, slot, "ok") for job_id, slot in finished if slot is not None
    ]
    return views


def retry_records(engine: Engine, limit: int = 500) -> list[JobRun]:
    """The latest ``retrying`` records (the LMS outages the jobs waited out), oldest first."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(JobRun)
            .where(col(JobRun.outcome) == "retrying")
            .order_by(col(JobRun.id).desc())
            .limit(limit)
        ).all()
    return list(reversed(rows))


def latest_jobs(engine: Engine) -> dict[str, JobRun]:
    """The last record of each job id."""
    with session_scope(engine) as session:
        last_ids = select(func.max(JobRun.id)).group_by(col(JobRun.job_id))
        rows = session.exec(select(JobRun).where(col(JobRun.id).in_(last_ids))).all()
    return {row.job_id: row for row in rows}


def job_history(engine: Engine, job_id: str | None = None) -> list[JobRun]:
    with session_scope(engine) as session:
        query = select(JobRun).order_by(col(JobRun.id))
        if job_id is not None:
            query = query.where(col(JobRun.job_id) == job_id)
        return list(session.exec(query).all())
