"""Reporter and assistant assignment: a pure function of the classes, the core staff and the
previous assignment.

A class of (level, audience, subject) is served by core staff of that level and subject; a
managers' class (audience ``CBQL``) by staff of subject ``Quản lí``.

**Reporters.** Each class gets exactly one reporter. With ``C`` classes and ``R`` reporters in
a pool, every reporter gets ``C // R`` or ``C // R + 1`` classes (loads differ by at most one;
when ``R > C`` some reporters get none and are listed). A previous (class, reporter) pair is
kept as long as that bound allows; the remaining classes, in class id order, go to the reporter
with the lowest load, ties to a reporter of the class's main cluster, then of any cluster in
the class, then by person id.

**Assistants** are spread the same way: with ``A <= C`` each class gets at most one assistant
and assistants' loads differ by at most one; with ``A > C`` each assistant gets one class and
classes' assistant counts differ by at most one.

Classes with no reporter are problems (``MissingReporter``), never hidden; so is core staff
left without a class (``UnassignedStaff``).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from operator import attrgetter

from roster.allocation import AllocatedClass

MANAGER_AUDIENCE = "CBQL"
MANAGER_SUBJECT = "Quản lí"


class StaffRole(StrEnum):
    """Also built from the roster's Vietnamese labels: ``StaffRole("Báo cáo viên")``."""

    REPORTER = "reporter"
    ASSISTANT = "assistant"

    @classmethod
    def _missing_(cls, value: object) -> StaffRole | None:
        for role, name in _ROLE_NAMES.items():
            if isinstance(value, str) and _nfc(value) == name:
                return role
        return None


REPORTER, ASSISTANT = StaffRole.REPORTER, StaffRole.ASSISTANT
_ROLE_NAMES = {REPORTER: "Báo cáo viên", ASSISTANT: "Trợ giảng"}


@dataclass(frozen=True, slots=True)
class AllocStaff:
    """One core staff member as the assignment sees them."""

    person_id: str
    level: str
    subject: str
    role: StaffRole
    school_code: str
    cluster: str


@dataclass(frozen=True, slots=True)
class MissingReporter:
    """A class no reporter of its level and subject is available for."""

    class_id: str
    level: str
    subject: str

    @property
    def message(self) -> str:
        return _nfc(f"Lớp {self.class_id} chưa có báo cáo viên ({self.subject} {self.level})")


@dataclass(frozen=True, slots=True)
class UnassignedStaff:
    """A reporter or assistant left without any class."""

    person_id: str
    role: StaffRole
    level: str
    subject: str

    @property
    def message(self) -> str:
        role = _ROLE_NAMES[self.role]
        return _nfc(
            f"{role} {self.person_id} ({self.subject} {self.level}) chưa được phân công lớp nào"
        )


StaffProblem = MissingReporter | UnassignedStaff


@dataclass(frozen=True, slots=True)
class ClassStaff:
    """The reporters and assistants of one class, sorted by person id."""

    class_id: str
    reporters: tuple[str, ...]
    assistants: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StaffChange:
    """A staff member added to or removed from a class compared with the previous assignment."""

    class_id: str
    person_id: str
    added: bool


@dataclass(frozen=True)
class StaffAssignment:
    classes: tuple[ClassStaff, ...]
    problems: tuple[StaffProblem, ...]
    changes: tuple[StaffChange, ...]

    def staff_of(self, class_id: str) -> ClassStaff:
        for class_staff in self.classes:
            if class_staff.class_id == class_id:
                return class_staff
        raise KeyError(class_id)

    def classes_of(self) -> dict[str, tuple[str, ...]]:
        """Staff person id -> the classes they serve, sorted."""
        served: dict[str, list[str]] = {}
        for class_staff in self.classes:
            for person_id in class_staff.reporters + class_staff.assistants:
                served.setdefault(person_id, []).append(class_staff.class_id)
        return {person_id: tuple(sorted(ids)) for person_id, ids in sorted(served.items())}

    def as_previous(self) -> dict[str, tuple[str, ...]]:
        """Class id -> staff ids: the ``previous`` argument of the next ``assign_staff``."""
        return {c.class_id: tuple(sorted(c.reporters + c.assistants)) for c in self.classes}


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", str(text))  # str(): a StrEnum member becomes its value


def staff_subject(klass: AllocatedClass) -> str:
    """The subject a class's staff must have: ``Quản lí`` for managers' classes."""
    if klass.key.audience == MANAGER_AUDIENCE:
        return MANAGER_SUBJECT
    return klass.key.subject


_PoolKey = tuple[str, str]


