"""Class allocation for one module run: a pure function of the learners and the previous allocation.

Learners are grouped by (level, audience, subject). Three limits shape a group's classes:
``max_class_size`` (the cap, never exceeded), ``min_class_size`` (default
``max(1, max_class_size // 2)``: below it a class is too small to be worth keeping) and
``size_tolerance`` (how far a fresh class may stray from the even split).

**Fresh group** (no previous class). The fewest classes, ``m = ceil(n / max_class_size)``. Let
``base = n // m``; the even split has sizes ``base`` or ``base + 1``. A class may deviate from it
by at most ``size_tolerance`` learners: its size lies in ``[lo, hi]`` with
``hi = min(max_class_size, base + 1 + t)`` (``base + t`` when ``m`` divides ``n``) and
``lo = max(base - t, floor)``, where ``floor = min(min_class_size, base)`` keeps a fresh class
from starting below the minimum the group can afford (so that an unchanged re-run has nothing to
fix). Two classes of a group thus differ by at most ``2t + 1``. Learners are ordered by (cluster,
school, person id) and cut into ``m`` consecutive runs; each cut is placed, within ``[lo, hi]``,
between two clusters if possible, else between two schools, else as close to the even split as
possible: the tolerance is what lets a class boundary fall between two schools.

**Re-run with a previous allocation.** Stability comes before balance: the Sở runs virtual-class
meetings per class, so nobody is moved just to even out sizes. A *stayer* is a learner whose
previous class is a class of their group; a previous class with no stayer left is gone.

1. *Which classes.* Every previous class keeps existing as long as all of them can stay at or
   above ``min_class_size`` without moving a stayer, i.e. as long as
   ``sum(max(min_class_size, min(stayers, max_class_size)))`` over the kept classes is at most
   ``n``. When the group has shrunk below that, the class with the fewest stayers is closed (ties:
   the higher ordinal), then the next, only until the condition holds, and never below
   ``ceil(n / max_class_size)`` classes. If the group has grown beyond the capacity of its
   previous classes, classes are opened with the lowest free ordinals up to
   ``ceil(n / max_class_size)``.
2. *Who moves.* Stayers of a kept class stay, except the fewest needed for two hard constraints:
   a class above the cap (the cap was lowered) sheds its excess, and every opened class gets
   ``floor = min(min_class_size, n // classes)`` learners, from the people to place first and
   then from the largest classes one learner at a time. A shed stayer is the one least attached
   to the class (smallest school there, then smallest cluster). Members of closed classes move.
3. *Where the people to place go* (newcomers, i.e. new hires and people whose level, audience or
   subject changed; members of closed classes; shed stayers): opened classes are filled first
   (in (cluster, school, person id) order), then kept classes below ``floor`` (smallest first,
   each taking people of its schools, then of its clusters, first), then everyone left goes to
   a class with room, preferring a class below the tolerance bound ``hi`` (computed for the
   group's new size and class count), then one already holding their school, then their
   cluster, then the smallest.

So leavers simply free seats: removing people never moves anybody as long as the classes keep
``min_class_size`` (e.g. 2 of 101 leaving a group of classes 34/33/34 moves nobody), and when the
group shrinks below that, only the members of the closed classes move. Sizes may drift apart
(a kept class may even stay below the minimum when the cap forbids closing it): stability wins.

Everything is deterministic: inputs are sorted by person id first, every tie is broken by
ordinal, school, cluster or person id, so the output does not depend on the input order.
"""

from __future__ import annotations

import heapq
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import repeat
from operator import itemgetter
from typing import NamedTuple

DEFAULT_MAX_CLASS_SIZE = 50
DEFAULT_SIZE_TOLERANCE = 3

_CUT_INSIDE_SCHOOL = 0
_CUT_BETWEEN_SCHOOLS = 1
_CUT_BETWEEN_CLUSTERS = 2


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", str(text))  # str(): a StrEnum member becomes its value


class AllocLearner(NamedTuple):
    """One learner of a module run, as the allocation sees them.

    A named tuple, not a dataclass: a province has over 100,000 seats per run, and a tuple
    is several times cheaper to build than a dataclass, and sorts by ``itemgetter`` keys.
    """

    person_id: str
    school_code: str
    cluster: str
    level: str
    audience: str
    subject: str


