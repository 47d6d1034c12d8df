"""Year results (at least N modules, exempt apart) and the plan's targets (98 %, 75 %)."""

from __future__ import annotations

import pytest

from grading.rule import LearnerResult, Outcome, Reason
from grading.targets import PlacedResult, target_lines
from grading.year import RunOutcome, YearRating, year_result, year_results

DONE, FAILED = Outcome.COMPLETED, Outcome.NOT_COMPLETED


def runs(*pairs: tuple[int, Outcome]) -> list[RunOutcome]:
    return [RunOutcome(module, outcome) for module, outcome in pairs]


def test_three_modules_complete_the_year() -> None:
    result = year_result("A", runs((4, DONE), (5, DONE), (9, DONE)))
    assert result.rating is YearRating.COMPLETED
    assert result.rating.label == "Hoàn thành kế hoạch BDTX"
    assert result.modules_completed == (4, 5, 9)
    assert result.missing == 0


def test_two_modules_do_not_and_say_how_many_are_missing() -> None:
    result = year_result("A", runs((4, DONE), (5, FAILED), (9, DONE)))
    assert result.rating is YearRating.NOT_COMPLETED
    assert result.rating.label == "Không hoàn thành kế hoạch BDTX"
    assert result.missing == 1


def test_a_module_completed_in_two_runs_counts_once() -> None:
    result = year_result("A", runs((4, DONE), (4, DONE), (5, DONE)))
    assert result.rating is YearRating.NOT_COMPLETED
    assert result.modules_completed == (4, 5)


def test_reference_seats_do_not_count_towards_the_year() -> None:
    result = year_result("A", runs((4, DONE), (5, DONE), (9, Outcome.REFERENCE)))
    assert result.rating is YearRating.NOT_COMPLETED


def test_the_required_number_is_configurable() -> None:
    assert year_result("A", runs((4, DONE), (5, DONE)), required=2).rating is (YearRating.COMPLETED)
    with pytest.raises(ValueError, match="at least one module"):
        year_result("A", [], required=0)


def test_exempt_people_are_exempt_not_failed() -> None:
    assert year_result("A", [], exempt=True).rating is YearRating.EXEMPT
    assert year_result("A", runs((4, Outcome.EXEMPT), (5, Outcome.EXEMPT))).rating is (
        YearRating.EXEMPT
    )
    # Nobody in the runs and not exempt: not completed.
    assert year_result("B", []).rating is YearRating.NOT_COMPLETED
    results = year_results({"B": runs((4, DONE)), "A": runs((4, FAILED))}, exempt=frozenset({"A"}))
    assert [(r.identity_code, r.rating) for r in results] == [
        ("A", YearRating.EXEMPT),
        ("B", YearRating.NOT_COMPLETED),
    ]


def placed(
    outcome: Outcome,
    *,
    school: str = "THCS A",
    district: str = "Đồng Xoài",
    subject: str = "Toán",
    answered: bool = True,
    positive: bool = True,
) -> PlacedResult:
    reasons = (Reason.NOT_GRADED,) if outcome is Outcome.NOT_COMPLETED else ()
    return PlacedResult(
        LearnerResult("x", "c", outcome, reasons),
        level="THCS",
        subject=subject,
        school=school,
        district=district,
        survey_answered=answered,
        survey_positive=positive,
    )


def line(lines: list, dimension: str, key: str):  # type: ignore[no-untyped-def,type-arg]
    [found] = [x for x in lines if x.dimension == dimension and x.key == key]
    return found


def test_completion_target_is_more_than_98_percent() -> None:
    # 49 of 50 is exactly 98 %: the plans ask for more than 98 %.
    lines = target_lines([placed(DONE)] * 49 + [placed(FAILED)])
    province = line(lines, "province", "")
    assert (province.learners, province.completed) == (50, 49)
    assert province.completion_rate == pytest.approx(98.0)
    assert not province.meets_completion
    better = line(target_lines([placed(DONE)] * 99 + [placed(FAILED)]), "province", "")
    assert better.meets_completion


def test_exempt_and_reference_seats_count_nowhere() -> None:
    lines = target_lines(
        [placed(DONE), placed(Outcome.EXEMPT), placed(Outcome.REFERENCE, answered=False)]
    )
    province = line(lines, "province", "")
    assert (province.learners, province.completed) == (1, 1)
    assert province.meets_completion


def test_survey_share_is_of_all_learners_and_non_answers_are_not_positive() -> None:
    results = (
        [placed(DONE, positive=True)] * 7
        + [placed(DONE, positive=False)] * 1
        + [placed(DONE, answered=False, positive=False)] * 2
    )
    province = line(target_lines(results), "province", "")
    assert province.answered_rate == pytest.approx(80.0)
    assert province.positive_rate == pytest.approx(70.0)
    assert not province.meets_survey
    more = line(target_lines([placed(DONE)] * 4), "province", "")
    assert more.meets_survey


def test_lines_per_school_subject_and_district() -> None:
    results = [
        placed(DONE, school="THCS A", district="Đồng Xoài"),
        placed(FAILED, school="THCS B", district="Bù Đăng", subject="Ngữ văn"),
        placed(DONE, school="THCS B", district="Bù Đăng", subject="Ngữ văn"),
    ]
    lines = target_lines(results)
    assert [x.key for x in lines if x.dimension == "school"] == ["THCS A", "THCS B"]
    school_b = line(lines, "school", "THCS B")
    assert (school_b.learners, school_b.completed) == (2, 1)
    assert school_b.completion_rate == pytest.approx(50.0)
    assert line(lines, "subject", "Toán").meets_completion
    assert {x.key for x in lines if x.dimension == "district"} == {"Bù Đăng", "Đồng Xoài"}


def test_without_districts_there_is_no_district_line() -> None:
    lines = target_lines([placed(DONE, district="")])
    assert not [x for x in lines if x.dimension == "district"]
    empty = target_lines([])
    assert [(x.dimension, x.learners, x.meets_completion) for x in empty] == [
        ("province", 0, False)
    ]
