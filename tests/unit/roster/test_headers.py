"""Header recognition: spellings, override mapping, title rows, required columns."""

from __future__ import annotations

import pytest

from roster.headers import (
    Field,
    HeaderNotFoundError,
    RosterKind,
    find_header,
    map_headers,
    parse_overrides,
)

GENERATOR_HEADERS = [
    "STT", "Mã định danh", "Họ và tên", "Ngày sinh", "Giới tính", "Email", "Số điện thoại",
    "Đơn vị công tác", "Huyện/Thị xã/Thành phố", "Cấp học", "Đối tượng", "Chức vụ",
    "Môn bồi dưỡng", "Cốt cán", "Đã hoàn thành MĐ 1, 2, 3", "Kiêm nhiệm HĐTNHN (MĐ 4)", "Ghi chú",
]  # fmt: skip


def test_generator_headers_map_to_every_field() -> None:
    mapping = map_headers(GENERATOR_HEADERS)
    assert mapping[Field.IDENTITY_CODE] == 1
    assert mapping[Field.MODULES_123_DONE] == 14
    assert mapping[Field.HDTNHN_CONCURRENT] == 15
    assert mapping[Field.NOTE] == 16
    assert len(mapping) == len(GENERATOR_HEADERS)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("  MÃ ĐỊNH DANH ", Field.IDENTITY_CODE),
        ("ma dinh danh", Field.IDENTITY_CODE),
        ("Họ  và  tên", Field.FULL_NAME),
        ("HO TEN", Field.FULL_NAME),
        ("E-mail", Field.EMAIL),
        ("Địa chỉ email", Field.EMAIL),
        ("SĐT", Field.PHONE),
        ("Đơn vị", Field.SCHOOL),
        ("Huyện/TX/TP", None),
        ("Huyện / Thị xã / Thành phố", Field.DISTRICT),
        ("cấp học", Field.LEVEL),
        ("Môn phụ trách", Field.SUBJECT),
        ("Kiêm nhiệm HĐTNHN", Field.HDTNHN_CONCURRENT),
        ("Đã hoàn thành MĐ 1,2,3", Field.MODULES_123_DONE),
        ("Ngày sinh (dd/mm/yyyy)", Field.BIRTH_DATE),
        ("Nhiệm vụ", Field.CORE_ROLE),
        ("Mã trường", Field.SCHOOL_CODE),
        ("Tên trường", Field.SCHOOL_NAME),
        ("Cụm trường", Field.CLUSTER),
        ("Không liên quan", None),
    ],
)
def test_header_spellings(header: str, field: Field | None) -> None:
    assert map_headers([header]) == ({field: 0} if field else {})


def test_first_column_of_a_field_wins() -> None:
    assert map_headers(["Email", "Email cá nhân", "E-mail"])[Field.EMAIL] == 0


def test_override_maps_and_ignores_columns() -> None:
    overrides = parse_overrides({"Thư công vụ": "email", "Email": "", "MÃ CB": "identity_code"})
    mapping = map_headers(["Email", "Thư công vụ", "Mã CB"], overrides)
    assert mapping == {Field.EMAIL: 1, Field.IDENTITY_CODE: 2}


def test_override_with_unknown_field_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown roster field 'e-mail'"):
        parse_overrides({"Thư": "e-mail"})


def test_header_found_below_title_rows() -> None:
    rows: list[tuple[int, list[object]]] = [
        (1, ["DANH SÁCH CBQL, GV THAM GIA BỒI DƯỠNG MÔ ĐUN 4, 5, 9 NĂM 2023"] + [None] * 16),
        (2, [None] * 17),
        (3, list(GENERATOR_HEADERS)),
        (4, [1, "7043896584", "Phạm Thị Quyên"]),
    ]
    header = find_header(rows, RosterKind.LEARNERS)
    assert header.row == 3
    assert header.columns[1] == "Mã định danh"


def test_missing_required_columns_are_named() -> None:
    rows = [(1, ["STT", "Mã định danh", "Họ và tên", "Email"])]
    with pytest.raises(HeaderNotFoundError) as caught:
        find_header(rows, RosterKind.LEARNERS)
    assert caught.value.best is not None
    assert caught.value.missing == (Field.SCHOOL, Field.LEVEL, Field.AUDIENCE, Field.SUBJECT)


CORE_HEADERS = ["STT", "Mã định danh", "Họ và tên", "Email", "Số điện thoại", "Đơn vị công tác",
                "Cấp học", "Môn phụ trách", "Nhiệm vụ"]  # fmt: skip
SCHOOL_HEADERS = ["Mã trường", "Tên trường", "Loại hình", "Huyện/Thị xã/Thành phố", "Cụm trường"]


def test_each_list_is_recognised_by_its_own_header_only() -> None:
    """A caller can tell the three files apart by trying each kind."""
    lists = {
        RosterKind.LEARNERS: GENERATOR_HEADERS,
        RosterKind.CORE_STAFF: CORE_HEADERS,
        RosterKind.SCHOOLS: SCHOOL_HEADERS,
    }
    for headers_kind, headers in lists.items():
        for kind in RosterKind:
            if kind is headers_kind:
                find_header([(1, list(headers))], kind)
            else:
                with pytest.raises(HeaderNotFoundError):
                    find_header([(1, list(headers))], kind)


def test_split_name_columns_count_as_a_full_name() -> None:
    headers = ["Mã định danh", "Họ và tên đệm", "Tên", "Email", "Đơn vị công tác", "Cấp học",
               "Đối tượng", "Môn"]  # fmt: skip
    header = find_header([(1, headers)], RosterKind.LEARNERS)
    assert header.index[Field.FAMILY_MIDDLE_NAME] == 1
    assert header.index[Field.GIVEN_NAME] == 2


def test_unnamed_header_cells_get_a_column_name() -> None:
    header = find_header([(1, ["Mã trường", None, "Tên trường", None, None])], RosterKind.SCHOOLS)
    assert header.columns == ("Mã trường", "Cột 2", "Tên trường")