def assign_staff(
    classes: Iterable[AllocatedClass],
    staff: Iterable[AllocStaff],
    *,
    previous: Mapping[str, Collection[str]] | None = None,
) -> StaffAssignment:
    """Assign reporters and assistants to the classes (see the module docstring).

    ``previous`` maps class id to the staff ids it had (``StaffAssignment.as_previous()``).
    Raises ``ValueError`` on a duplicate staff person id.
    """
    previous = previous or {}
    class_list = sorted(classes, key=lambda klass: klass.class_id)
    classes_by_pool: dict[_PoolKey, list[AllocatedClass]] = {}
    for klass in class_list:
        pool = (klass.key.level, _nfc(staff_subject(klass)))
        classes_by_pool.setdefault(pool, []).append(klass)
    staff_by_pool = _staff_by_pool(staff)
    previous_pairs = {(c, p) for c, people in previous.items() for p in people}
    ranks = {klass.class_id: _cluster_ranks(klass) for klass in class_list}
    reporters_of: dict[str, list[str]] = {klass.class_id: [] for klass in class_list}
    assistants_of: dict[str, list[str]] = {klass.class_id: [] for klass in class_list}
    for pool in sorted(set(classes_by_pool) | set(staff_by_pool)):
        members = staff_by_pool.get(pool, {})
        for role, target in ((REPORTER, reporters_of), (ASSISTANT, assistants_of)):
            people = sorted(members.get(role, []), key=lambda person: person.person_id)
            pool_classes = classes_by_pool.get(pool, [])
            pairs = _assign_role(role, pool_classes, people, previous_pairs, ranks)
            for class_id, person_id in pairs:
                target[class_id].append(person_id)
    assigned = [
        ClassStaff(cid, tuple(sorted(reporters_of[cid])), tuple(sorted(assistants_of[cid])))
        for cid in reporters_of
    ]
    problems = _problems(class_list, staff_by_pool, assigned)
    return StaffAssignment(tuple(assigned), problems, _changes(assigned, previous))


def _staff_by_pool(
    staff: Iterable[AllocStaff],
) -> dict[_PoolKey, dict[StaffRole, list[AllocStaff]]]:
    pools: dict[_PoolKey, dict[StaffRole, list[AllocStaff]]] = {}
    seen: set[str] = set()
    for person in staff:
        if person.person_id in seen:
            raise ValueError(f"duplicate staff person id {person.person_id!r}")
        seen.add(person.person_id)
        pool = (_nfc(person.level), _nfc(person.subject))
        pools.setdefault(pool, {}).setdefault(StaffRole(person.role), []).append(person)
    return pools


def _assign_role(
    role: StaffRole,
    classes: Sequence[AllocatedClass],
    people: Sequence[AllocStaff],
    previous_pairs: set[tuple[str, str]],
    clusters: Mapping[str, Mapping[str, int]],
) -> list[tuple[str, str]]:
    """(class id, person id) pairs for one role in one pool; ``clusters``: ``_cluster_ranks``."""
    if not classes or not people:
        return []
    cluster_of = {person.person_id: person.cluster for person in people}

    def affinity(class_id: str, person_id: str) -> int:
        return clusters[class_id].get(cluster_of[person_id], 2)

    class_ids = [klass.class_id for klass in classes]
    person_ids = [person.person_id for person in people]
    if role == StaffRole.REPORTER or len(people) <= len(classes):
        pairs = _balanced_by_cluster(class_ids, person_ids, previous_pairs, clusters, cluster_of)
        return sorted(pairs.items())
    flipped = {(person, klass) for klass, person in previous_pairs}
    pairs = _balanced(person_ids, class_ids, flipped, lambda p, c: affinity(c, p))
    return sorted((class_id, person_id) for person_id, class_id in pairs.items())


def _cluster_ranks(klass: AllocatedClass) -> dict[str, int]:
    """Cluster -> 0 for the class's main cluster, 1 for any other cluster it has."""
    counts = Counter(map(attrgetter("cluster"), klass.members))
    ranked = sorted(counts, key=lambda cluster: (-counts[cluster], cluster))
    return {cluster: (0 if index == 0 else 1) for index, cluster in enumerate(ranked)}


def _balanced(
    slots: Sequence[str],
    partners: Sequence[str],
    previous_pairs: set[tuple[str, str]],
    affinity: Callable[[str, str], int],
) -> dict[str, str]:
    """Give every slot one partner; partners' loads differ by at most one; keep previous pairs.

    ``slots`` and ``partners`` are sorted. Previous pairs are kept within the bound (see
    ``_kept_pairs``); then each free slot goes to the least loaded partner, ties to the best
    ``affinity`` (lowest), then the lowest id.
    """
    chosen = _kept_pairs(slots, partners, previous_pairs)
    loads = dict.fromkeys(partners, 0)
    for partner in chosen.values():
        loads[partner] += 1
    for slot in slots:
        if slot not in chosen:
            lowest = min(loads.values())
            least_loaded = [p for p in partners if loads[p] == lowest]
            partner = min(least_loaded, key=lambda p: (affinity(slot, p), p))
            chosen[slot] = partner
            loads[partner] += 1
    return chosen


