"""Reporter and assistant assignment."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.allocation import AllocatedClass, GroupKey, allocate
from roster.reporters import (
    AllocStaff,
    ClassStaff,
    MissingReporter,
    StaffChange,
    StaffRole,
    UnassignedStaff,
    _balanced,
    _balanced_by_cluster,
    assign_staff,
)

from .builders import RUN, TOAN, VAN, learner, staff

MANAGERS = GroupKey("THCS", "CBQL", "Quản lí")
REPORTER, ASSISTANT = StaffRole.REPORTER, StaffRole.ASSISTANT


def classes(
    key: GroupKey, count: int, clusters: tuple[str, ...] = ("C-S01",)
) -> list[AllocatedClass]:
    """``count`` one-learner classes of ``key``; class i's cluster is clusters[i % len]."""
    people = [
        learner(f"{key.subject}-{i:03d}", cluster=clusters[i % len(clusters)], key=key)
        for i in range(count)
    ]
    return list(allocate(people, run_id=RUN, max_class_size=1).classes)


def cid(key: GroupKey, ordinal: int) -> str:
    return key.class_id(RUN, ordinal)


def loads(assignment_classes: tuple[ClassStaff, ...], role: StaffRole) -> Counter[str]:
    return Counter(
        person
        for c in assignment_classes
        for person in (c.reporters if role is REPORTER else c.assistants)
    )


def test_each_class_gets_one_reporter_and_loads_differ_by_at_most_one() -> None:
    result = assign_staff(classes(TOAN, 3), [staff("r1"), staff("r2")])

    assert result.classes == (
        ClassStaff(cid(TOAN, 1), ("r1",), ()),
        ClassStaff(cid(TOAN, 2), ("r2",), ()),
        ClassStaff(cid(TOAN, 3), ("r1",), ()),
    )
    assert result.problems == ()
    assert result.classes_of() == {"r1": (cid(TOAN, 1), cid(TOAN, 3)), "r2": (cid(TOAN, 2),)}


def test_managers_classes_take_staff_of_subject_quan_li() -> None:
    result = assign_staff(classes(MANAGERS, 1), [staff("toan"), staff("ql", subject="Quản lí")])

    assert result.staff_of(cid(MANAGERS, 1)).reporters == ("ql",)
    assert result.problems == (UnassignedStaff("toan", REPORTER, "THCS", "Toán"),)


def test_class_without_reporter_is_a_problem_not_hidden() -> None:
    result = assign_staff(classes(VAN, 1), [staff("a1", subject="Ngữ văn", role=ASSISTANT)])

    assert result.classes == (ClassStaff(cid(VAN, 1), (), ("a1",)),)
    assert result.problems == (MissingReporter(cid(VAN, 1), "THCS", "Ngữ văn"),)
    assert result.problems[0].message == (
        "Lớp M4-2023/THCS/GV/Ngữ văn/01 chưa có báo cáo viên (Ngữ văn THCS)"
    )


def test_reporters_of_another_level_do_not_serve_and_are_listed() -> None:
    result = assign_staff(classes(TOAN, 1), [staff("r-thpt", level="THPT")])

    assert result.problems == (
        MissingReporter(cid(TOAN, 1), "THCS", "Toán"),
        UnassignedStaff("r-thpt", REPORTER, "THPT", "Toán"),
    )
    assert result.problems[1].message == (
        "Báo cáo viên r-thpt (Toán THPT) chưa được phân công lớp nào"
    )


def test_more_reporters_than_classes_leaves_the_extra_ones_listed() -> None:
    result = assign_staff(classes(TOAN, 2), [staff("r1"), staff("r2"), staff("r3")])

    assert [c.reporters for c in result.classes] == [("r1",), ("r2",)]
    assert result.problems == (UnassignedStaff("r3", REPORTER, "THCS", "Toán"),)


def test_when_loads_tie_a_reporter_of_the_class_cluster_is_preferred() -> None:
    toan = classes(TOAN, 2, clusters=("North", "South"))
    people = [staff("r1", cluster="South"), staff("r2", cluster="North")]

    result = assign_staff(toan, people)

    assert [c.reporters for c in result.classes] == [("r2",), ("r1",)]


