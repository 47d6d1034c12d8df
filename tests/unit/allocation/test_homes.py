"""Home classes: after a damaged roster, learners find their classes again."""

from __future__ import annotations

from roster.allocation import Move, MoveReason, allocate
from roster.homes import allocate_home_first, moves_since, next_homes
from tests.unit.allocation.builders import RUN, TOAN, VAN, learner, school_block, with_key


def province() -> list:  # type: ignore[type-arg]
    """101 teachers of Toán in six schools: three classes of 33-34."""
    blocks = [("S1", 18), ("S2", 16), ("S3", 17), ("S4", 17), ("S5", 16), ("S6", 17)]
    return [p for school, n in blocks for p in school_block(school, n, f"C{school}")]


def test_a_half_roster_accepted_then_the_full_one_gives_everyone_their_class_back() -> None:
    everyone = province()
    first = allocate(everyone, run_id=RUN)
    assert len(first.classes) == 3
    homes = dict(first.class_of)
    # The damaged roster: the second half of the list is missing.
    half = everyone[:50]
    damaged = allocate_home_first(half, RUN, first.class_of, homes, max_class_size=50)
    closed = {k.class_id for k in first.classes} - {k.class_id for k in damaged.classes}
    assert closed  # 50 learners cannot keep three classes of at least 25
    forced = [m for m in damaged.moves if m.from_class and m.to_class]
    assert forced
    assert {m.reason for m in forced} == {MoveReason.CLASS_CLOSED}
    homes |= next_homes(damaged, homes)
    assert homes == first.class_of  # the forced moves and the leavers keep their home
    # The full roster again: every learner back in the class they had, as returns.
    restored = allocate_home_first(everyone, RUN, damaged.class_of, homes, max_class_size=50)
    assert restored.class_of == first.class_of
    back = [m for m in restored.moves if m.from_class and m.to_class]
    assert {m.person_id for m in back} == {m.person_id for m in forced}
    assert {m.reason for m in restored.moves} == {MoveReason.RETURNED}
    assert next_homes(restored, homes) == {}


def test_after_a_lasting_closure_the_next_allocations_move_nobody() -> None:
    everyone = province()
    first = allocate(everyone, run_id=RUN)
    homes = dict(first.class_of)
    half = everyone[:50]
    damaged = allocate_home_first(half, RUN, first.class_of, homes, max_class_size=50)
    homes |= next_homes(damaged, homes)
    again = allocate_home_first(half, RUN, damaged.class_of, homes, max_class_size=50)
    assert again.class_of == damaged.class_of
    assert again.moves == ()


def test_a_learner_who_comes_back_returns_to_their_class_when_it_has_room() -> None:
    everyone = province()
    first = allocate(everyone, run_id=RUN)
    leaver = everyone[3]
    without = [p for p in everyone if p is not leaver]
    gone = allocate_home_first(without, RUN, first.class_of, first.class_of, max_class_size=50)
    assert leaver.person_id not in gone.class_of
    assert next_homes(gone, first.class_of) == {}
    back = allocate_home_first(everyone, RUN, gone.class_of, first.class_of, max_class_size=50)
    assert back.class_of == first.class_of
    (move,) = back.moves
    assert (move.from_class, move.to_class, move.reason) == (
        None,
        first.class_of[leaver.person_id],
        MoveReason.RETURNED,
    )


def test_a_full_home_class_takes_its_returner_elsewhere_and_that_becomes_home() -> None:
    # Two classes of 50 (the cap); one leaves class 01, a newcomer takes the seat; when the
    # leaver comes back, 101 learners need a third class.
    everyone = [learner(f"P{i:03d}", f"S{i % 4}") for i in range(100)]
    first = allocate(everyone, run_id=RUN)
    leaver = next(p for p in everyone if first.class_of[p.person_id].endswith("/01"))
    newcomer = learner("P900", "S1")
    swapped = [p for p in everyone if p is not leaver] + [newcomer]
    second = allocate_home_first(swapped, RUN, first.class_of, first.class_of, max_class_size=50)
    homes = first.class_of | next_homes(second, first.class_of)
    back = allocate_home_first([*swapped, leaver], RUN, second.class_of, homes, max_class_size=50)
    assert back.class_of[leaver.person_id] != first.class_of[leaver.person_id]
    changed = next_homes(back, homes)
    assert changed[leaver.person_id] == back.class_of[leaver.person_id]
    # Whoever the new class took from the full ones: their old class is open, so it is
    # a lasting rebalance and their new class becomes their home too.
    assert all(back.class_of[code] == home for code, home in changed.items())


def test_a_changed_subject_changes_the_home() -> None:
    everyone = province()
    first = allocate(everyone, run_id=RUN)
    moved = with_key(everyone[0], VAN)
    changed = [moved, *everyone[1:]]
    second = allocate_home_first(changed, RUN, first.class_of, first.class_of, max_class_size=50)
    new_class = second.class_of[moved.person_id]
    assert new_class.startswith(VAN.class_prefix(RUN))
    assert next_homes(second, first.class_of) == {moved.person_id: new_class}
    (move,) = moves_since(first.class_of, first.class_of, second)
    assert move.reason is MoveReason.GROUP_CHANGED
    assert TOAN.class_prefix(RUN) in move.from_class  # type: ignore[operator]


def test_a_first_allocation_states_every_seat_as_new() -> None:
    first = allocate_home_first(province(), RUN, {}, {}, max_class_size=50)
    expected = tuple(
        Move(code, None, class_id, MoveReason.NEW)
        for code, class_id in sorted(first.class_of.items())
    )
    assert len(expected) == 101
    assert first.moves == expected
    assert moves_since({}, {}, first) == expected
