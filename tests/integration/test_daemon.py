"""The daemon's passes on a simulated clock, with job functions that fail on purpose:
retries with growing waits, failures that wait for the next slot, catch-up after
downtime, stop requests, the lock, and the APScheduler driver on the real clock."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from app.root import App
from config.settings import DaemonSettings, DatabaseSettings, LmsSettings, RunSettings, Settings
from connector.errors import LmsInvalidToken, LmsTransportError
from scheduler.aps import ApsDriver
from scheduler.clock import SimulatedClock, SystemClock
from scheduler.daemon import Daemon
from scheduler.jobs import JobKind
from scheduler.lock import LockHeld, Me
from scheduler.status import daemon_status
from scheduler.tasks import JobFunction, JobOutcome
from store.closing_repo import save_closing
from store.daemon_repo import job_history, lock_holder
from store.models import RunClosing

VN = ZoneInfo("Asia/Ho_Chi_Minh")
M4 = RunSettings(id="M4-2023", module=4, name="Mô đun 4", start=dt.date(2023, 9, 4))
PROVISIONING = dt.datetime(2023, 8, 28, tzinfo=VN)

Calls = list[tuple[str, dt.datetime]]


def make_app(database_url: str, tmp_path: Path, *runs: RunSettings) -> App:
    settings = Settings(
        lms=LmsSettings(url="sandbox:"),
        database=DatabaseSettings(url=database_url),
        runs=list(runs or [M4]),
        daemon=DaemonSettings(inbox=tmp_path / "inbox", retry_first_seconds=30),
    )
    return App(settings=settings, sandbox_state_file=tmp_path / "sandbox.json")


def recorder(calls: Calls, kind: str, result: Callable[[int], JobOutcome]) -> JobFunction:
    def job(_app: App, run: RunSettings | None, now: dt.datetime) -> JobOutcome:
        calls.append((f"{kind}:{run.id if run else ''}", now))
        return result(sum(1 for c in calls if c[0].startswith(kind)))

    return job


def ok(_n: int) -> JobOutcome:
    return JobOutcome("ok")


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    app = make_app(database_url, tmp_path)
    try:
        yield app
    finally:
        app.close()


def daemon_for(app: App, clock: SimulatedClock, functions: dict[JobKind, JobFunction]) -> Daemon:
    daemon = Daemon(app, clock=clock, functions=functions)
    daemon.start()
    return daemon


def test_an_lms_outage_is_retried_with_growing_waits_until_it_answers(app: App) -> None:
    calls: Calls = []

    def flaky(n: int) -> JobOutcome:
        if n <= 3:
            raise LmsTransportError("connection refused", request_sent=False)
        return JobOutcome("ok", {"done": 5})

    clock = SimulatedClock(PROVISIONING)
    daemon = daemon_for(app, clock, {JobKind.SYNC: recorder(calls, "sync", flaky)})
    try:
        daemon.loop(until=PROVISIONING + dt.timedelta(hours=1))
    finally:
        daemon.close()
    times = [at - PROVISIONING for _, at in calls]
    assert times == [dt.timedelta(seconds=s) for s in (0, 30, 90, 210)]
    records = job_history(app.engine(), "sync:M4-2023")
    assert [(r.outcome, r.attempt) for r in records] == [
        ("retrying", 1),
        ("retrying", 2),
        ("retrying", 3),
        ("ok", 4),
    ]
    assert {r.outage_since for r in records} == {PROVISIONING}
    assert {r.scheduled_for for r in records} == {PROVISIONING}
    assert "connection refused" in records[0].message
    status = daemon_status(app, PROVISIONING + dt.timedelta(hours=1), [JobKind.SYNC])
    assert status["outages"] == [
        {"job": "sync:M4-2023", "since": PROVISIONING.isoformat(), "attempts": 3, "over": True}
    ]
    assert status["problems"] == []


def test_an_outage_still_going_is_shown_in_the_status(app: App) -> None:
    def down(_n: int) -> JobOutcome:
        raise LmsTransportError("connection refused", request_sent=False)

    clock = SimulatedClock(PROVISIONING)
    daemon = daemon_for(app, clock, {JobKind.SYNC: recorder([], "sync", down)})
    try:
        daemon.loop(until=PROVISIONING + dt.timedelta(minutes=20))
    finally:
        daemon.close()
    status = daemon_status(app, PROVISIONING + dt.timedelta(minutes=20), [JobKind.SYNC])
    (job,) = status["jobs"]
    assert job["outage"]["since"] == PROVISIONING.isoformat()
    assert job["outage"]["attempts"] == 6  # at 0, 30 s, 1.5, 3.5, 7.5 and 15.5 minutes
    assert "LMS không trả lời" in status["problems"][0]


def test_a_refusal_is_recorded_failed_and_waits_for_the_next_slot(app: App) -> None:
    calls: Calls = []

    def refused(_n: int) -> JobOutcome:
        raise LmsInvalidToken("Invalid token", errorcode="invalidtoken")

    clock = SimulatedClock(PROVISIONING)
    daemon = daemon_for(app, clock, {JobKind.SYNC: recorder(calls, "sync", refused)})
    try:
        daemon.loop(until=PROVISIONING + dt.timedelta(days=1, hours=1))
    finally:
        daemon.close()
    assert [at for _, at in calls] == [PROVISIONING, PROVISIONING + dt.timedelta(days=1)]
    records = job_history(app.engine(), "sync:M4-2023")
    assert [r.outcome for r in records] == ["failed", "failed"]
    assert "LmsInvalidToken" in records[0].message


def test_after_downtime_each_missed_job_runs_once(app: App) -> None:
    calls: Calls = []
    functions = {
        JobKind.SYNC: recorder(calls, "sync", ok),
        JobKind.PULL: recorder(calls, "pull", ok),
    }
    clock = SimulatedClock(PROVISIONING)
    daemon = daemon_for(app, clock, functions)
    try:
        daemon.loop(until=PROVISIONING + dt.timedelta(days=2))
    finally:
        daemon.close()
    assert [job for job, _ in calls] == ["sync:M4-2023"] * 3
    # Down for ten days (days 1 to 8 of the run): 10 syncs and ~150 pulls were missed.
    back = dt.datetime(2023, 9, 11, 9, 40, tzinfo=VN)
    calls.clear()
    daemon = daemon_for(app, SimulatedClock(back), functions)
    try:
        daemon.loop(once=True)
    finally:
        daemon.close()
    assert calls == [("sync:M4-2023", back), ("pull:M4-2023", back)]
    pulls = job_history(app.engine(), "pull:M4-2023")
    assert [r.scheduled_for for r in pulls] == [dt.datetime(2023, 9, 11, 9, tzinfo=VN)]


def test_a_stop_request_ends_the_loop_after_the_running_job(app: App) -> None:
    calls: Calls = []
    clock = SimulatedClock(PROVISIONING)
    daemon = Daemon(app, clock=clock)

    def stopping(_n: int) -> JobOutcome:
        daemon.request_stop()
        return JobOutcome("interrupted", {}, "dừng theo yêu cầu")

    daemon.functions = {
        JobKind.SYNC: recorder(calls, "sync", stopping),
        JobKind.PULL: recorder(calls, "pull", ok),
    }
    daemon.start()
    try:
        daemon.loop(until=dt.datetime(2023, 9, 5, tzinfo=VN))
    finally:
        daemon.close()
    assert [job for job, _ in calls] == ["sync:M4-2023"]
    assert clock.now() == PROVISIONING
    (record,) = job_history(app.engine(), "sync:M4-2023")
    assert record.outcome == "interrupted"
    assert lock_holder(app.engine()) is None  # released on the way out


def test_a_second_daemon_on_the_same_database_is_refused(app: App, tmp_path: Path) -> None:
    first = Daemon(app, clock=SimulatedClock(PROVISIONING), functions={})
    first.start()
    other_app = make_app(app.settings.database.url, tmp_path)
    try:
        # Another live process of this host (our own parent is alive for sure).
        second = Daemon(
            other_app,
            clock=SimulatedClock(PROVISIONING),
            functions={},
            me=Me(first.me.host, os.getppid()),
        )
        with pytest.raises(LockHeld) as refused:
            second.start()
        assert refused.value.holder.pid == first.me.pid
    finally:
        first.close()
        other_app.close()


def test_on_the_real_clock_apscheduler_keeps_each_job_in_the_state_database(
    database_url: str, tmp_path: Path
) -> None:
    future = dt.date.today() + dt.timedelta(days=60)
    run = RunSettings(id="M4-NEXT", module=4, start=future)
    app = make_app(database_url, tmp_path, run)
    calls: Calls = []
    daemon = Daemon(app, clock=SystemClock())
    stored: dict[str, float] = {}

    def inbox(_app: App, _run: RunSettings | None, now: dt.datetime) -> JobOutcome:
        calls.append(("inbox", now))
        with app.engine().connect() as connection:
            rows = connection.execute(text("SELECT id, next_run_time FROM apscheduler_jobs"))
            stored.update({row[0]: row[1] for row in rows})
        daemon.request_stop()
        return JobOutcome("skipped")

    daemon.functions = {JobKind.INBOX: inbox, JobKind.SYNC: recorder(calls, "sync", ok)}
    daemon.start()
    try:
        ApsDriver(daemon).run()
    finally:
        daemon.close()
        app.close()
    assert [job for job, _ in calls] == ["inbox"]  # due at once; the sync is 53 days away
    provisioning = dt.datetime.combine(future - dt.timedelta(days=7), dt.time(0), VN)
    assert stored["sync:M4-NEXT"] == pytest.approx(provisioning.timestamp())


def test_a_run_closed_early_by_hand_says_so_in_the_status(app: App) -> None:
    """``bdtx completion close --force`` during grading: the status tells it apart from a
    run still being graded."""
    during_grading = PROVISIONING + dt.timedelta(days=30)
    before = daemon_status(app, during_grading, [JobKind.CLOSE])
    (run,) = before["runs"]
    assert run["phase"] == "grading"
    assert run["closing_done_at"] is None
    assert "đã tổng kết" not in run["phase_label"]
    save_closing(
        app.engine(),
        RunClosing(
            run_id=run["id"], status="done", started_at=during_grading, finished_at=during_grading
        ),
    )
    (run,) = daemon_status(app, during_grading, [JobKind.CLOSE])["runs"]
    assert run["phase"] == "grading"
    assert run["phase_label"].endswith("(đã tổng kết)")
    assert run["closing_done_at"] is not None


def test_after_a_forced_close_the_daemon_runs_nothing_more_for_the_run(app: App) -> None:
    """Closed by hand during grading: no pull, re-sync, reminder or second closing follows,
    even when the daemon was down since before the closing."""
    calls: Calls = []
    functions = {kind: recorder(calls, kind.value, ok) for kind in JobKind if kind != JobKind.INBOX}
    during_grading = PROVISIONING + dt.timedelta(days=26, hours=12)
    closed_at = during_grading - dt.timedelta(hours=3)
    save_closing(
        app.engine(),
        RunClosing(run_id=M4.id, status="done", started_at=closed_at, finished_at=closed_at),
    )
    daemon = daemon_for(app, SimulatedClock(during_grading), functions)
    try:
        assert daemon.run_due() == []
        assert daemon.next_wakeup(during_grading) is None
    finally:
        daemon.close()
    assert calls == []
    jobs = daemon_status(app, during_grading, list(functions))["jobs"]
    assert {job["id"] for job in jobs} >= {"pull:M4-2023", "close:M4-2023"}
    assert all(job["next_at"] is None and not job["due_now"] for job in jobs)