def _balanced_by_cluster(
    slots: Sequence[str],
    partners: Sequence[str],
    previous_pairs: set[tuple[str, str]],
    slot_ranks: Mapping[str, Mapping[str, int]],
    partner_cluster: Mapping[str, str],
) -> dict[str, str]:
    """``_balanced`` with the affinity ``slot_ranks[slot].get(partner_cluster[partner], 2)``.

    The same choices, found faster: the least loaded partners are kept grouped by cluster
    (each group by id), so a slot looks at the groups of its own clusters only, instead of
    ranking every least loaded partner (a province: a million affinity calls per run).
    """
    chosen = _kept_pairs(slots, partners, previous_pairs)
    loads = dict.fromkeys(partners, 0)
    for partner in chosen.values():
        loads[partner] += 1
    # Cluster -> its partners at the lowest load, highest id first (the next one is last).
    free: dict[str, list[str]] = {}
    for slot in slots:
        if slot in chosen:
            continue
        if not free:  # everyone at the lowest load got one more: the next lowest
            lowest = min(loads.values())
            for partner in reversed(partners):
                if loads[partner] == lowest:
                    free.setdefault(partner_cluster[partner], []).append(partner)
        best: tuple[int, str] | None = None
        for cluster, rank in slot_ranks[slot].items():
            group = free.get(cluster)
            if group is not None and (best is None or (rank, group[-1]) < best):
                best = (rank, group[-1])
        partner = best[1] if best is not None else min(group[-1] for group in free.values())
        group = free[partner_cluster[partner]]
        group.pop()
        if not group:
            del free[partner_cluster[partner]]
        chosen[slot] = partner
        loads[partner] += 1
    return chosen


def _kept_pairs(
    slots: Sequence[str], partners: Sequence[str], previous_pairs: set[tuple[str, str]]
) -> dict[str, str]:
    """The previous pairs that fit the balance: each partner keeps up to ``len(slots) //
    len(partners)`` slots, and ``len(slots) % len(partners)`` partners (those with most previous
    slots, then lowest id) one more. A slot with several previous partners keeps the lowest id.
    """
    floor, extra = divmod(len(slots), len(partners))
    known = set(partners)
    previous_of: dict[str, list[str]] = {}
    for slot, partner in previous_pairs:
        if partner in known:
            previous_of.setdefault(slot, []).append(partner)
    claims: dict[str, list[str]] = {partner: [] for partner in partners}
    for slot in slots:
        if slot in previous_of:
            claims[min(previous_of[slot])].append(slot)
    over = sorted(
        (p for p in partners if len(claims[p]) > floor), key=lambda p: (-len(claims[p]), p)
    )
    bonus = set(over[:extra])
    return {
        slot: partner
        for partner in partners
        for slot in claims[partner][: floor + (1 if partner in bonus else 0)]
    }


def _problems(
    classes: Sequence[AllocatedClass],
    staff_by_pool: Mapping[_PoolKey, Mapping[StaffRole, Sequence[AllocStaff]]],
    assigned: Sequence[ClassStaff],
) -> tuple[StaffProblem, ...]:
    by_id = {klass.class_id: klass for klass in classes}
    missing: list[StaffProblem] = [
        MissingReporter(c.class_id, by_id[c.class_id].key.level, staff_subject(by_id[c.class_id]))
        for c in assigned
        if not c.reporters
    ]
    busy = {person for c in assigned for person in c.reporters + c.assistants}
    idle: list[UnassignedStaff] = [
        UnassignedStaff(
            person.person_id, StaffRole(person.role), _nfc(person.level), _nfc(person.subject)
        )
        for pool in sorted(staff_by_pool)
        for role in (StaffRole.REPORTER, StaffRole.ASSISTANT)
        for person in staff_by_pool[pool].get(role, [])
        if person.person_id not in busy
    ]
    idle.sort(key=lambda problem: (problem.role != StaffRole.REPORTER, problem.person_id))
    return (*missing, *idle)


def _changes(
    assigned: Sequence[ClassStaff], previous: Mapping[str, Collection[str]]
) -> tuple[StaffChange, ...]:
    now = {(c.class_id, person) for c in assigned for person in c.reporters + c.assistants}
    before = {(class_id, person) for class_id, people in previous.items() for person in people}
    changes = [StaffChange(c, p, True) for c, p in now - before]
    changes += [StaffChange(c, p, False) for c, p in before - now]
    return tuple(sorted(changes, key=lambda ch: (ch.class_id, ch.person_id, ch.added)))
