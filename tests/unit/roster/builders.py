"""Rows, schools and contexts for the roster unit tests (plain data, no files)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from roster.headers import Field, RosterKind, find_header
from roster.model import CellValue, RowSource, School
from roster.readers import RawRow
from roster.schools import SchoolIndex
from roster.subjects import SubjectCatalog
from roster.validate import RowContext, ValidationRules

TODAY = dt.date(2023, 8, 1)

SCHOOLS: tuple[School, ...] = (
    School("BP0001", "Trường THCS Tân Phú", "THCS", "Thành phố Đồng Xoài", "Cụm Đồng Xoài 1"),
    School("BP0002", "Trường THPT Lộc Ninh", "THPT", "Huyện Lộc Ninh", "Cụm Lộc Ninh 2"),
    School("BP0003", "Trường THCS&THPT Đăng Hà", "THCS&THPT", "Huyện Bù Đăng", "Cụm Bù Đăng 1"),
    School("BP0004", "Trung tâm GDNN-GDTX Bù Đăng", "GDNN-GDTX", "Huyện Bù Đăng", "Cụm Bù Đăng 2"),
    School("BP0005", "Trường THCS Minh Hưng", "THCS", "Thị xã Chơn Thành", "Cụm Chơn Thành 1"),
    School("BP0006", "Trường THCS Minh Hưng", "THCS", "Huyện Bù Đăng", "Cụm Bù Đăng 3"),
)

LEARNER_FIELDS: tuple[Field, ...] = (
    Field.ROW_NUMBER,
    Field.IDENTITY_CODE,
    Field.FULL_NAME,
    Field.BIRTH_DATE,
    Field.GENDER,
    Field.EMAIL,
    Field.PHONE,
    Field.SCHOOL,
    Field.DISTRICT,
    Field.LEVEL,
    Field.AUDIENCE,
    Field.POSITION,
    Field.SUBJECT,
    Field.CORE_STAFF,
    Field.MODULES_123_DONE,
    Field.HDTNHN_CONCURRENT,
    Field.NOTE,
)
LEARNER_DEFAULTS: dict[Field, CellValue] = {
    Field.ROW_NUMBER: 1,
    Field.IDENTITY_CODE: "7012345678",
    Field.FULL_NAME: "Nguyễn Thị Lan",
    Field.BIRTH_DATE: dt.datetime(1985, 9, 26),
    Field.GENDER: "Nữ",
    Field.EMAIL: "lannt@gmail.com",
    Field.PHONE: "0912345678",
    Field.SCHOOL: "Trường THCS Tân Phú",
    Field.DISTRICT: "Thành phố Đồng Xoài",
    Field.LEVEL: "THCS",
    Field.AUDIENCE: "GV",
    Field.POSITION: "Giáo viên",
    Field.SUBJECT: "Toán",
    Field.CORE_STAFF: None,
    Field.MODULES_123_DONE: "x",
    Field.HDTNHN_CONCURRENT: None,
    Field.NOTE: None,
}
CORE_FIELDS: tuple[Field, ...] = (
    Field.ROW_NUMBER,
    Field.IDENTITY_CODE,
    Field.FULL_NAME,
    Field.EMAIL,
    Field.PHONE,
    Field.SCHOOL,
    Field.LEVEL,
    Field.SUBJECT,
    Field.CORE_ROLE,
)
CORE_DEFAULTS: dict[Field, CellValue] = {
    Field.ROW_NUMBER: 1,
    Field.IDENTITY_CODE: "7099999999",
    Field.FULL_NAME: "Trần Văn Hùng",
    Field.EMAIL: "hungtv@gmail.com",
    Field.PHONE: "0987654321",
    Field.SCHOOL: "Trường THCS Tân Phú",
    Field.LEVEL: "THCS",
    Field.SUBJECT: "Toán",
    Field.CORE_ROLE: "Báo cáo viên",
}
CORE_HEADERS = [f.label if f is not Field.SUBJECT else "Môn phụ trách" for f in CORE_FIELDS]


def _row(
    fields: Sequence[Field],
    headers: Sequence[str],
    kind: RosterKind,
    defaults: dict[Field, CellValue],
    row: int,
    file: str,
    values: dict[str, CellValue],
) -> RawRow:
    header = find_header([(3, list(headers))], kind)
    merged = dict(defaults)
    merged.update({Field(name): value for name, value in values.items()})
    cells = tuple(merged[f] for f in fields)
    return RawRow(RowSource(file, "Danh sách", row), header, cells)


def learner_row(row: int = 4, *, file: str = "hoc-vien.xlsx", **values: CellValue) -> RawRow:
    """A learners' row; keyword names are ``Field`` values (``email=...``)."""
    headers = [f.label for f in LEARNER_FIELDS]
    return _row(LEARNER_FIELDS, headers, RosterKind.LEARNERS, LEARNER_DEFAULTS, row, file, values)


def core_row(row: int = 2, *, file: str = "bao-cao-vien.xlsx", **values: CellValue) -> RawRow:
    """A reporters' file row; keyword names are ``Field`` values."""
    return _row(CORE_FIELDS, CORE_HEADERS, RosterKind.CORE_STAFF, CORE_DEFAULTS, row, file, values)


def context(rules: ValidationRules | None = None) -> RowContext:
    return RowContext(SchoolIndex(SCHOOLS), SubjectCatalog(), rules or ValidationRules(), TODAY)
