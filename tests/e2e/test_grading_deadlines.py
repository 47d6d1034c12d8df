"""``bdtx grading deadlines`` on the allocated sample, before any grading pull."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import SAMPLE, as_json, bdtx, flat, isolate, write_config


def test_deadlines_before_any_pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = tmp_path
    isolate(monkeypatch, workdir)
    write_config(workdir)
    assert bdtx("roster", "import", *SAMPLE).exit_code == 1  # the sample has rejected rows
    allocated = bdtx("classes", "allocate", "--json")
    assert allocated.exit_code == (1 if as_json(allocated)["runs"][0]["problems"] else 0)

    result = bdtx("grading", "deadlines")
    assert result.exit_code == 0, result.output
    text = flat(result.output)
    for header in ("Lớp", "Báo cáo viên", "Học viên", "Đã nộp", "Hạn chấm", "Quá hạn"):
        assert header in text
    assert "chưa lấy dữ liệu chấm bài" in text
    out = workdir / "var" / "deadlines"
    assert (out / "tong-quan.xlsx").is_file()

    listing = as_json(bdtx("grading", "deadlines", "--json"))
    (run,) = listing["runs"]
    assert run["pull_id"] is None
    classes = run["classes"]
    assert classes
    # The run starts 2023-09-04: grading is due at 00:00 of day 27, 2023-09-30, local time.
    assert {c["due"] for c in classes if "-KN" not in c["class_code"]} == {
        "2023-09-30T00:00:00+07:00"
    }
    assert all(c["submitted"] is None and c["learners"] > 0 for c in classes)
    assert all(c["overdue"] for c in classes)  # the real clock is long past 2023
    reporter = next(r["identity_code"] for c in classes for r in c["reporters"])
    assert (out / f"bao-cao-vien-{reporter}.ics").is_file()

    one = as_json(bdtx("grading", "deadlines", "--json", "--reporter", reporter))
    mine = one["runs"][0]["classes"]
    assert mine
    assert all(reporter in [r["identity_code"] for r in c["reporters"]] for c in mine)
    assert len(mine) < len(classes)


def test_unknown_run_is_a_settings_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path)
    write_config(tmp_path)
    result = bdtx("grading", "deadlines", "--run", "M9-2099", "--json")
    assert result.exit_code == 2, result.output
    assert as_json(result)["ok"] is False