# Sort keys of a learner (fields 0, 1 and 2).
_PERSON_ID = itemgetter(0)
_SCHOOL = itemgetter(1)
_CLUSTER = itemgetter(2)


def _in_placement_order(learners: Iterable[AllocLearner]) -> list[AllocLearner]:
    """The learners sorted by (cluster, school, person id).

    Three stable sorts on one string each: several times cheaper than one sort on
    (cluster, school, person id) tuples, for the same order.
    """
    ordered = sorted(learners, key=_PERSON_ID)
    ordered.sort(key=_SCHOOL)
    ordered.sort(key=_CLUSTER)
    return ordered


@dataclass(frozen=True, slots=True, order=True)
class GroupKey:
    """The (level, audience, subject) a class is made of, e.g. ("THCS", "GV", "Toán")."""

    level: str
    audience: str
    subject: str

    @classmethod
    def of(cls, learner: AllocLearner) -> GroupKey:
        return cls(_nfc(learner.level), _nfc(learner.audience), _nfc(learner.subject))

    def class_prefix(self, run_id: str) -> str:
        """``M4-2023/THCS/GV/Toán``: a class id without its ordinal ("/" in a part becomes "-")."""
        parts = (self.level, self.audience, self.subject)
        return "/".join([run_id, *(part.replace("/", "-") for part in parts)])

    def class_id(self, run_id: str, ordinal: int) -> str:
        """``M4-2023/THCS/GV/Toán/01``."""
        return f"{self.class_prefix(run_id)}/{ordinal:02d}"

    def display_name(self, ordinal: int) -> str:
        """The name the Sở gives the class: "Lớp 01 — Toán THCS", "Lớp 02 — Quản lí THPT (CBQL)"."""
        audience = "" if self.audience == "GV" else f" ({self.audience})"
        return _nfc(f"Lớp {ordinal:02d} — {self.subject} {self.level}{audience}")


@dataclass(frozen=True, slots=True)
class AllocatedClass:
    """One class: its members sorted by person id."""

    class_id: str
    key: GroupKey
    ordinal: int
    display_name: str
    members: tuple[AllocLearner, ...]

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(learner.person_id for learner in self.members)

    @property
    def size(self) -> int:
        return len(self.members)


class MoveReason(StrEnum):
    """Why a person's class differs from the previous allocation."""

    NEW = "new"
    GROUP_CHANGED = "group_changed"
    PREVIOUS_CLASS_UNKNOWN = "previous_class_unknown"
    LEFT = "left"
    CLASS_CLOSED = "class_closed"
    REBALANCED = "rebalanced"
    RETURNED = "returned"


_MOVE_MESSAGES: dict[MoveReason, str] = {
    MoveReason.NEW: "Học viên mới được xếp lớp",
    MoveReason.GROUP_CHANGED: "Đổi cấp học, đối tượng hoặc môn bồi dưỡng",
    MoveReason.PREVIOUS_CLASS_UNKNOWN: "Lớp cũ không thuộc đợt bồi dưỡng này",
    MoveReason.LEFT: "Không còn trong danh sách học viên",
    MoveReason.CLASS_CLOSED: "Lớp cũ được giải thể do số học viên giảm",
    MoveReason.REBALANCED: "Chuyển lớp để cân đối sĩ số",
    MoveReason.RETURNED: "Trở lại lớp đã học trước đây",
}


class Move(NamedTuple):
    """A person whose class changed (``from_class`` None: newcomer; ``to_class`` None: leaver).

    A named tuple: a first allocation of a province makes one per seat.
    """

    person_id: str
    from_class: str | None
    to_class: str | None
    reason: MoveReason

    @property
    def message(self) -> str:
        """The reason in Vietnamese, for the preview shown to the Sở."""
        return _MOVE_MESSAGES[self.reason]


