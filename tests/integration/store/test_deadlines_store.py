"""Grading deadlines from the state database (SQLite and PostgreSQL): the roster alone
before any pull, the latest finished pull after; the workbooks and calendars written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlmodel import select

from cli.context import AppContext
from cli.deadlines_cmd import OVERVIEW_FILE, show_deadlines
from config.settings import DatabaseSettings, RunSettings, Settings
from store.db import session_scope
from store.deadlines_repo import load_deadline_rows
from store.models import (
    ClassMember,
    ClassStaff,
    Person,
    TrainingClass,
)
from tests.grading_seed import Seat, store_pull

RUN = RunSettings(id="M4-2023", module=4, start=dt.date(2023, 10, 1))
C1 = "M4-2023/THCS/GV/Toán/01"
C2 = "M4-2023/THCS/GV/Toán/02"
# Day 26 (the last grading day of C1) at 23:30 in Viet Nam: still the 26th there.
NOW = dt.datetime(2023, 10, 26, 16, 30, tzinfo=dt.UTC)


def _person(code: str, name: str, email: str = "") -> Person:
    last, _, first = name.rpartition(" ")
    return Person(
        identity_code=code,
        full_name=name,
        lastname=last,
        firstname=first,
        email=email,
        updated_at=dt.datetime(2023, 9, 1, tzinfo=dt.UTC),
    )


def _seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add_all(
            [
                _person("R1", "Nguyễn Thị Lan", "lan@example.vn"),
                _person("R2", "Trần Văn Bình"),
                _person("A1", "Lê Văn Trợ"),
                *(_person(f"L{i}", f"Học Viên {i}") for i in range(1, 6)),
            ]
        )
        session.flush()
        for code, ext in ((C1, 0), (C2, 3)):
            session.add(
                TrainingClass(
                    id=code,
                    run_id=RUN.id,
                    level="THCS",
                    audience="GV",
                    subject="Toán",
                    ordinal=int(code[-1]),
                    name=f"Lớp {code[-2:]}",
                    grading_extension_days=ext,
                )
            )
        # A class of another run must not show up.
        session.add(
            TrainingClass(
                id="M5-2023/X/01",
                run_id="M5-2023",
                level="THCS",
                audience="GV",
                subject="Toán",
                ordinal=1,
                name="x",
            )
        )
        session.flush()
        session.add_all(
            [
                ClassStaff(class_id=C1, identity_code="R1", role="reporter"),
                ClassStaff(class_id=C1, identity_code="A1", role="assistant"),
                ClassStaff(class_id=C2, identity_code="R1", role="reporter"),
                ClassStaff(class_id=C2, identity_code="R2", role="reporter"),
                *(
                    ClassMember(run_id=RUN.id, identity_code=f"L{i}", class_id=C1)
                    for i in (1, 2, 3)
                ),
                *(ClassMember(run_id=RUN.id, identity_code=f"L{i}", class_id=C2) for i in (4, 5)),
            ]
        )


def _pull(engine: Engine, status: str, results: list[Seat]) -> None:
    started = dt.datetime(2023, 10, 25, tzinfo=dt.UTC)
    with session_scope(engine) as session:
        store_pull(session, RUN.id, results, started=started, status=status)


@pytest.fixture
def ctx(database_url: str) -> AppContext:
    return AppContext(settings=Settings(database=DatabaseSettings(url=database_url), runs=[RUN]))


def _run_json(
    ctx: AppContext, capsys: pytest.CaptureFixture[str], out: Path, **filters: str
) -> Any:
    code = show_deadlines(
        ctx,
        [],
        reporter=filters.get("reporter"),
        class_code=filters.get("class_code"),
        out_dir=out,
        as_json=True,
        now=lambda: NOW,
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_roster_only_before_any_pull(
    ctx: AppContext, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _seed(ctx.engine())
    rows = load_deadline_rows(ctx.engine(), RUN.id)
    assert rows.pull_id is None
    assert rows.seats is None
    assert rows.roster == {C1: 3, C2: 2}
    assert [r.identity_code for r in rows.reporters[C1]] == ["R1"]  # not the assistant
    assert sorted(r.identity_code for r in rows.reporters[C2]) == ["R1", "R2"]
    assert rows.extensions == {C1: 0, C2: 3}

    payload = _run_json(ctx, capsys, tmp_path / "out")
    (run,) = payload["runs"]
    classes = {c["class_code"]: c for c in run["classes"]}
    assert classes[C1]["learners"] == 3
    assert classes[C1]["submitted"] is None
    assert classes[C1]["due"] == "2023-10-27T00:00:00+07:00"
    assert classes[C1]["days_left"] == 1
    assert classes[C2]["due"] == "2023-10-30T00:00:00+07:00"
    assert classes[C2]["days_left"] == 4
    ctx.close()


def test_latest_finished_pull_and_files(
    ctx: AppContext, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "deadlines"
    engine = ctx.engine()
    _seed(engine)
    _pull(
        engine,
        "done",
        [
            ("L1", C1, "not_submitted,below_pass_mark", None),
            ("L2", C1, "not_graded", None),
            ("L3", C1, "", 9.0),
            ("L4", C2, "", 7.5),
            ("L5", C2, "not_graded", None),
            ("L6", C2, None, None),  # exempt: neither submitted nor waiting
        ],
    )
    # A newer pull that failed half-way does not count.
    _pull(engine, "failed", [("L1", C1, "", 10.0)])

    payload = _run_json(ctx, capsys, out, reporter="R2")
    (run,) = payload["runs"]
    assert [c["class_code"] for c in run["classes"]] == [C2]
    (c2,) = run["classes"]
    assert (c2["learners"], c2["submitted"], c2["graded"], c2["waiting"]) == (3, 2, 1, 1)

    payload = _run_json(ctx, capsys, out, class_code=C1)
    (run,) = payload["runs"]
    (c1,) = run["classes"]
    assert (c1["learners"], c1["submitted"], c1["graded"], c1["waiting"]) == (3, 2, 1, 1)
    assert not c1["overdue"]

    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "bao-cao-vien-R1.ics",
        "bao-cao-vien-R1.xlsx",
        "bao-cao-vien-R2.ics",
        "bao-cao-vien-R2.xlsx",
        OVERVIEW_FILE,
    ]
    sheet = load_workbook(out / OVERVIEW_FILE).active
    assert sheet is not None
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = values.index(
        [
            "Đợt",
            "Lớp",
            "Báo cáo viên",
            "Học viên",
            "Đã nộp",
            "Đã chấm",
            "Chờ chấm",
            "Hạn chấm",
            "Còn (ngày)",
            "Quá hạn",
        ]
    )
    body = values[header + 1 :]
    assert [row[1] for row in body] == [C1, C2]
    assert body[0][2:9] == ["Nguyễn Thị Lan", 3, 2, 1, 1, "00:00 27/10/2023", 1]
    assert body[1][2] == "Nguyễn Thị Lan, Trần Văn Bình"

    r1 = (out / "bao-cao-vien-R1.ics").read_bytes().decode("utf-8")
    assert r1.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20231026T170000Z" in r1
    assert "DTSTART:20231029T170000Z" in r1
    r2 = (out / "bao-cao-vien-R2.ics").read_bytes().decode("utf-8")
    assert r2.count("BEGIN:VEVENT") == 1
    assert "DTSTART:20231029T170000Z" in r2
    ctx.close()


def test_an_extension_survives_its_class_closing_and_the_overdue_sheet(
    ctx: AppContext, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from cli.deadlines_cmd import OVERDUE_SHEET
    from grading.extend import extend_class
    from store.models import GradingExtension

    engine = ctx.engine()
    _seed(engine)
    _pull(engine, "done", [("L1", C1, "not_graded", None), ("L4", C2, "not_graded", None)])
    report = extend_class(
        engine,
        None,
        ctx.settings,
        C1,
        dt.date(2023, 10, 28),
        "  Báo cáo viên   ốm ",
        user="chuyenvien",
        now=NOW,
    )
    assert (report.change.previous_days, report.change.days) == (0, 2)
    assert report.reason == "Báo cáo viên ốm"
    with session_scope(engine) as session:
        (row,) = session.exec(select(GradingExtension)).all()
        assert (row.class_id, row.until, row.previous_until) == (
            C1,
            dt.date(2023, 10, 28),
            dt.date(2023, 10, 26),
        )
        assert (row.granted_by, row.granted_at) == ("chuyenvien", NOW)
        klass = session.get(TrainingClass, C1)
        assert klass is not None
        assert klass.grading_extension_days == 2
        # A later allocation closes the class and opens it again: its row starts afresh.
        seats = list(session.exec(select(ClassMember).where(ClassMember.class_id == C1)))
        staff = list(session.exec(select(ClassStaff).where(ClassStaff.class_id == C1)))
        kept = [(type(r), r.model_dump()) for r in (*seats, *staff)]
        for dependent in (*seats, *staff):
            session.delete(dependent)
        session.flush()
        session.delete(klass)
        session.flush()
        session.add(
            TrainingClass(
                id=C1, run_id=RUN.id, level="THCS", audience="GV", subject="Toán", ordinal=1,
                name="Lớp 01",
            )
        )  # fmt: skip
        session.flush()
        session.add_all(model(**values) for model, values in kept)
    assert load_deadline_rows(engine, RUN.id).extensions == {C1: 2, C2: 3}

    # Two days past C1's old due, one past C1's new one is still ahead; C2 (due 30/10) too.
    late = dt.datetime(2023, 10, 28, 12, tzinfo=dt.UTC)
    out = tmp_path / "late"
    code = show_deadlines(
        ctx, [], reporter=None, class_code=None, out_dir=out, as_json=True, now=lambda: late
    )
    assert code == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["overdue"] == []
    later = dt.datetime(2023, 10, 29, 12, tzinfo=dt.UTC)  # 19:00 on the 29th in Viet Nam
    show_deadlines(
        ctx, [], reporter=None, class_code=None, out_dir=out, as_json=True, now=lambda: later
    )
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert [c["class_code"] for c in run["overdue"]] == [C1]
    sheet = load_workbook(out / OVERVIEW_FILE)[OVERDUE_SHEET]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    listed = [r[1] for r in rows if r[0] == RUN.id]
    assert listed == [C1]
    ctx.close()
