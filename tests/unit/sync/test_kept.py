"""The guard against re-sending a write Moodle does not keep, as pure data cases."""

from __future__ import annotations

from sync.kept import NOT_KEPT, AppliedWrite, hold_unkept, written_fields
from sync.model import Action, ActionKind, Conflict, Plan

CREATE = AppliedWrite(
    sync_run_id=1,
    seq=0,
    kind="create_user",
    key="7000000001",
    data={
        "username": "an",
        "idnumber": "7000000001",
        "firstname": "An",
        "lastname": "Nguyễn",
        "email": "an@school.edu.vn",
        "customfields": {"school": "BP0001", "level": "THCS"},
    },
)


def _update(**changes: object) -> Action:
    return Action(
        ActionKind.UPDATE_USER,
        "7000000001",
        "đổi " + ", ".join(sorted(changes)),
        {"id": 20, **changes},
    )


def test_a_field_written_before_and_planned_again_unchanged_is_held_and_reported() -> None:
    planned = Plan((_update(customfields={"school": "BP0001", "level": "THCS"}),))
    held = hold_unkept(planned, written_fields([CREATE]))
    assert held.actions == ()
    assert [(c.key, c.code) for c in held.conflicts] == [("7000000001", NOT_KEPT)]
    message = held.conflicts[0].message
    assert message.startswith(
        "Moodle không lưu thay đổi này: customfields.level, customfields.school"
    )
    assert "#1" in message


def test_only_the_unkept_fields_are_dropped_the_rest_is_sent() -> None:
    planned = Plan((_update(firstname="Ân", customfields={"school": "BP0001", "level": "THPT"}),))
    held = hold_unkept(planned, written_fields([CREATE]))
    assert held.actions == (
        Action(
            ActionKind.UPDATE_USER,
            "7000000001",
            "đổi customfields, firstname",
            {"id": 20, "firstname": "Ân", "customfields": {"level": "THPT"}},
        ),
    )
    assert "customfields.school" in held.conflicts[0].message
    assert "customfields.level" not in held.conflicts[0].message


def test_a_later_different_value_is_sent_again() -> None:
    planned = Plan((_update(customfields={"school": "BP0002"}),))
    held = hold_unkept(planned, written_fields([CREATE]))
    assert held == planned


def test_the_latest_write_of_a_field_counts() -> None:
    renamed = AppliedWrite(2, 5, "update_user", "7000000001", {"id": 20, "firstname": "Ân"})
    written = written_fields([renamed, CREATE])  # any order: sorted by run and sequence
    assert hold_unkept(Plan((_update(firstname="An"),)), written).actions == (
        _update(firstname="An"),
    )
    again = hold_unkept(Plan((_update(firstname="Ân"),)), written)
    assert again.actions == ()
    assert "#2" in again.conflicts[0].message


def test_other_objects_and_kinds_are_left_alone() -> None:
    other = Action(
        ActionKind.UPDATE_USER, "7000000002", "đổi firstname", {"id": 21, "firstname": "An"}
    )
    enrol = Action(ActionKind.ENROL, "C1|7000000001", "có trong danh sách lớp", {"role": "student"})
    conflict = Conflict("x", "email_in_use", "…")
    planned = Plan((other, enrol), (conflict,))
    assert hold_unkept(planned, written_fields([CREATE])) == planned


def test_a_course_update_is_not_held_a_copy_cut_short_must_be_finished() -> None:
    created = AppliedWrite(3, 1, "create_course", "BDTX-M4", {"idnumber": "BDTX-M4", "enddate": 10})
    update = Action(ActionKind.UPDATE_COURSE, "BDTX-M4", "đổi enddate", {"id": 7, "enddate": 10})
    planned = Plan((update,))
    assert hold_unkept(planned, written_fields([created])) == planned


def test_a_field_the_site_is_known_to_keep_now_is_sent_again() -> None:
    planned = Plan((_update(customfields={"school": "BP0001", "level": "THCS"}),))
    held = hold_unkept(
        planned, written_fields([CREATE]), known_kept=frozenset({"customfields.school"})
    )
    assert held.actions == (_update(customfields={"school": "BP0001"}),)
    assert "customfields.level" in held.conflicts[0].message
    assert "customfields.school" not in held.conflicts[0].message
