"""The guard against re-sending a write the LMS does not keep.

Moodle accepts some writes and silently keeps nothing of them: a custom profile field the
site does not define, a value it cleans away. The next read then shows the old value, the
planner asks for the same change again, and every sync re-sends it, forever.

So, before a plan is used: an update whose field is planned with exactly the value an
earlier apply already wrote successfully ("done" in the journal, by a create or an
update of the same object) is not sent again; it becomes one conflict per object,
"Moodle không lưu thay đổi này", naming the fields. A different value is sent as usual.

Once the site is known to keep a field (the profile-field probe, ``known_kept``), a held
value is sent again: so creating a missing profile field on the site heals the accounts.

Known limit: a value written, kept, then changed back by hand in Moodle looks the same
as one Moodle did not keep; the conflict then asks a person to look, which is safe.

Pure: the journal's rows come in as plain data (see ``store.sync_repo.applied_writes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sync.model import Action, ActionKind, Conflict, Plan

NOT_KEPT = "not_kept"

# The writes that set an object's fields, per update kind: the update itself and the create.
# Only accounts: a user's create or update is one call carrying every field, so "done"
# means Moodle was sent them all. A course's create is a copy then an update; an apply cut
# in between journals the copy done while its dates and ID number were never sent, and
# holding the update that finishes it would leave the course half made.
_WRITES_OF: dict[ActionKind, tuple[ActionKind, ...]] = {
    ActionKind.UPDATE_USER: (ActionKind.CREATE_USER, ActionKind.UPDATE_USER),
}
_NOT_FIELDS = frozenset({"id", "password"})
_NESTED = frozenset({"customfields"})


@dataclass(frozen=True, slots=True)
class AppliedWrite:
    """One action an earlier apply sent and Moodle accepted (journal status "done")."""

    sync_run_id: int
    seq: int
    kind: str
    key: str
    data: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Written:
    """The last value an apply wrote into one field of one object, and in which sync."""

    value: object
    sync_run_id: int


# (update kind, object key) -> field name ("customfields.school" for a nested one) -> written
WrittenFields = Mapping[tuple[ActionKind, str], Mapping[str, Written]]


def _flat_fields(data: Mapping[str, object]) -> dict[str, object]:
    fields: dict[str, object] = {}
    for name, value in data.items():
        if name in _NOT_FIELDS:
            continue
        if name in _NESTED and isinstance(value, Mapping):
            for inner, inner_value in value.items():
                fields[f"{name}.{inner}"] = inner_value
        else:
            fields[name] = value
    return fields


def written_fields(
    writes: Iterable[AppliedWrite],
) -> dict[tuple[ActionKind, str], dict[str, Written]]:
    """The latest value written per field of each object, from the journal's done writes."""
    update_kind = {
        write_kind.value: update
        for update, write_kinds in _WRITES_OF.items()
        for write_kind in write_kinds
    }
    found: dict[tuple[ActionKind, str], dict[str, Written]] = {}
    for write in sorted(writes, key=lambda w: (w.sync_run_id, w.seq)):
        kind = update_kind.get(write.kind)
        if kind is None:
            continue
        fields = found.setdefault((kind, write.key), {})
        for name, value in _flat_fields(write.data).items():
            fields[name] = Written(value, write.sync_run_id)
    return found


def written_customfields(written: WrittenFields) -> dict[str, dict[str, tuple[str, int]]]:
    """Per account (identity code), the profile values last written and in which sync."""
    prefix = "customfields."
    return {
        key: {
            name.removeprefix(prefix): (str(w.value), w.sync_run_id)
            for name, w in fields.items()
            if name.startswith(prefix)
        }
        for (kind, key), fields in written.items()
        if kind is ActionKind.UPDATE_USER
    }


def written_kinds() -> list[str]:
    """The action kinds whose done rows :func:`written_fields` needs."""
    return sorted({kind.value for kinds in _WRITES_OF.values() for kind in kinds})


def hold_unkept(
    plan: Plan, written: WrittenFields, *, known_kept: frozenset[str] = frozenset()
) -> Plan:
    """``plan`` without the updates of fields whose planned value was already written.

    ``known_kept``: fields (``customfields.school``...) the site is known to keep now, such
    as profile fields created after an earlier write was dropped: sent again, not held.
    """
    actions: list[Action] = []
    conflicts = list(plan.conflicts)
    for action in plan.actions:
        before = written.get((action.kind, action.key)) if action.kind in _WRITES_OF else None
        if not before:
            actions.append(action)
            continue
        planned = _flat_fields(action.data)
        unkept = {
            name: before[name]
            for name, value in planned.items()
            if name in before and before[name].value == value and name not in known_kept
        }
        if not unkept:
            actions.append(action)
            continue
        conflicts.append(_not_kept(action.key, unkept))
        rest = _without(action, set(unkept))
        if rest is not None:
            actions.append(rest)
    return Plan(actions=tuple(actions), conflicts=tuple(conflicts))


def _not_kept(key: str, unkept: Mapping[str, Written]) -> Conflict:
    names = ", ".join(sorted(unkept))
    runs = ", ".join(f"#{run}" for run in sorted({w.sync_run_id for w in unkept.values()}))
    return Conflict(
        key,
        NOT_KEPT,
        f"Moodle không lưu thay đổi này: {names} (đã gửi ở lần đồng bộ {runs}, LMS vẫn chưa "
        "có): không gửi lại. Kiểm tra trường này trên LMS, ví dụ trường hồ sơ chưa được tạo.",
    )


def _without(action: Action, dropped: set[str]) -> Action | None:
    """The action minus the dropped fields; ``None`` when no field is left to change."""
    data: dict[str, object] = {}
    changed: list[str] = []
    for name, value in action.data.items():
        if name in _NESTED and isinstance(value, Mapping):
            kept = {k: v for k, v in value.items() if f"{name}.{k}" not in dropped}
            if kept:
                data[name] = kept
                changed.append(name)
        elif name not in dropped:
            data[name] = value
            if name not in _NOT_FIELDS:
                changed.append(name)
    if not changed:
        return None
    return Action(action.kind, action.key, "đổi " + ", ".join(sorted(changed)), data)
