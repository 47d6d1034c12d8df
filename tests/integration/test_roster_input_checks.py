"""Files that are valid but unusual: read by content, UTF-16 text, repeated columns,
unknown columns (issue 7, item 4)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from roster.errors import BadHeaderError, RosterFormatError
from roster.headers import Field, RosterKind
from roster.importer import ImportOptions, import_roster
from roster.model import Track
from roster.readers import read_rows
from roster.report import SUMMARY_SHEET, write_report
from roster.validate import ValidationRules
from tests.integration.test_roster_formats import HEADERS, ROW, SCHOOLS, write_xlsx

TODAY = dt.date(2023, 8, 1)


def test_a_valid_xlsx_named_xls_is_read_by_its_content(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "hv.xlsx", {"Học viên": [HEADERS, ROW]})
    renamed = tmp_path / "hoc-vien.xls"
    shutil.copyfile(xlsx, renamed)
    rows = list(read_rows(renamed, RosterKind.LEARNERS))
    assert [r.get(Field.FULL_NAME) for r in rows] == ["Nguyễn Thị Lan"]
    assert rows[0].source.file == "hoc-vien.xls"


@pytest.mark.parametrize("name", ["hv.txt", "hv.csv"])
def test_excel_unicode_text_utf16_with_tabs_is_read(tmp_path: Path, name: str) -> None:
    values = [str(v) if v is not None else "" for v in ROW]
    values[3] = "26/09/1985"
    text = "\r\n".join(["\t".join(HEADERS), "\t".join(values)]) + "\r\n"
    path = tmp_path / name
    path.write_bytes(text.encode("utf-16"))  # with the BOM, little-endian here
    rows = list(read_rows(path, RosterKind.LEARNERS))
    assert len(rows) == 1
    assert rows[0].get(Field.FULL_NAME) == "Nguyễn Thị Lan"
    assert rows[0].get(Field.EMAIL) == "lannt@gmail.com"


def test_a_field_in_two_columns_is_a_file_error_naming_them(tmp_path: Path) -> None:
    headers = [*HEADERS, "E-mail"]
    path = write_xlsx(tmp_path / "hv.xlsx", {"Học viên": [headers, [*ROW, "khac@gmail.com"]]})
    with pytest.raises(BadHeaderError) as caught:
        list(read_rows(path, RosterKind.LEARNERS))
    message = str(caught.value)
    assert "cột trùng nhau" in message
    assert "E “Email”" in message
    assert "K “E-mail”" in message
    assert caught.value.sheet == "Học viên"


def test_a_repeated_note_column_is_harmless(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "hv.xlsx", {"Học viên": [[*HEADERS, "Ghi chú"], [*ROW, "x"]]})
    assert len(list(read_rows(path, RosterKind.LEARNERS))) == 1


def test_unknown_columns_are_listed_on_the_header(tmp_path: Path) -> None:
    headers = [*HEADERS, "Số CCCD", "", "Ghi chú thêm của trường"]
    path = write_xlsx(tmp_path / "hv.xlsx", {"Học viên": [headers, [*ROW, "1", "", "y"]]})
    header = next(iter(read_rows(path, RosterKind.LEARNERS))).header
    assert header.unknown == ("Số CCCD", "Ghi chú thêm của trường")
    ignored = {"Số CCCD": ""}  # a column the configuration says to ignore is not unknown
    header = next(iter(read_rows(path, RosterKind.LEARNERS, header_overrides=ignored))).header
    assert header.unknown == ("Ghi chú thêm của trường",)


# -- the column that decides eligibility; notices -------------------------------------

WITHOUT_123 = list(HEADERS)  # HEADERS has no "Đã hoàn thành MĐ 1, 2, 3" column


def test_a_list_without_the_modules_123_column_is_a_file_error(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "hv.xlsx", {"Học viên": [WITHOUT_123, ROW]})
    with pytest.raises(RosterFormatError) as caught:
        import_roster(path, schools=SCHOOLS, today=TODAY)
    message = str(caught.value)
    assert message.startswith("Tệp “hv.xlsx”, trang tính “Học viên”: thiếu cột")
    assert "“Đã hoàn thành MĐ 1, 2, 3”" in message
    assert "assume_modules_123" in message


@pytest.mark.parametrize(("assume", "done"), [(True, True), (False, False)])
def test_the_configuration_says_what_a_missing_column_means(
    tmp_path: Path, assume: bool, done: bool
) -> None:
    path = write_xlsx(tmp_path / "hv.xlsx", {"Học viên": [WITHOUT_123, ROW]})
    options = ImportOptions(rules=ValidationRules(assume_modules_123=assume))
    result = import_roster(path, schools=SCHOOLS, today=TODAY, options=options)
    (learner,) = result.learners
    assert learner.modules_123_done is done
    assert learner.track is (Track.MAIN if done else Track.PREREQUISITE)
    meaning = "đã hoàn thành" if done else "chưa hoàn thành"
    assert result.notices == (
        "Tệp “hv.xlsx”, trang tính “Học viên”: không có cột “Đã hoàn thành MĐ 1, 2, 3”; "
        f"theo cấu hình, mọi người được coi là {meaning}.",
    )


def test_unknown_columns_are_a_notice_of_the_import(tmp_path: Path) -> None:
    headers = [*HEADERS, "Đã hoàn thành MĐ 1, 2, 3", "Số CCCD"]
    path = write_xlsx(
        tmp_path / "hv.xlsx", {"Học viên": [headers, [*ROW, "x", "1"], [*ROW, "x", "1"]]}
    )
    result = import_roster(path, schools=SCHOOLS, today=TODAY)
    assert result.notices == (
        "Tệp “hv.xlsx”, trang tính “Học viên”: các cột không dùng đến (đã bỏ qua): “Số CCCD”.",
    )
    summary = load_workbook(write_report(result, tmp_path / "r.xlsx"))[SUMMARY_SHEET]
    texts = [c.value for row in summary.iter_rows() for c in row]
    assert "Lưu ý" in texts
    assert result.notices[0] in texts
