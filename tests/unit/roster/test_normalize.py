"""Normalisation of single values: each rule, and properties (idempotent, NFC)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.model import Audience, Gender, Level
from roster.normalize import (
    DateError,
    is_valid_email,
    is_valid_identity_code,
    normalize_email,
    normalize_full_name,
    normalize_identity_code,
    normalize_phone,
    parse_audience,
    parse_birth_date,
    parse_flag,
    parse_gender,
    parse_level,
    split_full_name,
)
from roster.reasons import Effect, ReasonCode, Status, reason, status_of
from roster.text import _INVISIBLE, _SPACES, cell_text, clean_text, fold, hidden_characters

NFD: Literal["NFD"] = "NFD"
VIETNAMESE_TEXT = st.text(
    alphabet=st.sampled_from(
        list("aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐEÊOÔƠƯ áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệ")
        + list("íìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ\t\u00a0\u200b")
    ),
    max_size=40,
)


# -- text ---------------------------------------------------------------------------


def test_clean_text_composes_trims_and_collapses() -> None:
    typed = unicodedata.normalize(NFD, "  Nguyễn \u00a0 Thị\tLan\u200b ")
    assert clean_text(typed) == "Nguyễn Thị Lan"
    assert unicodedata.is_normalized("NFC", clean_text(typed))


def test_fold_drops_accents_case_and_punctuation() -> None:
    assert fold("Đã hoàn thành MĐ 1, 2, 3") == "da hoan thanh md 1 2 3"
    assert fold(unicodedata.normalize(NFD, "HUYỆN/Thị xã")) == "huyen thi xa"


def test_cell_text_of_numbers_and_dates() -> None:
    assert cell_text(7043896584.0) == "7043896584"
    assert cell_text(dt.datetime(1980, 2, 3)) == "03/02/1980"
    assert cell_text(None) == ""


@given(VIETNAMESE_TEXT)
def test_clean_text_is_idempotent_and_nfc(text: str) -> None:
    once = clean_text(unicodedata.normalize(NFD, text))
    assert clean_text(once) == once
    assert unicodedata.is_normalized("NFC", once)
    assert once == once.strip()
    assert "  " not in once


def _full_cleaning(value: str) -> str:
    """clean_text's three steps, always applied (what its fast path must agree with)."""
    text = unicodedata.normalize("NFC", value)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text).strip()


@given(st.text() | VIETNAMESE_TEXT)
def test_clean_text_fast_path_agrees_with_the_full_cleaning(text: str) -> None:
    assert clean_text(text) == _full_cleaning(text)


@given(st.text() | VIETNAMESE_TEXT | st.text(alphabet=" \t\u00a0\u200bab", max_size=6))
def test_cell_text_fast_path_agrees_with_the_full_cleaning(text: str) -> None:
    assert cell_text(text) == _full_cleaning(text)


@pytest.mark.parametrize(
    "text",
    ["Lan\u00a0Anh", "Lan\u200bAnh", "Lan\u3000Anh", "Lan\x85", " Lan", "Lan  Anh", "Lan\u202e"],
)
def test_clean_text_cleans_each_kind_of_space_and_invisible_character(text: str) -> None:
    assert clean_text(text) == _full_cleaning(text) != text


@given(VIETNAMESE_TEXT)
def test_fold_ignores_composition_and_case(text: str) -> None:
    assert fold(unicodedata.normalize(NFD, text)) == fold(text.upper()) == fold(fold(text))


# -- e-mail -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  LANNT@GMAIL.COM ", "lannt@gmail.com"),
        ("mailto:Lan.Nt@Binhphuoc.Edu.Vn", "lan.nt@binhphuoc.edu.vn"),
        (None, ""),
    ],
)
def test_normalize_email(typed: str | None, expected: str) -> None:
    assert normalize_email(typed) == expected


@pytest.mark.parametrize(
    "email", ["lannt@gmail.com", "nguyen.thi-lan+1@binhphuoc.edu.vn", "a_b@moet.gov.vn"]
)
def test_valid_emails(email: str) -> None:
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "lannt@@gmail.com",
        "lannt gmail.com",
        "lannt@gmail",
        "lan nt@gmail.com",
        "@gmail.com",
        "lan..nt@gmail.com",
        "lannt@gmail..com",
        "lân@gmail.com",
        "",
    ],
)
def test_invalid_emails(email: str) -> None:
    assert not is_valid_email(email)


