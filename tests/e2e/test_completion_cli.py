"""``bdtx completion list`` as an operator runs it: files, JSON summary, no-pull message."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook

from store.db import make_engine, migrate
from tests.e2e.test_cli import as_json, bdtx, isolate, write_config
from tests.integration.test_completion_lists import HOSTILE, store_sample


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    write_config(tmp_path)
    (tmp_path / "var").mkdir()
    return tmp_path


def _fill(workdir: Path) -> None:
    engine = make_engine(f"sqlite:///{workdir / 'var' / 'bdtx.sqlite'}")
    try:
        migrate(engine)
        store_sample(engine)
    finally:
        engine.dispose()


def test_without_a_pull_says_so_and_exits_1(workdir: Path) -> None:
    result = bdtx("completion", "list", "--run", "M4-2023", "--json")
    assert result.exit_code == 1
    body = as_json(result)
    assert body["ok"] is False
    assert "chưa có lần lấy kết quả nào hoàn tất" in body["error"]
    assert "bdtx grading pull --run M4-2023" in body["error"]
    assert not (workdir / "var" / "lists").exists()


def test_lists_every_scope_then_one_school_as_csv(workdir: Path) -> None:
    _fill(workdir)
    result = bdtx("completion", "list", "--run", "M4-2023", "--json")
    assert result.exit_code == 0, result.output
    body = as_json(result)
    folder = Path("var/lists/M4-2023")
    assert sorted(body["files"]) == sorted(
        str(folder / name)
        for name in (
            "tinh.xlsx",
            "phong-binh-long.xlsx",
            "phong-dong-xoai.xlsx",
            "truong-s1.xlsx",
            "truong-s2.xlsx",
        )
    )
    assert body["counts"] == {"completed": 3, "not_completed": 1, "exempt": 1, "reference": 1}
    book = load_workbook(workdir / folder / "truong-s2.xlsx")
    names = [row[1] for row in book["Chưa hoàn thành"].iter_rows(min_row=9, values_only=True)]
    assert names == [HOSTILE]
    assert book["Chưa hoàn thành"].cell(row=9, column=2).data_type == "s"

    result = bdtx("completion", "list", "--run", "M4-2023", "--school", "S1", "--format", "csv")
    assert result.exit_code == 0, result.output
    with (workdir / folder / "truong-s1-hoan-thanh.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert [r[1] for r in rows[1:]] == ["Đỗ Thị Ánh", "Nguyễn Văn Bình"]
    assert not (workdir / folder / "truong-s2-hoan-thanh.csv").exists()


def test_unknown_school_and_bad_format(workdir: Path) -> None:
    _fill(workdir)
    result = bdtx("completion", "list", "--run", "M4-2023", "--school", "S9")
    assert result.exit_code == 1
    assert "Trường S9 không có học viên nào" in result.output
    result = bdtx("completion", "list", "--run", "M4-2023", "--format", "pdf")
    assert result.exit_code == 2


def test_year_results_as_json_and_without_results(workdir: Path) -> None:
    result = bdtx("completion", "year", "--json")
    assert result.exit_code == 1
    body = as_json(result)
    assert (body["ok"], body["error_kind"]) == (False, "no_results")
    assert "Năm 2023 chưa có đợt bồi dưỡng nào có kết quả" in body["error"]

    _fill(workdir)
    result = bdtx("completion", "year", "--year", "2023", "--json")
    assert result.exit_code == 0, result.output
    body = as_json(result)
    folder = Path("var/lists/nam-2023")
    assert body == {
        "ok": True,
        "year": 2023,
        "runs": ["M4-2023"],
        "required": 3,
        "files": [str(folder / n) for n in ("tinh.xlsx", "truong-s1.xlsx", "truong-s2.xlsx")],
        "counts": {"completed": 0, "not_completed": 4, "exempt": 1},
        "problems": [],
    }
    sheet = load_workbook(workdir / folder / "tinh.xlsx")["Kết quả năm"]
    assert (
        sheet.cell(row=1, column=1).value
        == "DANH SÁCH KẾT QUẢ THỰC HIỆN KẾ HOẠCH BỒI DƯỠNG THƯỜNG XUYÊN"
    )
