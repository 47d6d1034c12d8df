"""School matching, subject canonicalisation and exemption notes."""

from __future__ import annotations

import unicodedata

import pytest

from roster.model import ExemptionKind
from roster.notes import NoteRule, classify_note
from roster.schools import SchoolIndex
from roster.subjects import ENGLISH, HDTNHN, MANAGEMENT, SubjectCatalog
from tests.unit.roster.builders import SCHOOLS

INDEX = SchoolIndex(SCHOOLS)


# -- schools ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "Trường THCS Tân Phú",
        " THCS TÂN PHÚ  ",
        "trường   thcs tân phú",
        "THCS Tân Phú",
        unicodedata.normalize("NFD", "Trường THCS Tân Phú"),
        unicodedata.normalize("NFD", "THCS TÂN PHÚ"),
        "Truong THCS Tan Phu",
        "BP0001",
        "bp0001",
    ],
)
def test_school_found_regardless_of_case_spacing_word_and_accents(typed: str) -> None:
    found = INDEX.match(typed)
    assert found.school is not None
    assert found.school.code == "BP0001"


def test_exact_only_when_typed_as_in_the_list() -> None:
    assert INDEX.match(" Trường THCS Tân Phú ").exact
    assert not INDEX.match("THCS TÂN PHÚ").exact


def test_punctuation_in_names_is_spacing() -> None:
    assert INDEX.match("THCS & THPT ĐĂNG HÀ").school == SCHOOLS[2]
    assert INDEX.match("Trung tâm GDNN - GDTX Bù Đăng").school == SCHOOLS[3]


def test_same_name_decided_by_district() -> None:
    found = INDEX.match("THCS Minh Hưng")
    assert found.school is None
    assert found.ambiguous
    assert {s.code for s in found.candidates} == {"BP0005", "BP0006"}
    assert INDEX.match("THCS Minh Hưng", "Thị xã Chơn Thành").school == SCHOOLS[4]
    assert INDEX.match("THCS Minh Hưng", "Bù Đăng").school == SCHOOLS[5]


def test_unknown_school() -> None:
    found = INDEX.match("Trường THCS Không Có")
    assert found.school is None
    assert not found.ambiguous
    assert INDEX.match("").school is None


# -- subjects -----------------------------------------------------------------------

CATALOG = SubjectCatalog()


@pytest.mark.parametrize(
    ("typed", "subject"),
    [
        ("Tiếng Anh", ENGLISH),
        ("TIẾNG ANH", ENGLISH),
        ("tieng anh", ENGLISH),
        ("Anh văn", ENGLISH),
        ("Quản lý", MANAGEMENT),
        ("Quản lí", MANAGEMENT),
        ("Mỹ thuật", "Mĩ thuật"),
        ("Vật lý", "Vật lí"),
        ("Hoá học", "Hóa học"),
        ("Lịch sử & Địa lý", "Lịch sử và Địa lí"),
        ("LS&ĐL", "Lịch sử và Địa lí"),
        ("HĐTN, HN", HDTNHN),
        ("Hoạt động trải nghiệm - hướng nghiệp", HDTNHN),
        ("GDQP-AN", "Giáo dục quốc phòng và an ninh"),
        ("GDCD", "Giáo dục công dân"),
        (unicodedata.normalize("NFD", "Khoa học tự nhiên"), "Khoa học tự nhiên"),
        ("Thể dục", "Giáo dục thể chất"),
        ("Toán", "Toán"),
    ],
)
def test_subject_spellings(typed: str, subject: str) -> None:
    assert CATALOG.canonical(typed) == subject


def test_unknown_subject_and_configured_alias() -> None:
    assert CATALOG.canonical("Kỹ năng sống") is None
    assert CATALOG.canonical("") is None
    catalog = SubjectCatalog({"KNS": "Kỹ năng sống", "Toan hoc ung dung": "Toán"})
    assert catalog.canonical("kns") == "Kỹ năng sống"
    assert catalog.canonical("Kỹ năng sống") == "Kỹ năng sống"
    assert catalog.canonical("Toán học ứng dụng") == "Toán"


# -- notes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("Nghỉ hưu trong năm học", ExemptionKind.RETIRING),
        ("nghi huu thang 12/2023", ExemptionKind.RETIRING),
        ("Đi học thạc sĩ tập trung 2 năm", ExemptionKind.STUDY_LEAVE),
        ("Cốt cán cấp tỉnh", ExemptionKind.PROVINCIAL_CORE),
        ("Nghỉ thai sản", ExemptionKind.MATERNITY),
        ("NGHỈ THAI SẢN từ 01/9", ExemptionKind.MATERNITY),
        ("Nghỉ ốm dài ngày (có giấy xác nhận)", ExemptionKind.LONG_ILLNESS),
        (unicodedata.normalize("NFD", "Nghỉ ốm dài ngày"), ExemptionKind.LONG_ILLNESS),
        ("Nghỉ sản đi dạy lại", None),
        ("Mới tuyển dụng", None),
        ("Đổi môn", None),
        ("", None),
    ],
)
def test_classify_note(note: str, kind: ExemptionKind | None) -> None:
    assert classify_note(note) is kind


def test_exempt_and_reduced_kinds() -> None:
    assert ExemptionKind.RETIRING.is_exempt
    assert ExemptionKind.STUDY_LEAVE.is_exempt
    assert not ExemptionKind.MATERNITY.is_exempt
    assert not ExemptionKind.LONG_ILLNESS.is_exempt


def test_note_rules_are_configurable() -> None:
    rules = (NoteRule(ExemptionKind.RETIRING, ("thoi viec",)),)
    assert classify_note("Thôi việc", rules) is ExemptionKind.RETIRING
    assert classify_note("Nghỉ hưu", rules) is None
