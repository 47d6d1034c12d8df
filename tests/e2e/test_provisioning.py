"""Provisioning a province end to end against the sandbox LMS.

The sample roster (../shared/data/binhphuoc-2023/) is imported, allocated and provisioned
for module 4; then the properties the Sở relies on are checked on what the LMS holds.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import col, select

from cli.context import AppContext
from sandbox.faults import FaultKind
from sandbox.state import Site
from store.db import session_scope
from store.models import SyncAction, SyncBatch
from sync.model import ActionKind
from sync.service import NeedsAccept
from tests.e2e.provisioning import (
    DATA,
    LATER,
    SAMPLE,
    LmsSnapshot,
    Province,
    province_settings,
    snapshot,
)

BEFORE_RUN = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)


def _province(database_url: str, folder: Path) -> Province:
    ctx = AppContext(settings=province_settings(database_url))
    ctx.sandbox_state_file = folder / "sandbox.json"
    return Province(ctx, BEFORE_RUN)


@pytest.fixture
def province(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Province]:
    """A province on SQLite."""
    monkeypatch.chdir(tmp_path)
    province = _province(f"sqlite:///{tmp_path / 'state.sqlite'}", tmp_path)
    yield province
    province.ctx.close()


@pytest.fixture
def any_province(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Province]:
    """A province on each state database: SQLite and PostgreSQL."""
    monkeypatch.chdir(tmp_path)
    province = _province(database_url, tmp_path)
    yield province
    province.ctx.close()


def provisioned(province: Province) -> Province:
    province.import_roster(SAMPLE)
    report = province.apply()
    assert report.status == "done", report.result.failures()[:5]
    return province


def test_the_sample_province_is_provisioned_once_and_then_left_alone(
    any_province: Province,
) -> None:
    province = any_province
    provisioned(province)
    first = province.reports[0]
    counts = first.preview.plan.count_by_kind()
    lms = snapshot(province.site)
    assert lms.duplicates == []
    # Every learner with a seat has one account, one enrolment and one class.
    desired = first.preview.desired
    assert counts[ActionKind.CREATE_USER] == len(desired.users)
    learners = {code for (_, code), e in desired.enrolments.items() if e.role == "student"}
    assert learners <= set(lms.users)
    assert sum(1 for roles in lms.enrolments.values() if "5" in roles) == sum(
        1 for e in desired.enrolments.values() if e.role == "student"
    )
    # Assessors are non-editing teachers in their classes only.
    for (course, code), enrolment in desired.enrolments.items():
        if enrolment.role == "teacher":
            assert lms.enrolments[(course, code)] == frozenset({"4"})
            member_of = {
                g for (c, g), members in lms.groups.items() if c == course and code in members
            }
            assert member_of == set(enrolment.groups)
    # Writes grow with batches (full to the form-field budget), not with learners.
    calls = province.ctx.lms().client.stats.snapshot()
    for function in (
        "core_user_create_users",
        "enrol_manual_enrol_users",
        "core_group_add_group_members",
    ):
        stats = calls[function]
        assert stats.calls <= math.ceil(stats.fields / (5000 - 3)) + 1, function

    calls_before = province.ctx.lms().client.stats.calls
    again = province.apply()
    assert again.preview.plan.actions == ()
    assert again.result.outcomes == []
    assert snapshot(province.site) == lms
    reads = province.ctx.lms().client.stats.calls - calls_before
    # Per course its participants (no roles, no profile fields: Moodle queries both per
    # participant) and its staff with their roles; one look-up of the account whose
    # profile was written longest ago; nothing per learner.
    assert reads <= 2 * len(first.preview.desired.courses) + 6


def changes(path: Path) -> dict[str, set[str]]:
    by_kind: dict[str, set[str]] = {}
    for line in path.read_text("utf-8").splitlines():
        kind, _, code = line.rpartition(": ")
        kind = re.sub(r"\s*\(.*\)", "", kind).split(":")[0].strip()
        by_kind.setdefault(kind, set()).add(code.split(" ")[0])
    return by_kind


def test_the_later_roster_reaches_the_lms_exactly_as_changes_txt_says(
    any_province: Province,
) -> None:
    province = any_province
    provisioned(province)
    before = snapshot(province.site)
    listed = changes(DATA / "later" / "changes.txt")
    province.clock = BEFORE_RUN + dt.timedelta(days=7)
    province.import_roster(LATER)
    preview = province.preview()
    provisioned_people = set(before.users)
    touched: dict[str, set[ActionKind]] = {}
    for action in preview.plan.actions:
        if action.kind in (ActionKind.MOVE_EVENT, ActionKind.CREATE_EVENT):
            continue  # the schedule, a week later: the copies' events have come (cron)
        code = action.key.split("|")[-1]
        touched.setdefault(code, set()).add(action.kind)
    expected_touched = set()
    for kind in (
        "e-mail changed",
        "moved school",
        "name corrected",
        "subject changed",
        "left the list",
    ):
        expected_touched |= listed[kind] & provisioned_people
    # New hires have not done modules 1-3: routed there, nothing in module 4.
    assert not listed["new hire"] & set(touched)
    assert set(touched) == expected_touched
    for code in listed["e-mail changed"] & provisioned_people:
        update = next(a for a in preview.plan.of_kind(ActionKind.UPDATE_USER) if a.key == code)
        assert "email" in update.data
    for code in listed["name corrected"] & provisioned_people:
        update = next(a for a in preview.plan.of_kind(ActionKind.UPDATE_USER) if a.key == code)
        assert {"firstname", "lastname"} & set(update.data)
    for code in listed["moved school"] & provisioned_people:
        # After the unit lock date the class stays; only the profile's school changes.
        assert touched[code] == {ActionKind.UPDATE_USER}
    for code in listed["subject changed"] & provisioned_people:
        assert {ActionKind.ENROL, ActionKind.UNENROL} <= touched[code]
    for code in listed["left the list"] & provisioned_people:
        assert touched[code] == {ActionKind.UNENROL}  # suspended only after the grace period

    report = province.apply()
    assert report.status == "done", report.result.failures()[:5]
    after = snapshot(province.site)
    assert after.duplicates == []
    for code in listed["left the list"] & provisioned_people:
        assert not any(c == code for (_, c) in after.enrolments)
        assert after.users[code][4] is False
    later_rows = _emails(DATA / "later" / "hoc-vien.xlsx")
    for code in listed["e-mail changed"] & provisioned_people:
        assert after.users[code][1] == later_rows[code]
    assert province.apply().preview.plan.actions == ()

    province.clock += dt.timedelta(days=15)
    departures = province.apply()
    suspended = {a.key for a in departures.preview.plan.of_kind(ActionKind.SUSPEND_USER)}
    assert suspended == listed["left the list"] & provisioned_people
    assert all(snapshot(province.site).users[code][4] for code in suspended)


def _emails(path: Path) -> dict[str, str]:
    workbook = openpyxl.load_workbook(path, read_only=True)
    emails = {}
    for row in workbook.worksheets[0].iter_rows(min_row=4, values_only=True):
        if row[1] and row[5]:
            emails[str(row[1]).strip()] = str(row[5]).strip().lower()
    workbook.close()
    return emails


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> LmsSnapshot:
    """The LMS after one apply that nothing cut short."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    reference = Province(
        AppContext(settings=province_settings(f"sqlite:///{folder / 'state.sqlite'}")), BEFORE_RUN
    )
    reference.ctx.sandbox_state_file = folder / "sandbox.json"
    try:
        return snapshot(provisioned(reference).site)
    finally:
        reference.ctx.close()


