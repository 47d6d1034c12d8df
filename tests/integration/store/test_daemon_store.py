"""The daemon's lock and job records, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from scheduler.jobs import job_states
from scheduler.lock import LockHeld, Me
from store.daemon_repo import (
    acquire_lock,
    finish_job,
    fold_skipped,
    heartbeat,
    job_history,
    lock_holder,
    record_views,
    release_lock,
    settle_dead_jobs,
    start_job,
)

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
FIRST, SECOND = Me("srv1", 101), Me("srv1", 202)


def test_a_second_daemon_is_refused_and_told_who_holds_the_lock(engine: Engine) -> None:
    assert acquire_lock(engine, FIRST, now=NOW, lease=LEASE, alive=lambda _: True) is None
    with pytest.raises(LockHeld) as refused:
        acquire_lock(
            engine, SECOND, now=NOW + timedelta(seconds=5), lease=LEASE, alive=lambda _: True
        )
    assert refused.value.holder.pid == 101
    assert "host srv1, pid 101, since 2026-11-30 08:00:00 UTC" in str(refused.value)
    holder = lock_holder(engine)
    assert holder is not None
    assert (holder.host, holder.pid, holder.since) == ("srv1", 101, NOW)


def test_the_lock_of_a_dead_daemon_is_taken_over_and_the_dead_one_cannot_renew_it(
    engine: Engine,
) -> None:
    acquire_lock(engine, FIRST, now=NOW, lease=LEASE)
    later = NOW + timedelta(seconds=30)
    taken = acquire_lock(engine, SECOND, now=later, lease=LEASE, alive=lambda pid: pid != 101)
    assert taken is not None
    assert taken.pid == 101
    holder = lock_holder(engine)
    assert holder is not None
    assert (holder.pid, holder.since) == (202, later)
    assert not heartbeat(engine, FIRST, now=later, clock_at=None)
    assert heartbeat(engine, SECOND, now=later + timedelta(seconds=30), clock_at=NOW)
    holder = lock_holder(engine)
    assert holder is not None
    assert holder.heartbeat == later + timedelta(seconds=30)
    assert holder.clock_at == NOW


def test_a_silent_holder_is_taken_over_after_the_lease(engine: Engine) -> None:
    acquire_lock(engine, Me("other-host", 7), now=NOW, lease=LEASE)
    with pytest.raises(LockHeld):
        acquire_lock(engine, SECOND, now=NOW + LEASE, lease=LEASE)
    assert acquire_lock(engine, SECOND, now=NOW + LEASE + timedelta(seconds=1), lease=LEASE)


def test_of_two_daemons_taking_over_a_dead_ones_lock_only_one_wins(engine: Engine) -> None:
    acquire_lock(engine, Me("srv1", 1), now=NOW, lease=LEASE)
    results: dict[int, str] = {}
    barrier = threading.Barrier(4)

    def take(pid: int) -> None:
        barrier.wait()
        try:
            acquire_lock(engine, Me("srv1", pid), now=NOW, lease=LEASE, alive=lambda p: p != 1)
            results[pid] = "won"
        except LockHeld:
            results[pid] = "refused"

    threads = [threading.Thread(target=take, args=(pid,)) for pid in (11, 12, 13, 14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == ["refused", "refused", "refused", "won"]
    holder = lock_holder(engine)
    assert holder is not None
    assert results[holder.pid] == "won"


def test_release_frees_the_lock_only_for_its_holder(engine: Engine) -> None:
    acquire_lock(engine, FIRST, now=NOW, lease=LEASE)
    release_lock(engine, SECOND)
    assert lock_holder(engine) is not None
    release_lock(engine, FIRST)
    assert lock_holder(engine) is None
    assert acquire_lock(engine, SECOND, now=NOW, lease=LEASE) is None


def test_job_records_round_trip_and_feed_the_planning(engine: Engine) -> None:
    slot = datetime(2023, 8, 27, 17, tzinfo=UTC)
    first = start_job(
        engine,
        job_id="sync:M4-2023",
        kind="sync",
        run_id="M4-2023",
        scheduled_for=slot,
        attempt=1,
        outage_since=None,
        now=slot,
        me=FIRST,
    )
    finish_job(
        engine,
        first,
        outcome="retrying",
        now=slot + timedelta(seconds=20),
        message="LMS không trả lời",
        retry_at=slot + timedelta(seconds=50),
        outage_since=slot,
    )
    second = start_job(
        engine,
        job_id="sync:M4-2023",
        kind="sync",
        run_id="M4-2023",
        scheduled_for=slot,
        attempt=2,
        outage_since=slot,
        now=slot + timedelta(seconds=50),
        me=FIRST,
    )
    state = job_states(record_views(engine))["sync:M4-2023"]
    assert state.retry_at is None
    assert state.done_through is None
    assert settle_dead_jobs(engine, now=slot + timedelta(minutes=2)) == 1
    records = {r.id: r for r in job_history(engine, "sync:M4-2023")}
    assert records[second].outcome == "killed"
    assert records[first].retry_at == slot + timedelta(seconds=50)
    assert records[first].outage_since == slot
    third = start_job(
        engine,
        job_id="sync:M4-2023",
        kind="sync",
        run_id="M4-2023",
        scheduled_for=slot,
        attempt=1,
        outage_since=None,
        now=slot + timedelta(minutes=3),
        me=SECOND,
    )
    finish_job(engine, third, outcome="ok", now=slot + timedelta(minutes=4), counts={"done": 12})
    state = job_states(record_views(engine))["sync:M4-2023"]
    assert state.done_through == slot


def test_empty_checks_in_a_row_fold_into_one_record_and_planning_still_sees_the_latest(
    engine: Engine,
) -> None:
    first = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    kept = []
    for n in range(3):
        at = first + timedelta(minutes=5 * n)
        record = start_job(
            engine,
            job_id="inbox",
            kind="inbox",
            run_id="",
            scheduled_for=at,
            attempt=1,
            outage_since=None,
            now=at,
            me=FIRST,
        )
        finish_job(engine, record, outcome="skipped", now=at, counts={"files": 0})
        kept.append(fold_skipped(engine, record))
    assert len(set(kept)) == 1
    (only,) = job_history(engine, "inbox")
    assert only.counts["checks"] == 3
    assert only.scheduled_for == first + timedelta(minutes=10)
    assert job_states(record_views(engine))["inbox"].done_through == first + timedelta(minutes=10)
    # A check that found files is its own record; the next empty one starts a new fold.
    at = first + timedelta(minutes=15)
    busy = start_job(
        engine,
        job_id="inbox",
        kind="inbox",
        run_id="",
        scheduled_for=at,
        attempt=1,
        outage_since=None,
        now=at,
        me=FIRST,
    )
    finish_job(engine, busy, outcome="ok", now=at, counts={"files": 3})
    assert fold_skipped(engine, busy) == busy
    assert [r.outcome for r in job_history(engine, "inbox")] == ["skipped", "ok"]
