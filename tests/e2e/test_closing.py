"""Closing module 4 of the sample province: refused before the grading window ends, then
last pull, write-back (the sandbox's course completion follows for exactly the completed
learners), lists, all once; and ``bdtx completion close`` as an operator runs it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from connector.completion import OVERRIDE_ACTIVITY_COMPLETION_STATUS
from grading.closing import ClosingReport, ClosingTooEarly, close_run
from sandbox.lms import SandboxLms
from sandbox.options import TEMPLATE_D0
from store.closing_repo import closing_of, journal_of
from store.db import session_scope
from store.models import RunClosing
from tests.e2e.provisioning import Province, provisioned_sample
from tests.e2e.test_cli import as_json, bdtx, isolate, write_config
from tests.e2e.test_grading_pull import _first_class, _grade, _quiz, _submit

DAY = 86400
BEFORE_RUN = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)
IN_THE_GRADING_WINDOW = dt.datetime(2023, 9, 25, 8, 0, tzinfo=dt.UTC)
# The grading deadline: 2023-09-30 00:00 +07:00; enrolments end two days later.
AT_THE_DEADLINE = dt.datetime(2023, 9, 29, 17, 30, tzinfo=dt.UTC)
RUN = "M4-2023"


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    province = provisioned_sample(tmp_path_factory.mktemp("closing"), BEFORE_RUN)
    yield province
    province.ctx.close()


@pytest.fixture(scope="module")
def completed(province: Province) -> dict[str, bool]:
    """In one class: three learners complete, one is graded below the mark."""
    lms = province.ctx.sandbox()
    one = _first_class(lms)
    learners = list(one.learners.items())[:4]
    lms.clock = lambda: float(TEMPLATE_D0 + 10 * DAY)
    for _, username in learners:
        _quiz(lms, username, one.quiz_id, correct=True)
        _submit(lms, username, one.assign_id)
    for (_, username), grade in zip(learners, (80.0, 90.0, 60.0, 20.0), strict=True):
        _grade(lms, one.reporter, one.assign_id, username, grade)
    return {code: grade >= 50 for (code, _), grade in zip(learners, (80, 90, 60, 20), strict=True)}


def _close(province: Province, now: dt.datetime, folder: Path) -> ClosingReport:
    ctx = province.ctx
    ctx.sandbox().clock = lambda: now.timestamp()
    return close_run(ctx.engine(), ctx.lms(), ctx.settings, RUN, now=now, lists_dir=folder)


def _course_completed(lms: SandboxLms, code: str) -> bool:
    [user] = lms.site.users_by_idnumber[code]
    [course] = [
        c
        for c in lms.site.courses.values()
        if c.idnumber.startswith("BDTX-") and lms.site.is_enrolled(c.id, user)
    ]
    status = lms.call(
        "core_completion_get_course_completion_status", {"courseid": course.id, "userid": user}
    )
    return bool(status["completionstatus"]["completed"])


def test_closing_is_refused_before_the_grading_window_ends(
    province: Province, completed: dict[str, bool], tmp_path: Path
) -> None:
    with pytest.raises(ClosingTooEarly) as refused:
        _close(province, IN_THE_GRADING_WINDOW, tmp_path)
    assert "chưa hết thời hạn chấm bài (đến 00:00 ngày 30/09/2023)" in str(refused.value)
    assert "--force" in str(refused.value)
    assert closing_of(province.ctx.engine(), RUN) is None


def test_the_closing_writes_back_exactly_the_completed_and_lists_them_once(
    province: Province, completed: dict[str, bool], tmp_path: Path
) -> None:
    report = _close(province, AT_THE_DEADLINE, tmp_path)

    assert report.status == "done"
    assert report.counts["completed"] == 3
    assert report.counts["writeback:done"] == 3
    assert not any("hết thời hạn ghi danh" in p for p in report.problems)  # one call a course
    lms = province.ctx.sandbox()
    assert {code: _course_completed(lms, code) for code in completed} == completed
    journal = journal_of(province.ctx.engine(), RUN)
    assert sorted(r.identity_code for r in journal) == sorted(
        c for c, ok in completed.items() if ok
    )
    assert (tmp_path / RUN / "tinh.xlsx").exists()
    assert report.files
    assert all(Path(f).exists() for f in report.files)

    before = {n: s.calls for n, s in province.ctx.lms().client.stats.snapshot().items()}
    stamps = {f: Path(f).stat().st_mtime_ns for f in report.files}
    again = _close(province, AT_THE_DEADLINE + dt.timedelta(hours=1), tmp_path)

    after = {n: s.calls for n, s in province.ctx.lms().client.stats.snapshot().items()}
    assert again.status == "already_closed"
    assert (again.pull_id, again.files) == (report.pull_id, report.files)
    assert after == before  # not one LMS call
    assert {f: Path(f).stat().st_mtime_ns for f in report.files} == stamps


def test_a_closing_left_running_resumes_from_its_pull_and_journal(
    province: Province, tmp_path: Path
) -> None:
    """Runs after the closing above: its record reopened, as a crash before the end leaves it."""
    engine = province.ctx.engine()
    closing = closing_of(engine, RUN)
    assert closing is not None
    assert closing.status == "done"
    with session_scope(engine) as session:
        row = session.get(RunClosing, RUN)
        assert row is not None
        row.status = "running"
    lms = province.ctx.sandbox()
    calls = lms.faults.calls(OVERRIDE_ACTIVITY_COMPLETION_STATUS)

    resumed = _close(province, AT_THE_DEADLINE + dt.timedelta(hours=2), tmp_path)

    assert (resumed.status, resumed.resumed, resumed.pull_id) == ("done", True, closing.pull_id)
    assert resumed.writeback is not None
    assert resumed.writeback.sent == 0
    assert lms.faults.calls(OVERRIDE_ACTIVITY_COMPLETION_STATUS) == calls
    with session_scope(engine) as session:
        assert len(session.exec(select(RunClosing)).all()) == 1


# -- the command ---------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    write_config(tmp_path)
    return tmp_path


def test_the_command_refuses_early_then_force_closes_once(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cli.main

    monkeypatch.setattr(cli.main, "_now", lambda: IN_THE_GRADING_WINDOW)
    result = bdtx("completion", "close", "--run", RUN, "--json")
    assert result.exit_code == 4
    body = as_json(result)
    assert (body["ok"], body["error_kind"], body["exit_code"]) == (False, "too_early", 4)
    assert "chưa hết thời hạn chấm bài" in body["error"]

    result = bdtx("completion", "close", "--run", RUN, "--force", "--json")
    assert result.exit_code == 0, result.output
    body = as_json(result)
    assert (body["ok"], body["status"], body["forced"]) == (True, "done", True)
    assert body["files"] == [str(Path("var/lists") / RUN / "tinh.xlsx")]
    assert (workdir / "var" / "lists" / RUN / "tinh.xlsx").exists()

    result = bdtx("completion", "close", "--run", RUN)
    assert result.exit_code == 0, result.output
    assert f"Đợt {RUN} đã được tổng kết" in result.output