@pytest.mark.parametrize(
    ("wsfunction", "on_call"),
    [("core_user_create_users", 2), ("enrol_manual_enrol_users", 2)],
)
def test_a_lost_answer_of_accounts_or_enrolments_is_read_back_within_the_apply(
    uninterrupted: LmsSnapshot, province: Province, wsfunction: str, on_call: int
) -> None:
    province.import_roster(SAMPLE)
    province.ctx.sandbox().inject_fault(wsfunction, on_call=on_call, kind=FaultKind.DROP_RESPONSE)
    report = province.apply()
    # One apply: the lost batch was read back (the LMS had made it), nothing sent twice.
    assert report.status == "done", report.result.failures()[:5]
    assert report.result.count("unknown") == report.result.count("pending") == 0
    batches = _batches(province, report.run_id)
    assert batches.count("unknown") == 1  # the batch whose answer was lost, as it was
    got = snapshot(province.site)
    assert got.duplicates == []
    assert got == uninterrupted
    assert province.apply().preview.plan.actions == ()


@pytest.mark.parametrize(
    ("wsfunction", "on_call", "kind"),
    [
        ("core_group_add_group_members", 1, FaultKind.CONNECTION_ERROR),
        ("core_course_duplicate_course", 5, FaultKind.DROP_RESPONSE),
    ],
)
def test_an_apply_killed_halfway_resumes_to_the_same_state(
    uninterrupted: LmsSnapshot, province: Province, wsfunction: str, on_call: int, kind: FaultKind
) -> None:
    province.import_roster(SAMPLE)
    province.ctx.sandbox().inject_fault(wsfunction, on_call=on_call, kind=kind)
    cut = province.apply()
    assert cut.status == "interrupted"
    assert cut.result.stopped
    assert cut.result.count("done") > 0
    # The record tells the truth: whatever the LMS holds after the cut is journaled done
    # (or unknown, in the one batch whose answer was lost); nothing else is done.
    journal = _journal(province, cut.run_id)
    made = _made(province.site)
    for (kind, key), (status, _) in journal.items():
        if kind in made:
            assert (status in ("done", "unknown")) == (key in made[kind]), (kind, key, status)
    batches = _batches(province, cut.run_id)
    assert sum(1 for b in batches if b == "unknown") <= 1
    assert "sent" not in batches
    resumed = province.apply()
    assert resumed.status == "done", resumed.result.failures()[:5]
    assert resumed.preview.plan.writes < cut.preview.plan.writes
    got = snapshot(province.site)
    assert got.duplicates == []
    # Same accounts, enrolments and classes as a run that was never cut (usernames too).
    assert got == uninterrupted
    assert province.apply().preview.plan.actions == ()
    # The lost batch's actions were settled by the next run's read-back.
    for status, resolution in _journal(province, cut.run_id).values():
        assert (resolution != "") == (status == "unknown")