@given(st.emails())
def test_normalize_email_is_idempotent(email: str) -> None:
    once = normalize_email(f"  {email.upper()} ")
    assert normalize_email(once) == once
    assert once == once.lower().strip()


# -- phone --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0949310752",
        "+84 949.310752",
        "+84949310752",
        "84949310752",
        "0084 949 310 752",
        "0949.310.752",
        "0949-310-752",
        "(0949) 310752",
        949310752,
        949310752.0,
    ],
)
def test_phone_forms_give_one_number(typed: object) -> None:
    assert normalize_phone(typed) == "0949310752"


def test_landline_keeps_its_eleven_digits() -> None:
    assert normalize_phone("+84 271 3879 123") == "02713879123"


@pytest.mark.parametrize("typed", ["12345", "0149310752", "094931075", "abc", "", None])
def test_not_a_phone(typed: object) -> None:
    assert normalize_phone(typed) is None


@given(
    st.sampled_from(["3", "5", "7", "8", "9"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.sampled_from(["0", "+84 ", "84", "0084"]),
    st.sampled_from(["", " ", "."]),
)
def test_phone_normalisation_is_idempotent(first: str, rest: str, prefix: str, sep: str) -> None:
    typed = f"{prefix}{first}{rest[:2]}{sep}{rest[2:]}"
    phone = normalize_phone(typed)
    assert phone == f"0{first}{rest}"
    assert normalize_phone(phone) == phone


# -- identity code ------------------------------------------------------------------


def test_identity_code_from_text_number_and_apostrophe() -> None:
    assert normalize_identity_code("'7043896584") == "7043896584"
    assert normalize_identity_code(7043896584) == "7043896584"
    assert normalize_identity_code(7043896584.0) == "7043896584"
    assert normalize_identity_code(" 70 4389 6584 ") == "7043896584"


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("7043896584", True),
        ("70438965", False),
        ("70438965841", False),
        ("70438965a4", False),
        ("７０４３８９６５８４", False),
    ],
)
def test_identity_code_has_ten_digits(code: str, valid: bool) -> None:
    assert is_valid_identity_code(code) is valid


# -- dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "26/09/1985",
        "26/9/1985",
        "26-09-1985",
        "26.09.1985",
        " 26 / 09 / 1985 ",
        "1985-09-26",
        "26/09/1985 00:00:00",
    ],
)
def test_text_dates(typed: str) -> None:
    parsed = parse_birth_date(typed)
    assert parsed == parse_birth_date("26/09/1985")  # every spelling reads like the plain one
    assert parsed.value == dt.date(1985, 9, 26)
    assert parsed.from_text


def test_date_cells_and_excel_serials() -> None:
    assert parse_birth_date(dt.datetime(1985, 9, 26)).value == dt.date(1985, 9, 26)
    assert parse_birth_date(dt.date(1985, 9, 26)).value == dt.date(1985, 9, 26)
    assert parse_birth_date(31316).value == dt.date(1985, 9, 26)
    assert not parse_birth_date(dt.datetime(1985, 9, 26)).from_text


@pytest.mark.parametrize("typed", ["31/02/1980", "29/02/1981", "00/01/1980", "15/13/1980"])
def test_impossible_dates_are_errors_not_guesses(typed: str) -> None:
    parsed = parse_birth_date(typed)
    assert parsed.value is None
    assert parsed.error is DateError.IMPOSSIBLE


def test_leap_day_exists() -> None:
    assert parse_birth_date("29/02/1980").value == dt.date(1980, 2, 29)


@pytest.mark.parametrize("typed", ["1980", "26/09/85", "ngày 26 tháng 9", "09/1985"])
def test_unreadable_dates(typed: str) -> None:
    assert parse_birth_date(typed).error is DateError.UNREADABLE


def test_missing_date() -> None:
    assert parse_birth_date(None).error is DateError.MISSING
    assert parse_birth_date("  ").error is DateError.MISSING


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_text_date_round_trip(date: dt.date) -> None:
    assert parse_birth_date(date.strftime("%d/%m/%Y")).value == date
    assert parse_birth_date(date.isoformat()).value == date


# -- names --------------------------------------------------------------------------


