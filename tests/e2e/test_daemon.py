"""``bdtx daemon`` as real processes on simulated time, against the sandbox LMS over HTTP.

* module 4 from provisioning to its close; killed (SIGKILL) in the middle of the
  provisioning and restarted two weeks of simulated time later, it catches up once and
  finishes: no job done twice for one slot, no action journaled done twice, no account
  made twice; while it runs, a second daemon on the same database refuses to start;
* the LMS unreachable for a while in the middle of the provisioning: the daemon retries
  with growing waits and completes the provisioning by itself; ``bdtx status`` shows the
  outage.

A small roster (the sample's schools, its first 80 learners and 40 core staff) is dropped
in the daemon's inbox; the daemon imports it.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from connector.profile_fields import PROBE_USERNAME
from sandbox.lms import HttpReply, SandboxLms
from sandbox.options import SandboxOptions
from sandbox.protocol import decode_request
from sandbox.server import start_server
from store.db import make_engine, session_scope
from store.models import JobRun, SyncAction
from tests.e2e.provisioning import DATA
from tests.e2e.test_cli import as_json, bdtx, isolate
from tests.e2e.test_kill import accounts

ROOT = Path(__file__).resolve().parents[2]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
CREATE_USERS = "core_user_create_users"
PROVISIONING = dt.datetime(2023, 8, 28, tzinfo=VN)  # 7 days before day 1 (4 September)
CLOSED = dt.datetime(2023, 9, 30, tzinfo=VN)  # 00:00 of day 27


class TroubledSandbox(SandboxLms):
    """The sandbox LMS, which can hold one account request until released (the test
    kills the daemon then) or go unreachable for a while from one account request on."""

    def __init__(self, *, hold_call: int = 0, outage_call: int = 0, outage_s: float = 0) -> None:
        super().__init__(SandboxOptions(enrolled_users_include_groups=True))
        self.hold_call, self.outage_call, self.outage_s = hold_call, outage_call, outage_s
        self.reached, self.release, self.finished = (threading.Event() for _ in range(3))
        self.down_until = 0.0
        self.refused = 0
        self._count = 0
        self._lock = threading.Lock()

    def handle(self, query: str, body: str) -> HttpReply:
        with self._lock:
            if time.monotonic() < self.down_until:
                self.refused += 1
                return HttpReply(0, b"", refuse_connection=True)
        request = decode_request(query, body, self.options.max_input_vars)
        if request.wsfunction != CREATE_USERS or PROBE_USERNAME in body:
            return super().handle(query, body)
        with self._lock:
            self._count += 1
            count = self._count
            if count == self.outage_call:
                self.down_until = time.monotonic() + self.outage_s
                self.refused += 1
                return HttpReply(0, b"", refuse_connection=True)
        if count != self.hold_call:
            return super().handle(query, body)
        self.reached.set()
        self.release.wait(timeout=600)
        try:
            return super().handle(query, body)  # applied, like Moodle after a lost client
        finally:
            self.finished.set()


def small_roster(folder: Path) -> list[Path]:
    """The sample's schools, its first 80 learners and first 40 core staff."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, keep in (("truong.xlsx", None), ("hoc-vien.xlsx", 3 + 80), ("bao-cao-vien.xlsx", 41)):
        workbook = openpyxl.load_workbook(DATA / name)
        sheet = workbook.worksheets[0]
        if keep is not None and sheet.max_row > keep:
            sheet.delete_rows(keep + 1, sheet.max_row - keep)
        workbook.save(folder / name)
        workbook.close()
        paths.append(folder / name)
    return paths


def daemon_config(workdir: Path, url: str) -> Path:
    text = f"""\
timezone = "Asia/Ho_Chi_Minh"

[lms]
url = "{url}"
timeout_s = 30
field_budget = 600
retry_attempts = 1

[database]
url = "sqlite:///var/bdtx.sqlite"

[daemon]
inbox = "inbox"
inbox_every_minutes = 720
inbox_settle_seconds = 0
pull_online_every_minutes = 1440
pull_grading_every_hours = 72
resync_every_hours = 96
retry_first_seconds = 30
retry_max_seconds = 600
heartbeat_seconds = 1

[[runs]]
id = "M4-2023"
module = 4
name = "Mô đun 4"
start = 2023-09-04
template_course = "TPL-MODULE"
concurrent_subjects = ["Hoạt động trải nghiệm, hướng nghiệp"]
"""
    path = workdir / "bdtx.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    small_roster(tmp_path / "inbox")
    return tmp_path