def _journal(province: Province, run_id: int) -> dict[tuple[str, str], tuple[str, str]]:
    with session_scope(province.ctx.engine()) as session:
        rows = session.exec(select(SyncAction).where(col(SyncAction.sync_run_id) == run_id))
        return {(a.kind, a.key): (a.status, a.resolution) for a in rows}


def _batches(province: Province, run_id: int) -> list[str]:
    with session_scope(province.ctx.engine()) as session:
        rows = session.exec(select(SyncBatch).where(col(SyncBatch.sync_run_id) == run_id))
        return [b.status for b in rows]


def _made(site: Site) -> dict[str, set[str]]:
    """Keys of the accounts and courses the LMS holds, as the journal names them."""
    with site.lock:
        return {
            ActionKind.CREATE_USER.value: {u.idnumber for u in site.users.values() if u.idnumber},
            # A copy gets its idnumber after; its shortname is the idnumber already.
            ActionKind.CREATE_COURSE.value: {c.shortname for c in site.courses.values()},
        }


def test_a_roster_with_half_its_rows_missing_stops_at_the_threshold(
    tmp_path: Path, province: Province
) -> None:
    provisioned(province)
    before = snapshot(province.site)
    half = tmp_path / "hoc-vien-half.xlsx"
    _keep_first_rows(DATA / "hoc-vien.xlsx", half, fraction=0.5)
    province.clock += dt.timedelta(days=30)
    # Accepted at the import and the allocation: the sync's own gate still holds.
    province.import_roster([DATA / "truong.xlsx", half, DATA / "bao-cao-vien.xlsx"], accept=True)
    with pytest.raises(NeedsAccept) as stop:
        province.apply()
    assert {v.what for v in stop.value.violations} >= {"hủy ghi danh"}
    assert all("--accept" in v.message() for v in stop.value.violations)
    assert snapshot(province.site) == before


def _keep_first_rows(source: Path, target: Path, *, fraction: float) -> None:
    workbook = openpyxl.load_workbook(source)
    sheet = workbook.worksheets[0]
    keep = 3 + int((sheet.max_row - 3) * fraction)
    sheet.delete_rows(keep + 1, sheet.max_row - keep)
    workbook.save(target)
