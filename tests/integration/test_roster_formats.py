"""Reading real files: xlsx below title rows, CSV with or without BOM, and garbage.

Every file that is not a roster gives one ``RosterFormatError`` with a Vietnamese message
naming the file (and the sheet when there is one); never another exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook

from roster.errors import RosterFormatError
from roster.headers import Field, RosterKind
from roster.importer import ImportOptions, import_roster
from roster.model import School
from roster.readers import read_rows
from roster.validate import ValidationRules

HEADERS = ["STT", "Mã định danh", "Họ và tên", "Ngày sinh", "Email", "Đơn vị công tác",
           "Cấp học", "Đối tượng", "Môn bồi dưỡng", "Ghi chú"]  # fmt: skip
ROW = [1, "7012345678", "Nguyễn Thị Lan", dt.datetime(1985, 9, 26), "lannt@gmail.com",
       "Trường THCS Tân Phú", "THCS", "GV", "Toán", None]  # fmt: skip
SCHOOLS = [School("BP0001", "Trường THCS Tân Phú", "THCS", "Thành phố Đồng Xoài", "Cụm 1")]


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def read_all(path: Path, kind: RosterKind = RosterKind.LEARNERS, **kwargs: object) -> list:  # type: ignore[type-arg]
    return list(read_rows(path, kind, **kwargs))  # type: ignore[arg-type]


def format_error(path: Path, kind: RosterKind = RosterKind.LEARNERS, **kwargs: object) -> str:
    with pytest.raises(RosterFormatError) as caught:
        read_all(path, kind, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"Tệp “{path.name}”")
    assert "\n" not in message
    return message


# -- good files ---------------------------------------------------------------------


def test_xlsx_with_title_rows_keeps_values_and_sources(tmp_path: Path) -> None:
    title = ["DANH SÁCH CBQL, GV THAM GIA BỒI DƯỠNG NĂM 2023"]
    path = write_xlsx(tmp_path / "hv.xlsx", {"Học viên": [title, [], HEADERS, ROW, [], ROW]})
    rows = read_all(path)
    assert [r.source.row for r in rows] == [4, 6]  # the empty row 5 is not data
    assert rows[0].source.file == "hv.xlsx"
    assert rows[0].source.sheet == "Học viên"
    assert rows[0].get(Field.BIRTH_DATE) == dt.datetime(1985, 9, 26)
    assert rows[0].get(Field.EMAIL) == "lannt@gmail.com"
    assert rows[0].header.columns == tuple(HEADERS)


def test_rows_with_only_a_row_number_are_empty(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "hv.xlsx", {"S": [HEADERS, ROW, [2], [3]]})
    assert len(read_all(path)) == 1


def test_first_sheet_with_a_roster_is_read_or_the_named_one(tmp_path: Path) -> None:
    sheets: dict[str, Sequence[Sequence[object]]] = {
        "Hướng dẫn": [["Điền danh sách ở trang sau"]],
        "DS": [HEADERS, ROW],
    }
    path = write_xlsx(tmp_path / "hv.xlsx", sheets)
    assert read_all(path)[0].source.sheet == "DS"
    assert read_all(path, sheet="DS")[0].source.sheet == "DS"
    message = format_error(path, sheet="Khác")
    assert "không có trang tính “Khác”" in message
    assert "“Hướng dẫn”, “DS”" in message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_with_or_without_bom(tmp_path: Path, encoding: str, delimiter: str) -> None:
    lines = ["DANH SÁCH HỌC VIÊN", delimiter.join(HEADERS),
             delimiter.join(["1", "7012345678", "Nguyễn Thị Lan", "26/09/1985", "lannt@gmail.com",
                             "Trường THCS Tân Phú", "THCS", "GV", "Toán", ""])]  # fmt: skip
    path = tmp_path / "hv.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding=encoding)
    (row,) = read_all(path)
    assert row.header.columns[0] == "STT"  # no BOM glued to the first header
    assert row.get(Field.IDENTITY_CODE) == "7012345678"
    assert row.source.sheet is None
    assert row.source.row == 3


def test_header_override_from_configuration(tmp_path: Path) -> None:
    headers = ["Mã CB", "Họ và tên", "Thư công vụ", "Trường", "Cấp", "Đối tượng", "Môn"]
    values = ["7012345678", "Nguyễn Thị Lan", "lannt@gmail.com", "Trường THCS Tân Phú",
              "THCS", "GV", "Toán"]  # fmt: skip
    path = write_xlsx(tmp_path / "hv.xlsx", {"S": [headers, values]})
    assert "thiếu cột bắt buộc “Mã định danh”, “Email”" in format_error(path)
    overrides = {"Mã CB": "identity_code", "Thư công vụ": "email"}
    (row,) = read_all(path, header_overrides=overrides)
    assert row.get(Field.EMAIL) == "lannt@gmail.com"
    # the list has no "Đã hoàn thành MĐ 1, 2, 3" column: the configuration says what it means
    rules = ValidationRules(assume_modules_123=True)
    options = ImportOptions(header_overrides=overrides, rules=rules)
    result = import_roster(path, schools=SCHOOLS, today=dt.date(2023, 8, 1), options=options)
    assert len(result.learners) == 1


def test_sheet_with_a_wrong_recorded_size_is_read_entirely(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "hv.xlsx", {"S": [HEADERS, ROW, ROW]})
    import zipfile

    patched = tmp_path / "patched.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b'<dimension ref="A1:J3"/>', b'<dimension ref="A1:B1"/>')
            target.writestr(item, data)
    assert len(read_all(patched)) == 2


# -- garbage ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.csv"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    assert "tệp rỗng" in format_error(path)


def test_binary_file_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "hoc-vien.xlsx"
    path.write_bytes(bytes(range(256)) * 40)
    assert "không phải tệp Excel (.xlsx) hay CSV hợp lệ" in format_error(path)


def test_damaged_zip_named_xlsx(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", {"S": [HEADERS, ROW]})
    path = tmp_path / "hong.xlsx"
    path.write_bytes(good.read_bytes()[:600])
    assert "không phải tệp Excel (.xlsx) hợp lệ" in format_error(path)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "nen.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "không phải tệp Excel (.xlsx) hợp lệ" in format_error(path)


def test_old_excel_format(tmp_path: Path) -> None:
    path = tmp_path / "cu.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert "Excel 97-2003 (.xls)" in format_error(path)


def test_csv_without_header(tmp_path: Path) -> None:
    path = tmp_path / "hv.csv"
    path.write_text("1,7012345678,Nguyễn Thị Lan\n2,7012345679,Trần Văn Hùng\n", encoding="utf-8")
    message = format_error(path)
    assert "không tìm thấy dòng tiêu đề của danh sách học viên" in message
    assert "“Mã định danh”" in message


def test_csv_not_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "hv.csv"
    path.write_bytes(",".join(HEADERS).encode("cp1258", errors="replace") + b"\n\xc3\x28\xff\n")
    assert "UTF-8" in format_error(path)


def test_csv_with_binary_content(tmp_path: Path) -> None:
    path = tmp_path / "hv.csv"
    path.write_bytes(b"STT,Ma\x00\x00\x01\x02")
    assert "dữ liệu nhị phân" in format_error(path)


def test_workbook_whose_sheet_has_no_roster(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bang-diem.xlsx", {"Điểm": [["Lớp", "Điểm TB"], ["6A", 7.5]]})
    message = format_error(path)
    assert message == (
        "Tệp “bang-diem.xlsx”, trang tính “Điểm”: không tìm thấy dòng tiêu đề của danh sách "
        "học viên (cần các cột “Mã định danh”, “Họ và tên”, “Email”, “Đơn vị công tác”, "
        "“Cấp học”, “Đối tượng”, “Môn bồi dưỡng”)."
    )


def test_empty_workbook(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "trong.xlsx", {"Sheet1": []})
    assert "không tìm thấy dòng tiêu đề" in format_error(path)


def test_school_list_given_as_the_learners_list(tmp_path: Path) -> None:
    rows = [["Mã trường", "Tên trường", "Loại hình", "Huyện/Thị xã/Thành phố", "Cụm trường"],
            ["BP0001", "Trường THCS Tân Phú", "THCS", "Thành phố Đồng Xoài", "Cụm 1"]]  # fmt: skip
    path = write_xlsx(tmp_path / "truong.xlsx", {"Danh sách trường": rows})
    message = format_error(path)
    assert message.startswith("Tệp “truong.xlsx”, trang tính “Danh sách trường”: không phải")
    assert "thiếu cột bắt buộc “Mã định danh”" in message


def test_missing_file(tmp_path: Path) -> None:
    assert "không tìm thấy tệp" in format_error(tmp_path / "khong-co.xlsx")


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "hv.pdf"
    path.write_bytes(b"%PDF-1.7 ...")
    assert "không phải tệp Excel" in format_error(path)


def test_import_roster_turns_a_bad_school_list_into_the_same_error(tmp_path: Path) -> None:
    learners = write_xlsx(tmp_path / "hv.xlsx", {"S": [HEADERS, ROW]})
    schools = write_xlsx(tmp_path / "truong.xlsx", {"S": [["Mã trường", "Tên trường"],
                                                          ["BP1", None]]})  # fmt: skip
    with pytest.raises(RosterFormatError, match="thiếu mã trường hoặc tên trường ở dòng 2"):
        import_roster(learners, schools=schools, today=dt.date(2023, 8, 1))
    garbage = tmp_path / "x.xlsx"
    garbage.write_bytes(b"\x00garbage")
    with pytest.raises(RosterFormatError):
        import_roster(garbage, schools=SCHOOLS, today=dt.date(2023, 8, 1))
