"""``bdtx grading remind`` and ``bdtx grading extend`` on the sample, provisioned into the
sandbox LMS, with a run whose grading window is open now (the CLI takes the real clock).

The run starts 24 local days ago: its grading is due at 00:00 the day after tomorrow, so
the 3-day reminder instant (yesterday 08:00) has passed and the 1-day one has not,
whatever the time of day the test runs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from sandbox.lms import SandboxLms
from store.db import make_engine, session_scope
from store.models import ClassStaff, GradingPull, LearnerResult, LmsAccount, TrainingClass
from tests.e2e.test_cli import as_json, bdtx, isolate, write_config

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _start_today_minus_24() -> dt.date:
    return dt.datetime.now(VN).date() - dt.timedelta(days=24)


def _seed_pull(workdir: Path) -> tuple[str, set[int]]:
    """A finished pull where the first class with a reporter has two submissions waiting;
    returns the class and its assessors' LMS ids."""
    engine = make_engine(f"sqlite:///{workdir / 'var' / 'bdtx.sqlite'}")
    try:
        with session_scope(engine) as session:
            staff = list(session.exec(select(ClassStaff).order_by(ClassStaff.class_id)))
            class_id = staff[0].class_id
            klass = session.get(TrainingClass, class_id)
            assert klass is not None
            assessors = {s.identity_code for s in staff if s.class_id == class_id}
            accounts = {
                a.lms_user_id
                for a in session.exec(select(LmsAccount))
                if a.identity_code in assessors
            }
            now = dt.datetime.now(dt.UTC)
            pull = GradingPull(run_id=klass.run_id, started_at=now, finished_at=now, status="done")
            session.add(pull)
            session.flush()
            assert pull.id is not None
            for learner in ("X1", "X2"):
                session.add(
                    LearnerResult(
                        pull_id=pull.id,
                        identity_code=learner,
                        course_idnumber="any",
                        run_id=klass.run_id,
                        class_code=class_id,
                        outcome="not_completed",
                        reasons="not_graded",
                    )
                )
        return class_id, accounts
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("remind")


def test_remind_and_extend(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, workdir)
    config = write_config(workdir)
    start = _start_today_minus_24()
    text = config.read_text("utf-8").replace("start = 2023-09-04", f"start = {start}")
    config.write_text(text, "utf-8")
    assert bdtx("run", "--accept").exit_code in (0, 1)  # the sample has rejected rows

    before = as_json(bdtx("grading", "remind", "--json"))
    assert before["ok"] is True
    assert before["runs"][0]["sent"] == 0
    assert "chưa lấy dữ liệu chấm bài" in " ".join(before["runs"][0]["notes"]).lower()

    class_id, assessor_ids = _seed_pull(workdir)
    dry = as_json(bdtx("grading", "remind", "--json", "--dry-run"))
    (run,) = dry["runs"]
    assert run["sent"] == 0
    assert run["would_send"] == len(assessor_ids) > 0
    assert {m["lms_user_id"] for m in run["messages"]} == assessor_ids

    sent = as_json(bdtx("grading", "remind", "--json"))
    (run,) = sent["runs"]
    assert sent["ok"] is True
    assert run["sent"] == len(assessor_ids)
    message = run["messages"][0]
    assert message["classes"][0]["class_code"] == class_id
    assert message["classes"][0]["offset_days"] == 3
    assert message["classes"][0]["waiting"] == 2
    assert "2 bài đã nộp chưa được chấm" in message["text"]
    sandbox = SandboxLms.load_or_new(workdir / "var" / "sandbox-lms.json")
    assert sorted(m.useridto for m in sandbox.site.messages) == sorted(assessor_ids)

    again = as_json(bdtx("grading", "remind", "--json"))
    assert again["runs"][0]["sent"] == 0  # never twice for the same offset

    # Extending the class: its deadline moves, its enrolments' end moves in the LMS.
    current_last_day = dt.datetime.now(VN).date() + dt.timedelta(days=1)
    refused = bdtx(
        "grading", "extend", "--class", class_id, "--until", str(current_last_day),
        "--reason", "x", "--json",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error_kind"] == "refused"
    unknown = bdtx(
        "grading", "extend", "--class", "NO-SUCH", "--until", "2030-01-01", "--reason", "x",
        "--json",
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert "Không có lớp NO-SUCH" in json.loads(unknown.stdout)["error"]

    until = current_last_day + dt.timedelta(days=5)
    result = bdtx(
        "grading", "extend", "--class", class_id, "--until", str(until),
        "--reason", "Báo cáo viên ốm", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    extended = as_json(result)
    assert extended["extension_days"] == 5
    assert extended["until"] == str(until)
    assert extended["granted_by"]
    assert extended["lms"]["assignment_dates_changed"] is False
    assert extended["lms"]["enrolments_updated"] > 0
    # The new grading due (00:00 after `until`) plus enrolment_grace_days (2), as the
    # command says: real Moodle 4.5 had exactly that end after the same command.
    end = dt.datetime.combine(until + dt.timedelta(days=1 + 2), dt.time(), VN)
    assert extended["lms"]["enrolment_end"] == end.isoformat()
    new_end = int(end.timestamp())
    sandbox = SandboxLms.load_or_new(workdir / "var" / "sandbox-lms.json")
    site = sandbox.site
    group = next(g for g in site.groups.values() if g.idnumber == class_id)
    members = set(site.group_members[group.id])
    ends = {e.timeend for e in site.enrolments[group.courseid].values() if e.userid in members}
    assert ends == {new_end}

    deadlines = as_json(bdtx("grading", "deadlines", "--json", "--class", class_id))
    (row,) = deadlines["runs"][0]["classes"]
    assert (
        row["due"] == dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), VN).isoformat()
    )

    # The new deadline has reminders of its own, but not before their time.
    later = as_json(bdtx("grading", "remind", "--json"))
    assert later["runs"][0]["sent"] == 0

    text_out = bdtx(
        "grading", "extend", "--class", class_id, "--until", str(until), "--reason", "x"
    )
    assert text_out.exit_code == 1
    assert "không sau hạn chấm hiện tại" in " ".join(text_out.output.split())
