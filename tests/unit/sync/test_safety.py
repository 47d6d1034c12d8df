"""The safety gate stops plans that take away too much."""

from __future__ import annotations

from sync.plan import DAY, PlanOptions, plan
from sync.safety import Thresholds, check
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
