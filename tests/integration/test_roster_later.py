"""The same roster weeks later (later/changes.txt): each change shows up, nothing else moves.

This is what the store and the allocation rely on: a person keeps their identity code,
so two imports can be compared person by person.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from roster.importer import import_roster
from roster.model import ImportResult, Learner, Track
from roster.reasons import Status

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "binhphuoc-2023"


def load(folder: Path) -> ImportResult:
    return import_roster(
        folder / "hoc-vien.xlsx",
        schools=folder / "truong.xlsx",
        core_staff=folder / "bao-cao-vien.xlsx",
        today=dt.date(2023, 8, 1),
    )


@pytest.fixture(scope="module")
def before() -> ImportResult:
    return load(DATA)


@pytest.fixture(scope="module")
def after() -> ImportResult:
    return load(DATA / "later")


@pytest.fixture(scope="module")
def changes() -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for line in (DATA / "later" / "changes.txt").read_text(encoding="utf-8").splitlines():
        kind, _, rest = line.rpartition(": ")
        by_kind.setdefault(kind, []).append(rest.split(" -> ")[0] if "->" in rest else rest)
    return by_kind


def learners(result: ImportResult) -> dict[str, Learner]:
    return {x.identity_code: x for x in result.learners}


def ids(result: ImportResult) -> set[str]:
    return {o.identity_code for o in result.outcomes if o.identity_code}


def test_people_who_left_and_new_hires(
    before: ImportResult, after: ImportResult, changes: dict[str, list[str]]
) -> None:
    left = set(changes["left the list (transfer out of province / resigned)"])
    hired = set(changes["new hire (modules 1-3 not done)"])
    assert (len(left), len(hired)) == (8, 10)
    assert ids(before) - ids(after) == left
    assert ids(after) - ids(before) == hired
    new = learners(after)
    assert all(new[i].track is Track.PREREQUISITE for i in hired)


def test_changed_people_keep_their_identity(
    before: ImportResult, after: ImportResult, changes: dict[str, list[str]]
) -> None:
    old, new = learners(before), learners(after)
    for code in changes["e-mail changed"]:
        if code in old and code in new:
            assert old[code].email != new[code].email
    moved = [line for line in (DATA / "later" / "changes.txt").read_text("utf-8").splitlines()
             if line.startswith("moved school: ")]  # fmt: skip
    for line in moved:
        code, school = line.removeprefix("moved school: ").split(" -> ")
        if code in new:
            assert new[code].school_code == school
    for code in changes["name corrected"]:
        if code in old and code in new:
            assert old[code].full_name != new[code].full_name
    for code in changes["subject changed"]:
        if code in old and code in new:
            assert old[code].subject != new[code].subject


def test_everyone_else_is_unchanged(
    before: ImportResult, after: ImportResult, changes: dict[str, list[str]]
) -> None:
    touched = {code for codes in changes.values() for code in codes}
    old, new = learners(before), learners(after)
    same = [c for c in old.keys() & new.keys() if c not in touched]
    assert len(same) > 5000
    fields = ("email", "full_name", "school_code", "subject", "level", "audience", "track")
    for code in same:
        assert [getattr(old[code], f) for f in fields] == [getattr(new[code], f) for f in fields]
    assert after.status_counts()[Status.REJECTED] == before.status_counts()[Status.REJECTED]
