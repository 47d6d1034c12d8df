"""Helpers for end-to-end runs: a province, the sandbox LMS, and snapshots of the LMS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cli.context import AppContext
from config.settings import (
    DatabaseSettings,
    LmsSettings,
    ProvisioningSettings,
    RosterSettings,
    RunSettings,
    Settings,
)
from roster.service import import_files
from sandbox.state import Site
from store.classes_repo import RunAllocation, allocate_run
from store.db import session_scope
from sync import service
from tests.contract import CONTRACT_DIR

DATA = CONTRACT_DIR.parent / "data" / "binhphuoc-2023"
SAMPLE = [DATA / "truong.xlsx", DATA / "hoc-vien.xlsx", DATA / "bao-cao-vien.xlsx"]
LATER = [
    DATA / "later" / "truong.xlsx",
    DATA / "later" / "hoc-vien.xlsx",
    DATA / "later" / "bao-cao-vien.xlsx",
]

M4 = RunSettings(
    id="M4-2023",
    module=4,
    name="Mô đun 4",
    start=dt.date(2023, 9, 4),
    unit_lock_date=dt.date(2023, 8, 15),
    concurrent_subjects=["Hoạt động trải nghiệm, hướng nghiệp"],
)
SITE_FIELDS = {"school": "school_name", "level": "level", "subject": "subject"}


def province_settings(database_url: str, **provisioning: object) -> Settings:
    return Settings(
        lms=LmsSettings(url="sandbox:", retry_attempts=1),
        database=DatabaseSettings(url=database_url),
        runs=[M4],
        roster=RosterSettings(files=SAMPLE),
        provisioning=ProvisioningSettings(profile_fields=SITE_FIELDS, **provisioning),
    )


@dataclass
class Province:
    """One Sở's installation: settings, state database and the sandbox LMS."""

    ctx: AppContext
    clock: dt.datetime
    reports: list[service.SyncReport] = field(default_factory=list)
    cron_at: dt.datetime | None = None  # the clock of the last apply

    def now(self) -> dt.datetime:
        return self.clock

    def import_roster(self, files: list[Path], *, accept: bool = False) -> None:
        """Import and allocate, as ``bdtx run`` does (the safety gates hold unless accept)."""
        import_files(self.ctx, files, now=self.clock, accept=accept)
        self.allocate(accept=accept)

    def allocate(self, *, accept: bool = False) -> list[RunAllocation]:
        limits = None if accept else service.thresholds(self.ctx.settings)
        size = self.ctx.settings.max_class_size
        with session_scope(self.ctx.engine()) as session:
            return [
                allocate_run(session, run, max_class_size=size, limits=limits)
                for run in self.ctx.settings.runs
            ]

    def preview(self) -> service.SyncPreview:
        return service.preview(
            self.ctx.engine(),
            self.ctx.lms(),
            self.ctx.settings,
            now=self.clock,
            site_customfields=self.ctx.site_profile_fields,
        )

    def apply(self, *, accept: bool = False) -> service.SyncReport:
        # Moodle's cron runs its background tasks every minute: once the clock has moved
        # on, the copies' activity events exist (README "The schedule in Moodle").
        if self.cron_at is not None and self.clock - self.cron_at > dt.timedelta(minutes=1):
            self.ctx.sandbox().run_background_tasks()
        self.cron_at = self.clock
        now: Callable[[], dt.datetime] = self.now
        report = service.apply(
            self.ctx.engine(),
            self.ctx.lms(),
            self.ctx.settings,
            now=self.clock,
            clock=now,
            user="test",
            site_customfields=self.ctx.site_profile_fields,
            accept=accept,
        )
        self.reports.append(report)
        return report

    @property
    def site(self) -> Site:
        return self.ctx.sandbox().site


@dataclass(frozen=True)
class LmsSnapshot:
    """What the LMS holds for the province, keyed by stable keys only (no LMS ids)."""

    users: dict[
        str, tuple[str, str, str, str, bool]
    ]  # idnumber -> username, email, names, suspended
    duplicates: list[str]  # idnumbers or e-mails held by more than one account
    enrolments: dict[tuple[str, str], frozenset[str]]  # (course idnumber, user idnumber) -> roles
    groups: dict[tuple[str, str], frozenset[str]]  # (course idnumber, group idnumber) -> members


def snapshot(site: Site) -> LmsSnapshot:
    with site.lock:
        users = {
            u.idnumber: (u.username, u.email, u.firstname, u.lastname, bool(u.suspended))
            for u in site.users.values()
            if u.idnumber
        }
        duplicates = sorted(
            [k for k, ids in site.users_by_idnumber.items() if len(ids) > 1]
            + [k for k, ids in site.users_by_email_lower.items() if len(ids) > 1]
        )
        idnumber_of = {u.id: u.idnumber for u in site.users.values()}
        enrolments: dict[tuple[str, str], frozenset[str]] = {}
        groups: dict[tuple[str, str], frozenset[str]] = {}
        for course in site.courses.values():
            if not course.idnumber.startswith("BDTX-"):
                continue
            for userid in site.enrolments.get(course.id, {}):
                roles = site.role_assignments.get(("course", course.id), {}).get(userid, [])
                enrolments[(course.idnumber, idnumber_of[userid])] = frozenset(
                    str(r) for r in roles
                )
            for group_id in site.groups_of_course.get(course.id, []):
                group = site.groups[group_id]
                members = site.group_members.get(group_id, {})
                groups[(course.idnumber, group.idnumber)] = frozenset(
                    idnumber_of[u] for u in members
                )
    return LmsSnapshot(users, duplicates, enrolments, groups)


def provisioned_sample(folder: Path, clock: dt.datetime) -> Province:
    """Module 4 of the sample provisioned into a fresh sandbox LMS, state in ``folder``."""
    ctx = AppContext(settings=province_settings(f"sqlite:///{folder / 'state.sqlite'}"))
    ctx.sandbox_state_file = folder / "sandbox.json"
    province = Province(ctx, clock)
    province.import_roster(SAMPLE)
    report = province.apply()
    assert report.status == "done", report.result.failures()[:5]
    return province
