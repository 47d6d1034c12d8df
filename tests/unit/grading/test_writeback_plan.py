"""What a write-back run sends, reports and drops, from the journal and the completed seats."""

from __future__ import annotations

from grading.writeback import CompletedSeat, plan_writeback

A, B, C, D = (CompletedSeat(code, "K1", n) for n, code in enumerate("ABCD", start=10))


def test_only_seats_never_journaled_are_new() -> None:
    plan = plan_writeback({A.key: "done"}, [A, B])
    assert plan.new == (B,)
    assert (plan.corrections, plan.dropped, plan.retry) == ((), (), ())


def test_a_seat_written_and_no_longer_completed_is_a_correction_never_new() -> None:
    plan = plan_writeback({A.key: "done", B.key: "done"}, [A])
    assert plan.corrections == (B.key,)
    assert plan.new == ()


def test_refused_seats_are_retried_while_completed_and_dropped_otherwise() -> None:
    plan = plan_writeback({A.key: "failed", B.key: "failed", C.key: "pending"}, [A, D])
    assert plan.retry == (A.key,)
    assert plan.dropped == (B.key, C.key)
    assert plan.new == (D,)
