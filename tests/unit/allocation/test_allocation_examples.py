"""Class allocation on small, hand-checked examples."""

from __future__ import annotations

import unicodedata

import pytest

from roster.allocation import AllocLearner, ClassSummary, GroupKey, Move, MoveReason, allocate

from .builders import RUN, TOAN, VAN, learner, school_block, with_key


def test_class_ids_and_display_names_follow_the_group_key() -> None:
    managers = GroupKey("THPT", "CBQL", "Quản lí")
    people = [learner("a"), learner("b", key=managers)]

    allocation = allocate(people, run_id=RUN)

    assert [(k.class_id, k.display_name, k.ordinal) for k in allocation.classes] == [
        ("M4-2023/THCS/GV/Toán/01", "Lớp 01 — Toán THCS", 1),
        ("M4-2023/THPT/CBQL/Quản lí/01", "Lớp 01 — Quản lí THPT (CBQL)", 1),
    ]
    assert allocation.class_of == {
        "a": "M4-2023/THCS/GV/Toán/01",
        "b": "M4-2023/THPT/CBQL/Quản lí/01",
    }


def test_decomposed_accents_land_in_the_same_group_and_ids_are_nfc() -> None:
    nfd = GroupKey("THCS", "GV", unicodedata.normalize("NFD", "Toán"))
    people = [learner("a"), learner("b", key=nfd)]

    allocation = allocate(people, run_id=RUN)

    assert [k.member_ids for k in allocation.classes] == [("a", "b")]
    klass = allocation.classes[0]
    assert unicodedata.is_normalized("NFC", klass.class_id + klass.display_name)


def test_fewest_classes_with_even_sizes() -> None:
    people = [learner(f"p{i:03d}", f"S{i % 7}") for i in range(101)]

    allocation = allocate(people, run_id=RUN, size_tolerance=0)

    assert [k.size for k in allocation.classes] == [34, 33, 34]
    assert [k.ordinal for k in allocation.classes] == [1, 2, 3]


def test_tolerance_lets_the_cut_fall_between_schools() -> None:
    people = [p for s in range(9) for p in school_block(f"S{s}", 10, cluster="C")]

    strict = allocate(people, run_id=RUN, size_tolerance=0)
    tolerant = allocate(people, run_id=RUN, size_tolerance=5)

    assert [k.size for k in strict.classes] == [45, 45]
    assert [k.size for k in tolerant.classes] == [40, 50]
    schools = [{p.school_code for p in k.members} for k in tolerant.classes]
    assert schools[0].isdisjoint(schools[1])


def test_a_fresh_class_does_not_start_below_the_minimum_class_size() -> None:
    # 51 learners, 2 classes: base 25, the tolerance of 3 would allow 22..29 and a cut between
    # the clusters at 22, but the default minimum (25) does not.
    people = school_block("S0", 22, "A") + school_block("S1", 29, "B")

    default = allocate(people, run_id=RUN)
    lower = allocate(people, run_id=RUN, min_class_size=20)

    assert [k.size for k in default.classes] == [25, 26]
    assert [k.size for k in lower.classes] == [22, 29]
    assert [{p.cluster for p in k.members} for k in lower.classes] == [{"A"}, {"B"}]


def test_a_cut_prefers_a_cluster_boundary_to_a_school_boundary() -> None:
    # Clusters A (S0, S1: 24) and B (S2..S5: 48); cuts at 24 and 36 are school boundaries,
    # 24 is also the cluster boundary; ideal cut is 36.
    people = school_block("S0", 12, "A") + school_block("S1", 12, "A")
    people += [p for s in range(2, 6) for p in school_block(f"S{s}", 12, "B")]

    allocation = allocate(people, run_id=RUN, max_class_size=48, size_tolerance=12)

    assert [k.size for k in allocation.classes] == [24, 48]
    assert [{p.cluster for p in k.members} for k in allocation.classes] == [{"A"}, {"B"}]