def test_assistants_fewer_than_classes_get_balanced_loads() -> None:
    people = [staff("a1", role=ASSISTANT), staff("a2", role=ASSISTANT), staff("r1")]

    result = assign_staff(classes(TOAN, 5), people)

    assert [len(c.assistants) for c in result.classes] == [1] * 5
    assert sorted(loads(result.classes, ASSISTANT).values()) == [2, 3]


def test_assistants_more_than_classes_each_get_one_class() -> None:
    people = [staff(f"a{i}", role=ASSISTANT) for i in range(5)] + [staff("r1")]

    result = assign_staff(classes(TOAN, 2), people)

    assert sorted(len(c.assistants) for c in result.classes) == [2, 3]
    assert set(loads(result.classes, ASSISTANT).values()) == {1}
    assert all(not isinstance(p, UnassignedStaff) for p in result.problems)


def test_rerun_with_previous_assignment_changes_nothing() -> None:
    toan = classes(TOAN, 4)
    people = [staff("r1"), staff("r2"), staff("a1", role=ASSISTANT)]
    first = assign_staff(toan, people)

    again = assign_staff(toan, people, previous=first.as_previous())

    assert again.classes == first.classes
    assert again.changes == ()


def test_a_new_reporter_takes_over_only_what_balance_requires() -> None:
    toan = classes(TOAN, 4)
    first = assign_staff(toan, [staff("r1")])

    second = assign_staff(toan, [staff("r1"), staff("r2")], previous=first.as_previous())

    assert [c.reporters for c in second.classes] == [("r1",), ("r1",), ("r2",), ("r2",)]
    assert second.changes == (
        StaffChange(cid(TOAN, 3), "r1", added=False),
        StaffChange(cid(TOAN, 3), "r2", added=True),
        StaffChange(cid(TOAN, 4), "r1", added=False),
        StaffChange(cid(TOAN, 4), "r2", added=True),
    )


def test_roles_read_from_the_roster_labels() -> None:
    assert StaffRole("Báo cáo viên") is REPORTER
    assert StaffRole("Trợ giảng") is ASSISTANT
    with pytest.raises(ValueError, match="not a valid StaffRole"):
        StaffRole("Giảng viên")


def test_duplicate_staff_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate staff person id 'r1'"):
        assign_staff(classes(TOAN, 1), [staff("r1"), staff("r1", role=ASSISTANT)])


POOL_KEYS = (TOAN, VAN, MANAGERS)
POOL_SUBJECTS = {TOAN: "Toán", VAN: "Ngữ văn", MANAGERS: "Quản lí"}


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[AllocatedClass], list[AllocStaff]]:
    all_classes: list[AllocatedClass] = []
    people: list[AllocStaff] = []
    for key in POOL_KEYS:
        clusters = ("North", "South", "East")
        all_classes += classes(key, draw(st.integers(0, 9)), clusters)
        subject = POOL_SUBJECTS[key]
        for role in (REPORTER, ASSISTANT):
            for i in range(draw(st.integers(0, 7))):
                cluster = draw(st.sampled_from(clusters))
                people.append(staff(f"{subject}-{role}-{i}", subject, role, cluster))
    return all_classes, people


@given(scenarios())
def test_every_class_has_a_reporter_iff_its_pool_has_one(
    scenario: tuple[list[AllocatedClass], list[AllocStaff]],
) -> None:
    all_classes, people = scenario

    result = assign_staff(all_classes, people)

    reporters_by_subject = Counter(p.subject for p in people if p.role is REPORTER)
    subject_of = {k.class_id: POOL_SUBJECTS[k.key] for k in all_classes}
    for c in result.classes:
        assert len(c.reporters) == (1 if reporters_by_subject[subject_of[c.class_id]] else 0)
    missing = {p.class_id for p in result.problems if isinstance(p, MissingReporter)}
    assert missing == {c.class_id for c in result.classes if not c.reporters}


