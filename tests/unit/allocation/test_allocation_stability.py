"""Stability: a re-run with the previous allocation moves only the people who changed."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import assume, given
from hypothesis import strategies as st

from roster.allocation import Allocation, AllocLearner, GroupKey, MoveReason, allocate

from .builders import (
    KEYS,
    RUN,
    SCHOOLS,
    class_counts,
    effective_minimum,
    learner,
    learner_lists,
    minimums,
    same_class_counts,
    with_key,
)

MAX_SIZES = st.integers(min_value=2, max_value=12)
TOLERANCES = st.integers(min_value=0, max_value=4)


def fresh(people: list[AllocLearner], max_size: int, minimum: int | None) -> Allocation:
    return allocate(people, run_id=RUN, max_class_size=max_size, min_class_size=minimum)


def rerun(
    people: list[AllocLearner],
    previous: dict[str, str],
    max_size: int,
    minimum: int | None = None,
    tolerance: int = 3,
) -> Allocation:
    return allocate(
        people,
        run_id=RUN,
        previous=previous,
        max_class_size=max_size,
        size_tolerance=tolerance,
        min_class_size=minimum,
    )


@given(learner_lists(), MAX_SIZES, TOLERANCES, st.data())
def test_unchanged_rerun_moves_nobody(
    people: list[AllocLearner], max_size: int, tolerance: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    before = allocate(
        people,
        run_id=RUN,
        max_class_size=max_size,
        size_tolerance=tolerance,
        min_class_size=minimum,
    )

    after = rerun(people, before.class_of, max_size, minimum, tolerance)

    assert after.moves == ()
    assert after.classes == before.classes


def _newcomer(index: int, school: str, key: GroupKey) -> AllocLearner:
    return learner(f"N{index:03d}", school, f"C{int(school[1:]) % 4}", key)


NEWCOMERS = st.lists(
    st.tuples(st.sampled_from(SCHOOLS), st.sampled_from(KEYS)), min_size=1, max_size=6
).map(lambda drawn: [_newcomer(i, school, key) for i, (school, key) in enumerate(drawn)])


@given(learner_lists(), MAX_SIZES, NEWCOMERS, st.data())
def test_newcomers_with_room_move_nobody_else(
    people: list[AllocLearner], max_size: int, joining: list[AllocLearner], data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    before = fresh(people, max_size, minimum)
    grown = people + joining
    assume(same_class_counts(people, grown, max_size))

    after = rerun(grown, before.class_of, max_size, minimum)

    assert {m.person_id for m in after.moves} == {p.person_id for p in joining}
    assert all(m.reason is MoveReason.NEW and m.from_class is None for m in after.moves)
    assert all(k.size <= max_size for k in after.classes)


@given(learner_lists(min_size=1), MAX_SIZES, st.data())
def test_leavers_free_seats_and_nobody_else_moves(
    people: list[AllocLearner], max_size: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    before = fresh(people, max_size, minimum)
    leaving = data.draw(st.sets(st.sampled_from([p.person_id for p in people])))
    staying = [p for p in people if p.person_id not in leaving]
    assume(same_class_counts(people, staying, max_size))

    after = rerun(staying, before.class_of, max_size, minimum)

    assert {m.person_id for m in after.moves} == leaving
    assert all(m.reason is MoveReason.LEFT and m.to_class is None for m in after.moves)


@given(learner_lists(min_size=1), MAX_SIZES, st.data())
def test_leavers_move_nobody_while_the_classes_keep_the_minimum(
    people: list[AllocLearner], max_size: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    before = fresh(people, max_size, minimum)
    leaving = data.draw(st.sets(st.sampled_from([p.person_id for p in people]), min_size=1))
    staying = [p for p in people if p.person_id not in leaving]
    remaining = Counter(before.class_of[p.person_id] for p in staying)
    assume(all(count >= effective_minimum(minimum, max_size) for count in remaining.values()))

    after = rerun(staying, before.class_of, max_size, minimum)

    assert {m.person_id for m in after.moves} == leaving
    assert all(m.reason is MoveReason.LEFT and m.to_class is None for m in after.moves)
    assert [k.class_id for k in after.classes] == [
        k.class_id for k in before.classes if remaining[k.class_id]
    ]


@given(learner_lists(min_size=2, keys=KEYS[:1]), MAX_SIZES, st.data())
def test_shrinking_below_the_minimum_closes_the_fewest_classes_moving_only_their_members(
    people: list[AllocLearner], max_size: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    least = effective_minimum(minimum, max_size)
    before = fresh(people, max_size, minimum)
    order = data.draw(st.permutations([p.person_id for p in people]))
    leaving = set(order[: data.draw(st.integers(min_value=1, max_value=len(people) - 1))])
    staying = [p for p in people if p.person_id not in leaving]
    n = len(staying)
    stayers = Counter(before.class_of[p.person_id] for p in staying)
    # The group shrank so that its classes cannot all keep the minimum without moving anyone.
    assume(sum(max(least, count) for count in stayers.values()) > n)

    after = rerun(staying, before.class_of, max_size, minimum)

    kept = [k.class_id for k in after.classes]
    closed = set(stayers) - set(kept)
    needed = math.ceil(n / max_size)
    assert set(kept) <= set(stayers)  # nothing opened
    assert needed <= len(kept) < len(stayers) or len(kept) == len(stayers) == needed
    # The classes drop to what the minimum allows (or to what the cap still requires) ...
    assert len(kept) * least <= n or len(kept) == needed
    # ... closing the smallest, and as few as possible: keeping the next one too would leave a
    # class below the minimum.
    if closed:
        assert max(stayers[c] for c in closed) <= min(stayers[c] for c in kept)
        reopened = min(closed, key=lambda c: (-stayers[c], c))
        assert sum(max(least, stayers[c]) for c in [*kept, reopened]) > n
    # Only members of the closed classes move.
    movers = [m for m in after.moves if m.reason is not MoveReason.LEFT]
    assert {m.person_id for m in movers} == {
        p.person_id for p in staying if before.class_of[p.person_id] in closed
    }
    assert all(m.reason is MoveReason.CLASS_CLOSED and m.to_class in kept for m in movers)
    if len(kept) > needed:
        assert all(k.size >= least for k in after.classes)
    assert all(k.size <= max_size for k in after.classes)


@given(learner_lists(min_size=1), MAX_SIZES, st.data())
def test_subject_change_moves_only_that_person(
    people: list[AllocLearner], max_size: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    before = fresh(people, max_size, minimum)
    person = data.draw(st.sampled_from(people))
    new_key = data.draw(st.sampled_from([k for k in KEYS if k != GroupKey.of(person)]))
    changed = [with_key(p, new_key) if p is person else p for p in people]
    assume(same_class_counts(people, changed, max_size))
    assume(set(class_counts(people, max_size)) == set(class_counts(changed, max_size)))

    after = rerun(changed, before.class_of, max_size, minimum)

    assert [(m.person_id, m.reason) for m in after.moves] == [
        (person.person_id, MoveReason.GROUP_CHANGED)
    ]
    assert after.moves[0].to_class is not None
    assert after.moves[0].to_class.startswith(new_key.class_prefix(RUN) + "/")


@given(learner_lists(min_size=1, keys=KEYS[:1]), MAX_SIZES, TOLERANCES, st.data())
def test_growth_beyond_capacity_moves_the_fewest_stayers(
    people: list[AllocLearner], max_size: int, tolerance: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    before = fresh(people, max_size, minimum)
    # Just enough newcomers to overflow the previous classes, plus a few.
    free_seats = len(before.classes) * max_size - len(people)
    extra = data.draw(st.integers(min_value=1, max_value=2 * max_size))
    joining = [
        learner(f"N{i:03d}", data.draw(st.sampled_from(SCHOOLS)), "C9", KEYS[0])
        for i in range(free_seats + extra)
    ]
    n = len(people) + len(joining)
    classes = math.ceil(n / max_size)
    assume(classes > len(before.classes))

    after = rerun(people + joining, before.class_of, max_size, minimum, tolerance)

    assert len(after.classes) == classes
    assert all(k.size <= max_size for k in after.classes)
    assert {k.ordinal for k in before.classes} <= {k.ordinal for k in after.classes}
    old = {k.class_id for k in before.classes}
    opened = {k.class_id: k.size for k in after.classes if k.class_id not in old}
    floor = min(effective_minimum(minimum, max_size), n // classes)
    assert all(size >= floor for size in opened.values())
    # Each opened class needs `floor` learners; only what the newcomers cannot provide is taken
    # from the stayers, and those go to the opened classes.
    moved = [m for m in after.moves if m.reason is MoveReason.REBALANCED]
    assert len(moved) == max(0, len(opened) * floor - len(joining))
    assert all(m.to_class in opened for m in moved)
    gave = Counter(m.from_class for m in moved)
    assert all(k.size >= floor for k in after.classes if gave[k.class_id])


@given(learner_lists(), MAX_SIZES, MAX_SIZES, NEWCOMERS, st.data())
def test_any_rerun_keeps_the_cap_and_everyone_once_whatever_the_input_order(
    people: list[AllocLearner],
    max_before: int,
    max_after: int,
    joining: list[AllocLearner],
    data: st.DataObject,
) -> None:
    min_before, min_after = data.draw(minimums(max_before)), data.draw(minimums(max_after))
    before = fresh(people, max_before, min_before)
    ids = [p.person_id for p in people]
    leaving = data.draw(st.sets(st.sampled_from(ids))) if ids else set()
    switching = data.draw(st.sets(st.sampled_from(ids))) if ids else set()

    def next_key(person: AllocLearner) -> GroupKey:
        return KEYS[(KEYS.index(GroupKey.of(person)) + 1) % len(KEYS)]

    changed = [
        with_key(p, next_key(p)) if p.person_id in switching else p
        for p in people
        if p.person_id not in leaving
    ] + joining
    shuffled = data.draw(st.permutations(changed))

    after = rerun(changed, before.class_of, max_after, min_after)
    again = rerun(list(shuffled), before.class_of, max_after, min_after)

    assert again == after
    assert all(1 <= k.size <= max_after for k in after.classes)
    placed = Counter(pid for k in after.classes for pid in k.member_ids)
    assert placed == Counter(p.person_id for p in changed)
    for klass in after.classes:
        assert all(GroupKey.of(p) == klass.key for p in klass.members)
        assert all(after.class_of[pid] == klass.class_id for pid in klass.member_ids)
    for key, count in Counter(k.key for k in after.classes).items():
        n = sum(1 for p in changed if GroupKey.of(p) == key)
        assert count >= math.ceil(n / max_after)
    # A stayer moves only because their class closed, the cap was lowered or a class opened
    # (a class none of whose members was in it before; it may reuse a vanished class's id).
    kept = {
        k.class_id
        for k in after.classes
        if any(before.class_of.get(pid) == k.class_id for pid in k.member_ids)
    }
    for move in after.moves:
        if move.reason is MoveReason.CLASS_CLOSED:
            assert move.from_class not in kept
        elif move.reason is MoveReason.REBALANCED:
            assert max_after < max_before or move.to_class not in kept
        else:
            assert move.reason in {MoveReason.NEW, MoveReason.LEFT, MoveReason.GROUP_CHANGED}
