"""Recognising a roster's header row and mapping its Vietnamese headers to fields.

Headers match with or without diacritics, in any case, with any spacing or punctuation,
and with or without a parenthesised remark (``"Kiêm nhiệm HĐTNHN (MĐ 4)"``). An override
mapping (header text -> field name, from the configuration) wins over the built-in
aliases; mapping a header to ``""`` ignores that column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from roster.text import cell_text, fold

__all__ = [
    "Field",
    "HeaderMap",
    "HeaderNotFoundError",
    "RosterKind",
    "field_of",
    "find_header",
    "map_headers",
    "missing_fields",
    "parse_overrides",
]


class Field(StrEnum):
    """A roster column's meaning. Values are the names used in the override mapping."""

    ROW_NUMBER = "row_number"
    IDENTITY_CODE = "identity_code"
    FULL_NAME = "full_name"
    FAMILY_MIDDLE_NAME = "family_middle_name"
    GIVEN_NAME = "given_name"
    BIRTH_DATE = "birth_date"
    GENDER = "gender"
    EMAIL = "email"
    PHONE = "phone"
    SCHOOL = "school"
    DISTRICT = "district"
    LEVEL = "level"
    AUDIENCE = "audience"
    POSITION = "position"
    SUBJECT = "subject"
    CORE_STAFF = "core_staff"
    MODULES_123_DONE = "modules_123_done"
    HDTNHN_CONCURRENT = "hdtnhn_concurrent"
    NOTE = "note"
    CORE_ROLE = "core_role"
    SCHOOL_CODE = "school_code"
    SCHOOL_NAME = "school_name"
    SCHOOL_KIND = "school_kind"
    CLUSTER = "cluster"

    @property
    def label(self) -> str:
        """The Vietnamese header this field is usually given."""
        return _LABELS[self]


_LABELS = {
    Field.ROW_NUMBER: "STT",
    Field.IDENTITY_CODE: "Mã định danh",
    Field.FULL_NAME: "Họ và tên",
    Field.FAMILY_MIDDLE_NAME: "Họ và tên đệm",
    Field.GIVEN_NAME: "Tên",
    Field.BIRTH_DATE: "Ngày sinh",
    Field.GENDER: "Giới tính",
    Field.EMAIL: "Email",
    Field.PHONE: "Số điện thoại",
    Field.SCHOOL: "Đơn vị công tác",
    Field.DISTRICT: "Huyện/Thị xã/Thành phố",
    Field.LEVEL: "Cấp học",
    Field.AUDIENCE: "Đối tượng",
    Field.POSITION: "Chức vụ",
    Field.SUBJECT: "Môn bồi dưỡng",
    Field.CORE_STAFF: "Cốt cán",
    Field.MODULES_123_DONE: "Đã hoàn thành MĐ 1, 2, 3",
    Field.HDTNHN_CONCURRENT: "Kiêm nhiệm HĐTNHN (MĐ 4)",
    Field.NOTE: "Ghi chú",
    Field.CORE_ROLE: "Nhiệm vụ",
    Field.SCHOOL_CODE: "Mã trường",
    Field.SCHOOL_NAME: "Tên trường",
    Field.SCHOOL_KIND: "Loại hình",
    Field.CLUSTER: "Cụm trường",
}

