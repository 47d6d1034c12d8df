"""The completion lists built from plain rows: which list, which reason, what order."""

from __future__ import annotations

import datetime as dt
import unicodedata

from grading.lists import (
    ListKind,
    PersonRow,
    ResultRow,
    SchoolRow,
    build_lists,
    exempt_without_seat,
    fold,
    name_key,
    slug,
)

SCHOOLS = {
    "S1": SchoolRow("S1", "Trường THCS Tân Phú", "Đồng Xoài"),
    "S2": SchoolRow("S2", "Trường THCS An Lộc", "Bình Long"),
}


def person(code: str, name: str, school: str = "S1", exemption_reason: str = "") -> PersonRow:
    return PersonRow(
        identity_code=code,
        full_name=name,
        birth_date=dt.date(1985, 3, 4),
        school_code=school,
        level="THCS",
        subject="Toán",
        audience="GV",
        exemption_reason=exemption_reason,
    )


def result(
    code: str,
    outcome: str,
    explanation: str = "",
    *,
    seat: str = "main",
    survey_answered: bool = False,
    survey_positive: bool | None = None,
) -> ResultRow:
    return ResultRow(
        code,
        f"M4-{code}",
        outcome,
        seat=seat,
        explanation=explanation,
        survey_answered=survey_answered,
        survey_positive=survey_positive,
    )


def test_fold_removes_diacritics_and_case() -> None:
    assert fold("Đỗ Thị Ánh") == "do thi anh"
    assert fold("  Nguyễn   Văn  ") == "nguyen van"


def test_name_key_orders_vietnamese_names() -> None:
    names = ["Bình", "Ánh", "Anh", "Đức", "Dũng", "Ân"]
    ordered = sorted(names, key=name_key)
    # Folded first (an, anh, anh, binh, duc, dung), the tie broken by the NFC text itself.
    assert ordered == ["Ân", "Anh", "Ánh", "Bình", "Đức", "Dũng"]


def test_slug_is_an_ascii_file_name() -> None:
    assert slug("Đồng Xoài") == "dong-xoai"
    assert slug("TH&THCS/01") == "th-thcs-01"
    assert slug("///") == "khong-ro"


def test_each_outcome_goes_to_its_list_with_its_reason() -> None:
    people = {
        "A": person("A", "Lê Văn A"),
        "B": person("B", "Trần Thị B"),
        "C": person("C", "Phạm C", exemption_reason="Nghỉ thai sản"),
        "D": person("D", "Võ D"),
    }
    lists = build_lists(
        [
            result("A", "completed"),
            result("B", "not_completed", "Chưa nộp bài tập cuối khóa"),
            result("C", "exempt"),
            result("D", "reference", seat="reference"),
        ],
        people,
        SCHOOLS,
        module="Mô đun 4",
        reference_subjects=["Toán", "Hoạt động trải nghiệm, hướng nghiệp"],
    )
    (completed,) = lists.of(ListKind.COMPLETED)
    assert (completed.full_name, completed.result, completed.reason) == (
        "Lê Văn A",
        "Hoàn thành",
        "",
    )
    assert completed.school_name == "Trường THCS Tân Phú"
    assert completed.module == "Mô đun 4"
    assert completed.district == "Đồng Xoài"  # from the school when the person has none
    (missing,) = lists.of(ListKind.NOT_COMPLETED)
    assert missing.reason == "Chưa nộp bài tập cuối khóa"
    assert missing.result == "Chưa hoàn thành"
    (exempt,) = lists.of(ListKind.EXEMPT)
    assert exempt.reason == "Nghỉ thai sản"
    (reference,) = lists.of(ListKind.REFERENCE)
    assert reference.identity_code == "D"
    assert reference.subject == "Hoạt động trải nghiệm, hướng nghiệp"  # not the own subject
    assert completed.subject == "Toán"
    assert lists.counts() == {"completed": 1, "not_completed": 1, "exempt": 1, "reference": 1}