@given(scenarios())
def test_loads_within_a_pool_differ_by_at_most_one(
    scenario: tuple[list[AllocatedClass], list[AllocStaff]],
) -> None:
    all_classes, people = scenario

    result = assign_staff(all_classes, people)

    for role in (REPORTER, ASSISTANT):
        load = loads(result.classes, role)
        for subject in POOL_SUBJECTS.values():
            pool = [load[p.person_id] for p in people if p.role is role and p.subject == subject]
            if pool:
                assert max(pool) - min(pool) <= 1
    subject_of = {k.class_id: POOL_SUBJECTS[k.key] for k in all_classes}
    for subject in POOL_SUBJECTS.values():
        per_class = [len(c.assistants) for c in result.classes if subject_of[c.class_id] == subject]
        assert not per_class or max(per_class) - min(per_class) <= 1
    idle = {p.person_id for p in result.problems if isinstance(p, UnassignedStaff)}
    busy = set(loads(result.classes, REPORTER)) | set(loads(result.classes, ASSISTANT))
    assert idle == {p.person_id for p in people} - busy


@given(scenarios(), st.randoms(use_true_random=False))
def test_assignment_is_deterministic_and_stable(
    scenario: tuple[list[AllocatedClass], list[AllocStaff]], rng: random.Random
) -> None:
    all_classes, people = scenario
    shuffled_classes, shuffled_people = list(all_classes), list(people)
    rng.shuffle(shuffled_classes)
    rng.shuffle(shuffled_people)

    first = assign_staff(all_classes, people)
    shuffled = assign_staff(shuffled_classes, shuffled_people)
    again = assign_staff(all_classes, people, previous=first.as_previous())

    assert shuffled == first
    assert again.classes == first.classes
    assert again.changes == ()


@given(scenarios(), st.data())
def test_a_reporter_leaving_moves_only_their_classes(
    scenario: tuple[list[AllocatedClass], list[AllocStaff]], data: st.DataObject
) -> None:
    all_classes, people = scenario
    reporters = [p for p in people if p.role is REPORTER]
    first = assign_staff(all_classes, people)
    leaving = data.draw(st.sampled_from(reporters)) if reporters else None
    remaining = [p for p in people if p is not leaving]

    second = assign_staff(all_classes, remaining, previous=first.as_previous())

    before = {c.class_id: c.reporters for c in first.classes}
    changed = {c.class_id for c in second.classes if c.reporters != before[c.class_id]}
    gone = leaving.person_id if leaving else None
    assert changed <= {c.class_id for c in first.classes if gone in c.reporters}


@st.composite
def balancing_inputs(
    draw: st.DrawFn,
) -> tuple[list[str], list[str], set[tuple[str, str]], dict[str, dict[str, int]], dict[str, str]]:
    """Slots (classes) with cluster ranks, partners with a cluster, some previous pairs."""
    clusters = ["", "A", "B", "C", "D"]
    slots = [f"class-{i:02d}" for i in range(draw(st.integers(0, 30)))]
    partners = [f"p-{i:02d}" for i in range(draw(st.integers(1, 12)))]
    ranks: dict[str, dict[str, int]] = {}
    for slot in slots:
        present = draw(st.lists(st.sampled_from(clusters), unique=True, max_size=3))
        ranks[slot] = {cluster: (0 if i == 0 else 1) for i, cluster in enumerate(present)}
    partner_cluster = {p: draw(st.sampled_from(clusters)) for p in partners}
    previous = draw(
        st.sets(st.tuples(st.sampled_from(slots), st.sampled_from(partners)), max_size=10)
        if slots
        else st.just(set())
    )
    return slots, partners, previous, ranks, partner_cluster


@given(balancing_inputs())
def test_cluster_indexed_balancing_chooses_as_ranking_every_partner(
    inputs: tuple[
        list[str], list[str], set[tuple[str, str]], dict[str, dict[str, int]], dict[str, str]
    ],
) -> None:
    slots, partners, previous, ranks, partner_cluster = inputs

    fast = _balanced_by_cluster(slots, partners, previous, ranks, partner_cluster)

    reference = _balanced(
        slots, partners, previous, lambda s, p: ranks[s].get(partner_cluster[p], 2)
    )
    assert fast == reference
    assert list(fast.items()) == list(reference.items())
