"""The Excel writer's package, read back by openpyxl and by calamine: values, types,
styles, frozen panes, widths and filters as written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from reports.xlsx import SafeWorkbook, column_letter


def test_column_letters() -> None:
    assert [column_letter(i) for i in (1, 26, 27, 52, 703, 16384)] == [
        "A", "Z", "AA", "AZ", "AAA", "XFD"
    ]  # fmt: skip


def test_values_styles_and_layout_read_back(tmp_path: Path) -> None:
    book = SafeWorkbook()
    sheet = book.sheet("Danh sách", widths=[8, 30], freeze="B3", auto_filter="A2:F3")
    sheet.title_block(["Trường THCS Tân Phú & <Cụm 1>"])
    sheet.header(["STT", "Họ và tên", "Ngày sinh", "Điểm", "Đạt", "Ghi chú"])
    born = dt.date(1985, 9, 26)
    sheet.row([1, "  Nguyễn Thị Lan ", born, 7.25, True, None])
    book.sheet("Danh sách")  # a repeated title gets a number, as in Excel
    path = book.save(tmp_path / "ds.xlsx")

    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Danh sách", "Danh sách1"]
    ws = workbook["Danh sách"]
    assert ws["A1"].value == "Trường THCS Tân Phú & <Cụm 1>"
    assert ws["A1"].font.b
    assert [c.value for c in ws[2]] == ["STT", "Họ và tên", "Ngày sinh", "Điểm", "Đạt", "Ghi chú"]
    assert all(c.font.b and c.fill.fgColor.rgb.endswith("DDEBF7") for c in ws[2])
    assert [c.value for c in ws[3]] == [
        1, "  Nguyễn Thị Lan ", dt.datetime(1985, 9, 26), 7.25, True, None
    ]  # fmt: skip
    assert ws["C3"].number_format == "DD/MM/YYYY"
    assert not ws["B3"].font.b
    assert ws.freeze_panes == "B3"
    assert ws.auto_filter.ref == "A2:F3"
    assert ws.column_dimensions["B"].width == 30

    calamine = CalamineWorkbook.from_path(str(path))
    rows = calamine.get_sheet_by_name("Danh sách").to_python()
    assert rows[2][:5] == [1, "  Nguyễn Thị Lan ", born, 7.25, True]


def test_an_empty_workbook_still_has_a_sheet(tmp_path: Path) -> None:
    path = SafeWorkbook().save(tmp_path / "rong.xlsx")
    assert load_workbook(path).sheetnames == ["Sheet"]
