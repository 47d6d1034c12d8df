"""The Excel report and the rich summary, on the sample roster and on tricky values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console

from roster.headers import Field, RosterKind
from roster.importer import import_roster
from roster.model import ImportResult, School
from roster.readers import read_rows
from roster.reasons import Status
from roster.report import REPORT_COLUMNS, SUMMARY_SHEET, summary_table, write_report

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "binhphuoc-2023"


@pytest.fixture(scope="module")
def result() -> ImportResult:
    return import_roster(
        DATA / "hoc-vien.xlsx",
        schools=DATA / "truong.xlsx",
        core_staff=DATA / "bao-cao-vien.xlsx",
        today=dt.date(2023, 8, 1),
    )


@pytest.fixture(scope="module")
def report(result: ImportResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(result, tmp_path_factory.mktemp("report") / "bao-cao-nhap.xlsx")


def test_one_sheet_per_status_after_the_summary(report: Path) -> None:
    workbook = load_workbook(report, read_only=True)
    assert workbook.sheetnames == [SUMMARY_SHEET, "Đã nhập", "Bị từ chối", "Bị loại trừ"]
    workbook.close()


def test_status_sheets_hold_every_row_with_original_columns(
    report: Path, result: ImportResult
) -> None:
    workbook = load_workbook(report)
    counts = result.status_counts()
    for status in Status:
        sheet = workbook[status.label]
        header = [c.value for c in sheet[1]]
        assert header[:3] == ["STT", "Mã định danh", "Họ và tên"]
        assert header[-len(REPORT_COLUMNS) :] == list(REPORT_COLUMNS)
        assert "Kiêm nhiệm HĐTNHN (MĐ 4)" in header
        # the reporters' file rows (all imported) bring their own columns
        assert ("Nhiệm vụ" in header) is (status is Status.IMPORTED)
        assert sheet.max_row - 1 == counts[status]
        assert sheet.freeze_panes == "A2"
        assert all(c.font.b for c in sheet[1])
        assert sheet.column_dimensions["C"].width >= 15
        states = {
            row[header.index("Trạng thái")] for row in sheet.iter_rows(min_row=2, values_only=True)
        }
        assert states == {status.label}
    rejected = workbook["Bị từ chối"]
    header = [c.value for c in rejected[1]]
    reasons = [
        str(row[header.index("Lý do")]) for row in rejected.iter_rows(min_row=2, values_only=True)
    ]
    assert sum(1 for r in reasons if r.startswith("Thiếu email")) == 6
    assert "Thiếu email; Giáo viên Tiếng Anh: bồi dưỡng theo kế hoạch riêng" in " | ".join(reasons)
    imported = workbook["Đã nhập"]
    birth = imported.cell(row=2, column=header.index("Ngày sinh") + 1)
    assert isinstance(birth.value, dt.datetime)  # a date cell stays a date cell
    assert birth.number_format == "DD/MM/YYYY"


def test_summary_sheet_counts(report: Path, result: ImportResult) -> None:
    workbook = load_workbook(report)
    rows = [tuple(r)[:3] for r in workbook[SUMMARY_SHEET].iter_rows(values_only=True)]
    assert rows[0][:3] == ("Trạng thái", None, "Số dòng")
    by_label = {r[0]: r[2] for r in rows[1:5]}
    assert by_label == {
        "Đã nhập": result.status_counts()[Status.IMPORTED],
        "Bị từ chối": 22,
        "Bị loại trừ": result.status_counts()[Status.EXCLUDED],
        "Tổng số dòng đã đọc": result.rows_read,
    }
    assert ("Bị từ chối", "Thiếu email", 6) in rows
    assert ("Bị loại trừ", "Dòng trùng lặp, đã gộp", 5) in rows
    assert workbook[SUMMARY_SHEET]["A1"].font.b


def test_rejected_sheet_can_be_fixed_and_sent_back(report: Path) -> None:
    rows = list(read_rows(report, RosterKind.LEARNERS, sheet="Bị từ chối"))
    assert len(rows) == 22
    assert rows[0].get(Field.IDENTITY_CODE)
    assert rows[0].source.sheet == "Bị từ chối"


def test_rich_summary_table(result: ImportResult) -> None:
    console = Console(width=120, record=True)
    console.print(summary_table(result))
    text = console.export_text()
    for label in ("Đã nhập", "Bị từ chối", "Bị loại trừ", "Thiếu email", "Tổng số dòng đã đọc"):
        assert label in text
    assert "(sau khi sửa vẫn bị loại trừ)" in text


def test_formulas_and_control_characters_are_written_as_text(tmp_path: Path) -> None:
    source = tmp_path / "hv.csv"
    source.write_text(
        "Mã định danh,Họ và tên,Email,Đơn vị công tác,Cấp học,Đối tượng,Môn,Ghi chú,"
        "Đã hoàn thành MĐ 1-2-3\n"
        '7012345678,Lan\x07 Nguyễn,"=HYPERLINK(""x"")",THCS A,THCS,GV,Toán,=1+1,x\n',
        encoding="utf-8",
    )
    schools = [School("BP1", "Trường THCS A", "THCS", "Huyện X", "Cụm X")]
    result = import_roster(source, schools=schools, today=dt.date(2023, 8, 1))
    sheet = load_workbook(write_report(result, tmp_path / "r.xlsx"))["Bị từ chối"]
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert cells["Email"].data_type == "s"
    assert cells["Email"].value == '=HYPERLINK("x")'
    assert cells["Ghi chú"].value == "=1+1"
    assert cells["Ghi chú"].data_type == "s"
    assert cells["Họ và tên"].value == "Lan Nguyễn"
    assert cells["Tệp"].value == "hv.csv"
