"""A damaged roster must never damage the stored state (issue 7, item 3).

A learner file cut in half stops at the import; accepted anyway (and its allocation too),
it rewrites the classes — and re-importing the full file brings every learner back to the
class the LMS already has, so the next plan writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func as sa_func
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel

from cli.context import AppContext
from roster.service import import_files
from store.db import session_scope
from sync.model import ActionKind
from sync.service import NeedsAccept
from tests.e2e.provisioning import DATA, SAMPLE, Province, province_settings, snapshot

BEFORE_RUN = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def any_province(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Province]:
    monkeypatch.chdir(tmp_path)
    ctx = AppContext(settings=province_settings(database_url))
    ctx.sandbox_state_file = tmp_path / "sandbox.json"
    province = Province(ctx, BEFORE_RUN)
    yield province
    province.ctx.close()


def first_half(target: Path) -> Path:
    """The sample learner file cut in half (the header rows kept)."""
    workbook = openpyxl.load_workbook(DATA / "hoc-vien.xlsx")
    sheet = workbook.worksheets[0]
    keep = 3 + (sheet.max_row - 3) // 2
    sheet.delete_rows(keep + 1, sheet.max_row - keep)
    workbook.save(target)
    return target


def seats(province: Province) -> dict[tuple[str, str, str], str]:
    table = SQLModel.metadata.tables["classmember"]
    columns = (table.c.run_id, table.c.identity_code, table.c.kind, table.c.class_id)
    with session_scope(province.ctx.engine()) as session:
        return {(r, c, k): cid for r, c, k, cid in session.execute(sa_select(*columns))}


def statuses(province: Province) -> dict[str, str]:
    table = SQLModel.metadata.tables["person"]
    with session_scope(province.ctx.engine()) as session:
        statement = sa_select(table.c.identity_code, table.c.status)
        return {code: status for code, status in session.execute(statement)}


def test_a_half_file_accepted_then_the_full_file_restores_every_class(
    any_province: Province, tmp_path: Path
) -> None:
    province = any_province
    province.import_roster(SAMPLE)
    assert province.apply().status == "done"
    lms = snapshot(province.site)
    classes_before, people_before = seats(province), statuses(province)
    half = [DATA / "truong.xlsx", first_half(tmp_path / "half.xlsx"), DATA / "bao-cao-vien.xlsx"]
    province.clock += dt.timedelta(days=1)

    # Not accepted: the import stops and stores nothing.
    with pytest.raises(NeedsAccept) as stop:
        import_files(province.ctx, half, now=province.clock)
    assert [v.what for v in stop.value.violations] == ["đánh dấu rời danh sách"]
    assert statuses(province) == people_before

    # Accepted import; the allocation then stops on its own gate, and stores nothing.
    import_files(province.ctx, half, now=province.clock, accept=True)
    with pytest.raises(NeedsAccept) as stop:
        province.allocate()
    assert {v.what for v in stop.value.violations} == {"chuyển lớp"}
    assert seats(province) == classes_before

    # Accepted too: the classes shrink and close, the plan would move learners between
    # groups, and the sync's gate counts those moves.
    damaged = province.allocate(accept=True)
    assert sum(a.class_moves for a in damaged) > 0
    bad_plan = province.preview()
    assert "chuyển nhóm (lớp)" in {v.what for v in bad_plan.violations}
    assert bad_plan.plan.of_kind(ActionKind.REMOVE_MEMBER)

    # The full file again: no leaver, every learner back in their class, every class with
    # its reporters: nothing to write, but for the people the half file alone brought in
    # (one of a pair sharing an e-mail: the full file rejects both rows, and a rejected
    # row never takes anyone out).
    province.clock += dt.timedelta(days=1)
    import_files(province.ctx, SAMPLE, now=province.clock)
    restored = province.allocate()
    brought_in = set(statuses(province)) - set(people_before)
    assert brought_in == {"7027031260"}
    moved = {m.person_id for a in restored for m in a.moves if m.from_class and m.to_class}
    assert sum(a.class_moves for a in restored) == len(moved & brought_in)
    assert brought_in <= rejected_in_latest_import(province)
    assert {k: v for k, v in statuses(province).items() if k not in brought_in} == people_before
    assert {k: v for k, v in seats(province).items() if k[1] not in brought_in} == classes_before
    final = province.preview()
    assert {a.key.rsplit("|", 1)[-1] for a in final.plan.actions} == brought_in
    assert set(final.plan.count_by_kind()) == {
        ActionKind.CREATE_USER,
        ActionKind.ENROL,
        ActionKind.ADD_MEMBER,
    }
    assert final.violations == []
    assert snapshot(province.site) == lms


def rejected_in_latest_import(province: Province) -> set[str]:
    table = SQLModel.metadata.tables["rowoutcome"]
    with session_scope(province.ctx.engine()) as session:
        latest = session.execute(sa_select(sa_func.max(table.c.import_id))).scalar_one()
        statement = sa_select(table.c.identity_code).where(
            table.c.import_id == latest, table.c.status == "rejected"
        )
        return {code for (code,) in session.execute(statement)}