@dataclass(frozen=True, slots=True)
class ClassSummary:
    """What ``Allocation.explain`` says about one class; counts sorted largest first."""

    class_id: str
    display_name: str
    size: int
    schools: tuple[tuple[str, int], ...]
    clusters: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Allocation:
    """The classes of one module run, who is in which, and who moved since the previous run."""

    run_id: str
    classes: tuple[AllocatedClass, ...]
    class_of: dict[str, str]
    moves: tuple[Move, ...]

    def explain(self) -> Iterator[ClassSummary]:
        """Per class: its size, its schools and clusters with their learner counts."""
        for klass in self.classes:
            schools = Counter(learner.school_code for learner in klass.members)
            clusters = Counter(learner.cluster for learner in klass.members)
            yield ClassSummary(
                class_id=klass.class_id,
                display_name=klass.display_name,
                size=klass.size,
                schools=_by_count(schools),
                clusters=_by_count(clusters),
            )


def _by_count(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def allocate(
    learners: Iterable[AllocLearner],
    *,
    run_id: str,
    previous: Mapping[str, str] | None = None,
    max_class_size: int = DEFAULT_MAX_CLASS_SIZE,
    size_tolerance: int = DEFAULT_SIZE_TOLERANCE,
    min_class_size: int | None = None,
) -> Allocation:
    """Allocate the learners of run ``run_id`` to classes.

    ``previous`` maps person id to class id from an earlier allocation of the same run; people
    are kept where they are as far as the rules allow (see the module docstring).
    ``min_class_size`` (``None``: ``max(1, max_class_size // 2)``) is the size below which a
    class is not worth keeping: on a re-run, previous classes are closed only when the group has
    shrunk so that they could not all keep that many learners; a fresh class never starts below
    it when the group can afford it.
    Raises ``ValueError`` on a duplicate person id, a "/" in ``run_id`` or bad limits
    (``max_class_size < 1``, ``size_tolerance < 0``, ``min_class_size`` outside
    ``1..max_class_size``).
    """
    if "/" in run_id or not run_id:
        raise ValueError(f"run id must be non-empty and without '/': {run_id!r}")
    if max_class_size < 1 or size_tolerance < 0:
        raise ValueError("max_class_size must be >= 1 and size_tolerance >= 0")
    if min_class_size is not None and not 1 <= min_class_size <= max_class_size:
        raise ValueError(
            f"min_class_size must be between 1 and max_class_size ({max_class_size}):"
            f" {min_class_size}"
        )
    minimum = max(1, max_class_size // 2) if min_class_size is None else min_class_size
    policy = _Policy(cap=max_class_size, tolerance=size_tolerance, minimum=minimum)
    previous = previous or {}
    ordered = sorted(learners, key=_PERSON_ID)
    groups = _group(ordered)
    classes: list[AllocatedClass] = []
    displaced: dict[str, MoveReason] = {}
    # Person id -> class id, keys in ``ordered``'s (sorted) order from the start: each
    # class then sets its members' values in place, and no sort or copy is needed.
    class_of: dict[str, str] = dict.fromkeys(map(_PERSON_ID, ordered), "")
    for key in sorted(groups):
        members = groups[key]
        prev_ordinals = _previous_ordinals(key, run_id, members, previous) if previous else {}
        drafts = _allocate_group(members, prev_ordinals, policy, displaced)
        for draft in drafts:
            klass = _finish(key, run_id, draft)
            classes.append(klass)
            class_of.update(zip(map(_PERSON_ID, klass.members), repeat(klass.class_id)))
    moves = _moves(run_id, class_of, previous, displaced)
    return Allocation(run_id=run_id, classes=tuple(classes), class_of=class_of, moves=moves)


def _group(ordered: Sequence[AllocLearner]) -> dict[GroupKey, list[AllocLearner]]:
    """The learners (sorted by person id) by group, each group keeping that order."""
    by_raw: dict[tuple[str, ...], list[AllocLearner]] = {}
    previous_id: str | None = None
    for learner in ordered:
        if learner.person_id == previous_id:
            raise ValueError(f"duplicate person id {learner.person_id!r}")
        previous_id = learner.person_id
        raw = learner[3:]  # (level, audience, subject)
        members = by_raw.get(raw)
        if members is None:
            by_raw[raw] = [learner]
        else:
            members.append(learner)
    # A few dozen groups: each normalised once; spellings equal after NFC are one group.
    groups: dict[GroupKey, list[AllocLearner]] = {}
    for members in by_raw.values():
        key = GroupKey.of(members[0])
        if key in groups:
            groups[key] = sorted(groups[key] + members, key=_PERSON_ID)
        else:
            groups[key] = members
    return groups


def _previous_ordinals(
    key: GroupKey, run_id: str, members: Sequence[AllocLearner], previous: Mapping[str, str]
) -> dict[str, int]:
    """Person id -> ordinal of their previous class, for those whose class is of this group."""
    prefix = key.class_prefix(run_id) + "/"
    ordinals: dict[str, int] = {}
    for learner in members:
        class_id = previous.get(learner.person_id)
        if class_id is None or not class_id.startswith(prefix):
            continue
        digits = class_id[len(prefix) :]
        if not (digits.isascii() and digits.isdigit()):
            continue
        ordinal = int(digits)
        if ordinal >= 1 and key.class_id(run_id, ordinal) == class_id:
            ordinals[learner.person_id] = ordinal
    return ordinals


@dataclass(frozen=True, slots=True)
class _Policy:
    """The limits given to ``allocate``: the cap, the tolerance and the minimum class size."""

    cap: int
    tolerance: int
    minimum: int

    def needed(self, n: int) -> int:
        """The fewest classes ``n`` learners fit in."""
        return math.ceil(n / self.cap)


@dataclass(frozen=True, slots=True)
class _Limits:
    """Sizes in a group of ``classes`` classes (``classes >= 1``).

    ``floor`` is the minimum the group can afford, ``min(minimum, n // classes)``; ``lo..hi`` is
    the tolerance band around the even split, ``lo`` never below ``floor``; ``cap`` the maximum.
    """

    classes: int
    floor: int
    lo: int
    hi: int
    cap: int

    @classmethod
    def of(cls, n: int, classes: int, policy: _Policy) -> _Limits:
        base, extra = divmod(n, classes)
        floor = max(1, min(policy.minimum, base))
        lo = max(floor, base - policy.tolerance)
        hi = min(policy.cap, base + (1 if extra else 0) + policy.tolerance)
        return cls(classes, floor, lo, hi, policy.cap)


class _Draft:
    """A class being built: members plus school and cluster counts.

    The counts are made when first asked for: a fresh group's classes never need them.
    """

    __slots__ = ("_clusters", "_schools", "members", "ordinal")

    def __init__(self, ordinal: int, members: Iterable[AllocLearner] = ()) -> None:
        self.ordinal = ordinal
        self.members: list[AllocLearner] = list(members)
        self._schools: Counter[str] | None = None
        self._clusters: Counter[str] | None = None

    @property
    def schools(self) -> Counter[str]:
        if self._schools is None:
            self._schools = Counter(learner.school_code for learner in self.members)
        return self._schools

    @property
    def clusters(self) -> Counter[str]:
        if self._clusters is None:
            self._clusters = Counter(learner.cluster for learner in self.members)
        return self._clusters

    def __len__(self) -> int:
        return len(self.members)

    def add(self, learner: AllocLearner) -> None:
        schools, clusters = self.schools, self.clusters  # counted before the learner joins
        self.members.append(learner)
        schools[learner.school_code] += 1
        clusters[learner.cluster] += 1

    def shed(self, count: int) -> list[AllocLearner]:
        """Remove ``count`` members, those least attached (smallest school, then cluster) first."""
        if count <= 0:
            return []
        schools, clusters = self.schools, self.clusters  # counted before anyone leaves
        ranked = sorted(self.members, key=self._attachment)
        leaving = ranked[:count]
        self.members = ranked[count:]
        for learner in leaving:
            schools[learner.school_code] -= 1
            clusters[learner.cluster] -= 1
        return leaving

    def _attachment(self, learner: AllocLearner) -> tuple[int, int, str, str, str]:
        return (
            self.schools[learner.school_code],
            self.clusters[learner.cluster],
            learner.cluster,
            learner.school_code,
            learner.person_id,
        )


def _allocate_group(
    members: Sequence[AllocLearner],
    prev_ordinals: Mapping[str, int],
    policy: _Policy,
    displaced: dict[str, MoveReason],
) -> list[_Draft]:
    n = len(members)
    if not prev_ordinals:  # nobody has a previous class here: a fresh group
        return _fresh(members, _Limits.of(n, policy.needed(n), policy))
    stayers: dict[int, list[AllocLearner]] = {}
    pool: list[AllocLearner] = []
    for learner in members:
        ordinal = prev_ordinals.get(learner.person_id)
        if ordinal is None:
            pool.append(learner)
        else:
            stayers.setdefault(ordinal, []).append(learner)
    if not stayers:
        return _fresh(pool, _Limits.of(n, policy.needed(n), policy))
    ranked = sorted(stayers, key=lambda ordinal: (-len(stayers[ordinal]), ordinal))
    keep = _keep_count([len(stayers[ordinal]) for ordinal in ranked], n, policy)
    for ordinal in ranked[keep:]:
        for learner in stayers[ordinal]:
            displaced[learner.person_id] = MoveReason.CLASS_CLOSED
            pool.append(learner)
    kept = sorted(ranked[:keep])
    drafts = [_Draft(ordinal, stayers[ordinal]) for ordinal in kept]
    new_ordinals = _free_ordinals(set(kept), policy.needed(n) - keep)
    limits = _Limits.of(n, keep + len(new_ordinals), policy)
    return _rerun(drafts, new_ordinals, pool, limits, displaced)


def _keep_count(sizes: Sequence[int], n: int, policy: _Policy) -> int:
    """How many previous classes to keep; ``sizes`` are their stayer counts, largest first.

    All of them while every kept class can reach the minimum from the learners not already in
    it (``sum(max(minimum, min(size, cap))) <= n``); else the smallest are dropped one by one
    until that holds, but never below the classes the cap requires.
    """
    needed = policy.needed(n)
    seats = [max(policy.minimum, min(size, policy.cap)) for size in sizes]
    keep = len(sizes)
    while keep > needed and sum(seats[:keep]) > n:
        keep -= 1
    return keep


def _free_ordinals(used: set[int], count: int) -> list[int]:
    free: list[int] = []
    ordinal = 1
    while len(free) < count:
        if ordinal not in used:
            free.append(ordinal)
        ordinal += 1
    return free


def _fresh(pool: Iterable[AllocLearner], limits: _Limits) -> list[_Draft]:
    ordinals = list(range(1, limits.classes + 1))
    return _chunk(_in_placement_order(pool), ordinals, limits)


def _chunk(
    ordered: Sequence[AllocLearner], ordinals: Sequence[int], limits: _Limits
) -> list[_Draft]:
    """Cut ``ordered`` into consecutive classes of sizes within ``limits.lo..limits.hi``."""
    drafts: list[_Draft] = []
    start = 0
    for index, ordinal in enumerate(ordinals):
        parts_left = len(ordinals) - index
        size = _cut_size(ordered, start, parts_left, limits)
        drafts.append(_Draft(ordinal, ordered[start : start + size]))
        start += size
    return drafts


def _cut_size(ordered: Sequence[AllocLearner], start: int, parts_left: int, limits: _Limits) -> int:
    """The size of the next class: a cut between clusters, else schools, else nearest even."""
    remaining = len(ordered) - start
    if parts_left == 1:
        return remaining
    others = parts_left - 1
    smallest = max(limits.lo, remaining - others * limits.hi)
    largest = min(limits.hi, remaining - others * limits.lo)
    ideal = remaining / parts_left

    def preference(size: int) -> tuple[int, float, int]:
        return (-_cut_kind(ordered, start + size), abs(size - ideal), size)

    return min(range(smallest, largest + 1), key=preference)


def _cut_kind(ordered: Sequence[AllocLearner], position: int) -> int:
    before, after = ordered[position - 1], ordered[position]
    if before.cluster != after.cluster:
        return _CUT_BETWEEN_CLUSTERS
    if before.school_code != after.school_code:
        return _CUT_BETWEEN_SCHOOLS
    return _CUT_INSIDE_SCHOOL


def _rerun(
    drafts: list[_Draft],
    new_ordinals: list[int],
    pool: list[AllocLearner],
    limits: _Limits,
    displaced: dict[str, MoveReason],
) -> list[_Draft]:
    """Kept classes keep their stayers but for the cap's excess and what opened classes need."""
    for draft in drafts:
        _displace(draft.shed(len(draft) - limits.cap), pool, displaced)
    opening = len(new_ordinals) * limits.floor
    lacking = _from_largest([len(draft) for draft in drafts], opening - len(pool))
    for draft, count in zip(drafts, lacking, strict=True):
        _displace(draft.shed(count), pool, displaced)
    pool = _in_placement_order(pool)
    opened = [
        _Draft(ordinal, pool[index * limits.floor : (index + 1) * limits.floor])
        for index, ordinal in enumerate(new_ordinals)
    ]
    pool = pool[opening:]
    for draft in sorted(drafts, key=lambda draft: (len(draft), draft.ordinal)):
        pool = _fill(draft, limits.floor - len(draft), pool)
    classes = sorted(drafts + opened, key=lambda draft: draft.ordinal)
    _place(classes, pool, limits)
    return classes


def _displace(
    learners: Iterable[AllocLearner], pool: list[AllocLearner], displaced: dict[str, MoveReason]
) -> None:
    for learner in learners:
        displaced[learner.person_id] = MoveReason.REBALANCED
        pool.append(learner)


def _from_largest(sizes: Sequence[int], count: int) -> list[int]:
    """How many each class gives when ``count`` members are taken one at a time from the largest."""
    taken = [0] * len(sizes)
    heap = [(-size, index) for index, size in enumerate(sizes)]
    heapq.heapify(heap)
    for _ in range(count):
        negative, index = heapq.heappop(heap)
        taken[index] += 1
        heapq.heappush(heap, (negative + 1, index))
    return taken


def _place(drafts: list[_Draft], pool: list[AllocLearner], limits: _Limits) -> None:
    """Put each learner of ``pool`` in a class with room (see ``_room_preference``)."""
    for learner in _in_placement_order(pool):
        open_drafts = [draft for draft in drafts if len(draft) < limits.cap]
        best = min(open_drafts, key=lambda draft: _room_preference(draft, learner, limits))
        best.add(learner)


def _room_preference(
    draft: _Draft, learner: AllocLearner, limits: _Limits
) -> tuple[bool, bool, bool, int, int]:
    """Below the tolerance bound first, then with the learner's school, cluster, then smallest."""
    return (
        len(draft) >= limits.hi,
        draft.schools[learner.school_code] == 0,
        draft.clusters[learner.cluster] == 0,
        len(draft),
        draft.ordinal,
    )


def _fill(draft: _Draft, count: int, pool: list[AllocLearner]) -> list[AllocLearner]:
    """Move ``count`` pool members into ``draft`` (their school first, then cluster); the rest."""
    if count <= 0:
        return pool

    def preference(item: tuple[int, AllocLearner]) -> tuple[bool, bool, int]:
        index, learner = item
        return (
            draft.schools[learner.school_code] == 0,
            draft.clusters[learner.cluster] == 0,
            index,
        )

    chosen = sorted(enumerate(pool), key=preference)[:count]
    for _, learner in sorted(chosen, key=lambda item: item[0]):
        draft.add(learner)
    taken = {index for index, _ in chosen}
    return [learner for index, learner in enumerate(pool) if index not in taken]


def _finish(key: GroupKey, run_id: str, draft: _Draft) -> AllocatedClass:
    return AllocatedClass(
        class_id=key.class_id(run_id, draft.ordinal),
        key=key,
        ordinal=draft.ordinal,
        display_name=key.display_name(draft.ordinal),
        members=tuple(sorted(draft.members, key=_PERSON_ID)),
    )


def _moves(
    run_id: str,
    class_of: Mapping[str, str],
    previous: Mapping[str, str],
    displaced: Mapping[str, MoveReason],
) -> tuple[Move, ...]:
    if not previous:  # a first allocation: everyone is new, in ``class_of``'s order
        new = MoveReason.NEW
        return tuple(map(Move, class_of.keys(), repeat(None), class_of.values(), repeat(new)))
    moves: list[Move] = []
    for person_id in sorted(class_of.keys() | previous.keys()):
        before, after = previous.get(person_id), class_of.get(person_id)
        if before == after:
            continue
        if after is None:
            reason = MoveReason.LEFT
        elif before is None:
            reason = MoveReason.NEW
        elif person_id in displaced:
            reason = displaced[person_id]
        elif before.startswith(run_id + "/"):
            reason = MoveReason.GROUP_CHANGED
        else:
            reason = MoveReason.PREVIOUS_CLASS_UNKNOWN
        moves.append(Move(person_id, before, after, reason))
    return tuple(moves)
