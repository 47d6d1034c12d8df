"""SIGKILL in the middle of the account phase: the journal holds every batch that landed.

A real ``bdtx sync apply`` process provisions the sample province into the sandbox LMS
served over HTTP. The sandbox holds back its answer to the 4th account request; the
test kills the process then (kill -9), lets the sandbox finish that request as a real
Moodle would, and checks what the state database says against what the LMS holds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from connector.profile_fields import PROBE_USERNAME
from sandbox.lms import HttpReply, SandboxLms
from sandbox.options import SandboxOptions
from sandbox.protocol import decode_request
from sandbox.server import start_server
from store.db import make_engine, session_scope
from store.models import SyncAction, SyncBatch, SyncRun
from tests.e2e.test_cli import SAMPLE, as_json, bdtx, isolate, write_config

ROOT = Path(__file__).resolve().parents[2]
CREATE_USERS = "core_user_create_users"
HELD_CALL = 4  # three account requests land, the fourth is in flight when killed


class PausingSandbox(SandboxLms):
    """The sandbox LMS, holding one call of one function until the test releases it."""

    def __init__(self, wsfunction: str, on_call: int) -> None:
        super().__init__(SandboxOptions(enrolled_users_include_groups=True))
        self.wsfunction, self.on_call = wsfunction, on_call
        self.reached, self.release, self.finished = (threading.Event() for _ in range(3))
        self._count = 0
        self._count_lock = threading.Lock()

    def handle(self, query: str, body: str) -> HttpReply:
        request = decode_request(query, body, self.options.max_input_vars)
        # The profile-field probe creates the software's own account first: not a batch.
        if request.wsfunction != self.wsfunction or PROBE_USERNAME in body:
            return super().handle(query, body)
        with self._count_lock:
            self._count += 1
            held = self._count == self.on_call
        if not held:
            return super().handle(query, body)
        self.reached.set()
        self.release.wait(timeout=600)
        try:
            return super().handle(query, body)  # applied, like Moodle after a lost client
        finally:
            self.finished.set()


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PausingSandbox, str]]:
    isolate(monkeypatch, tmp_path)
    sandbox = PausingSandbox(CREATE_USERS, HELD_CALL)
    server, url = start_server(sandbox, "127.0.0.1", 0)
    monkeypatch.setenv("BDTX_LMS_URL", url)
    monkeypatch.setenv("BDTX_LMS_TOKEN", sandbox.token_for("syncbot"))
    try:
        yield sandbox, url
    finally:
        sandbox.release.set()
        server.shutdown()
        server.server_close()


def accounts(sandbox: SandboxLms) -> dict[str, int]:
    """idnumber -> how many accounts hold it."""
    counts: dict[str, int] = {}
    with sandbox.site.lock:
        for user in sandbox.site.users.values():
            if user.idnumber:
                counts[user.idnumber] = counts.get(user.idnumber, 0) + 1
    return counts


def test_sigkill_mid_account_phase_keeps_every_landed_batch(
    served: tuple[PausingSandbox, str], tmp_path: Path
) -> None:
    sandbox, _ = served
    config = write_config(tmp_path, url=os.environ["BDTX_LMS_URL"])
    assert bdtx("roster", "import", *SAMPLE, "--json").exit_code == 1  # rejected rows
    assert bdtx("classes", "allocate", "--json").exit_code in (0, 1)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    apply = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "sync", "apply", "--json", "--config", str(config)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert sandbox.reached.wait(timeout=600), "the apply never reached the 4th account batch"
        os.kill(apply.pid, signal.SIGKILL)
        assert apply.wait(timeout=60) == -signal.SIGKILL
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.wait()
        assert apply.stderr is not None
        apply.stderr.close()
    sandbox.release.set()  # the LMS finishes the request it was given
    assert sandbox.finished.wait(timeout=120)

    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'bdtx.sqlite'}")
    try:
        with session_scope(engine) as session:
            (run,) = session.exec(select(SyncRun)).all()
            assert run.status == "running"  # nobody has looked yet
            batches = session.exec(
                select(SyncBatch)
                .where(col(SyncBatch.call) == CREATE_USERS)
                .order_by(col(SyncBatch.seq))
            ).all()
            users = session.exec(
                select(SyncAction).where(col(SyncAction.kind) == "create_user")
            ).all()
        # Three account batches landed and are journaled done; the fourth was in flight.
        assert [b.status for b in batches] == ["done", "done", "done", "sent"]
        done = {a.key for a in users if a.status == "done"}
        in_flight = {a.key for a in users if a.batch_seq == batches[-1].seq}
        assert len(done) == sum(b.done for b in batches[:3]) > 0
        assert len(in_flight) == batches[-1].size
        # Every account the LMS made is journaled done, or was in the batch in flight.
        made = set(accounts(sandbox))
        assert made == done | in_flight
        assert all(a.status == "pending" for a in users if a.key not in made)

        # The next command tells the truth about the killed run.
        shown = bdtx("sync", "history", "--json")
        assert shown.exit_code == 0, shown.output
        (killed,) = as_json(shown)["runs"]
        assert killed["status"] == "killed"
        assert "dừng đột ngột" in killed["message"]
        assert killed["totals"]["unknown"] == len(in_flight)
        assert killed["totals"]["done"] >= len(done)

        # The next apply reaches the full state: no account twice, nothing left to do.
        resumed = bdtx("sync", "apply", "--json")
        assert resumed.exit_code == 0, resumed.output
        outcome = as_json(resumed)
        assert outcome["status"] == "done"
        assert outcome["failed"] == outcome["unknown"] == outcome["pending"] == 0
        assert max(accounts(sandbox).values()) == 1
        assert as_json(bdtx("sync", "plan", "--json"))["writes"] == 0
        with session_scope(engine) as session:
            resolved = {
                a.resolution
                for a in session.exec(select(SyncAction).where(col(SyncAction.status) == "unknown"))
            }
        assert resolved == {"done"}  # the read-back found the in-flight batch's accounts
    finally:
        engine.dispose()