# Folded spellings (see ``roster.text.fold``) of each field's header.
_ALIASES: dict[Field, tuple[str, ...]] = {
    Field.ROW_NUMBER: ("stt", "tt", "so thu tu", "so tt"),
    Field.IDENTITY_CODE: (
        "ma dinh danh",
        "ma so dinh danh",
        "ma dinh danh ca nhan",
        "ma dinh danh csdl",
        "ma dd",
        "ma gv",
        "ma giao vien",
        "ma can bo",
    ),
    Field.FULL_NAME: ("ho va ten", "ho ten", "hoten", "ho va ten hoc vien", "ho va ten gv"),
    Field.FAMILY_MIDDLE_NAME: ("ho va ten dem", "ho dem", "ho va dem", "ho"),
    Field.GIVEN_NAME: ("ten",),
    Field.BIRTH_DATE: ("ngay sinh", "ngay thang nam sinh", "ngay sinh dd mm yyyy", "ns"),
    Field.GENDER: ("gioi tinh", "gioi", "phai"),
    Field.EMAIL: (
        "email",
        "e mail",
        "mail",
        "gmail",
        "dia chi email",
        "thu dien tu",
        "dia chi thu dien tu",
    ),
    Field.PHONE: ("so dien thoai", "dien thoai", "sdt", "so dt", "dt", "so di dong", "di dong"),
    Field.SCHOOL: ("don vi cong tac", "don vi", "noi cong tac", "co quan cong tac", "truong"),
    Field.DISTRICT: (
        "huyen thi xa thanh pho",
        "huyen thi xa tp",
        "huyen thanh pho",
        "quan huyen",
        "huyen",
    ),
    Field.LEVEL: ("cap hoc", "cap", "bac hoc", "cap day"),
    Field.AUDIENCE: ("doi tuong", "doi tuong boi duong", "cbql gv"),
    Field.POSITION: ("chuc vu", "chuc danh"),
    Field.SUBJECT: (
        "mon boi duong",
        "mon",
        "mon hoc",
        "mon day",
        "mon giang day",
        "mon phu trach",
        "mon chinh",
        "bo mon",
    ),
    Field.CORE_STAFF: ("cot can", "gv cot can", "la cot can"),
    Field.MODULES_123_DONE: (
        "da hoan thanh md 1 2 3",
        "hoan thanh md 1 2 3",
        "da hoan thanh mo dun 1 2 3",
        "da hoc md 1 2 3",
    ),
    Field.HDTNHN_CONCURRENT: (
        "kiem nhiem hdtnhn md 4",
        "kiem nhiem hdtnhn",
        "kiem nhiem hdtn hn",
        "kiem nhiem",
    ),
    Field.NOTE: ("ghi chu", "chu thich"),
    Field.CORE_ROLE: ("nhiem vu", "vai tro"),
    Field.SCHOOL_CODE: ("ma truong", "ma don vi"),
    Field.SCHOOL_NAME: ("ten truong", "ten don vi"),
    Field.SCHOOL_KIND: ("loai hinh", "loai truong", "loai hinh truong"),
    Field.CLUSTER: ("cum truong", "cum", "cum chuyen mon"),
}
_BY_ALIAS: dict[str, Field] = {alias: f for f, aliases in _ALIASES.items() for alias in aliases}
_REMARK = re.compile(r"\([^)]*\)|\[[^\]]*\]")


class RosterKind(StrEnum):
    """Which list a file holds; decides the required columns."""

    LEARNERS = "learners"
    CORE_STAFF = "core_staff"
    SCHOOLS = "schools"

    @property
    def label(self) -> str:
        return {
            RosterKind.LEARNERS: "danh sách học viên",
            RosterKind.CORE_STAFF: "danh sách báo cáo viên, trợ giảng",
            RosterKind.SCHOOLS: "danh sách trường",
        }[self]


_REQUIRED: dict[RosterKind, tuple[Field, ...]] = {
    RosterKind.LEARNERS: (
        Field.IDENTITY_CODE,
        Field.FULL_NAME,
        Field.EMAIL,
        Field.SCHOOL,
        Field.LEVEL,
        Field.AUDIENCE,
        Field.SUBJECT,
    ),
    RosterKind.CORE_STAFF: (
        Field.IDENTITY_CODE,
        Field.FULL_NAME,
        Field.EMAIL,
        Field.LEVEL,
        Field.SUBJECT,
        Field.CORE_ROLE,  # "Nhiệm vụ": also what tells this list from a learners' list
    ),
    RosterKind.SCHOOLS: (Field.SCHOOL_CODE, Field.SCHOOL_NAME),
}
_IGNORED = "ignore"


def parse_overrides(overrides: Mapping[str, str] | None) -> dict[str, Field | None]:
    """Fold the keys of a header override mapping and check its field names.

    Values are ``Field`` values (``"email"``, ``"identity_code"``...); ``""`` or
    ``"ignore"`` ignores the column. Raises ``ValueError`` naming an unknown field.
    """
    parsed: dict[str, Field | None] = {}
    for header, name in (overrides or {}).items():
        wanted = name.strip().lower()
        if wanted in ("", _IGNORED):
            parsed[fold(header)] = None
            continue
        try:
            parsed[fold(header)] = Field(wanted)
        except ValueError:
            valid = ", ".join(f.value for f in Field)
            msg = f"unknown roster field {name!r} for header {header!r}; expected one of: {valid}"
            raise ValueError(msg) from None
    return parsed


