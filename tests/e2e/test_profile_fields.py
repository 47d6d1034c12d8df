"""A site whose custom profile fields are not the configured ones: no endless re-sync.

Moodle keeps nothing of a profile field it does not define and says nothing
(recorded: ``core_user_create_users__unknown_customfield``). The sandbox LMS does the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.context import AppContext
from sandbox.options import SandboxOptions
from sandbox.state import ProfileField
from sync import service
from sync.kept import NOT_KEPT
from sync.model import ActionKind, Conflict, Plan
from tests.e2e.provisioning import SAMPLE, SITE_FIELDS, Province, province_settings

BEFORE_RUN = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)


def profile_conflicts(plan: Plan) -> list[Conflict]:
    """The plan's conflicts but the schedule's: Moodle's background task is not run here,
    so the copied courses wait for their activity events (README "The schedule in
    Moodle"), which is not what these tests look at."""
    return [c for c in plan.conflicts if not c.code.startswith("calendar_")]


def _site(*shortnames: str) -> SandboxOptions:
    return SandboxOptions(
        enrolled_users_include_groups=True,
        profile_fields=tuple(ProfileField(name, name.title()) for name in shortnames),
    )


def _province(tmp_path: Path, site: SandboxOptions) -> Province:
    ctx = AppContext(
        settings=province_settings(f"sqlite:///{tmp_path / 'state.sqlite'}"),
        sandbox_options=site,
    )
    ctx.sandbox_state_file = tmp_path / "sandbox.json"
    return Province(ctx, BEFORE_RUN)


@pytest.fixture
def bare_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Province]:
    """The configuration maps school, level, subject; the site defines none of them."""
    monkeypatch.chdir(tmp_path)
    province = _province(tmp_path, _site("cccd"))
    yield province
    province.ctx.close()


def _apply_trusting_the_configuration(province: Province) -> service.SyncReport:
    """Apply as if the site had every configured field (detection unavailable)."""
    return service.apply(
        province.ctx.engine(),
        province.ctx.lms(),
        province.ctx.settings,
        now=province.clock,
        clock=province.now,
        user="test",
        site_customfields=frozenset(SITE_FIELDS),
    )


def test_a_write_moodle_does_not_keep_is_reported_and_not_resent(bare_site: Province) -> None:
    province = bare_site
    province.import_roster(SAMPLE)
    first = _apply_trusting_the_configuration(province)
    assert first.status == "done", first.result.failures()[:5]
    created = first.preview.plan.of_kind(ActionKind.CREATE_USER)
    assert all("customfields" in a.data for a in created)

    again = service.preview(
        province.ctx.engine(),
        province.ctx.lms(),
        province.ctx.settings,
        now=province.clock,
        site_customfields=frozenset(SITE_FIELDS),
    )
    assert again.plan.of_kind(ActionKind.UPDATE_USER) == []
    not_kept = [c for c in again.plan.conflicts if c.code == NOT_KEPT]
    assert {c.key for c in not_kept} == {a.key for a in created}
    assert all("customfields.school" in c.message for c in not_kept)
    # The apply after it sends nothing either: no loop.
    third = _apply_trusting_the_configuration(province)
    assert third.preview.plan.actions == ()
    assert third.result.outcomes == []


@pytest.fixture
def school_only_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Province]:
    """The configuration maps school, level, subject; the site defines school only."""
    monkeypatch.chdir(tmp_path)
    province = _province(tmp_path, _site("cccd", "school"))
    yield province
    province.ctx.close()


def test_the_probe_finds_the_missing_fields_and_the_sync_never_sends_them(
    school_only_site: Province,
) -> None:
    province = school_only_site
    site = province.site
    assert province.ctx.profile_fields(write=False).known is False  # no probe account yet

    probed = province.ctx.profile_fields(write=True)
    assert probed.missing == {"level", "subject"}
    assert probed.usable == {"school"}
    # Only the software's own probe account was written.
    assert [u.username for u in site.users.values() if u.customfields] == ["bdtx-profile-probe"]
    assert province.ctx.site_profile_fields == {"school"}  # a read-only preview sees the same

    province.import_roster(SAMPLE)
    first = province.apply()
    assert first.status == "done", first.result.failures()[:5]
    created = first.preview.plan.of_kind(ActionKind.CREATE_USER)
    assert created
    assert all(set(a.data["customfields"]) == {"school"} for a in created)  # type: ignore[arg-type]

    again = province.apply()
    assert again.preview.plan.actions == ()
    assert profile_conflicts(again.preview.plan) == []


