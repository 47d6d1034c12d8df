"""The reminder job on simulated time, against the sandbox LMS, on SQLite and PostgreSQL.

A clock advanced hour by hour across the grading window calls the use case as the daemon
would: each reminder arrives once per offset, only to the assessors (reporter and
assistant) of the class with ungraded work; a reporter suspended by hand in Moodle (which
accepts messages to suspended users silently) and one who left the roster get none. An
extension granted after the 1-day reminder gives the new deadline its own two reminders.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from config.settings import DatabaseSettings, RunSettings, Settings
from connector.client import MoodleClient
from connector.lms import MoodleLms
from connector.messages import SEND_INSTANT_MESSAGES
from connector.retry import RetryPolicy
from connector.users import NewUser, UserUpdate
from grading.extend import extend_class
from grading.remind import FAILED, SENT, SKIPPED, UNKNOWN, WOULD_SEND, remind
from grading.reminders import SlotKey
from sandbox.faults import FaultKind
from sandbox.lms import SandboxLms
from store.closing_repo import save_closing
from store.db import session_scope
from store.models import (
    ClassStaff,
    LmsAccount,
    Person,
    RunClosing,
    TrainingClass,
)
from store.reminders_repo import Claim, claim, reminders_of
from tests.grading_seed import Seat, store_pull
from tests.integration.test_apply_sandbox import lms_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")
RUN = RunSettings(id="M4-2023", module=4, name="Mô đun 4", start=dt.date(2023, 10, 1))
C1, C2, C3 = (f"M4-2023/THCS/GV/Toán/0{i}" for i in (1, 2, 3))
STAFF = {  # identity code -> (class, role)
    "R1": (C1, "reporter"),
    "A1": (C1, "assistant"),
    "R2": (C2, "reporter"),  # C2 has nothing waiting
    "R3": (C3, "reporter"),  # suspended by hand in Moodle
    "R4": (C3, "reporter"),  # left the roster
}


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now.timestamp()


def _accounts(lms: MoodleLms) -> dict[str, int]:
    users = [
        NewUser(
            username=code.lower(),
            firstname=code,
            lastname="GV",
            email=f"{code}@x.vn",
            password="P@ss-w0rd1",
        )
        for code in STAFF
    ]
    created = lms.users.create_users(users)
    assert not created.failed
    return {row.username.upper(): result.id for row, result in created.done}


def _seed(engine: Engine, ids: dict[str, int]) -> None:
    stamp = dt.datetime(2023, 9, 1, tzinfo=dt.UTC)
    with session_scope(engine) as session:
        for code in STAFF:
            session.add(
                Person(
                    identity_code=code,
                    full_name=f"Báo Cáo Viên {code}",
                    lastname="Báo Cáo Viên",
                    firstname=code,
                    status="left" if code == "R4" else "active",
                    updated_at=stamp,
                )
            )
            session.add(
                LmsAccount(
                    identity_code=code,
                    lms_user_id=ids[code],
                    username=code.lower(),
                    created_at=stamp,
                )
            )
        for ordinal, code in enumerate((C1, C2, C3), start=1):
            session.add(
                TrainingClass(
                    id=code,
                    run_id=RUN.id,
                    level="THCS",
                    audience="GV",
                    subject="Toán",
                    ordinal=ordinal,
                    name=f"Toán THCS lớp {ordinal}",
                )
            )
        session.flush()
        for code, (class_id, role) in STAFF.items():
            session.add(ClassStaff(class_id=class_id, identity_code=code, role=role))
        seats: list[Seat] = [  # (learner, class, reasons, grade)
            ("L1", C1, "not_graded", None),  # waiting
            ("L2", C1, "not_graded", None),  # waiting
            ("L3", C1, "", 8.0),
            ("L4", C2, "not_submitted", None),  # nothing to grade
            ("L5", C2, "", 7.0),
            ("L6", C3, "not_graded", None),  # waiting
        ]
        store_pull(session, RUN.id, seats, started=stamp, finished=stamp)


def _advance(
    engine: Engine,
    lms: MoodleLms,
    settings: Settings,
    clock: Clock,
    until: dt.datetime,
) -> int:
    """Call the job every hour up to ``until``; returns how many calls sent something."""
    sending = 0
    while clock.now < until:
        report = remind(engine, lms, settings, RUN.id, now=clock.now)
        sending += bool(report.outcomes)
        clock.now += dt.timedelta(hours=1)
    return sending


def test_the_reminder_job_on_simulated_time(engine: Engine) -> None:
    settings = Settings(database=DatabaseSettings(url="sqlite://"), runs=[RUN])
    clock = Clock(dt.datetime(2023, 10, 22, 0, 0, tzinfo=VN))
    sandbox = SandboxLms(clock=clock)
    lms = lms_for(sandbox)
    ids = _accounts(lms)
    lms.users.update_users([UserUpdate(id=ids["R3"], suspended=True)])
    _seed(engine, ids)
    by_id = {v: k for k, v in ids.items()}
    calls_before = lms.client.stats.calls

    # Days 22 to 27: the 3-day (24th 08:00) and 1-day (26th 08:00) reminders of the due
    # at 00:00 on the 27th.
    sending = _advance(engine, lms, settings, clock, dt.datetime(2023, 10, 27, 1, tzinfo=VN))
    received = Counter(by_id.get(m.useridto) for m in sandbox.site.messages)
    assert received == Counter({"R1": 2, "A1": 2})
    assert sending == 2
    # Nothing is read from the LMS unless a reminder is due: one user check and one send
    # per sending moment (two moments).
    assert lms.client.stats.calls - calls_before == 4
    texts = [m.text for m in sandbox.site.messages if by_id.get(m.useridto) == "R1"]
    assert "còn 3 ngày" in texts[0]
    assert "còn 1 ngày" in texts[1]
    assert all("Toán THCS lớp 1" in t and "2 bài đã nộp chưa được chấm" in t for t in texts)
    assert all("27/10/2023" in t for t in texts)

    records = reminders_of(engine, RUN.id)
    statuses = Counter((r.identity_code, r.status) for r in records)
    assert statuses == Counter({("R1", SENT): 2, ("A1", SENT): 2, ("R3", SKIPPED): 2})
    assert all(r.msgid and r.msgid > 0 for r in records if r.status == SENT)


def test_an_extension_gives_the_new_deadline_its_own_reminders(engine: Engine) -> None:
    settings = Settings(database=DatabaseSettings(url="sqlite://"), runs=[RUN])
    clock = Clock(dt.datetime(2023, 10, 23, 0, 0, tzinfo=VN))
    sandbox = SandboxLms(clock=clock)
    lms = lms_for(sandbox)
    ids = _accounts(lms)
    _seed(engine, ids)
    by_id = {v: k for k, v in ids.items()}

    _advance(engine, lms, settings, clock, dt.datetime(2023, 10, 26, 12, tzinfo=VN))
    assert Counter(by_id.get(m.useridto) for m in sandbox.site.messages)["R1"] == 2
    report = extend_class(
        engine,
        lms,
        settings,
        C1,
        dt.date(2023, 10, 30),
        "Báo cáo viên ốm",
        user="so-gd",
        now=clock.now,
    )
    assert report.change.days == 4
    assert not report.course_in_lms  # the courses were never provisioned here
    _advance(engine, lms, settings, clock, dt.datetime(2023, 11, 1, tzinfo=VN))
    to_r1 = [m for m in sandbox.site.messages if by_id.get(m.useridto) == "R1"]
    assert len(to_r1) == 4
    assert "31/10/2023" in to_r1[2].text
    assert "còn 3 ngày" in to_r1[2].text
    assert dt.datetime.fromtimestamp(to_r1[2].timecreated, VN) == dt.datetime(
        2023, 10, 28, 8, tzinfo=VN
    )
    # C3's reporters got nothing from it: C3 was not extended and its due has passed.
    assert Counter(by_id.get(m.useridto) for m in sandbox.site.messages)["R3"] == 2


def _one_attempt(sandbox: SandboxLms) -> MoodleLms:
    client = MoodleClient(
        "http://sandbox.invalid",
        sandbox.token_for("syncbot"),
        transport=sandbox.transport(),
        retry=RetryPolicy(attempts=1),
    )
    return MoodleLms(client)


def test_a_lost_answer_is_never_resent_and_a_refused_call_is_sent_next_time(
    engine: Engine,
) -> None:
    settings = Settings(database=DatabaseSettings(url="sqlite://"), runs=[RUN])
    clock = Clock(dt.datetime(2023, 10, 24, 9, 0, tzinfo=VN))
    sandbox = SandboxLms(clock=clock)
    lms = _one_attempt(sandbox)
    ids = _accounts(lms)
    _seed(engine, ids)
    by_id = {v: k for k, v in ids.items()}

    # Moodle delivers the messages, the answer is lost: recorded unknown, never re-sent.
    sandbox.inject_fault(SEND_INSTANT_MESSAGES, on_call=1, kind=FaultKind.DROP_RESPONSE)
    lost = remind(engine, lms, settings, RUN.id, now=clock.now)
    assert {o.status for o in lost.outcomes} == {UNKNOWN}
    assert lost.problems
    assert remind(engine, lms, settings, RUN.id, now=clock.now).outcomes == ()
    delivered = Counter(by_id.get(m.useridto) for m in sandbox.site.messages)
    assert delivered == Counter({"R1": 1, "A1": 1, "R3": 1})

    # The 1-day reminder: the connection is refused, nothing arrives; the next call sends.
    clock.now = dt.datetime(2023, 10, 26, 8, 0, tzinfo=VN)
    sandbox.inject_fault(SEND_INSTANT_MESSAGES, on_call=2, kind=FaultKind.CONNECTION_ERROR)
    refused = remind(engine, lms, settings, RUN.id, now=clock.now)
    assert {o.status for o in refused.outcomes} == {FAILED}
    assert len(sandbox.site.messages) == 3
    retried = remind(engine, lms, settings, RUN.id, now=clock.now + dt.timedelta(hours=1))
    assert {o.status for o in retried.outcomes} == {SENT}
    delivered = Counter(by_id.get(m.useridto) for m in sandbox.site.messages)
    assert delivered == Counter({"R1": 2, "A1": 2, "R3": 2})
    assert (
        remind(engine, lms, settings, RUN.id, now=clock.now + dt.timedelta(hours=2)).outcomes == ()
    )


def test_a_dry_run_sends_and_records_nothing(engine: Engine) -> None:
    settings = Settings(database=DatabaseSettings(url="sqlite://"), runs=[RUN])
    clock = Clock(dt.datetime(2023, 10, 24, 9, 0, tzinfo=VN))
    sandbox = SandboxLms(clock=clock)
    lms = lms_for(sandbox)
    _seed(engine, _accounts(lms))
    shown = remind(engine, None, settings, RUN.id, now=clock.now, dry_run=True)
    assert {o.identity_code for o in shown.outcomes} == {"R1", "A1", "R3"}
    assert {o.status for o in shown.outcomes} == {WOULD_SEND}
    assert sandbox.site.messages == []
    assert reminders_of(engine, RUN.id) == []


def test_two_callers_cannot_claim_the_same_reminder(engine: Engine) -> None:
    key = SlotKey(RUN.id, C1, "R1", 3, 1698339600)
    now = dt.datetime(2023, 10, 24, 9, tzinfo=VN)
    first = claim(engine, [Claim(key, 101, 2)], pull_id=None, now=now)
    second = claim(engine, [Claim(key, 101, 2)], pull_id=None, now=now)
    assert list(first) == [key]
    assert second == {}


def test_a_closed_run_sends_no_more_reminders(engine: Engine) -> None:
    """Closed early (``completion close --force``), a grade given now no longer counts:
    the reporters with work waiting are not reminded of it."""
    settings = Settings(database=DatabaseSettings(url="sqlite://"), runs=[RUN])
    clock = Clock(dt.datetime(2023, 10, 24, 9, 0, tzinfo=VN))
    sandbox = SandboxLms(clock=clock)
    lms = lms_for(sandbox)
    _seed(engine, _accounts(lms))
    assert remind(engine, None, settings, RUN.id, now=clock.now, dry_run=True).outcomes
    save_closing(
        engine,
        RunClosing(run_id=RUN.id, status="done", started_at=clock.now, finished_at=clock.now),
    )
    shown = remind(engine, lms, settings, RUN.id, now=clock.now)
    assert shown.outcomes == ()
    assert "đã tổng kết" in shown.notes[0]
    assert sandbox.site.messages == []
    assert reminders_of(engine, RUN.id) == []