def test_rows_sorted_by_school_then_folded_name() -> None:
    people = {
        "1": person("1", "Đặng Bình", "S1"),
        "2": person("2", "Dương An", "S1"),
        "3": person("3", "Ánh", "S2"),
        "4": person("4", "Zô", "S2"),
    }
    lists = build_lists(
        [result(code, "completed") for code in ("1", "2", "3", "4")],
        people,
        SCHOOLS,
        module="Mô đun 4",
    )
    rows = lists.of(ListKind.COMPLETED)
    # "Trường THCS An Lộc" (S2) before "Trường THCS Tân Phú" (S1); "Dang" before "Duong".
    assert [r.identity_code for r in rows] == ["3", "4", "1", "2"]


def test_decomposed_names_are_printed_in_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    lists = build_lists(
        [result("A", "completed")], {"A": person("A", decomposed)}, SCHOOLS, module="Mô đun 1"
    )
    assert lists.of(ListKind.COMPLETED)[0].full_name == unicodedata.normalize("NFC", decomposed)


def test_a_result_without_a_stored_person_is_kept() -> None:
    lists = build_lists([result("GONE", "not_completed", "x")], {}, SCHOOLS, module="Mô đun 1")
    (row,) = lists.of(ListKind.NOT_COMPLETED)
    assert row.full_name == "GONE"
    assert row.school_code == ""


def test_restrict_and_summary_follow_the_scope() -> None:
    people = {
        "A": person("A", "A", "S1"),
        "B": person("B", "B", "S1"),
        "C": person("C", "C", "S2"),
        "E": person("E", "E", "S2", exemption_reason="Miễn"),
    }
    lists = build_lists(
        [
            result("A", "completed", survey_answered=True, survey_positive=True),
            result("B", "not_completed", "lý do"),
            result("C", "completed"),
            result("E", "exempt"),
        ],
        people,
        SCHOOLS,
        module="Mô đun 4",
    )
    assert lists.schools() == ["S1", "S2"]
    assert lists.districts() == ["Bình Long", "Đồng Xoài"]
    province = lists.summary()[0]
    assert (province.dimension, province.learners, province.completed) == ("province", 3, 2)
    assert (province.answered, province.positive) == (1, 1)
    s1 = lists.restrict(school="S1")
    assert s1.counts() == {"completed": 1, "not_completed": 1, "exempt": 0, "reference": 0}
    assert s1.summary()[0].learners == 2
    assert s1.summary()[0].completed == 1
    long = lists.restrict(district="Bình Long")
    assert [r.identity_code for r in long.of(ListKind.COMPLETED)] == ["C"]
    assert long.of(ListKind.EXEMPT)[0].identity_code == "E"
    assert long.summary()[0].learners == 1  # the exempt person does not count


def test_no_districts_when_the_roster_has_none() -> None:
    schools = {"S1": SchoolRow("S1", "Trường A")}
    lists = build_lists(
        [result("A", "completed")], {"A": person("A", "A")}, schools, module="Mô đun 1"
    )
    assert lists.districts() == []
    assert [line.dimension for line in lists.summary()] == [
        "province",
        "level",
        "subject",
        "school",
    ]


def test_exempt_people_without_a_seat_are_listed_as_exempt_with_their_reason() -> None:
    """Exempt people are not enrolled, so no pull decides them: the lists still name them."""
    from dataclasses import replace

    retiring = replace(person("E1", "Lê Văn Hưu", exemption_reason="Nghỉ hưu"), exempt=True)
    other_level = replace(person("E2", "Trần Thị Lan"), exempt=True, level="THPT")
    seated = replace(person("E3", "Phạm Văn Đồng"), exempt=True)
    not_exempt = person("N1", "Ngô Thì Nhậm")
    people = [retiring, other_level, seated, not_exempt]
    extra = exempt_without_seat(people, {"E3"}, levels={"THCS"}, audiences={"GV", "CBQL"})
    assert [r.identity_code for r in extra] == ["E1"]
    lists = build_lists(
        [result("E3", "exempt"), *extra],
        {p.identity_code: p for p in people},
        SCHOOLS,
        module="Mô đun 4",
    )
    exempt = lists.of(ListKind.EXEMPT)
    assert [(r.identity_code, r.reason) for r in exempt] == [("E1", "Nghỉ hưu"), ("E3", "")]
    assert lists.counts()["exempt"] == 2
    assert not lists.of(ListKind.NOT_COMPLETED)
