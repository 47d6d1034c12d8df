"""The sync journal on SQLite and PostgreSQL: per batch, killed runs, read-back resolution."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import col, select

from store.db import session_scope
from store.models import LmsAccount, SyncAction, SyncBatch, SyncRun
from store.sync_repo import (
    DbJournal,
    Owner,
    fail_run,
    journal_plan,
    record_account,
    resolve_unknown,
    settle_killed_runs,
    start_run,
)
from sync.apply import DONE, FAILED, ActionOutcome, Batch
from sync.model import Action, ActionKind, Plan

T0 = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)
ACTIONS = tuple(
    Action(ActionKind.CREATE_USER, f"70000000{n:02d}", "mới trong danh sách") for n in range(10)
)
GONE = Owner("gone-host", 4242)


def clock() -> dt.datetime:
    return T0 + dt.timedelta(minutes=1)


def killed_after_one_batch(engine: Engine) -> int:
    """A run whose process died with its second batch of accounts in flight."""
    run = start_run(engine, mode="apply", user="it", digest="d", now=T0, owner=GONE)
    journal_plan(engine, run, Plan(ACTIONS), T0)
    journal = DbJournal(engine, run, clock)
    first = Batch(1, ActionKind.CREATE_USER, "core_user_create_users", 4)
    journal.sending(first, ACTIONS[:4])
    journal.record(
        [ActionOutcome(a, DONE) for a in ACTIONS[:3]]
        + [ActionOutcome(ACTIONS[3], FAILED, "users[3]: e-mail sai")],
        first,
    )
    journal.sending(Batch(2, ActionKind.CREATE_USER, "core_user_create_users", 4), ACTIONS[4:8])
    return run


def statuses(engine: Engine, run: int) -> dict[str, str]:
    with session_scope(engine) as session:
        rows = session.exec(select(SyncAction).where(col(SyncAction.sync_run_id) == run))
        return {a.key: a.status for a in rows}


def test_a_batch_is_recorded_sent_then_settled(engine: Engine) -> None:
    run = killed_after_one_batch(engine)
    with session_scope(engine) as session:
        batches = {
            b.seq: (b.status, b.done, b.failed, b.error)
            for b in session.exec(select(SyncBatch).where(col(SyncBatch.sync_run_id) == run))
        }
    assert batches == {1: ("done", 3, 1, "users[3]: e-mail sai"), 2: ("sent", 0, 0, "")}
    got = statuses(engine, run)
    assert [got[a.key] for a in ACTIONS] == ["done"] * 3 + ["failed"] + ["pending"] * 6


def test_the_next_run_marks_a_killed_run_with_counts_from_its_journal(engine: Engine) -> None:
    killed = killed_after_one_batch(engine)
    live = start_run(engine, mode="apply", user="it", digest="d", now=T0, owner=Owner("h", 1))
    later = T0 + dt.timedelta(hours=2)
    marked = settle_killed_runs(engine, now=later, by_run=99, alive=lambda host, pid: host == "h")
    assert marked == [killed]
    with session_scope(engine) as session:
        run = session.get(SyncRun, killed)
        assert run is not None
        assert run.status == "killed"
        # The batch in flight is unknown, what was never sent is pending.
        assert run.counts == {
            "create_user:done": 3,
            "create_user:failed": 1,
            "create_user:unknown": 4,
            "create_user:pending": 2,
        }
        assert run.errors == [
            {
                "action": f"create_user:{ACTIONS[3].key}",
                "reason": "mới trong danh sách",
                "error": "users[3]: e-mail sai",
            }
        ]
        assert "dừng đột ngột" in run.message
        assert "#99" in run.message
        assert "3 xong, 1 lỗi, 4 chưa rõ kết quả, 2 chưa chạy" in run.message
        assert run.finished_at is not None
        assert run.finished_at.replace(tzinfo=dt.UTC) == clock()  # its last journal write
        in_flight = session.get(SyncBatch, (killed, 2))
        assert in_flight is not None
        assert (in_flight.status, in_flight.unknown) == ("unknown", 4)
        still = session.get(SyncRun, live)
        assert still is not None
        assert still.status == "running"


def test_unknown_outcomes_get_what_the_read_back_found(engine: Engine) -> None:
    killed = killed_after_one_batch(engine)
    settle_killed_runs(engine, now=T0, by_run=None, alive=lambda host, pid: False)
    # The read-back found two of the four in-flight accounts: the new plan has the others.
    still_planned = {("create_user", a.key) for a in ACTIONS[6:]}
    assert resolve_unknown(engine, still_planned, by_run=7) == {"done": 2, "not_done": 2}
    with session_scope(engine) as session:
        rows = session.exec(select(SyncAction).where(col(SyncAction.sync_run_id) == killed))
        found = {a.key: (a.resolution, a.resolved_by_run) for a in rows if a.status == "unknown"}
    assert found == {
        ACTIONS[4].key: ("done", 7),
        ACTIONS[5].key: ("done", 7),
        ACTIONS[6].key: ("not_done", 7),
        ACTIONS[7].key: ("not_done", 7),
    }
    # Resolved once: a later read-back does not change it.
    assert resolve_unknown(engine, set(), by_run=8) == {"done": 0, "not_done": 0}


def test_accounts_a_batch_created_are_stored_with_it_once(engine: Engine) -> None:
    run = start_run(engine, mode="apply", user="it", digest="d", now=T0, owner=GONE)
    journal_plan(engine, run, Plan(ACTIONS[:3]), T0)
    with session_scope(engine) as session:
        record_account(session, ACTIONS[0].key, 11, "old.name", T0)
    journal = DbJournal(engine, run, clock)
    batch = Batch(1, ActionKind.CREATE_USER, "core_user_create_users", 3)
    journal.sending(batch, ACTIONS[:3])
    for n, action in enumerate(ACTIONS[:3]):
        journal.account_created(action.key, 100 + n, f"user{n}")
    journal.record([ActionOutcome(a, DONE) for a in ACTIONS[:3]], batch)
    with session_scope(engine) as session:
        stored = {
            a.identity_code: (a.lms_user_id, a.username) for a in session.exec(select(LmsAccount))
        }
    # An account already known (adopted earlier) keeps its record.
    assert stored == {
        ACTIONS[0].key: (11, "old.name"),
        ACTIONS[1].key: (101, "user1"),
        ACTIONS[2].key: (102, "user2"),
    }


def test_a_crashed_apply_is_failed_with_what_its_journal_holds(engine: Engine) -> None:
    run = killed_after_one_batch(engine)
    fail_run(engine, run, KeyError("courseid"), now=T0 + dt.timedelta(minutes=5))
    with session_scope(engine) as session:
        record = session.get(SyncRun, run)
        assert record is not None
        assert record.status == "failed"
        assert record.counts == {
            "create_user:done": 3,
            "create_user:failed": 1,
            "create_user:pending": 6,
        }
        assert "KeyError" in record.message
    # A failed run is finished: the next run does not take it for a killed one.
    assert settle_killed_runs(engine, now=T0, by_run=None, alive=lambda host, pid: False) == []
