"""The year list: every person with a result or exempt, their rating, what is missing."""

from __future__ import annotations

from grading.lists import PersonRow, SchoolRow
from grading.rule import Outcome
from grading.year import RunOutcome, YearRating, year_list

DONE, FAILED = Outcome.COMPLETED, Outcome.NOT_COMPLETED
SCHOOLS = {"S1": SchoolRow("S1", "Trường THCS Tân Phú"), "S2": SchoolRow("S2", "THCS An Lộc")}


def _person(code: str, name: str, school: str, *, exempt: str = "") -> PersonRow:
    return PersonRow(code, name, school_code=school, exempt=bool(exempt), exemption_reason=exempt)


def test_ratings_notes_and_order() -> None:
    people = {
        "1": _person("1", "Nguyễn Văn Bình", "S1"),
        "2": _person("2", "Đỗ Thị Ánh", "S1"),
        "3": _person("3", "Lê Văn Cường", "S2"),
        "4": _person("4", "Trần Thị Em", "S1", exempt="Nghỉ thai sản"),
    }
    runs = {
        "1": [RunOutcome(4, DONE), RunOutcome(5, DONE), RunOutcome(9, DONE)],
        "2": [RunOutcome(4, DONE), RunOutcome(5, FAILED), RunOutcome(9, DONE)],
        "3": [RunOutcome(4, DONE), RunOutcome(4, DONE)],
    }

    rows = year_list(runs, people, SCHOOLS, required=3)

    assert [(r.full_name, r.school_name, r.result.rating, r.note) for r in rows] == [
        ("Lê Văn Cường", "THCS An Lộc", YearRating.NOT_COMPLETED, "Còn thiếu 2 mô đun"),
        ("Đỗ Thị Ánh", "Trường THCS Tân Phú", YearRating.NOT_COMPLETED, "Còn thiếu 1 mô đun"),
        ("Nguyễn Văn Bình", "Trường THCS Tân Phú", YearRating.COMPLETED, ""),
        ("Trần Thị Em", "Trường THCS Tân Phú", YearRating.EXEMPT, "Nghỉ thai sản"),
    ]
    assert rows[2].result.modules_completed == (4, 5, 9)


def test_the_required_number_of_modules_is_the_setting() -> None:
    people = {"1": _person("1", "An", "S1")}
    runs = {"1": [RunOutcome(4, DONE), RunOutcome(5, DONE)]}
    assert year_list(runs, people, SCHOOLS, required=2)[0].result.rating is YearRating.COMPLETED
    assert year_list(runs, people, SCHOOLS, required=3)[0].result.rating is (
        YearRating.NOT_COMPLETED
    )


def test_a_person_no_longer_stored_is_listed_by_identity_code() -> None:
    [row] = year_list({"9": [RunOutcome(4, DONE)]}, {}, SCHOOLS, required=1)
    assert (row.full_name, row.result.rating) == ("9", YearRating.COMPLETED)
