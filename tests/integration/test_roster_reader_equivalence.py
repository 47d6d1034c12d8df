"""The calamine reader gives exactly the rows openpyxl gave: same rows, same values, types.

The reference is the former reader, openpyxl in read-only mode (values of formulas as
last computed, the sheet's recorded size ignored), with the same header search and the
same rule for empty rows. Checked on the sample province's three files and on a sheet
holding every kind of cell value.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from roster.errors import RosterFormatError
from roster.headers import Field, HeaderMap, RosterKind, find_header
from roster.readers import HEADER_SCAN_ROWS, read_any, read_rows
from roster.text import is_blank

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "binhphuoc-2023"
SAMPLE = [
    ("truong.xlsx", RosterKind.SCHOOLS),
    ("hoc-vien.xlsx", RosterKind.LEARNERS),
    ("bao-cao-vien.xlsx", RosterKind.CORE_STAFF),
]

Row = tuple[int, tuple[object, ...]]


def openpyxl_rows(path: Path, kind: RosterKind) -> tuple[HeaderMap, list[Row]]:
    """(header, [(row number, values)]) as the openpyxl reader produced them."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook.worksheets[0]
        worksheet.reset_dimensions()  # type: ignore[union-attr]
        rows = [tuple(r) for r in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    header = find_header(enumerate(rows[:HEADER_SCAN_ROWS], start=1), kind)
    width = len(header.columns)
    row_number_column = header.index.get(Field.ROW_NUMBER)  # STT alone: an empty row
    found: list[Row] = []
    for number, row in enumerate(rows[header.row :], start=header.row + 1):
        values = row[:width] + (None,) * (width - len(row))
        if not all(is_blank(v) for i, v in enumerate(values) if i != row_number_column):
            found.append((number, values))
    return header, found


def calamine_rows(path: Path, kind: RosterKind) -> tuple[HeaderMap, list[Row]]:
    rows = list(read_rows(path, kind))
    assert rows, path
    return rows[0].header, [(r.source.row, r.values) for r in rows]


def typed(rows: list[Row]) -> list[tuple[int, tuple[tuple[str, object], ...]]]:
    """Values with their types: 7 and 7.0, or a date and a datetime, are not the same."""
    return [(n, tuple((type(v).__name__, v) for v in values)) for n, values in rows]


@pytest.mark.parametrize(("name", "kind"), SAMPLE)
def test_the_sample_files_read_exactly_as_before(name: str, kind: RosterKind) -> None:
    old_header, old_rows = openpyxl_rows(DATA / name, kind)
    new_header, new_rows = calamine_rows(DATA / name, kind)
    assert new_header == old_header
    assert len(new_rows) == len(old_rows) > 100
    assert typed(new_rows) == typed(old_rows)


def test_every_kind_of_cell_reads_as_before(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet["B2"] = "DANH SÁCH TRƯỜNG"  # a title: the table does not start at A1
    headers = ["STT", "Mã trường", "Tên trường", "Số", "Ngày", "Giờ", "Cờ", "Thời lượng"]
    for column, text in enumerate(headers, start=2):
        sheet.cell(row=4, column=column, value=text)
    values: list[object] = [1, "BP0001", "Trường A", 1.5, dt.datetime(1985, 9, 26), dt.time(7, 30),
                            True, dt.timedelta(hours=30)]  # fmt: skip
    for column, value in enumerate(values, start=2):
        sheet.cell(row=5, column=column, value=value)
    sheet.cell(row=8, column=3, value="BP0002")  # after two empty rows
    sheet.cell(row=8, column=4, value=7043896584)
    sheet.cell(row=8, column=5, value=-2.0)
    path = tmp_path / "truong.xlsx"
    workbook.save(path)

    _, old_rows = openpyxl_rows(path, RosterKind.SCHOOLS)
    _, new_rows = calamine_rows(path, RosterKind.SCHOOLS)
    assert [n for n, _ in new_rows] == [5, 8]
    assert typed(new_rows) == typed(old_rows)
    assert new_rows[1][1][:4] == (None, None, "BP0002", 7043896584)
    assert new_rows[0][1][5:8] == (dt.datetime(1985, 9, 26), dt.time(7, 30), True)


# -- recognising the kind of a file: each sheet loaded once -----------------------------

KINDS = (RosterKind.SCHOOLS, RosterKind.CORE_STAFF, RosterKind.LEARNERS)


@pytest.mark.parametrize(("name", "kind"), SAMPLE)
def test_read_any_recognises_each_sample_file_and_reads_the_same_rows(
    name: str, kind: RosterKind
) -> None:
    found, rows = read_any(DATA / name, KINDS)
    assert found is kind
    assert [(r.source, r.values) for r in rows] == [
        (r.source, r.values) for r in read_rows(DATA / name, kind)
    ]


def test_read_any_takes_the_first_fitting_kind_over_every_sheet(tmp_path: Path) -> None:
    schools = [["Mã trường", "Tên trường"], ["BP0001", "Trường THCS Tân Phú"]]
    header = ["Mã định danh", "Họ và tên", "Email", "Đơn vị công tác", "Cấp học", "Đối tượng"]
    learners = [
        [*header, "Môn bồi dưỡng"],
        ["7012345678", "Nguyễn Thị Lan", "lan@x.vn", "BP0001", "THCS", "GV", "Toán"],
    ]
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = "Học viên"
    for row in learners:
        first.append(row)
    second = workbook.create_sheet("Trường")
    for row in schools:
        second.append(row)
    path = tmp_path / "hai-trang.xlsx"
    workbook.save(path)

    kind, rows = read_any(path, KINDS)
    assert kind is RosterKind.SCHOOLS  # as trying read_rows kind after kind did
    assert [r.source.sheet for r in rows] == ["Trường"]
    kind, rows = read_any(path, (RosterKind.CORE_STAFF, RosterKind.LEARNERS))
    assert kind is RosterKind.LEARNERS
    assert [r.source.row for r in rows] == [2]


def test_read_any_on_no_roster_raises_the_last_kinds_error(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Điểm"
    sheet.append(["Lớp", "Điểm TB"])
    path = tmp_path / "bang-diem.xlsx"
    workbook.save(path)
    with pytest.raises(RosterFormatError) as expected:
        list(read_rows(path, RosterKind.LEARNERS))
    with pytest.raises(RosterFormatError) as caught:
        read_any(path, KINDS)
    assert str(caught.value) == str(expected.value)


def test_read_any_reads_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "truong.csv"
    path.write_text("Mã trường;Tên trường\nBP0001;Trường THCS Tân Phú\n", encoding="utf-8-sig")
    kind, rows = read_any(path, KINDS)
    assert kind is RosterKind.SCHOOLS
    assert [r.values for r in rows] == [("BP0001", "Trường THCS Tân Phú")]
