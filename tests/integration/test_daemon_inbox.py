"""The daemon's inbox: roster files dropped in a folder are imported, or refused and shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import col, func, select

from app.root import App
from config.settings import DaemonSettings, DatabaseSettings, LmsSettings, RunSettings, Settings
from scheduler.clock import SimulatedClock
from scheduler.daemon import Daemon
from scheduler.jobs import JobKind
from scheduler.status import daemon_status
from scheduler.tasks import inbox_files, registry
from store.daemon_repo import job_history
from store.db import session_scope
from store.models import Person
from tests.e2e.test_daemon import small_roster

VN = ZoneInfo("Asia/Ho_Chi_Minh")
M4 = RunSettings(id="M4-2023", module=4, name="Mô đun 4", start=dt.date(2023, 9, 4))
BEFORE = dt.datetime(2023, 8, 20, 9, tzinfo=VN)  # long before provisioning: only the inbox


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    settings = Settings(
        lms=LmsSettings(url="sandbox:"),
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'state.sqlite'}"),
        runs=[M4],
        daemon=DaemonSettings(inbox=tmp_path / "inbox", inbox_settle_seconds=0),
    )
    app = App(settings=settings, sandbox_state_file=tmp_path / "sandbox.json")
    try:
        yield app
    finally:
        app.close()


def look(app: App, at: dt.datetime) -> None:
    """One pass of the daemon at ``at`` (only the inbox is due then)."""
    daemon = Daemon(app, clock=SimulatedClock(at), functions=registry())
    daemon.start()
    try:
        ran = daemon.run_due()
    finally:
        daemon.close()
    assert [r.job_id for r in ran] == ["inbox"]


def active_people(app: App) -> int:
    with session_scope(app.engine()) as session:
        return session.exec(
            select(func.count()).select_from(Person).where(col(Person.status) == "active")
        ).one()


def test_roster_files_dropped_in_the_inbox_are_imported_allocated_and_moved_to_done(
    app: App, tmp_path: Path
) -> None:
    small_roster(tmp_path / "inbox")
    look(app, BEFORE)
    (record,) = job_history(app.engine(), "inbox")
    assert record.outcome == "ok", record.message
    assert record.counts["imported"] > 70
    assert record.counts["classes"] > 0
    assert active_people(app) > 70  # learners and core staff (some are both)
    done = sorted(p.name for p in (tmp_path / "inbox" / "done").iterdir())
    assert done == [
        "20230820T020000Z-bao-cao-vien.xlsx",
        "20230820T020000Z-hoc-vien.xlsx",
        "20230820T020000Z-truong.xlsx",
    ]
    assert inbox_files(tmp_path / "inbox", settle_seconds=0, real_now=0) == []
    # The next look finds nothing: recorded as nothing to do.
    look(app, BEFORE + dt.timedelta(minutes=5))
    assert [r.outcome for r in job_history(app.engine(), "inbox")] == ["ok", "skipped"]


def test_a_list_that_would_make_too_many_leave_is_refused_and_shown(
    app: App, tmp_path: Path
) -> None:
    small_roster(tmp_path / "inbox")
    look(app, BEFORE)
    before = active_people(app)
    # A learners' list cut to its first 5 rows: everyone else would leave.
    cut = tmp_path / "cut"
    (learners,) = [p for p in small_roster(cut) if p.name == "hoc-vien.xlsx"]
    workbook = openpyxl.load_workbook(learners)
    sheet = workbook.worksheets[0]
    sheet.delete_rows(3 + 5 + 1, sheet.max_row)
    workbook.save(tmp_path / "inbox" / "hoc-vien-moi.xlsx")
    workbook.close()
    look(app, BEFORE + dt.timedelta(hours=1))
    refused = job_history(app.engine(), "inbox")[-1]
    assert refused.outcome == "failed"
    assert "hoc-vien-moi.xlsx" in refused.message
    assert "refused" in refused.message
    assert active_people(app) == before  # nothing stored
    assert [p.name for p in (tmp_path / "inbox" / "refused").iterdir()] == [
        "20230820T030000Z-hoc-vien-moi.xlsx"
    ]
    status = daemon_status(app, BEFORE + dt.timedelta(hours=1, minutes=1), [JobKind.INBOX])
    assert status["problems"] == [f"inbox: {refused.message}"]
    assert status["jobs"][0]["last"]["outcome_label"] == "lỗi"


def test_a_file_that_is_not_a_roster_is_refused(app: App, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ghi-chu.csv").write_text("a,b\n1,2\n", "utf-8")
    (inbox / "~$hoc-vien.xlsx").write_bytes(b"lock file of an open workbook")
    look(app, BEFORE)
    (record,) = job_history(app.engine(), "inbox")
    assert record.outcome == "failed"
    assert "ghi-chu.csv" in record.message
    assert [p.name for p in (inbox / "refused").iterdir()] == ["20230820T020000Z-ghi-chu.csv"]
    assert (inbox / "~$hoc-vien.xlsx").exists()  # Excel's lock file is never taken


def test_a_file_still_being_written_is_left_for_the_next_look(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "hoc-vien.xlsx"
    path.write_bytes(b"...")
    written = path.stat().st_mtime
    assert inbox_files(inbox, settle_seconds=10, real_now=written + 5) == []
    assert inbox_files(inbox, settle_seconds=10, real_now=written + 10) == [path]