def field_of(header: str, overrides: Mapping[str, Field | None]) -> Field | None:
    """The field a header text means, or ``None``."""
    key = fold(header)
    if not key:
        return None
    if key in overrides:
        return overrides[key]
    bare = fold(_REMARK.sub(" ", header))
    if bare in overrides:
        return overrides[bare]
    return _BY_ALIAS.get(key) or _BY_ALIAS.get(bare)


def map_headers(
    cells: Sequence[object], overrides: Mapping[str, Field | None] | None = None
) -> dict[Field, int]:
    """Column index (0-based) of each recognised field; the first column of a field wins."""
    mapping: dict[Field, int] = {}
    for index, cell in enumerate(cells):
        found = field_of(cell_text(cell), overrides or {})
        if found is not None and found not in mapping:
            mapping[found] = index
    return mapping


def missing_fields(mapping: Mapping[Field, int], kind: RosterKind) -> tuple[Field, ...]:
    """Required fields of ``kind`` the mapping lacks (a split name counts as a full name)."""
    has_split_name = Field.FAMILY_MIDDLE_NAME in mapping and Field.GIVEN_NAME in mapping
    return tuple(
        f
        for f in _REQUIRED[kind]
        if f not in mapping and not (f is Field.FULL_NAME and has_split_name)
    )


@dataclass(frozen=True, slots=True)
class HeaderMap:
    """The header row found: its 1-based row number, texts and field -> column index.

    ``duplicates`` holds the fields given by more than one column (each with all its
    column indices); ``unknown`` the texts of the columns no field was recognised in.
    """

    row: int
    columns: tuple[str, ...]
    index: Mapping[Field, int]
    duplicates: Mapping[Field, tuple[int, ...]] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()


class HeaderNotFoundError(Exception):
    """No row of the scanned ones is a complete header for the kind (internal)."""

    def __init__(self, best: HeaderMap | None, missing: tuple[Field, ...]) -> None:
        self.best = best
        self.missing = missing
        super().__init__("header not found")


def find_header(
    rows: Iterable[tuple[int, Sequence[object]]],
    kind: RosterKind,
    overrides: Mapping[str, Field | None] | None = None,
) -> HeaderMap:
    """The first of ``rows`` (row number, cells) that holds every required column of
    ``kind``. Raises ``HeaderNotFoundError`` with the best partial candidate otherwise."""
    best: HeaderMap | None = None
    best_missing: tuple[Field, ...] = _REQUIRED[kind]
    for row_number, cells in rows:
        mapping = map_headers(cells, overrides)
        missing = missing_fields(mapping, kind)
        columns = _column_names(cells)
        candidate = HeaderMap(row_number, columns, mapping)
        if not missing:
            return _with_extras(candidate, cells, overrides or {})
        if best is None or len(mapping) > len(best.index):
            best, best_missing = candidate, missing
    raise HeaderNotFoundError(best if best and len(best.index) >= 2 else None, best_missing)


# Fields a sheet may repeat harmlessly: a second row number or note column is ignored.
_REPEATABLE = frozenset({Field.ROW_NUMBER, Field.NOTE})


def _with_extras(
    header: HeaderMap, cells: Sequence[object], overrides: Mapping[str, Field | None]
) -> HeaderMap:
    """``header`` with its repeated fields and its unrecognised columns."""
    by_field: dict[Field, list[int]] = {}
    unknown: list[str] = []
    for index, text in enumerate(header.columns):
        found = field_of(text, overrides)
        if found is not None:
            by_field.setdefault(found, []).append(index)
        elif cell_text(cells[index]) and fold(text) not in overrides:
            unknown.append(text)
    duplicates = {
        f: tuple(indices)
        for f, indices in by_field.items()
        if len(indices) > 1 and f not in _REPEATABLE
    }
    return HeaderMap(header.row, header.columns, header.index, duplicates, tuple(unknown))


def _column_names(cells: Sequence[object]) -> tuple[str, ...]:
    """Header texts up to the last non-empty one; unnamed columns inside get "Cột N"."""
    texts = [cell_text(c) for c in cells]
    while texts and not texts[-1]:
        texts.pop()
    return tuple(t or f"Cột {i + 1}" for i, t in enumerate(texts))
