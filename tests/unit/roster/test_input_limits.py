"""Values Moodle or the state database would refuse at apply are rejected at import, in
Vietnamese; invisible and control characters are removed from names, refused in codes
and e-mails (issue 7, item 4)."""

from __future__ import annotations

import pytest

from roster.reasons import ReasonCode, Status, status_of
from roster.text import clean_text, hidden_characters
from roster.validate import ParsedRow, ValidationRules, validate_learner_row
from tests.unit.roster.builders import context, learner_row


def learner(rules: ValidationRules | None = None, **values: object) -> ParsedRow:
    return validate_learner_row(learner_row(**values), context(rules))  # type: ignore[arg-type]


def reason_of(parsed: ParsedRow, code: ReasonCode) -> str:
    found = [r.message for r in parsed.reasons if r.code is code]
    assert found, parsed.reasons
    return found[0]


def test_a_500_character_name_is_rejected_at_import_in_vietnamese() -> None:
    parsed = learner(full_name="Nguyễn " + "A" * 493 + " Lan")
    assert status_of(parsed.reasons) is Status.REJECTED
    assert "Họ và tên đệm quá dài: 500 ký tự, tối đa 100 ký tự" in reason_of(
        parsed, ReasonCode.TOO_LONG
    )


def test_a_given_name_over_100_characters_is_rejected() -> None:
    parsed = learner(full_name="Nguyễn Thị " + "L" * 101)
    assert "Tên quá dài: 101 ký tự" in reason_of(parsed, ReasonCode.TOO_LONG)


def test_names_at_the_limit_pass() -> None:
    parsed = learner(full_name="Nguyễn " + "Thị " * 23 + "Lan" + "h" * 96)
    assert status_of(parsed.reasons) is Status.IMPORTED, parsed.reasons


def test_an_email_over_100_characters_is_rejected() -> None:
    email = "a" * 60 + "@" + "b" * 40 + ".vn"
    parsed = learner(email=email)
    assert "Email quá dài: 104 ký tự, tối đa 100" in reason_of(parsed, ReasonCode.TOO_LONG)
    assert not parsed.record.email_ok


def test_the_username_the_pattern_makes_must_fit() -> None:
    email = "a" * 90 + "@gmail.com"  # 100 characters: the e-mail itself fits
    parsed = learner(ValidationRules(username_pattern="gv.{identity}.{email_local}"), email=email)
    message = reason_of(parsed, ReasonCode.TOO_LONG)
    assert message.startswith("Tên đăng nhập tạo từ email quá dài: 104 ký tự, tối đa 97")
    assert status_of(learner(email=email).reasons) is Status.IMPORTED


def test_an_identity_code_too_long_to_store_is_rejected_and_not_kept() -> None:
    parsed = learner(ValidationRules(identity_code_digits=40), identity_code="7" * 40)
    assert "Mã định danh quá dài: 40 ký tự, tối đa 32" in reason_of(parsed, ReasonCode.TOO_LONG)
    assert parsed.record.identity_code == ""


def test_a_position_too_long_to_store_is_rejected() -> None:
    parsed = learner(position="Giáo viên " * 20)
    assert "Chức vụ quá dài" in reason_of(parsed, ReasonCode.TOO_LONG)


@pytest.mark.parametrize("hidden", ["\u202e", "\u2066", "\u200b", "\u200f", "\ufeff", "\x07"])
def test_hidden_characters_are_removed_from_names_with_a_note(hidden: str) -> None:
    parsed = learner(full_name=f"Nguyễn Thị{hidden} Lan")
    assert parsed.record.full_name == "Nguyễn Thị Lan"
    assert status_of(parsed.reasons) is Status.IMPORTED
    note = reason_of(parsed, ReasonCode.NAME_NORMALISED)
    assert f"U+{ord(hidden):04X}" in note
    assert "đã bỏ" in note


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "lannt@gmail\u202e.com"),
        ("email", "lan\u200bnt@gmail.com"),
        ("identity_code", "70123\u200b45678"),
        ("identity_code", "7012345678\u2069"),
    ],
)
def test_hidden_characters_in_an_email_or_code_reject_the_row(field: str, value: str) -> None:
    parsed = learner(**{field: value})
    assert status_of(parsed.reasons) is Status.REJECTED
    message = reason_of(parsed, ReasonCode.HIDDEN_CHARACTERS)
    assert "ký tự ẩn" in message
    assert "hãy gõ lại" in message


def test_clean_text_removes_bidi_controls_and_control_characters() -> None:
    text = "a\u202ab\u202bc\u202cd\u202de\u202ef\u2066g\u2067h\u2068i\u2069j\x01k\x7fl\x9fm"
    assert clean_text(text) == "abcdefghijklm"
    assert hidden_characters("plain Tiếng Việt\ttext") == []