def test_creating_the_missing_fields_on_the_site_heals_the_accounts(bare_site: Province) -> None:
    province = bare_site
    province.import_roster(SAMPLE)
    first = _apply_trusting_the_configuration(province)
    assert first.status == "done", first.result.failures()[:5]
    accounts = {a.key for a in first.preview.plan.of_kind(ActionKind.CREATE_USER)}

    # The administrator creates the three fields; the next apply's probe finds them.
    for name in ("school", "level", "subject"):
        province.site.profile_fields.append(ProfileField(name, name.title()))
    probed = province.ctx.profile_fields(write=True)
    assert probed.missing == frozenset()
    healing = service.apply(
        province.ctx.engine(),
        province.ctx.lms(),
        province.ctx.settings,
        now=province.clock,
        clock=province.now,
        user="test",
        site_customfields=probed.usable,
        kept_customfields=probed.kept or frozenset(),
    )
    updates = healing.preview.plan.of_kind(ActionKind.UPDATE_USER)
    assert {a.key for a in updates} == accounts
    assert profile_conflicts(healing.preview.plan) == []
    assert healing.result.count("done") == len(updates)

    settled = province.preview()
    assert settled.plan.actions == ()
    assert profile_conflicts(settled.plan) == []


def _apply_app(province: Province) -> service.SyncReport:
    """Apply as ``bdtx sync apply`` does (the probe tells the fields the site keeps), after
    Moodle's cron has made the copies' events."""
    province.ctx.sandbox().run_background_tasks()
    return service.apply_app(province.ctx, now=province.now)


def test_a_profile_value_changed_by_hand_is_restored_within_the_recheck_window(
    school_only_site: Province,
) -> None:
    """A re-sync trusts accounts to hold the profile values an apply wrote, but only while
    an apply read every participant's fields within ``profile_recheck_days`` (7). Applied
    as ``bdtx sync apply`` does (the probe tells the fields the site keeps)."""
    province = school_only_site
    assert province.ctx.profile_fields(write=True).usable == {"school"}
    province.import_roster(SAMPLE)
    first = _apply_app(province)
    assert first.result.failures() == []
    assert first.preview.actual.profiles_read_all  # nothing written yet to trust

    # Not the account the trust is checked on (the one written longest ago, lowest code).
    victim = max(
        (u for u in province.site.users.values() if u.customfields and u.idnumber.isdigit()),
        key=lambda u: u.idnumber,
    )
    kept = victim.customfields["school"]
    province.clock += dt.timedelta(hours=1)
    trusting = _apply_app(province)
    assert not trusting.preview.actual.profiles_read_all
    assert trusting.preview.plan.of_kind(ActionKind.UPDATE_USER) == []

    victim.customfields["school"] = "sửa tay"  # an administrator edits the account
    province.clock += dt.timedelta(days=1)
    within = _apply_app(province)  # the full read of the first apply is 1 day old: trusted
    assert not within.preview.actual.profiles_read_all
    assert within.preview.plan.of_kind(ActionKind.UPDATE_USER) == []
    assert victim.customfields["school"] == "sửa tay"

    province.clock += dt.timedelta(days=7)
    recheck = _apply_app(province)  # no full read in the last 7 days: every participant's
    assert recheck.preview.actual.profiles_read_all
    (restore,) = recheck.preview.plan.of_kind(ActionKind.UPDATE_USER)
    assert restore.key == victim.idnumber
    # (The stock template's assignment refuses its date moves: not what this looks at.)
    assert [
        f for f in recheck.result.failures() if f.action.kind is not ActionKind.MOVE_EVENT
    ] == []
    assert victim.customfields["school"] == kept

    province.clock += dt.timedelta(hours=1)
    assert not _apply_app(province).preview.actual.profiles_read_all  # trusted again
