"""Stability: a re-run with the previous allocation moves only the people who changed."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from roster.allocation import Allocation, AllocLearner, GroupKey, MoveReason, allocate

from .builders import (
    KEYS,
    RUN,
    SCHOOLS,
    bounds,
    class_counts,
    learner,
    learner_lists,
    same_class_counts,
    with_key,
)

MAX_SIZES = st.integers(min_value=2, max_value=12)
TOLERANCES = st.integers(min_value=0, max_value=4)


def rerun(
    people: list[AllocLearner], previous: dict[str, str], max_size: int, tolerance: int
) -> Allocation:
    return allocate(
        people, run_id=RUN, previous=previous, max_class_size=max_size, size_tolerance=tolerance
    )


@given(learner_lists(), MAX_SIZES, TOLERANCES)
def test_unchanged_rerun_moves_nobody(
    people: list[AllocLearner], max_size: int, tolerance: int
) -> None:
    before = allocate(people, run_id=RUN, max_class_size=max_size, size_tolerance=tolerance)

    after = rerun(people, before.class_of, max_size, tolerance)

    assert after.moves == ()
    assert after.classes == before.classes


def _newcomer(index: int, school: str, key: GroupKey) -> AllocLearner:
    return learner(f"N{index:03d}", school, f"C{int(school[1:]) % 4}", key)


NEWCOMERS = st.lists(
    st.tuples(st.sampled_from(SCHOOLS), st.sampled_from(KEYS)), min_size=1, max_size=6
).map(lambda drawn: [_newcomer(i, school, key) for i, (school, key) in enumerate(drawn)])


@given(learner_lists(), MAX_SIZES, NEWCOMERS)
def test_newcomers_with_room_move_nobody_else(
    people: list[AllocLearner], max_size: int, joining: list[AllocLearner]
) -> None:
    before = allocate(people, run_id=RUN, max_class_size=max_size)
    grown = people + joining
    assume(same_class_counts(people, grown, max_size))

    after = allocate(grown, run_id=RUN, max_class_size=max_size, previous=before.class_of)

    assert {m.person_id for m in after.moves} == {p.person_id for p in joining}
    assert all(m.reason is MoveReason.NEW and m.from_class is None for m in after.moves)
    assert all(k.size <= max_size for k in after.classes)


@given(learner_lists(min_size=1), MAX_SIZES, st.data())
def test_leavers_free_seats_and_nobody_else_moves(
    people: list[AllocLearner], max_size: int, data: st.DataObject
) -> None:
    before = allocate(people, run_id=RUN, max_class_size=max_size)
    leaving = data.draw(st.sets(st.sampled_from([p.person_id for p in people])))
    staying = [p for p in people if p.person_id not in leaving]
    assume(same_class_counts(people, staying, max_size))

    after = allocate(staying, run_id=RUN, max_class_size=max_size, previous=before.class_of)

    assert {m.person_id for m in after.moves} == leaving
    assert all(m.reason is MoveReason.LEFT and m.to_class is None for m in after.moves)


@given(learner_lists(min_size=1), MAX_SIZES, st.data())
def test_subject_change_moves_only_that_person(
    people: list[AllocLearner], max_size: int, data: st.DataObject
) -> None:
    before = allocate(people, run_id=RUN, max_class_size=max_size)
    person = data.draw(st.sampled_from(people))
    new_key = data.draw(st.sampled_from([k for k in KEYS if k != GroupKey.of(person)]))
    changed = [with_key(p, new_key) if p is person else p for p in people]
    assume(same_class_counts(people, changed, max_size))
    assume(set(class_counts(people, max_size)) == set(class_counts(changed, max_size)))

    after = allocate(changed, run_id=RUN, max_class_size=max_size, previous=before.class_of)

    assert [(m.person_id, m.reason) for m in after.moves] == [
        (person.person_id, MoveReason.GROUP_CHANGED)
    ]
    assert after.moves[0].to_class is not None
    assert after.moves[0].to_class.startswith(new_key.class_prefix(RUN) + "/")


@given(learner_lists(min_size=1, keys=KEYS[:1]), MAX_SIZES, TOLERANCES, st.data())
def test_growth_beyond_capacity_moves_the_fewest_stayers(
    people: list[AllocLearner], max_size: int, tolerance: int, data: st.DataObject
) -> None:
    before = allocate(people, run_id=RUN, max_class_size=max_size, size_tolerance=tolerance)
    joining = [
        learner(f"N{i:03d}", data.draw(st.sampled_from(SCHOOLS)), "C9", KEYS[0])
        for i in range(data.draw(st.integers(min_value=1, max_value=3 * max_size)))
    ]
    n = len(people) + len(joining)
    classes, lowest, highest = bounds(n, max_size, tolerance)
    assume(classes > len(before.classes))

    after = rerun(people + joining, before.class_of, max_size, tolerance)

    sizes = [k.size for k in after.classes]
    assert len(sizes) == classes
    assert all(lowest <= size <= highest for size in sizes)
    # Lower bound on moves: every class over `highest` must shed its excess, and the new
    # classes plus every class under `lowest` must be filled, newcomers first.
    old = [k.size for k in before.classes]
    excess = sum(max(0, size - highest) for size in old)
    shortfall = sum(max(0, lowest - size) for size in old) + (classes - len(old)) * lowest
    moved = [m for m in after.moves if m.reason is MoveReason.REBALANCED]
    assert len(moved) == max(excess, shortfall - len(joining), 0)
    assert {k.ordinal for k in before.classes} <= {k.ordinal for k in after.classes}


@given(learner_lists(min_size=1, keys=KEYS[:1]), MAX_SIZES, TOLERANCES, st.data())
def test_shrinking_closes_classes_and_stays_balanced(
    people: list[AllocLearner], max_size: int, tolerance: int, data: st.DataObject
) -> None:
    before = allocate(people, run_id=RUN, max_class_size=max_size, size_tolerance=tolerance)
    leaving = data.draw(st.sets(st.sampled_from([p.person_id for p in people]), min_size=1))
    staying = [p for p in people if p.person_id not in leaving]
    assume(staying)
    classes, lowest, highest = bounds(len(staying), max_size, tolerance)
    assume(classes < len(before.classes))

    after = rerun(staying, before.class_of, max_size, tolerance)

    sizes = [k.size for k in after.classes]
    assert len(sizes) == classes
    assert all(lowest <= size <= highest for size in sizes)
    closed = {k.class_id for k in before.classes} - {k.class_id for k in after.classes}
    assert len(closed) == len(before.classes) - classes
    for move in after.moves:
        if move.reason is MoveReason.CLASS_CLOSED:
            assert move.from_class in closed
