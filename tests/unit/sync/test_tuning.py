"""Concurrency and batch size chosen from observations, against a simulated site.

The simulated site is the throttled sandbox's model (sandbox.throttle): ``workers`` PHP
workers serving calls first come, first served, each holding a worker for the call's
recorded cost. Time is simulated, so nothing here depends on the machine's speed.
"""

from __future__ import annotations

import heapq

import pytest

from sandbox.throttle import RECORDED_COSTS, Costs
from sync.tuning import CONFLICT, OVERLOAD, TIMEOUT, BatchSizer, CallSample, Concurrency

CREATE = "core_user_create_users"
ENROL = "enrol_manual_enrol_users"
# (function, rows, form fields): accounts then enrolments, as an apply sends them. The
# climb to N measures each level on a few calls of one function: about (N+1)(N+2)/2 + N.
WORK = [(CREATE, 380, 4990)] * 30 + [(ENROL, 1000, 5000)] * 10


def simulate(
    workers: int, concurrency: Concurrency, work: list[tuple[str, int, int]], costs: Costs
) -> float:
    """Send ``work`` keeping ``concurrency.level`` calls in flight; the seconds it took."""
    free_at = [0.0] * workers  # when each worker is next free
    # (end, order, sent at, function, fields, level, steady)
    in_flight: list[tuple[float, int, float, str, int, int, bool]] = []
    now, sent = 0.0, 0
    queue = list(work)
    while queue or in_flight:
        while queue and len(in_flight) < concurrency.level:
            function, rows, fields = queue.pop(0)
            worker = min(range(workers), key=lambda w: free_at[w])
            end = max(now, free_at[worker]) + costs.of(function, rows)
            free_at[worker] = end
            sent += 1
            level = concurrency.level
            steady = len(in_flight) + 1 == level and all(c[5] == level for c in in_flight)
            heapq.heappush(in_flight, (end, sent, now, function, fields, level, steady))
        end, _, started, function, fields, level, steady = heapq.heappop(in_flight)
        now = end
        concurrency.observe(CallSample(function, level, fields, end - started, steady=steady))
    return now


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_auto_settles_on_the_number_of_workers(workers: int) -> None:
    auto = Concurrency.automatic(ceiling=8, timeout_s=180)
    simulate(workers, auto, WORK, RECORDED_COSTS)
    assert auto.level == workers
    assert auto.settled
    assert auto.steps[0] == 1
    assert max(auto.steps) == workers + 1  # one step past the best, found no gain
    assert f"{workers + 1} luồng không nhanh hơn" in auto.reason


@pytest.mark.parametrize(("workers", "work"), [(1, WORK), (2, WORK), (3, WORK * 2)])
def test_auto_is_within_ten_percent_of_the_best_fixed_level(
    workers: int, work: list[tuple[str, int, int]]
) -> None:
    # The climb costs a few calls per level: the more workers, the more work it needs.
    fixed = {n: simulate(workers, Concurrency.fixed(n), work, RECORDED_COSTS) for n in (1, 2, 3, 4)}
    auto = simulate(workers, Concurrency.automatic(ceiling=8, timeout_s=180), work, RECORDED_COSTS)
    assert fixed[workers] == min(fixed.values())
    assert auto <= fixed[workers] * 1.10


def test_auto_never_goes_above_the_ceiling() -> None:
    auto = Concurrency.automatic(ceiling=2, timeout_s=180)
    simulate(4, auto, WORK, RECORDED_COSTS)
    assert max(auto.steps) == 2
    assert auto.level == 2
    assert "max_concurrency_ceiling" in auto.reason


def test_calls_near_the_timeout_stop_the_climb() -> None:
    auto = Concurrency.automatic(ceiling=8, timeout_s=10)  # each create call: ~5.7 s
    simulate(4, auto, WORK, RECORDED_COSTS)
    assert auto.level == 1
    assert "gần thời hạn" in auto.reason


@pytest.mark.parametrize("problem", [TIMEOUT, OVERLOAD, CONFLICT])
def test_a_problem_halves_the_level_at_once_and_it_never_climbs_back_to_it(problem: str) -> None:
    auto = Concurrency.automatic(ceiling=8, timeout_s=180)
    simulate(4, auto, WORK[:12], RECORDED_COSTS)
    assert auto.level == 4  # still climbing
    auto.observe(CallSample(CREATE, 4, 4990, 1.0, problem))
    assert auto.level == 2
    assert "giảm từ 4" in auto.reason
    simulate(4, auto, WORK, RECORDED_COSTS)
    assert auto.level <= 3


def test_fixed_concurrency_never_moves() -> None:
    fixed = Concurrency.fixed(3)
    simulate(1, fixed, WORK, RECORDED_COSTS)
    fixed.observe(CallSample(CREATE, 3, 10, 1.0, TIMEOUT))
    assert fixed.steps == [3]
    assert fixed.summary() == {
        "mode": "fixed",
        "level": 3,
        "ceiling": 3,
        "reason": "cố định: 3 (cấu hình)",
        "steps": [3],
    }


def test_the_batch_size_halves_after_a_lost_answer_and_grows_back_below_it() -> None:
    sizer = BatchSizer(full=5000)
    sizer.lost(5000)
    assert sizer.budget == 2500
    sizer.lost(2500)
    assert sizer.budget == 1250
    sizer.landed()
    assert sizer.budget == 1875  # 3/4 of the smallest size that timed out
    sizer.landed()
    assert sizer.budget == 1875
    assert sizer.shrinks == 2


def test_the_batch_size_grows_back_to_the_full_budget_when_nothing_timed_out() -> None:
    sizer = BatchSizer(full=5000, budget=600)
    for _ in range(4):
        sizer.landed()
    assert sizer.budget == 5000