def test_explain_lists_size_schools_and_clusters() -> None:
    people = school_block("S1", 3, "A") + school_block("S2", 5, "A") + school_block("S3", 2, "B")

    summaries = list(allocate(people, run_id=RUN).explain())

    assert summaries == [
        ClassSummary(
            class_id="M4-2023/THCS/GV/Toán/01",
            display_name="Lớp 01 — Toán THCS",
            size=10,
            schools=(("S2", 5), ("S1", 3), ("S3", 2)),
            clusters=(("A", 8), ("B", 2)),
        )
    ]


def test_members_are_sorted_by_person_id() -> None:
    people = [learner("c"), learner("a"), learner("b")]

    allocation = allocate(people, run_id=RUN)

    assert allocation.classes[0].member_ids == ("a", "b", "c")


def test_first_allocation_lists_everyone_as_new() -> None:
    allocation = allocate([learner("a")], run_id=RUN)

    assert allocation.moves == (Move("a", None, "M4-2023/THCS/GV/Toán/01", MoveReason.NEW),)
    assert allocation.moves[0].message == "Học viên mới được xếp lớp"


def test_newcomer_joins_the_class_holding_their_school() -> None:
    people = school_block("S1", 40, "A") + school_block("S2", 40, "A")
    before = allocate(people, run_id=RUN)
    assert [k.size for k in before.classes] == [40, 40]

    after = allocate([*people, learner("new", "S2", "A")], run_id=RUN, previous=before.class_of)

    assert after.moves == (Move("new", None, "M4-2023/THCS/GV/Toán/02", MoveReason.NEW),)


def test_newcomer_goes_elsewhere_rather_than_past_the_tolerance() -> None:
    people = school_block("S1", 48, "A") + school_block("S2", 40, "A")
    previous = {p.person_id: TOAN.class_id(RUN, 1 if p.school_code == "S1" else 2) for p in people}

    # 89 learners in 2 classes: sizes 44 or 45, so at most 48 with the tolerance of 3.
    after = allocate([*people, learner("new", "S1", "A")], run_id=RUN, previous=previous)

    assert after.moves == (Move("new", None, "M4-2023/THCS/GV/Toán/02", MoveReason.NEW),)
    assert [k.size for k in after.classes] == [48, 41]


def test_subject_change_moves_only_that_person_to_a_class_of_the_new_subject() -> None:
    people = [learner(f"t{i}") for i in range(30)] + [learner(f"v{i}", key=VAN) for i in range(30)]
    before = allocate(people, run_id=RUN)
    changed = [with_key(p, VAN) if p.person_id == "t7" else p for p in people]

    after = allocate(changed, run_id=RUN, previous=before.class_of)

    assert after.moves == (
        Move("t7", f"{RUN}/THCS/GV/Toán/01", f"{RUN}/THCS/GV/Ngữ văn/01", MoveReason.GROUP_CHANGED),
    )
    assert after.moves[0].message == "Đổi cấp học, đối tượng hoặc môn bồi dưỡng"


def test_leaver_frees_a_seat_and_is_reported() -> None:
    people = [learner(f"p{i}") for i in range(5)]
    before = allocate(people, run_id=RUN)

    after = allocate(people[1:], run_id=RUN, previous=before.class_of)

    assert after.moves == (Move("p0", "M4-2023/THCS/GV/Toán/01", None, MoveReason.LEFT),)
    assert "p0" not in after.class_of


def test_growth_beyond_capacity_opens_a_class_moving_the_fewest() -> None:
    people = [learner(f"p{i:03d}", f"S{i // 10}") for i in range(100)]
    before = allocate(people, run_id=RUN)
    assert [k.size for k in before.classes] == [50, 50]

    after = allocate([*people, learner("new", "S99")], run_id=RUN, previous=before.class_of)

    # 3 classes; the new one needs the minimum, 25: the newcomer and 24 stayers, taken one at a
    # time from the largest class (12 from each). Nobody else moves just to even out the sizes.
    assert [k.size for k in after.classes] == [38, 38, 25]
    reasons = [m.reason for m in after.moves]
    assert reasons.count(MoveReason.REBALANCED) == 24
    assert reasons.count(MoveReason.NEW) == 1
    assert all(m.to_class == "M4-2023/THCS/GV/Toán/03" for m in after.moves)
    assert after.moves[-1].message == "Chuyển lớp để cân đối sĩ số"