def test_nfd_name_becomes_nfc() -> None:
    typed = unicodedata.normalize(NFD, "Nguyễn Thị Ngọc Trang")
    assert typed != "Nguyễn Thị Ngọc Trang"
    assert normalize_full_name(typed) == "Nguyễn Thị Ngọc Trang"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Trần   Văn  Hùng ", "Trần Văn Hùng"),
        ("NGUYỄN THỊ LAN", "Nguyễn Thị Lan"),
        ("đặng văn đức", "Đặng Văn Đức"),
        ("Điểu K'Lang", "Điểu K'Lang"),
    ],
)
def test_normalize_full_name(typed: str, expected: str) -> None:
    assert normalize_full_name(typed) == expected


@pytest.mark.parametrize(
    ("name", "last", "first"),
    [
        ("Nguyễn Thị Thu Hương", "Nguyễn Thị Thu", "Hương"),
        ("Lê Văn Thành", "Lê Văn", "Thành"),
        ("Lý Lan", "Lý", "Lan"),
        ("Hùng", "", "Hùng"),
    ],
)
def test_split_full_name(name: str, last: str, first: str) -> None:
    assert split_full_name(name) == (last, first)


@given(VIETNAMESE_TEXT)
def test_name_normalisation_is_idempotent_nfc_and_splits_back(text: str) -> None:
    name = normalize_full_name(unicodedata.normalize(NFD, text))
    assert normalize_full_name(name) == name
    assert unicodedata.is_normalized("NFC", name)
    if name:
        last, first = split_full_name(name)
        assert " ".join(p for p in (last, first) if p) == name
        assert " " not in first


# -- categories ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("THCS", Level.LOWER_SECONDARY),
        (" thcs ", Level.LOWER_SECONDARY),
        ("Trung học cơ sở", Level.LOWER_SECONDARY),
        ("cấp 2", Level.LOWER_SECONDARY),
        ("THPT", Level.UPPER_SECONDARY),
        ("Trung hoc pho thong", Level.UPPER_SECONDARY),
        ("Tiểu học", Level.PRIMARY),
        ("Mầm non", Level.PRESCHOOL),
        ("Đại học", None),
        ("", None),
    ],
)
def test_parse_level(typed: str, level: Level | None) -> None:
    assert parse_level(typed) is level


@pytest.mark.parametrize(
    ("typed", "audience"),
    [
        ("CBQL", Audience.MANAGER),
        ("Cán bộ quản lý", Audience.MANAGER),
        ("cbql", Audience.MANAGER),
        ("GV", Audience.TEACHER),
        ("Giáo viên", Audience.TEACHER),
        ("Nhân viên", None),
    ],
)
def test_parse_audience(typed: str, audience: Audience | None) -> None:
    assert parse_audience(typed) is audience


def test_parse_gender() -> None:
    assert parse_gender("Nữ") is Gender.FEMALE
    assert parse_gender(unicodedata.normalize(NFD, "NỮ")) is Gender.FEMALE
    assert parse_gender("nam") is Gender.MALE
    assert parse_gender("?") is None


@pytest.mark.parametrize(
    ("typed", "flag"),
    [
        ("x", True),
        ("X", True),
        ("Có", True),
        (1, True),
        (True, True),
        ("✓", True),
        ("", False),
        (None, False),
        ("không", False),
        ("0", False),
        (False, False),
    ],
)
def test_parse_flag(typed: object, flag: bool) -> None:
    assert parse_flag(typed) is flag


def test_every_hidden_character_is_non_printable() -> None:
    """What the fast paths of clean_text, cell_text and hidden_characters rely on."""
    hidden = [chr(c) for c in range(0x110000) if _INVISIBLE.fullmatch(chr(c))]
    assert len(hidden) > 60
    assert not [c for c in hidden if c.isprintable()]


@given(st.text() | VIETNAMESE_TEXT | st.text(alphabet="a \u200b\u202e\x07\u00ad", max_size=6))
def test_hidden_characters_fast_path_agrees_with_a_full_scan(text: str) -> None:
    found = dict.fromkeys(f"U+{ord(c):04X}" for c in _INVISIBLE.findall(text))
    assert hidden_characters(text) == list(found)


@given(st.lists(st.sampled_from(list(ReasonCode)), max_size=4))
def test_status_of_is_the_strongest_effect(codes: list[ReasonCode]) -> None:
    effects = {code.effect for code in codes}
    expected = (
        Status.REJECTED
        if Effect.REJECT in effects
        else Status.EXCLUDED
        if Effect.EXCLUDE in effects
        else Status.IMPORTED
    )
    assert status_of(reason(code) for code in codes) is expected
