"""One row at a time: each check gives its reason code and a Vietnamese message."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from roster.model import Audience, CoreRole, Gender, Level
from roster.reasons import Effect, ReasonCode, Status, status_of
from roster.validate import (
    ParsedRow,
    ValidationRules,
    validate_core_staff_row,
    validate_learner_row,
)
from tests.unit.roster.builders import context, core_row, learner_row


def learner(**values: object) -> ParsedRow:
    return validate_learner_row(learner_row(**values), context())  # type: ignore[arg-type]


def codes(parsed: ParsedRow) -> list[ReasonCode]:
    return [r.code for r in parsed.reasons]


def message(parsed: ParsedRow, code: ReasonCode) -> str:
    return next(r.message for r in parsed.reasons if r.code is code)


def test_clean_row_has_no_reason_and_a_full_record() -> None:
    parsed = learner()
    assert parsed.reasons == ()
    record = parsed.record
    assert (record.identity_code, record.identity_ok) == ("7012345678", True)
    assert (record.lastname, record.firstname) == ("Nguyễn Thị", "Lan")
    assert record.birth_date == dt.date(1985, 9, 26)
    assert record.gender is Gender.FEMALE
    assert (record.email, record.email_ok) == ("lannt@gmail.com", True)
    assert record.school is not None
    assert record.school.code == "BP0001"
    assert (record.level, record.audience, record.subject) == (
        Level.LOWER_SECONDARY,
        Audience.TEACHER,
        "Toán",
    )
    assert record.modules_123_done
    assert not record.core_flag
    assert not record.hdtnhn_concurrent


@pytest.mark.parametrize(
    ("values", "code", "text"),
    [
        ({"email": None}, ReasonCode.MISSING_EMAIL, "Thiếu email"),
        ({"email": "  "}, ReasonCode.MISSING_EMAIL, "Thiếu email"),
        ({"email": "lannt@@gmail.com"}, ReasonCode.INVALID_EMAIL,
         "Email không hợp lệ: lannt@@gmail.com"),
        ({"email": "lannt gmail.com"}, ReasonCode.INVALID_EMAIL,
         "Email không hợp lệ: lannt gmail.com"),
        ({"birth_date": "31/02/1980"}, ReasonCode.IMPOSSIBLE_DATE,
         "Ngày sinh không tồn tại: 31/02/1980"),
        ({"birth_date": "26/09/85"}, ReasonCode.UNREADABLE_DATE,
         "Ngày sinh không đọc được (cần dd/mm/yyyy): 26/09/85"),
        ({"birth_date": dt.datetime(2015, 1, 1)}, ReasonCode.IMPLAUSIBLE_DATE,
         "Ngày sinh không hợp lý (8 tuổi): 01/01/2015"),
        ({"identity_code": "70123456"}, ReasonCode.INVALID_IDENTITY_CODE,
         "Mã định danh phải có 10 chữ số: 70123456"),
        ({"identity_code": None}, ReasonCode.MISSING_FIELD, "Thiếu Mã định danh"),
        ({"full_name": None}, ReasonCode.MISSING_FIELD, "Thiếu Họ và tên"),
        ({"full_name": "Lan"}, ReasonCode.INVALID_NAME,
         "Họ và tên không hợp lệ (cần cả họ và tên): Lan"),
        ({"full_name": "Nguyễn Thị Lan 2"}, ReasonCode.INVALID_NAME,
         "Họ và tên không hợp lệ (cần cả họ và tên): Nguyễn Thị Lan 2"),
        ({"full_name": "Nguyễn lan_nt"}, ReasonCode.INVALID_NAME,
         "Họ và tên không hợp lệ (cần cả họ và tên): Nguyễn lan_nt"),
        ({"full_name": "Nguyễn Thị Lan²"}, ReasonCode.INVALID_NAME,
         "Họ và tên không hợp lệ (cần cả họ và tên): Nguyễn Thị Lan²"),
        ({"school": "Trường THCS Không Có"}, ReasonCode.UNKNOWN_SCHOOL,
         "Không tìm thấy đơn vị công tác trong danh sách trường: Trường THCS Không Có"),
        ({"school": "THCS Minh Hưng", "district": "Huyện Lộc Ninh"}, ReasonCode.AMBIGUOUS_SCHOOL,
         "Đơn vị công tác trùng tên nhiều trường (BP0005, BP0006), cần ghi rõ: THCS Minh Hưng"),
        ({"school": None}, ReasonCode.MISSING_FIELD, "Thiếu Đơn vị công tác"),
        ({"level": "Đại học"}, ReasonCode.UNKNOWN_LEVEL, "Cấp học không hợp lệ: Đại học"),
        ({"level": None}, ReasonCode.MISSING_FIELD, "Thiếu Cấp học"),
        ({"audience": "NV"}, ReasonCode.UNKNOWN_AUDIENCE,
         "Đối tượng không hợp lệ (CBQL hoặc GV): NV"),
        ({"subject": "Kỹ năng sống"}, ReasonCode.UNKNOWN_SUBJECT,
         "Môn không có trong danh mục: Kỹ năng sống"),
        ({"subject": None}, ReasonCode.MISSING_FIELD, "Thiếu Môn bồi dưỡng"),
    ],
)  # fmt: skip
def test_rejections(values: dict[str, object], code: ReasonCode, text: str) -> None:
    parsed = learner(**values)
    assert code in codes(parsed)
    assert message(parsed, code) == text
    assert code.effect is Effect.REJECT
    assert status_of(parsed.reasons) is Status.REJECTED
    assert unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(
    ("values", "code", "text"),
    [
        ({"email": "  LANNT@GMAIL.COM "}, ReasonCode.EMAIL_NORMALISED,
         "Email đã chuẩn hoá: “  LANNT@GMAIL.COM ” → “lannt@gmail.com”"),
        ({"full_name": unicodedata.normalize("NFD", "Nguyễn Thị Lan")}, ReasonCode.NAME_NORMALISED,
         "Họ và tên đã chuẩn hoá: “Nguyễn Thị Lan”"),
        ({"birth_date": "26/09/1985"}, ReasonCode.DATE_FROM_TEXT,
         "Ngày sinh nhập dạng chữ, đã đọc: 26/09/1985"),
        ({"phone": "+84 912.345678"}, ReasonCode.PHONE_NORMALISED,
         "Số điện thoại đã chuẩn hoá: +84 912.345678 → 0912345678"),
        ({"phone": "12345"}, ReasonCode.INVALID_PHONE, "Số điện thoại không hợp lệ, đã bỏ: 12345"),
        ({"school": " THCS TÂN PHÚ  "}, ReasonCode.SCHOOL_NAME_MATCHED,
         "Đơn vị công tác “THCS TÂN PHÚ” được hiểu là “Trường THCS Tân Phú” (BP0001)"),
        ({"gender": "?"}, ReasonCode.UNKNOWN_GENDER, "Giới tính không rõ, đã bỏ: ?"),
    ],
)  # fmt: skip
def test_notes_do_not_block(values: dict[str, object], code: ReasonCode, text: str) -> None:
    parsed = learner(**values)
    assert codes(parsed) == [code]
    assert parsed.reasons[0].message == text
    assert status_of(parsed.reasons) is Status.IMPORTED


def test_corrected_values_are_in_the_record() -> None:
    record = learner(
        email=" LANNT@GMAIL.COM", phone="84912345678", birth_date="26/09/1985",
        full_name=unicodedata.normalize("NFD", "NGUYỄN THỊ LAN"), school="thcs tan phu",
    ).record  # fmt: skip
    assert record.email == "lannt@gmail.com"
    assert record.phone == "0912345678"
    assert record.birth_date == dt.date(1985, 9, 26)
    assert record.full_name == "Nguyễn Thị Lan"
    assert record.school is not None
    assert record.school.code == "BP0001"


def test_every_problem_of_a_row_is_reported() -> None:
    parsed = learner(email=None, birth_date="31/02/1980", identity_code="123")
    assert set(codes(parsed)) == {
        ReasonCode.MISSING_EMAIL,
        ReasonCode.IMPOSSIBLE_DATE,
        ReasonCode.INVALID_IDENTITY_CODE,
    }


def test_manager_without_subject_takes_management() -> None:
    record = learner(audience="CBQL", subject=None, position="Hiệu trưởng").record
    assert record.subject == "Quản lí"


def test_flags_and_note() -> None:
    record = learner(core_staff="x", modules_123_done=None, hdtnhn_concurrent="X",
                     note=" Nghỉ  thai sản ").record  # fmt: skip
    assert record.core_flag
    assert not record.modules_123_done
    assert record.hdtnhn_concurrent
    assert record.note == "Nghỉ thai sản"


def test_birth_date_is_optional_and_age_bounds_configurable() -> None:
    assert learner(birth_date=None).reasons == ()
    strict = context(ValidationRules(max_age=30))
    parsed = validate_learner_row(learner_row(), strict)
    assert codes(parsed) == [ReasonCode.IMPLAUSIBLE_DATE]


def test_identity_code_length_is_configurable() -> None:
    rules = ValidationRules(identity_code_digits=12)
    parsed = validate_learner_row(learner_row(identity_code="701234567890"), context(rules))
    assert parsed.reasons == ()


def test_comparable_ignores_spelling_differences() -> None:
    a = learner(email="LANNT@gmail.com ", school="THCS TÂN PHÚ", birth_date="26/09/1985")
    b = learner(row=9, email="lannt@gmail.com")
    assert a.record.comparable == b.record.comparable
    c = learner(subject="Ngữ văn")
    assert c.record.comparable != b.record.comparable


def test_core_staff_row() -> None:
    parsed = validate_core_staff_row(core_row(), context())
    assert parsed.reasons == ()
    assert parsed.record.core_role is CoreRole.REPORTER
    assert parsed.record.subject == "Toán"
    assistant = validate_core_staff_row(core_row(core_role="trợ giảng"), context())
    assert assistant.record.core_role is CoreRole.ASSISTANT
    unknown = validate_core_staff_row(core_row(core_role="Thư ký"), context())
    assert [r.code for r in unknown.reasons] == [ReasonCode.UNKNOWN_CORE_ROLE]
    missing = validate_core_staff_row(core_row(core_role=None), context())
    assert [r.message for r in missing.reasons] == ["Thiếu Nhiệm vụ"]


# -- checks remembered per value within one import -------------------------------------

REPEATED = [
    {"school": "THCS Tân Phú", "level": "cấp 2", "gender": "nữ"},
    {"school": "Trường Không Có", "level": "Cấp 9", "audience": "HS", "subject": "Bơi"},
    {"birth_date": "31/02/1985", "position": "x" * 130, "note": "Nghỉ hưu"},
    {"core_staff": "có", "hdtnhn_concurrent": "không", "modules_123_done": None, "gender": "?"},
    {"full_name": "NGUYỄN THỊ LAN", "subject": None, "audience": "CBQL"},
]


@pytest.mark.parametrize("values", REPEATED)
def test_a_value_seen_before_gives_what_it_gave_first(values: dict[str, object]) -> None:
    shared = context()
    first = validate_learner_row(learner_row(**values), shared)  # type: ignore[arg-type]
    again = validate_learner_row(learner_row(row=7, **values), shared)  # type: ignore[arg-type]
    alone = validate_learner_row(learner_row(row=7, **values), context())  # type: ignore[arg-type]
    assert first.reasons  # something to replay
    assert (again.record, again.reasons) == (alone.record, alone.reasons)
    assert again.record == first.record


def test_equal_values_of_other_types_are_not_taken_for_one_another() -> None:
    """1 == 1.0 == True in Python, but a cell holding TRUE reads "x", one holding 1 "1"."""
    shared = context()
    number = validate_learner_row(learner_row(note=1, level=2), shared)
    flag = validate_learner_row(learner_row(note=True, level=True), shared)
    assert (number.record.note, flag.record.note) == ("1", "x")
    assert [r.message for r in number.reasons] == ["Cấp học không hợp lệ: 2"]
    assert [r.message for r in flag.reasons] == ["Cấp học không hợp lệ: x"]


def test_a_remembered_check_follows_its_own_context() -> None:
    young = validate_learner_row(learner_row(birth_date="26/09/2010"), context())
    rules = ValidationRules(min_age=10)
    allowed = validate_learner_row(learner_row(birth_date="26/09/2010"), context(rules))
    assert [r.code for r in young.reasons] == [ReasonCode.IMPLAUSIBLE_DATE]
    assert [r.code for r in allowed.reasons] == [ReasonCode.DATE_FROM_TEXT]
