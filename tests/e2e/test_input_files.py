"""``bdtx roster import`` on lists the reader must refuse as a whole, and on Excel's
UTF-16 text: one Vietnamese message, exit 5 (issue 7, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import SCHOOLS, bdtx, isolate, write_config

HEADER = "Mã định danh,Họ và tên,Email,Đơn vị công tác,Cấp học,Đối tượng,Môn"
ROW = "7012345601,Nguyễn Văn An,an.nguyen@gmail.com,Trường THCS Tiến Hưng,THCS,GV,Toán"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    write_config(tmp_path)
    return tmp_path


def test_a_repeated_column_is_named_and_nothing_is_imported(workdir: Path) -> None:
    learners = workdir / "hv.csv"
    learners.write_text(f"{HEADER},Đã học MĐ 1 2 3,E-mail\n{ROW},x,khac@gmail.com\n", "utf-8")
    result = bdtx("roster", "import", SCHOOLS, learners, "--json")
    assert result.exit_code == 5, result.output
    error = json.loads(result.stdout)["error"]
    assert error.startswith("Tệp “hv.csv”: dòng tiêu đề 1 có cột trùng nhau: Email")
    assert "“E-mail”" in error


def test_a_missing_eligibility_column_is_refused_unless_configured(workdir: Path) -> None:
    learners = workdir / "hv.csv"
    learners.write_text(f"{HEADER}\n{ROW}\n", "utf-8")
    refused = bdtx("roster", "import", SCHOOLS, learners, "--dry-run")
    assert refused.exit_code == 5, refused.output
    assert "Đã hoàn thành MĐ 1, 2, 3" in refused.output

    config = workdir / "bdtx.toml"
    text = config.read_text("utf-8").replace(
        "[roster]\n", '[roster]\nassume_modules_123 = "done"\n'
    )
    config.write_text(text, "utf-8")
    accepted = bdtx("roster", "import", SCHOOLS, learners, "--dry-run", "--json")
    assert accepted.exit_code == 0, accepted.output
    summary = json.loads(accepted.stdout)
    assert summary["imported"] == 1
    assert any("coi là đã hoàn thành" in w for w in summary["warnings"])


def test_excel_unicode_text_is_imported(workdir: Path) -> None:
    learners = workdir / "hv.txt"
    text = f"{HEADER},Đã học MĐ 1 2 3\r\n{ROW},x\r\n".replace(",", "\t")
    learners.write_bytes(text.encode("utf-16"))
    result = bdtx("roster", "import", SCHOOLS, learners, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["imported"] == 1