@pytest.fixture
def engine(workdir: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{workdir / 'var' / 'bdtx.sqlite'}")
    try:
        yield engine
    finally:
        engine.dispose()


def serve(sandbox: SandboxLms, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server, url = start_server(sandbox, "127.0.0.1", 0)
    monkeypatch.setenv("BDTX_LMS_TOKEN", sandbox.token_for("syncbot"))
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def daemon(workdir: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "daemon", "--config", "bdtx.toml", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 900) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"the daemon did not finish:\n{out}\n{err}") from None
    return process.returncode, out, err


def jobs(engine: Engine) -> list[JobRun]:
    with session_scope(engine) as session:
        return list(session.exec(select(JobRun).order_by(col(JobRun.id))).all())


def test_killed_mid_provisioning_and_restarted_later_the_daemon_catches_up_once_and_closes(
    workdir: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = TroubledSandbox(hold_call=2)
    served = serve(sandbox, monkeypatch)
    url = next(served)
    try:
        daemon_config(workdir, url)
        first = daemon(workdir, "--simulate", "2023-08-27T23:00", "--speed", "0")
        try:
            assert sandbox.reached.wait(timeout=600), (
                "the provisioning never reached account batch 2"
            )
            # While it provisions, a second daemon on the same database refuses to start.
            second = bdtx("daemon", "--once")
            assert second.exit_code == 6, second.output
            assert f"pid {first.pid}" in " ".join(second.output.split())
            os.kill(first.pid, signal.SIGKILL)
            assert first.wait(timeout=60) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
            first.communicate()
        sandbox.release.set()
        assert sandbox.finished.wait(timeout=120)

        # Over two weeks of simulated downtime later (day 11, 10:00), it is started again.
        back = dt.datetime(2023, 9, 14, 10, tzinfo=VN)
        code, out, err = finish(daemon(workdir, "--simulate", "2023-09-14T10:00", "--speed", "0"))
        assert code == 0, f"{out}\n{err}"
        records = jobs(engine)

        # The sync killed mid-way is recorded as such; everything else ran once per slot.
        killed = [r for r in records if r.outcome == "killed"]
        assert [r.job_id for r in killed] == ["sync:M4-2023"]
        assert killed[0].scheduled_for == PROVISIONING
        finished = Counter((r.job_id, r.scheduled_for) for r in records if r.outcome == "ok")
        assert finished
        assert max(finished.values()) == 1
        # On restart, each missed job once: one sync and one pull for everything missed.
        at_restart = [r for r in records if r.started_at == back and r.run_id]
        assert [(r.job_id, r.scheduled_for) for r in at_restart] == [
            ("sync:M4-2023", dt.datetime(2023, 9, 13, tzinfo=VN)),  # every 4 days from 28/8
            ("pull:M4-2023", dt.datetime(2023, 9, 14, tzinfo=VN)),  # daily
        ]
        # Then to the close: the syncs stop before it, the last pull is at it.
        syncs = [r for r in records if r.job_id == "sync:M4-2023" and r.outcome == "ok"]
        pulls = [r for r in records if r.job_id == "pull:M4-2023" and r.outcome == "ok"]
        assert max(r.scheduled_for for r in syncs) < CLOSED
        assert max(r.scheduled_for for r in pulls) == CLOSED
        # The run is closed once, at its close, after the last pull.
        closes = [r for r in records if r.job_id == "close:M4-2023"]
        assert [(r.scheduled_for, r.outcome) for r in closes] == [(CLOSED, "ok")]
        assert (workdir / "var" / "lists" / "M4-2023" / "tinh.xlsx").is_file()
        assert all(r.outcome in ("ok", "killed", "skipped") for r in records), [
            (r.job_id, r.outcome, r.message) for r in records if r.outcome not in ("ok", "skipped")
        ]

        # Nothing was done twice in the LMS.
        assert accounts(sandbox)
        assert max(accounts(sandbox).values()) == 1
        with session_scope(engine) as session:
            done = Counter(
                (a.kind, a.key)
                for a in session.exec(select(SyncAction).where(col(SyncAction.status) == "done"))
            )
        assert max(done.values()) == 1
        assert len([p for p in (workdir / "inbox" / "done").iterdir()]) == 3

        status = bdtx("status", "--json", "--at", "2023-10-01T12:00")
        assert status.exit_code == 0, status.output
        shown = as_json(status)
        assert shown["daemon"] is None  # the lock was released on the way out
        assert [r["phase"] for r in shown["runs"]] == ["closed"]
        assert shown["problems"] == []
    finally:
        sandbox.release.set()
        next(served, None)


def test_an_lms_outage_mid_provisioning_is_waited_out_and_the_provisioning_completes(
    workdir: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = TroubledSandbox(outage_call=2, outage_s=6.0)
    served = serve(sandbox, monkeypatch)
    url = next(served)
    try:
        daemon_config(workdir, url)
        # 1 real second = 2 simulated minutes: the waits of 30 s, 1, 2, 4 minutes... pass
        # in a quarter, half, one, two real seconds, while the LMS stays down 6 seconds.
        code, out, err = finish(
            daemon(
                workdir,
                "--simulate",
                "2023-08-27T23:55",
                "--speed",
                "120",
                "--until",
                "2023-08-28T01:30",
                "--log-format",
                "json",
            )
        )
        assert code == 0, f"{out}\n{err}"
        assert sandbox.refused > 1
        syncs = [r for r in jobs(engine) if r.job_id == "sync:M4-2023"]
        outcomes = [r.outcome for r in syncs]
        assert outcomes[-1] == "ok"
        assert set(outcomes[:-1]) == {"retrying"}
        assert len(outcomes) >= 3
        assert [r.attempt for r in syncs] == list(range(1, len(syncs) + 1))
        waits = [
            (r.retry_at - r.ended_at).total_seconds()
            for r in syncs[:-1]
            if r.retry_at and r.ended_at
        ]
        assert waits[:3] == [30, 60, 120]
        # Every learner got their account, once; the journal shows nothing left to do.
        made = accounts(sandbox)
        assert max(made.values()) == 1
        assert syncs[-1].counts["pending"] == syncs[-1].counts["failed"] == 0
        with session_scope(engine) as session:
            done = Counter(
                (a.kind, a.key)
                for a in session.exec(select(SyncAction).where(col(SyncAction.status) == "done"))
            )
        assert max(done.values()) == 1
        created = {key for kind, key in done if kind == "create_user"}
        assert created <= set(made)
        # The logs are JSON lines, and the outage is in them.
        lines = [line for line in err.splitlines() if line.startswith("{")]
        assert any('"outcome": "retrying"' in line for line in lines)

        status = bdtx("status", "--json", "--at", "2023-08-28T02:00")
        shown = as_json(status)
        (outage,) = shown["outages"]
        assert outage["job"] == "sync:M4-2023"
        assert outage["attempts"] == len(syncs) - 1
        assert outage["over"] is True
        assert outage["since"] == syncs[0].started_at.astimezone(VN).isoformat()
    finally:
        next(served, None)


def test_sigterm_mid_provisioning_finishes_the_batch_in_flight_journals_it_and_exits_0(
    workdir: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = TroubledSandbox(hold_call=2)
    served = serve(sandbox, monkeypatch)
    url = next(served)
    try:
        daemon_config(workdir, url)
        process = daemon(workdir, "--simulate", "2023-08-27T23:00", "--speed", "0")
        try:
            assert sandbox.reached.wait(timeout=600)
            process.send_signal(signal.SIGTERM)
            time.sleep(0.5)  # the signal lands while the batch is still in flight
            sandbox.release.set()
            code, out, err = finish(process, timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert code == 0, f"{out}\n{err}"
        (sync,) = [r for r in jobs(engine) if r.job_id == "sync:M4-2023"]
        assert sync.outcome == "interrupted"
        assert sync.counts["status"] == "interrupted"
        with session_scope(engine) as session:
            actions = session.exec(select(SyncAction)).all()
        users = [a for a in actions if a.kind == "create_user"]
        # The batch in flight landed and is journaled done; nothing was sent after it.
        assert Counter(a.status for a in actions)["unknown"] == 0
        assert {a.kind for a in actions if a.status == "pending"} >= {"enrol"}
        assert {a.key for a in users if a.status == "done"} == set(accounts(sandbox))
        assert bdtx("status", "--json", "--at", "2023-08-28T00:10").exit_code == 0
    finally:
        sandbox.release.set()
        next(served, None)


def test_bdtx_run_simulate_runs_the_module_through_its_key_dates_to_its_close(
    workdir: Path, engine: Engine
) -> None:
    config = daemon_config(workdir, "sandbox:")
    # The roster comes from [roster] files here (what 'bdtx run' imports), not the inbox.
    roster = []
    for path in sorted((workdir / "inbox").iterdir()):
        roster.append(path.rename(workdir / path.name))
    files = ", ".join(f'"{p}"' for p in roster)
    config.write_text(config.read_text("utf-8") + f"\n[roster]\nfiles = [{files}]\n", "utf-8")
    result = bdtx("run", "--simulate")
    assert result.exit_code in (0, 1), result.output  # 1: the sample's rejected rows
    output = result.output.split("5. Mô phỏng", 1)[1]
    headings = [
        "28/08/2023 00:00 — cấp tài khoản, khóa học",
        "04/09/2023 00:00 — mở trực tuyến đợt 1",
        "11/09/2023 00:00 — mở lớp học ảo",
        "13/09/2023 00:00 — mở trực tuyến đợt 2",
        "20/09/2023 00:00 — hạn nộp bài cuối khóa",
        "30/09/2023 00:00 — kết thúc đợt",
    ]
    positions = [output.index(heading) for heading in headings]
    assert positions == sorted(positions)
    # Provisioned by step 4 already: the daemon's first sync has nothing to write.
    assert "28/08 00:00 sync:M4-2023: xong — 0 lệnh ghi LMS" in output
    last = output[positions[-1] :]
    assert "30/09 00:00 pull:M4-2023: xong" in last
    records = jobs(engine)
    assert {r.outcome for r in records} <= {"ok", "skipped"}
    pulls = [r for r in records if r.job_id == "pull:M4-2023"]
    assert pulls[-1].scheduled_for == CLOSED
    # Learners and reporters acted on the sandbox, reporters with work waiting were
    # reminded, and the run was closed with its lists: a whole module run.
    assert "(mô phỏng) học viên và báo cáo viên" in output
    reminders = [r for r in records if r.job_id == "remind:M4-2023" and r.outcome == "ok"]
    assert len(reminders) == 2  # reminder_days = [3, 1]
    assert all(r.counts["sent"] > 0 for r in reminders)
    [closed] = [r for r in records if r.job_id == "close:M4-2023"]
    assert closed.scheduled_for == CLOSED
    assert closed.counts["completed"] > 0  # most pass
    assert closed.counts["not_completed"] > 0  # the story's failures, late grades...
    assert "close:M4-2023: xong" in last
    assert (workdir / "var" / "lists" / "M4-2023" / "tinh.xlsx").is_file()


def test_the_daemon_command_run_in_process_leaves_the_logging_as_it_was(workdir: Path) -> None:
    daemon_config(workdir, "sandbox:")
    root = logging.getLogger()
    before = (list(root.handlers), root.level, logging.getLogger("bdtx").level)
    result = bdtx("daemon", "--once", "--log-format", "json")
    assert result.exit_code == 0, result.output
    assert (list(root.handlers), root.level, logging.getLogger("bdtx").level) == before
    assert len(list((workdir / "inbox" / "done").iterdir())) == 3  # it did its work
