"""Home classes: where a learner belongs in a run, beyond what one bad import does.

A learner's *home class* is the class the allocation gave them for their own reasons (they
joined, their group changed, a rebalance placed them). It is kept when they leave the
roster, and when a closed class forced them into another: a roster cut in half, accepted,
closes classes; the full roster imported again must give everyone their class back, or the
LMS sees thousands of group moves. Pure functions; ``store.classes_repo`` keeps the homes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from roster.allocation import Allocation, AllocLearner, Move, MoveReason, allocate

# Allocations tried while returning learners to their home classes (then: where they are).
HOME_PASSES = 4


def allocate_home_first(
    learners: Sequence[AllocLearner],
    run_id: str,
    current: Mapping[str, str],
    home: Mapping[str, str],
    *,
    max_class_size: int,
) -> Allocation:
    """Allocate with each learner's home class as their previous class where it may apply.

    A learner without a seat (they come back) or whose home class is closed (a closure
    moved them) starts from their home class; if the allocation does not keep them there,
    they start again from where they sit (or as newcomers). The moves are then stated
    against the stored seats, a return home being ``MoveReason.RETURNED``.
    """
    hinted: dict[str, str] = {}
    if home:
        seated = {learner.person_id for learner in learners}
        existing = set(current.values())
        hinted = {
            code: class_id
            for code, class_id in home.items()
            if code in seated
            and class_id != current.get(code)
            and (code not in current or class_id not in existing)
        }
    for attempt in range(HOME_PASSES + 1):
        if attempt == HOME_PASSES:
            hinted = {}
        allocation = allocate(
            learners,
            run_id=run_id,
            previous={**current, **hinted},
            max_class_size=max_class_size,
        )
        missed = {
            code for code, class_id in hinted.items() if allocation.class_of[code] != class_id
        }
        if not missed:
            break
        hinted = {code: class_id for code, class_id in hinted.items() if code not in missed}
    return replace(allocation, moves=moves_since(current, home, allocation))


def moves_since(
    current: Mapping[str, str], home: Mapping[str, str], allocation: Allocation
) -> tuple[Move, ...]:
    """Who changed class against the stored seats ``current`` (newcomers and leavers too)."""
    if not current and not home:
        # A first allocation: every seat is new, as ``allocate`` (given no previous class)
        # already said; 110,000 Move objects not made twice.
        return allocation.moves
    reasons = {move.person_id: move.reason for move in allocation.moves}
    moves: list[Move] = []
    for code in sorted(set(current) | set(allocation.class_of)):
        before, after = current.get(code), allocation.class_of.get(code)
        if before == after:
            continue
        if after is None:
            reason = MoveReason.LEFT
        elif after == home.get(code):
            reason = MoveReason.RETURNED
        elif before is None:
            reason = MoveReason.NEW
        else:
            reason = reasons.get(code, MoveReason.REBALANCED)
        moves.append(Move(code, before, after, reason))
    return tuple(moves)


def _group_of(class_id: str) -> str:
    return class_id.rsplit("/", 1)[0]


def next_homes(allocation: Allocation, homes: Mapping[str, str]) -> dict[str, str]:
    """The home classes that change after ``allocation`` (learner -> class id).

    A seated learner without a home gets their class. A home stays while it is closed and in
    the learner's group (it may reopen; ``allocate_home_first`` tries it each time); when it
    is open and the learner sits elsewhere (a rebalance, or it was full when they came back)
    or their group changed, their class becomes their home. Leavers keep theirs.
    """
    if not homes:  # a first allocation: everyone's class becomes their home
        return dict(allocation.class_of)
    open_classes = {klass.class_id for klass in allocation.classes}
    changed: dict[str, str] = {}
    for code, class_id in allocation.class_of.items():
        old = homes.get(code)
        if old == class_id:
            continue
        if old is None or old in open_classes or _group_of(old) != _group_of(class_id):
            changed[code] = class_id
    return changed
