"""The adjustable limit on requests in flight, and the slot kept for the critical chain."""

from __future__ import annotations

from connector.slots import Slots


def test_the_limit_can_change_while_slots_are_held() -> None:
    slots = Slots(1)
    assert slots.acquire(timeout=0)
    assert not slots.acquire(timeout=0)
    slots.set_limit(2)
    assert slots.acquire(timeout=0)
    slots.set_limit(1)  # lowered: both holders finish, no new one starts until one is left
    slots.release()
    assert not slots.acquire(timeout=0)
    slots.release()
    assert slots.acquire(timeout=0)


def test_side_work_leaves_the_critical_chain_a_slot() -> None:
    slots = Slots(2)
    slots.critical_active = True
    assert slots.acquire(critical=False, timeout=0)
    assert not slots.acquire(critical=False, timeout=0)  # the last slot is kept
    assert slots.acquire(critical=True, timeout=0)
    slots.release(critical=True)
    slots.critical_active = False  # accounts done: side work may use every slot
    assert slots.acquire(critical=False, timeout=0)


def test_with_one_slot_side_work_waits_for_the_critical_chain() -> None:
    slots = Slots(1)
    slots.critical_active = True
    assert not slots.acquire(critical=False, timeout=0)
    slots.critical_active = False
    assert slots.acquire(critical=False, timeout=0)
