"""Properties of a fresh class allocation: capacity, partition, fewest classes, balance, order."""

from __future__ import annotations

import math
import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from roster.allocation import AllocLearner, GroupKey, allocate

from .builders import (
    RUN,
    bounds,
    effective_minimum,
    group_counts,
    learner_lists,
    minimums,
    sizes_by_group,
)

MAX_SIZES = st.integers(min_value=1, max_value=12)
TOLERANCES = st.integers(min_value=0, max_value=4)


@given(learner_lists(), MAX_SIZES, TOLERANCES, st.data())
def test_no_class_exceeds_the_maximum(
    people: list[AllocLearner], max_size: int, tolerance: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))

    allocation = allocate(
        people,
        run_id=RUN,
        max_class_size=max_size,
        size_tolerance=tolerance,
        min_class_size=minimum,
    )

    assert all(1 <= klass.size <= max_size for klass in allocation.classes)


@given(learner_lists(), MAX_SIZES)
def test_every_learner_is_in_exactly_one_class_of_their_group(
    people: list[AllocLearner], max_size: int
) -> None:
    allocation = allocate(people, run_id=RUN, max_class_size=max_size)

    placed = Counter(pid for klass in allocation.classes for pid in klass.member_ids)
    assert placed == Counter(person.person_id for person in people)
    assert set(allocation.class_of) == set(placed)
    for klass in allocation.classes:
        assert all(GroupKey.of(person) == klass.key for person in klass.members)
        assert all(allocation.class_of[pid] == klass.class_id for pid in klass.member_ids)


@given(learner_lists(), MAX_SIZES)
def test_each_group_gets_the_fewest_classes_numbered_from_one(
    people: list[AllocLearner], max_size: int
) -> None:
    allocation = allocate(people, run_id=RUN, max_class_size=max_size)

    ordinals: dict[GroupKey, list[int]] = {}
    for klass in allocation.classes:
        ordinals.setdefault(klass.key, []).append(klass.ordinal)
    expected = {key: math.ceil(n / max_size) for key, n in group_counts(people).items()}
    assert {key: len(found) for key, found in ordinals.items()} == expected
    assert all(found == list(range(1, len(found) + 1)) for found in ordinals.values())


@given(learner_lists(), MAX_SIZES, TOLERANCES, st.data())
def test_sizes_stay_within_the_tolerance_of_the_even_split_and_above_the_minimum(
    people: list[AllocLearner], max_size: int, tolerance: int, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))

    allocation = allocate(
        people,
        run_id=RUN,
        max_class_size=max_size,
        size_tolerance=tolerance,
        min_class_size=minimum,
    )

    for key, sizes in sizes_by_group(allocation).items():
        n = sum(sizes)
        _, lowest, highest = bounds(n, max_size, tolerance, minimum)
        assert min(sizes) >= min(effective_minimum(minimum, max_size), n // len(sizes))
        assert lowest <= min(sizes)
        assert max(sizes) <= highest
        assert max(sizes) - min(sizes) <= 2 * tolerance + 1, key


@given(learner_lists(), MAX_SIZES, st.randoms(use_true_random=False), st.data())
def test_output_does_not_depend_on_input_order(
    people: list[AllocLearner], max_size: int, rng: random.Random, data: st.DataObject
) -> None:
    minimum = data.draw(minimums(max_size))
    shuffled = list(people)
    rng.shuffle(shuffled)

    first = allocate(people, run_id=RUN, max_class_size=max_size, min_class_size=minimum)
    again = allocate(shuffled, run_id=RUN, max_class_size=max_size, min_class_size=minimum)

    assert again == first


@given(learner_lists(), MAX_SIZES)
def test_explain_accounts_for_every_member(people: list[AllocLearner], max_size: int) -> None:
    allocation = allocate(people, run_id=RUN, max_class_size=max_size)

    summaries = list(allocation.explain())

    assert [s.class_id for s in summaries] == [k.class_id for k in allocation.classes]
    for summary, klass in zip(summaries, allocation.classes, strict=True):
        assert summary.size == klass.size == sum(n for _, n in summary.schools)
        assert sum(n for _, n in summary.clusters) == klass.size
