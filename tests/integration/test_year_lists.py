"""The year results from the stored pulls of two runs, reopened with openpyxl and csv."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from config.settings import RunSettings, Settings
from grading.publish import NoResults, write_year_lists
from reports.year import HEADERS, TITLE
from store.db import session_scope
from store.models import GradingPull, LearnerResult, RunClosing
from tests.integration.test_completion_lists import HOSTILE, NOW, store_sample

M5 = RunSettings(id="M5-2023", module=5, name="Mô đun 5", start=dt.date(2023, 11, 6))
M4 = RunSettings(id="M4-2023", module=4, name="Mô đun 4", start=dt.date(2023, 9, 11))


def _settings(**extra: object) -> Settings:
    return Settings(runs=[M4, M5], **extra)  # type: ignore[arg-type]


def _store_m5(engine: Engine, outcomes: dict[str, str], *, close: bool) -> None:
    with session_scope(engine) as session:
        pull = GradingPull(run_id=M5.id, started_at=NOW, finished_at=NOW, status="done")
        later = GradingPull(run_id=M5.id, started_at=NOW, finished_at=NOW, status="done")
        session.add_all([pull, later])
        session.flush()
        assert pull.id is not None
        assert later.id is not None
        for code, outcome in outcomes.items():
            for pull_id in (pull.id, later.id):
                session.add(
                    LearnerResult(
                        pull_id=pull_id,
                        identity_code=code,
                        course_idnumber=f"M5-{code}",
                        run_id=M5.id,
                        # a pull after the closing: not what the year counts
                        outcome=outcome if pull_id == pull.id else "not_completed",
                    )
                )
        if close:
            session.add(RunClosing(run_id=M5.id, status="done", started_at=NOW, pull_id=pull.id))


def test_two_modules_of_two_required_complete_the_year(engine: Engine, tmp_path: Path) -> None:
    store_sample(engine)  # M4: 001, 002, 004 completed, 003 not, 005 exempt
    _store_m5(engine, {"001": "completed", "003": "completed", "004": "not_completed"}, close=True)

    written = write_year_lists(engine, _settings(year_modules=2), 2023, tmp_path)

    assert written.runs == ["M4-2023", "M5-2023"]
    assert written.counts == {"completed": 1, "not_completed": 3, "exempt": 1}
    assert sorted(p.name for p in written.files) == [
        "tinh.xlsx",
        "truong-s1.xlsx",
        "truong-s2.xlsx",
    ]
    rows = list(load_workbook(tmp_path / "tinh.xlsx")["Kết quả năm"].iter_rows(values_only=True))
    assert rows[0][0] == TITLE
    assert "Yêu cầu: hoàn thành ít nhất 2 mô đun trong năm" in [r[0] for r in rows[:5]]
    assert list(rows[5]) == HEADERS
    table = [(r[1], r[6], r[7], r[8], r[9]) for r in rows[6:]]
    assert table == [
        (HOSTILE, 1, "Mô đun 5", "Không hoàn thành kế hoạch BDTX", "Còn thiếu 1 mô đun"),
        ("Lê Văn Cường", 1, "Mô đun 4", "Không hoàn thành kế hoạch BDTX", "Còn thiếu 1 mô đun"),
        ("Đỗ Thị Ánh", 1, "Mô đun 4", "Không hoàn thành kế hoạch BDTX", "Còn thiếu 1 mô đun"),
        ("Nguyễn Văn Bình", 2, "Mô đun 4, Mô đun 5", "Hoàn thành kế hoạch BDTX", None),
        ("Trần Thị Em", 0, None, "Miễn BDTX", "Nghỉ thai sản"),
    ]
    hostile = load_workbook(tmp_path / "truong-s2.xlsx")["Kết quả năm"].cell(row=7, column=2)
    assert (hostile.value, hostile.data_type) == (HOSTILE, "s")


def test_csv_and_a_run_without_results(engine: Engine, tmp_path: Path) -> None:
    store_sample(engine)

    written = write_year_lists(engine, _settings(), 2023, tmp_path, fmt="csv")

    assert written.runs == ["M4-2023"]
    assert written.problems == ["Đợt M5-2023 (mô đun 5) chưa có kết quả: chưa được tính."]
    with (tmp_path / "tinh.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADERS
    assert rows[1][1] == "'" + HOSTILE
    assert {r[8] for r in rows[1:]} == {"Không hoàn thành kế hoạch BDTX", "Miễn BDTX"}


def test_a_year_without_results_says_so(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(NoResults, match="Năm 2024 chưa có đợt bồi dưỡng nào có kết quả"):
        write_year_lists(engine, _settings(), 2024, tmp_path)