def _three_classes_of_101() -> tuple[list[AllocLearner], dict[int, list[str]], dict[str, str]]:
    people = [learner(f"p{i:03d}", f"S{i // 10}") for i in range(101)]
    before = allocate(people, run_id=RUN, size_tolerance=0)
    assert [k.size for k in before.classes] == [34, 33, 34]
    members = {k.ordinal: list(k.member_ids) for k in before.classes}
    return people, members, before.class_of


def test_two_leavers_out_of_101_move_nobody() -> None:
    people, members, previous = _three_classes_of_101()
    leavers = {members[1][0], members[2][0]}
    remaining = [p for p in people if p.person_id not in leavers]

    after = allocate(remaining, run_id=RUN, previous=previous, size_tolerance=0)

    # 99 learners fit in 2 classes, but all 3 keep at least the minimum (25): all are kept.
    assert [(k.ordinal, k.size) for k in after.classes] == [(1, 33), (2, 32), (3, 34)]
    assert {(m.person_id, m.reason) for m in after.moves} == {
        (pid, MoveReason.LEFT) for pid in leavers
    }
    assert all(after.class_of[p.person_id] == previous[p.person_id] for p in remaining)


def test_shrinking_below_the_minimum_closes_the_smallest_class_and_moves_only_its_members() -> None:
    people, members, previous = _three_classes_of_101()
    leavers = {pid for ordinal in (1, 2, 3) for pid in members[ordinal][:10]}
    remaining = [p for p in people if p.person_id not in leavers]

    after = allocate(remaining, run_id=RUN, previous=previous, size_tolerance=0)

    # 71 learners in classes of 24, 23, 24: three classes of 25 are no longer possible.
    assert [(k.ordinal, k.size) for k in after.classes] == [(1, 35), (3, 36)]
    closed = {m.person_id for m in after.moves if m.reason is MoveReason.CLASS_CLOSED}
    assert closed == set(members[2][10:])
    assert {m.person_id for m in after.moves} == closed | leavers
    assert after.moves[0].message == "Không còn trong danh sách học viên"


def test_only_as_many_classes_close_as_the_minimum_requires() -> None:
    blocks = {
        1: school_block("S1", 45, "A"),
        2: school_block("S2", 20, "B"),
        3: school_block("S3", 20, "C"),
    }
    people = [p for block in blocks.values() for p in block]
    previous = {p.person_id: TOAN.class_id(RUN, o) for o, block in blocks.items() for p in block}

    after = allocate(people, run_id=RUN, previous=previous)

    # 45 + 25 + 25 > 85: the three cannot all keep 25 without moving people of class 01;
    # closing class 03 (the higher ordinal of the two smallest) is enough.
    assert [(k.ordinal, k.size) for k in after.classes] == [(1, 45), (2, 40)]
    assert {m.person_id for m in after.moves} == {p.person_id for p in blocks[3]}
    assert {m.reason for m in after.moves} == {MoveReason.CLASS_CLOSED}


def test_a_class_the_cap_keeps_open_keeps_its_members_even_below_the_minimum() -> None:
    blocks = {1: school_block("S1", 50, "A"), 2: school_block("S2", 8, "B")}
    people = [p for block in blocks.values() for p in block]
    previous = {p.person_id: TOAN.class_id(RUN, o) for o, block in blocks.items() for p in block}

    after = allocate([*people, learner("new", "S3", "C")], run_id=RUN, previous=previous)

    assert [k.size for k in after.classes] == [50, 9]
    assert after.moves == (Move("new", None, TOAN.class_id(RUN, 2), MoveReason.NEW),)


def test_newcomers_fill_a_class_below_the_minimum_first() -> None:
    blocks = {1: school_block("S1", 30, "A"), 2: school_block("S2", 20, "B")}
    people = [p for block in blocks.values() for p in block]
    previous = {p.person_id: TOAN.class_id(RUN, o) for o, block in blocks.items() for p in block}
    joining = [learner(f"new{i}", "S1", "A") for i in range(5)]

    after = allocate([*people, *joining], run_id=RUN, previous=previous)

    # Class 02 (20) needs 5 to reach the minimum (25): they go there although class 01 holds
    # their school and is below the tolerance bound (55 learners: 27 + 1 + 3 = 31).
    assert [k.size for k in after.classes] == [30, 25]
    assert {(m.to_class, m.reason) for m in after.moves} == {
        (TOAN.class_id(RUN, 2), MoveReason.NEW)
    }


