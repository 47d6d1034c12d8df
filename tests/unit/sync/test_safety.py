"""The safety gate stops plans that take away too much."""

from __future__ import annotations

from sync.model import ActionKind
from sync.plan import DAY, PlanOptions, plan
from sync.safety import Thresholds, check, check_class_moves, check_import, group_moves
from tests.unit.sync.states import actual_matching, desired, person

NOW = 1_700_000_000


def province(n: int) -> tuple[list, dict[str, str]]:  # type: ignore[type-arg]
    people = [person(f"70{i:08d}") for i in range(n)]
    return people, {p.identity_code: f"L{i // 40:02d}" for i, p in enumerate(people)}


def test_half_the_roster_missing_stops_the_plan() -> None:
    people, classes = province(400)
    full = desired(people, classes, managed=[p.identity_code for p in people])
    lms = actual_matching(full)
    half = desired(
        people[:200],
        {p.identity_code: classes[p.identity_code] for p in people[:200]},
        managed=full.managed,
    )
    result = plan(half, lms, now=NOW + 30 * DAY, options=PlanOptions())
    violations = check(result, lms)
    assert {v.what for v in violations} == {"tạm khóa tài khoản", "hủy ghi danh"}
    suspend = next(v for v in violations if v.what == "tạm khóa tài khoản")
    assert (suspend.count, suspend.base) == (200, 400)
    assert "--accept" in suspend.message()
    assert "50.0%" in suspend.message()


def test_a_few_leavers_pass() -> None:
    people, classes = province(400)
    full = desired(people, classes, managed=[p.identity_code for p in people])
    lms = actual_matching(full)
    most = desired(
        people[3:],
        {p.identity_code: classes[p.identity_code] for p in people[3:]},
        managed=full.managed,
    )
    result = plan(most, lms, now=NOW + 30 * DAY, options=PlanOptions())
    assert len(result.actions) == 6
    assert check(result, lms) == []


def test_count_limit_alone_can_stop_a_big_site() -> None:
    people, classes = province(400)
    full = desired(people, classes, managed=[p.identity_code for p in people])
    lms = actual_matching(full)
    most = desired(
        people[3:],
        {p.identity_code: classes[p.identity_code] for p in people[3:]},
        managed=full.managed,
    )
    result = plan(most, lms, now=NOW + 30 * DAY, options=PlanOptions())
    assert [v.what for v in check(result, lms, Thresholds(max_suspend=2, max_unenrol=2))] == [
        "tạm khóa tài khoản",
        "hủy ghi danh",
    ]


def test_learners_moved_between_groups_count_against_the_group_moves_threshold() -> None:
    people, classes = province(400)
    full = desired(people, classes, managed=[p.identity_code for p in people])
    lms = actual_matching(full)
    # 60 learners swap classes L00 <-> L01 (40 each): 60 group moves of 400 memberships.
    swapped = dict(classes)
    for p in people[:30]:
        swapped[p.identity_code] = "L01"
    for p in people[40:70]:
        swapped[p.identity_code] = "L00"
    moved = desired(people, swapped, managed=full.managed)
    result = plan(moved, lms, now=NOW, options=PlanOptions())
    assert group_moves(result) == 60
    violations = check(result, lms)
    assert [(v.what, v.count, v.base) for v in violations] == [("chuyển nhóm (lớp)", 60, 400)]
    assert "--accept" in violations[0].message()
    assert check(result, lms, Thresholds(max_group_moves=60, max_group_moves_percent=15)) == []


def test_an_added_group_without_a_removal_is_not_a_move() -> None:
    people, classes = province(400)
    full = desired(people, classes, managed=[p.identity_code for p in people])
    lms = actual_matching(full)
    newcomers = [person(f"71{i:08d}") for i in range(30)]
    more = desired(
        people + newcomers,
        classes | {p.identity_code: "L09" for p in newcomers},
        managed=full.managed,
    )
    result = plan(more, lms, now=NOW, options=PlanOptions())
    assert len(result.of_kind(ActionKind.ADD_MEMBER)) == 30
    assert group_moves(result) == 0
    assert check(result, lms) == []


def test_an_import_marking_half_the_people_as_left_stops() -> None:
    (violation,) = check_import(leaving=3000, active=6000)
    assert (violation.what, violation.count, violation.base) == (
        "đánh dấu rời danh sách",
        3000,
        6000,
    )
    assert violation.message().startswith("Lần nhập sẽ đánh dấu rời danh sách 3000 / 6000")
    assert check_import(leaving=3000, active=6000, limits=Thresholds(max_leavers=3000)) != []
    limits = Thresholds(max_leavers=3000, max_leavers_percent=50)
    assert check_import(leaving=3000, active=6000, limits=limits) == []


def test_a_few_leavers_import_without_asking() -> None:
    assert check_import(leaving=40, active=6000) == []
    assert check_import(leaving=0, active=0) == []


def test_an_import_leaving_nobody_active_always_stops_even_on_a_tiny_site() -> None:
    # 5 of 5 is under every count and under the percent floor: the "everyone" rule stops it.
    (violation,) = check_import(leaving=5, active=5)
    assert (violation.count, violation.base) == (5, 5)
    assert check_import(leaving=4, active=5) == []


def test_an_allocation_moving_many_learners_between_classes_stops() -> None:
    (violation,) = check_class_moves("M4-2023", moves=2425, seated=2800)
    assert violation.what == "chuyển lớp"
    assert violation.message().startswith("Phân lớp đợt M4-2023 sẽ chuyển lớp 2425 / 2800")
    assert check_class_moves("M4-2023", moves=12, seated=5600) == []
    assert check_class_moves("M4-2023", moves=12, seated=100) != []  # 12 %, over the floor
    assert check_class_moves("M4-2023", moves=51, seated=100_000) != []  # the count alone
