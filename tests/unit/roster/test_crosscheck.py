"""Duplicates (merged or conflicting) and e-mails shared by different people."""

from __future__ import annotations

from roster.crosscheck import duplicate_reasons, shared_email_reasons
from roster.reasons import ReasonCode
from roster.validate import ParsedRow, validate_learner_row
from tests.unit.roster.builders import context, learner_row


def parsed(row: int, **values: object) -> ParsedRow:
    return validate_learner_row(learner_row(row, **values), context())  # type: ignore[arg-type]


def test_exact_duplicate_is_merged_into_the_first_row() -> None:
    rows = [parsed(4), parsed(5, identity_code="7000000001", email="b@gmail.com"), parsed(9)]
    found = duplicate_reasons(rows)
    assert list(found) == [2]
    (merged,) = found[2]
    assert merged.code is ReasonCode.DUPLICATE_MERGED
    assert "dòng 4" in merged.message


def test_duplicate_typed_differently_but_equal_once_normalised_is_merged() -> None:
    rows = [parsed(4), parsed(7, email=" LANNT@GMAIL.COM", school="THCS TÂN PHÚ")]
    assert [r.code for r in duplicate_reasons(rows)[1]] == [ReasonCode.DUPLICATE_MERGED]


def test_conflicting_duplicates_are_all_rejected_naming_the_fields() -> None:
    rows = [parsed(4), parsed(8, subject="Ngữ văn", email="other@gmail.com")]
    found = duplicate_reasons(rows)
    assert set(found) == {0, 1}
    assert all(r.code is ReasonCode.CONFLICTING_DUPLICATE for rs in found.values() for r in rs)
    assert found[0][0].message == (
        "Mã định danh 7012345678 trùng với dòng 8 nhưng khác: Email, Môn bồi dưỡng"
    )
    assert "dòng 4" in found[1][0].message


def test_three_rows_one_of_them_different_all_conflict() -> None:
    rows = [parsed(4), parsed(5), parsed(6, phone="0987000000")]
    found = duplicate_reasons(rows)
    assert set(found) == {0, 1, 2}


def test_rows_without_identity_code_are_not_duplicates() -> None:
    assert duplicate_reasons([parsed(4, identity_code=None), parsed(5, identity_code=None)]) == {}


def test_shared_email_holds_back_both_rows() -> None:
    rows = [
        parsed(4),
        parsed(5, identity_code="7000000001", full_name="Trần Văn Hùng"),
        parsed(6, identity_code="7000000002", email="x@gmail.com"),
    ]
    found = shared_email_reasons(rows)
    assert set(found) == {0, 1}
    assert found[0][0].code is ReasonCode.SHARED_EMAIL
    assert found[0][0].message == "Email trùng với người khác (dòng 5)"
    assert found[1][0].message == "Email trùng với người khác (dòng 4)"


def test_shared_email_compares_normalised_addresses() -> None:
    rows = [parsed(4), parsed(5, identity_code="7000000001", email=" LanNT@Gmail.com ")]
    assert set(shared_email_reasons(rows)) == {0, 1}


def test_same_person_twice_does_not_share_an_email_with_themself() -> None:
    rows = [parsed(4), parsed(5)]
    assert shared_email_reasons(rows) == {}
    assert shared_email_reasons([parsed(4), parsed(5, identity_code="7000000001")], skip={1}) == {}


def test_invalid_emails_are_not_compared() -> None:
    rows = [parsed(4, email="a@@b.com"), parsed(5, identity_code="7000000001", email="a@@b.com")]
    assert shared_email_reasons(rows) == {}
