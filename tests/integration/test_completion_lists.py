"""The completion lists written from a stored pull, reopened with openpyxl and csv."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from config.settings import RunSettings
from grading.lists import ListKind
from grading.publish import NoResults, write_lists
from reports.completion import HEADERS, SUMMARY_HEADER, TITLE
from store.db import session_scope
from store.models import GradingPull, LearnerResult, Person, School

RUN = RunSettings(
    id="M4-2023",
    module=4,
    name="Mô đun 4 năm học 2023-2024",
    start=dt.date(2023, 9, 11),
    concurrent_subjects=["Hoạt động trải nghiệm, hướng nghiệp"],
)
NOW = dt.datetime(2023, 10, 8, 2, 30, tzinfo=dt.UTC)
HOSTILE = '=HYPERLINK("http://evil.example","Bấm")'
TITLE_ROWS = 7  # the title block; the header is the next row


def _person(code: str, name: str, school: str, exemption_reason: str = "") -> Person:
    return Person(
        identity_code=code,
        full_name=name,
        lastname=name.rsplit(" ", 1)[0],
        firstname=name.rsplit(" ", 1)[-1],
        birth_date=dt.date(1980, 1, 2),
        school_code=school,
        level="THCS",
        subject="Toán",
        audience="GV",
        updated_at=NOW,
        exemption="exempt" if exemption_reason else "",
        exemption_reason=exemption_reason,
    )


def _result(
    pull_id: int, code: str, outcome: str, explanation: str = "", seat: str = "main"
) -> LearnerResult:
    return LearnerResult(
        pull_id=pull_id,
        identity_code=code,
        course_idnumber=f"M4-{seat}-{code}",
        run_id=RUN.id,
        class_code="M4-THCS-TOAN-01",
        seat=seat,
        outcome=outcome,
        explanation=explanation,
        survey_answered=outcome == "completed",
        survey_positive=True if outcome == "completed" else None,
    )


def store_sample(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(School(code="S1", name="Trường THCS Tân Phú", district="Đồng Xoài"))
        session.add(School(code="S2", name="Trường THCS An Lộc", district="Bình Long"))
        session.add(_person("001", "Nguyễn Văn Bình", "S1"))
        session.add(_person("002", "Đỗ Thị Ánh", "S1"))
        session.add(_person("003", HOSTILE, "S2"))
        session.add(_person("004", "Lê Văn Cường", "S2"))
        session.add(_person("005", "Trần Thị Em", "S1", "Nghỉ thai sản"))
        old = GradingPull(run_id=RUN.id, started_at=NOW - dt.timedelta(days=1), status="done")
        done = GradingPull(run_id=RUN.id, started_at=NOW, finished_at=NOW, status="done")
        failed = GradingPull(run_id=RUN.id, started_at=NOW + dt.timedelta(hours=1), status="failed")
        session.add_all([old, done, failed])
        session.flush()
        assert old.id is not None
        assert done.id is not None
        assert failed.id is not None
        session.add(_result(old.id, "001", "not_completed", "cũ"))
        session.add(_result(failed.id, "002", "not_completed", "lần lấy bị lỗi"))
        session.add_all(
            [
                _result(done.id, "001", "completed"),
                _result(done.id, "002", "completed"),
                _result(done.id, "003", "not_completed", "-Chưa nộp bài tập cuối khóa"),
                _result(done.id, "004", "completed"),
                _result(done.id, "004", "reference", seat="reference"),
                _result(done.id, "005", "exempt"),
            ]
        )


def _rows(sheet: object) -> list[tuple[object, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]  # type: ignore[attr-defined]


def test_workbooks_per_province_district_and_school(engine: Engine, tmp_path: Path) -> None:
    store_sample(engine)
    written = write_lists(engine, RUN, tmp_path)
    names = sorted(p.name for p in written.files)
    assert names == [
        "phong-binh-long.xlsx",
        "phong-dong-xoai.xlsx",
        "tinh.xlsx",
        "truong-s1.xlsx",
        "truong-s2.xlsx",
    ]
    assert written.counts == {"completed": 3, "not_completed": 1, "exempt": 1, "reference": 1}

    book = load_workbook(tmp_path / "tinh.xlsx")
    assert book.sheetnames == [
        "Hoàn thành",
        "Chưa hoàn thành",
        "Miễn",
        "Môn tham khảo (không cấp CN)",  # Excel allows 31 characters
        "Tổng hợp theo mục tiêu",
    ]
    completed = _rows(book["Hoàn thành"])
    assert completed[0][0] == TITLE
    title = [r[0] for r in completed[:TITLE_ROWS]]
    assert "Đợt bồi dưỡng: Mô đun 4 năm học 2023-2024 (M4-2023)" in title
    assert "Thời gian: từ ngày 11/09/2023 đến ngày 26/09/2023" in title
    assert "Phạm vi: Toàn tỉnh" in title
    assert any(str(t).startswith("Tổng số: 6; hoàn thành: 3; chưa hoàn thành: 1") for t in title)
    assert any("08/10/2023" in str(t) for t in title)  # the pull used: the latest done one
    assert list(completed[TITLE_ROWS]) == HEADERS[ListKind.COMPLETED]
    birth = dt.datetime(1980, 1, 2)
    # By school name (An Lộc before Tân Phú), then folded name (Anh before Binh).
    assert completed[TITLE_ROWS + 1 :] == [
        (1, "Lê Văn Cường", birth, "Trường THCS An Lộc", "THCS", "Toán", "Mô đun 4", "Hoàn thành"),
        (2, "Đỗ Thị Ánh", birth, "Trường THCS Tân Phú", "THCS", "Toán", "Mô đun 4", "Hoàn thành"),
        (
            3,
            "Nguyễn Văn Bình",
            birth,
            "Trường THCS Tân Phú",
            "THCS",
            "Toán",
            "Mô đun 4",
            "Hoàn thành",
        ),
    ]

    sheet = book["Chưa hoàn thành"]
    rows = _rows(sheet)
    assert list(rows[TITLE_ROWS]) == HEADERS[ListKind.NOT_COMPLETED]
    assert rows[TITLE_ROWS + 1] == (
        1,
        HOSTILE,
        birth,
        "Trường THCS An Lộc",
        "THCS",
        "Toán",
        "Mô đun 4",
        "Chưa hoàn thành",
        "-Chưa nộp bài tập cuối khóa",
    )
    name_cell = sheet.cell(row=TITLE_ROWS + 2, column=2)
    assert name_cell.data_type == "s"
    assert name_cell.value == HOSTILE
    assert sheet.cell(row=TITLE_ROWS + 2, column=9).data_type == "s"

    exempt = _rows(book["Miễn"])
    assert exempt[TITLE_ROWS + 1][1] == "Trần Thị Em"
    assert exempt[TITLE_ROWS + 1][-1] == "Nghỉ thai sản"
    reference = _rows(book.worksheets[3])
    assert "Danh sách: Môn tham khảo (không cấp chứng nhận)" in [r[0] for r in reference]
    assert [r[1] for r in reference[TITLE_ROWS + 1 :]] == ["Lê Văn Cường"]
    assert reference[TITLE_ROWS + 1][5] == "Hoạt động trải nghiệm, hướng nghiệp"

    summary = _rows(book["Tổng hợp theo mục tiêu"])
    assert list(summary[TITLE_ROWS]) == SUMMARY_HEADER
    province = summary[TITLE_ROWS + 1]
    assert province[:6] == ("Toàn tỉnh", "Toàn tỉnh", 4, 3, 75.0, "Chưa đạt")
    schools = {r[1]: r[2:4] for r in summary[TITLE_ROWS + 1 :] if r[0] == "Trường"}
    assert schools == {"Trường THCS Tân Phú": (2, 2), "Trường THCS An Lộc": (2, 1)}

    district = load_workbook(tmp_path / "phong-dong-xoai.xlsx")
    assert [r[1] for r in _rows(district["Hoàn thành"])[TITLE_ROWS + 1 :]] == [
        "Đỗ Thị Ánh",
        "Nguyễn Văn Bình",
    ]
    assert _rows(district["Chưa hoàn thành"])[TITLE_ROWS + 1 :] == []
    assert "Phạm vi: Đồng Xoài" in [r[0] for r in _rows(district["Miễn"])]
    school = load_workbook(tmp_path / "truong-s2.xlsx")
    assert "Phạm vi: Trường THCS An Lộc" in [r[0] for r in _rows(school["Hoàn thành"])]


def test_one_school_as_csv(engine: Engine, tmp_path: Path) -> None:
    store_sample(engine)
    written = write_lists(engine, RUN, tmp_path, school="S2", fmt="csv")
    assert sorted(p.name for p in written.files) == [
        "truong-s2-chua-hoan-thanh.csv",
        "truong-s2-hoan-thanh.csv",
        "truong-s2-mien.csv",
        "truong-s2-mon-tham-khao.csv",
        "truong-s2-tong-hop.csv",
    ]
    raw = (tmp_path / "truong-s2-chua-hoan-thanh.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    with (tmp_path / "truong-s2-chua-hoan-thanh.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        HEADERS[ListKind.NOT_COMPLETED],
        [
            "1",
            "'" + HOSTILE,
            "02/01/1980",
            "Trường THCS An Lộc",
            "THCS",
            "Toán",
            "Mô đun 4",
            "Chưa hoàn thành",
            "'-Chưa nộp bài tập cuối khóa",
        ],
    ]
    with (tmp_path / "truong-s2-hoan-thanh.csv").open(encoding="utf-8-sig", newline="") as f:
        assert [r[1] for r in csv.reader(f)][1:] == ["Lê Văn Cường"]


def test_no_finished_pull_or_unknown_school(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(NoResults, match="chưa có lần lấy kết quả"):
        write_lists(engine, RUN, tmp_path / "out")
    store_sample(engine)
    with pytest.raises(NoResults, match="Trường S9"):
        write_lists(engine, RUN, tmp_path / "out", school="S9")
    assert not (tmp_path / "out").exists()