def test_a_higher_minimum_closes_classes_sooner() -> None:
    people, members, previous = _three_classes_of_101()
    leavers = {members[1][0], members[2][0]}
    remaining = [p for p in people if p.person_id not in leavers]

    after = allocate(remaining, run_id=RUN, previous=previous, size_tolerance=0, min_class_size=34)

    # 99 < 3 * 34: the smallest class (02, now 32) closes, its members join 01 and 03.
    assert [(k.ordinal, k.size) for k in after.classes] == [(1, 49), (3, 50)]
    closed = {m.person_id for m in after.moves if m.reason is MoveReason.CLASS_CLOSED}
    assert closed == set(members[2]) - leavers


def test_previous_class_of_another_run_counts_as_unknown() -> None:
    previous = {"a": "M5-2023/THCS/GV/Toán/01"}

    allocation = allocate([learner("a")], run_id=RUN, previous=previous)

    assert allocation.moves == (
        Move(
            "a",
            "M5-2023/THCS/GV/Toán/01",
            "M4-2023/THCS/GV/Toán/01",
            MoveReason.PREVIOUS_CLASS_UNKNOWN,
        ),
    )


def test_over_capacity_class_sheds_only_its_excess_when_the_maximum_shrinks() -> None:
    people = school_block("S1", 30, "A") + school_block("S9", 10, "B") + school_block("S3", 30, "C")
    before = allocate(people, run_id=RUN, max_class_size=40, size_tolerance=5)
    assert [k.size for k in before.classes] == [30, 40]  # cut between clusters A and B

    after = allocate(people, run_id=RUN, previous=before.class_of, max_class_size=36)

    # The class of S9 (10) and S3 (30) sheds 4 of its minority school S9.
    assert [k.size for k in after.classes] == [34, 36]
    assert [(m.person_id[:2], m.to_class, m.reason) for m in after.moves] == [
        ("S9", f"{RUN}/THCS/GV/Toán/01", MoveReason.REBALANCED)
    ] * 4


def test_a_closed_class_sends_its_members_to_the_classes_holding_their_school() -> None:
    blocks = {
        1: school_block("S1", 20, "A") + school_block("S4", 20, "A"),
        2: school_block("S3", 20, "A") + school_block("S2", 20, "A"),
        3: [learner(f"S2-late-{i}", "S2", "A") for i in range(5)]
        + [learner(f"S4-late-{i}", "S4", "A") for i in range(5)],
    }
    people = [p for block in blocks.values() for p in block]
    previous = {p.person_id: TOAN.class_id(RUN, o) for o, block in blocks.items() for p in block}

    after = allocate(people, run_id=RUN, previous=previous)

    assert [k.size for k in after.classes] == [45, 45]
    assert {(m.person_id[:2], m.to_class, m.reason) for m in after.moves} == {
        ("S4", TOAN.class_id(RUN, 1), MoveReason.CLASS_CLOSED),
        ("S2", TOAN.class_id(RUN, 2), MoveReason.CLASS_CLOSED),
    }
    assert after.moves[0].message == "Lớp cũ được giải thể do số học viên giảm"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run_id": "M4/2023"}, "run id"),
        ({"run_id": ""}, "run id"),
        ({"run_id": RUN, "max_class_size": 0}, "max_class_size"),
        ({"run_id": RUN, "size_tolerance": -1}, "size_tolerance"),
        ({"run_id": RUN, "min_class_size": 0}, "min_class_size"),
        ({"run_id": RUN, "max_class_size": 10, "min_class_size": 11}, "min_class_size"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        allocate([learner("a")], **kwargs)  # type: ignore[arg-type]


def test_duplicate_person_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate person id 'a'"):
        allocate([learner("a"), learner("a", key=VAN)], run_id=RUN)


def test_empty_input_gives_an_empty_allocation() -> None:
    allocation = allocate([], run_id=RUN)

    assert (allocation.classes, allocation.class_of, allocation.moves) == ((), {}, ())
