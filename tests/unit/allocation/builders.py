"""Learners, staff and hypothesis strategies for the allocation tests."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from hypothesis import strategies as st

from roster.allocation import Allocation, AllocLearner, GroupKey
from roster.reporters import AllocStaff, StaffRole

RUN = "M4-2023"
TOAN = GroupKey("THCS", "GV", "Toán")
VAN = GroupKey("THCS", "GV", "Ngữ văn")


def learner(
    person_id: str,
    school: str = "S01",
    cluster: str | None = None,
    key: GroupKey = TOAN,
) -> AllocLearner:
    """A learner; their cluster defaults to one derived from the school."""
    return AllocLearner(
        person_id=person_id,
        school_code=school,
        cluster=cluster if cluster is not None else f"C-{school}",
        level=key.level,
        audience=key.audience,
        subject=key.subject,
    )


def school_block(school: str, count: int, cluster: str, key: GroupKey = TOAN) -> list[AllocLearner]:
    """``count`` learners of one school, ids ``<school>-000``..."""
    return [learner(f"{school}-{i:03d}", school, cluster, key) for i in range(count)]


def with_key(person: AllocLearner, key: GroupKey) -> AllocLearner:
    return AllocLearner(
        person.person_id, person.school_code, person.cluster, key.level, key.audience, key.subject
    )


def staff(
    person_id: str,
    subject: str = "Toán",
    role: StaffRole = StaffRole.REPORTER,
    cluster: str = "C-S01",
    level: str = "THCS",
) -> AllocStaff:
    return AllocStaff(person_id, level, subject, role, f"school-of-{person_id}", cluster)


def sizes_by_group(allocation: Allocation) -> dict[GroupKey, list[int]]:
    sizes: dict[GroupKey, list[int]] = {}
    for klass in allocation.classes:
        sizes.setdefault(klass.key, []).append(klass.size)
    return sizes


def group_counts(learners: Iterable[AllocLearner]) -> Counter[GroupKey]:
    return Counter(GroupKey.of(person) for person in learners)


def effective_minimum(minimum: int | None, max_size: int) -> int:
    """The ``min_class_size`` in force: the given one, else half the maximum (at least 1)."""
    return max(1, max_size // 2) if minimum is None else minimum


def minimums(max_size: int) -> st.SearchStrategy[int | None]:
    """``min_class_size`` arguments for a maximum: the default (None) or any valid value."""
    return st.none() | st.integers(min_value=1, max_value=max_size)


def bounds(
    n: int, max_size: int, tolerance: int, minimum: int | None = None
) -> tuple[int, int, int]:
    """(classes, lowest size, highest size) allowed for a fresh group of ``n``.

    The lowest is the tolerance's, raised to the minimum class size when the group affords it.
    """
    classes = math.ceil(n / max_size)
    base, extra = divmod(n, classes)
    floor = max(1, min(effective_minimum(minimum, max_size), base))
    return classes, max(floor, base - tolerance), min(max_size, base + (extra > 0) + tolerance)


def class_counts(learners: Sequence[AllocLearner], max_size: int) -> dict[GroupKey, int]:
    return {key: math.ceil(n / max_size) for key, n in group_counts(learners).items()}


def same_class_counts(
    before: Sequence[AllocLearner], after: Sequence[AllocLearner], max_size: int
) -> bool:
    """Every group still present after needs as many classes as before."""
    needed_before = class_counts(before, max_size)
    return all(needed_before.get(k) == n for k, n in class_counts(after, max_size).items())


KEYS = (
    TOAN,
    VAN,
    GroupKey("THPT", "GV", "Toán"),
    GroupKey("THCS", "CBQL", "Quản lí"),
)
SCHOOLS = tuple(f"S{i:02d}" for i in range(12))


@st.composite
def learner_lists(
    draw: st.DrawFn, min_size: int = 0, max_size: int = 80, keys: Sequence[GroupKey] = KEYS
) -> list[AllocLearner]:
    """Distinct learners over a few groups and schools; a school always has one cluster."""
    count = draw(st.integers(min_value=min_size, max_value=max_size))
    people = []
    for index in range(count):
        key = draw(st.sampled_from(keys))
        school = draw(st.sampled_from(SCHOOLS))
        cluster = f"C{int(school[1:]) % 4}"
        people.append(learner(f"P{index:04d}", school, cluster, key))
    return people
