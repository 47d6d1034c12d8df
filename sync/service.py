"""The provisioning sync, end to end: desired -> actual -> plan -> (gate) -> apply -> record.

This is the use case the CLI and the scheduler call; it takes the engine, the LMS facade,
the settings and ``now`` from the composition root.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import select

from config.settings import RunSettings, Settings
from connector.lms import MoodleLms
from connector.profile_fields import ProfileFieldCheck
from scheduler.schedule import local_zone
from store.calendar_repo import course_copy_times, written_event_times
from store.db import session_scope
from store.models import Person, School
from store.sync_repo import (
    DbJournal,
    applied_writes,
    fail_run,
    finish_run,
    journal_plan,
    last_full_profile_read,
    record_account,
    resolve_unknown,
    settle_killed_runs,
    start_run,
    suspended_by_us,
    unsettled_creates,
)
from sync.calendar import WAIT_TIMEOUT, CalendarOptions, CalendarPlan, plan_calendar
from sync.calendar_desired import build_schedules
from sync.calendar_read import read_calendars
from sync.desired import build_desired, load_snapshot
from sync.kept import hold_unkept, written_customfields, written_fields, written_kinds
from sync.model import ActualState, DesiredState, Plan
from sync.plan import PlanOptions, plan
from sync.read import adoptable, read_actual
from sync.safety import NeedsAccept as NeedsAccept  # re-exported: callers catch it here
from sync.safety import Thresholds, Violation, check
from sync.tuning import Concurrency

if TYPE_CHECKING:
    from app.root import App
    from sync.apply import ApplyResult, Progress


class PlanMoved(Exception):
    """The reviewed plan file no longer matches what the state asks for now."""


@dataclass
class SyncPreview:
    desired: DesiredState
    actual: ActualState
    plan: Plan
    violations: list[Violation]
    adopted: dict[str, tuple[int, str]] = field(default_factory=dict)
    # The schedule push's part of the plan (its actions and notes are in ``plan`` too).
    calendar: CalendarPlan = field(default_factory=CalendarPlan)

    @property
    def digest(self) -> str:
        return plan_digest(self.plan)


@dataclass(frozen=True)
class Reconciled:
    killed: list[int]  # runs found killed
    resolved: dict[str, int]  # earlier unknown outcomes: done / not_done


@dataclass
class SyncReport:
    run_id: int
    preview: SyncPreview
    result: ApplyResult
    status: str
    account_sheets: list[Path] = field(default_factory=list)
    # The concurrency the apply used: mode, level, why, the levels it went through.
    concurrency: dict[str, object] = field(default_factory=dict)
    # Why an ``interrupted`` apply stopped: the LMS error, or the stop that was asked for.
    stopped_by: BaseException | None = None


def plan_digest(plan: Plan) -> str:
    """A fingerprint of a plan's actions, to recognise a reviewed plan later."""
    body = json.dumps(
        [[a.kind.value, a.key, dict(a.data)] for a in plan.actions],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def concurrency_for(settings: Settings) -> Concurrency:
    """``[lms] max_concurrency``: a fixed number, or tuned ("auto", a real site's default)."""
    lms = settings.lms
    if lms.auto_concurrency:
        return Concurrency.automatic(lms.max_concurrency_ceiling, lms.timeout_s)
    return Concurrency.fixed(lms.max_concurrency if isinstance(lms.max_concurrency, int) else 1)


def thresholds(settings: Settings) -> Thresholds:
    """The three gates' thresholds: [roster], [classes] and [provisioning] max_* settings."""
    p = settings.provisioning
    return Thresholds(
        max_suspend=p.max_suspend,
        max_suspend_percent=p.max_suspend_percent,
        max_unenrol=p.max_unenrol,
        max_unenrol_percent=p.max_unenrol_percent,
        max_email_changes=p.max_email_changes,
        max_email_changes_percent=p.max_email_changes_percent,
        max_group_moves=p.max_group_moves,
        max_group_moves_percent=p.max_group_moves_percent,
        max_leavers=settings.roster.max_leavers,
        max_leavers_percent=settings.roster.max_leavers_percent,
        max_class_moves=settings.classes.max_moves,
        max_class_moves_percent=settings.classes.max_moves_percent,
    )


def preview(
    engine: Engine,
    lms: MoodleLms,
    settings: Settings,
    *,
    now: dt.datetime,
    site_customfields: frozenset[str],
    kept_customfields: frozenset[str] = frozenset(),
) -> SyncPreview:
    """Read both states and plan; writes nothing to the LMS.

    ``site_customfields``: the profile fields the plan may send; ``kept_customfields``:
    those the site is known to keep (probed), whose held values are sent again.
    """
    tz = local_zone(settings.timezone)
    with session_scope(engine) as session:
        snapshot = load_snapshot(session)
        desired = build_desired(snapshot, settings.runs, settings.provisioning)
        schedules = build_schedules(
            snapshot, settings.runs, settings.provisioning.category_prefix, tz
        )
        set_by_us = written_event_times(session)
        copied_at = course_copy_times(session)
        unsettled = unsettled_creates(session)
        ours_suspended = suspended_by_us(session)
        written = written_fields(applied_writes(session, written_kinds()))
        # Profile values are trusted from the journal only while a full read is recent:
        # a value changed by hand in Moodle is found (and restored) within the window.
        recheck = dt.timedelta(days=settings.provisioning.profile_recheck_days)
        recent_full_read = recheck > dt.timedelta(0) and (
            last_full_profile_read(session, since=now - recheck) is not None
        )
    actual = read_actual(
        lms,
        desired,
        known_suspended=ours_suspended,
        written_customfields=written_customfields(written) if recent_full_read else None,
        site_customfields=site_customfields,
    )
    # Accounts a lost create answer made after all: they are ours.
    adopted = adoptable((c for c in unsettled if c not in desired.managed), actual)
    if adopted:
        desired = replace(desired, managed=desired.managed | frozenset(adopted))
    options = PlanOptions(
        suspend_grace_days=settings.provisioning.suspend_grace_days,
        site_customfields=site_customfields,
    )
    the_plan = plan(desired, actual, now=int(now.timestamp()), options=options)
    # What earlier applies wrote and the LMS did not keep is reported, not re-sent.
    known_kept = frozenset(f"customfields.{name}" for name in kept_customfields)
    the_plan = hold_unkept(the_plan, written, known_kept=known_kept)
    # The run's schedule in the LMS calendar: after everything else (courses, groups).
    calendar = plan_calendar(
        schedules,
        read_calendars(lms, schedules, actual),
        actual,
        written=set_by_us,
        copied_at=copied_at,
        now=int(now.timestamp()),
        options=CalendarOptions(
            drift=settings.provisioning.calendar_drift,
            wait_minutes=settings.provisioning.calendar_wait_minutes,
            tz=tz,
        ),
    )
    the_plan = Plan(
        actions=the_plan.actions + calendar.actions,
        conflicts=the_plan.conflicts + calendar.conflicts,
    )
    return SyncPreview(
        desired,
        actual,
        the_plan,
        check(the_plan, actual, thresholds(settings)),
        adopted,
        calendar,
    )


def reconcile(
    engine: Engine, seen: SyncPreview, *, now: dt.datetime, by_run: int | None
) -> Reconciled:
    """Bring earlier runs' records up to date with what this run just read from the LMS.

    Runs left 'running' by a process that died are marked killed, with counts from their
    journal; earlier ``unknown`` outcomes get what the read-back found (the new plan
    still has them to do: not done; otherwise: done).
    """
    killed = settle_killed_runs(engine, now=now, by_run=by_run)
    still_planned = {(a.kind.value, a.key) for a in seen.plan.actions}
    resolved = resolve_unknown(engine, still_planned, by_run=by_run)
    return Reconciled(killed, resolved)


def apply(
    engine: Engine,
    lms: MoodleLms,
    settings: Settings,
    *,
    now: dt.datetime,
    clock: Callable[[], dt.datetime],
    user: str,
    site_customfields: frozenset[str],
    kept_customfields: frozenset[str] = frozenset(),
    accept: bool = False,
    expected_digest: str | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SyncReport:
    """Make the LMS match the roster. Raises NeedsAccept / PlanMoved before any write.

    ``should_stop`` is asked between batches (a daemon asked to stop): the apply then
    ends ``interrupted`` with every landed batch journaled, like an LMS outage."""
    from sync.apply import Applier, ApplyOptions, ApplyStopped  # not needed to plan

    seen = preview(
        engine,
        lms,
        settings,
        now=now,
        site_customfields=site_customfields,
        kept_customfields=kept_customfields,
    )
    if expected_digest is not None and expected_digest != seen.digest:
        raise PlanMoved(
            "Kế hoạch đã xem không còn khớp với dữ liệu hiện tại (danh sách hoặc LMS đã thay đổi). "
            "Chạy lại 'bdtx sync plan' và xem lại."
        )
    run_id = start_run(engine, mode="apply", user=user, digest=seen.digest, now=now)
    reconcile(engine, seen, now=now, by_run=run_id)
    if seen.violations and not accept:
        finish_run(
            engine,
            run_id,
            status="stopped",
            counts=_counts(seen.plan),
            errors=[],
            message=" ".join(v.message() for v in seen.violations),
            now=clock(),
        )
        raise NeedsAccept(seen.violations)
    with session_scope(engine) as session:
        for code, (user_id, username) in seen.adopted.items():
            record_account(session, code, user_id, username, now)
    journal_plan(engine, run_id, seen.plan, now)
    with session_scope(engine) as session:
        schools = {p.identity_code: p.school_code for p in session.exec(select(Person))}
    options = ApplyOptions(
        role_ids=settings.provisioning.role_ids,
        credentials=settings.provisioning.credentials,
        auth=settings.provisioning.auth,
        schools=schools,
    )
    concurrency = concurrency_for(settings)
    lms.client.max_concurrency = concurrency.level
    applier = Applier(
        lms,
        DbJournal(engine, run_id, clock),
        seen.actual,
        options,
        progress,
        concurrency=concurrency,
        should_stop=should_stop,
    )
    status = "done"
    stopped_by: BaseException | None = None
    try:
        result = applier.apply(seen.plan)
    except ApplyStopped as stop:
        result = applier.result
        status = "interrupted"
        stopped_by = stop.cause
    except Exception as error:
        fail_run(engine, run_id, error, now=clock())
        raise
    timed_out = [c for c in seen.plan.conflicts if c.code == WAIT_TIMEOUT]
    if status == "done" and (result.failures() or timed_out):
        status = "done_with_errors"
    sheets = _account_sheets(engine, result, settings.provisioning.accounts_dir / f"sync-{run_id}")
    finish_run(
        engine,
        run_id,
        status=status,
        counts={f"{k}:{s}": n for (k, s), n in _outcome_counts(result).items()},
        profiles_read_all=seen.actual.profiles_read_all,
        errors=[
            {"action": o.action.id, "reason": o.action.reason, "error": o.error}
            for o in result.failures()
        ]
        + [
            {"action": f"calendar:{c.key}", "reason": c.code, "error": c.message} for c in timed_out
        ],
        message=" ".join(m for m in (result.stopped, calendar_status(seen.calendar)) if m),
        now=clock(),
        tuning=concurrency.summary(),
    )
    return SyncReport(run_id, seen, result, status, sheets, concurrency.summary(), stopped_by)


def calendar_status(calendar: CalendarPlan) -> str:
    """The schedule push's visible status, for the summaries and ``sync history``."""
    parts = []
    waiting = len(calendar.waiting) - len(calendar.timed_out)
    if waiting:
        parts.append(f"Lịch: chờ Moodle tạo sự kiện ở {waiting} khóa học (đồng bộ lại sau).")
    if calendar.timed_out:
        parts.append(
            f"Lịch: {len(calendar.timed_out)} khóa học chờ Moodle quá lâu: cron của Moodle "
            "phải chạy."
        )
    if calendar.drifted:
        parts.append(f"Lịch: {len(calendar.drifted)} ngày bị sửa tay trên Moodle.")
    return " ".join(parts)


def apply_app(
    app: App,
    *,
    now: Callable[[], dt.datetime],
    accept: bool = False,
    expected_digest: str | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    runs: Sequence[RunSettings] | None = None,
    on_fields: Callable[[ProfileFieldCheck], None] | None = None,
) -> SyncReport:
    """:func:`apply` with what the application holds: what ``bdtx sync apply``, ``bdtx
    run`` and the daemon's sync job call.

    The profile-field probe account is written first, so fields the site lacks are never
    sent (``on_fields`` hears of them). ``runs``: only these runs (the daemon syncs the
    runs whose provisioning time has come); default: every configured run.
    """
    settings = (
        app.settings if runs is None else app.settings.model_copy(update={"runs": list(runs)})
    )
    fields = app.profile_fields(write=True)
    if on_fields is not None:
        on_fields(fields)
    return apply(
        app.engine(),
        app.lms(),
        settings,
        now=now(),
        clock=now,
        user=app.user,
        site_customfields=fields.usable,
        kept_customfields=fields.kept or frozenset(),
        accept=accept,
        expected_digest=expected_digest,
        progress=progress,
        should_stop=should_stop,
    )


def _account_sheets(engine: Engine, result: ApplyResult, folder: Path) -> list[Path]:
    """Write the first passwords of the accounts this apply created, per school."""
    if not result.credentials:
        return []
    from sync.accounts_sheet import write_account_sheets

    with session_scope(engine) as session:
        people = {p.identity_code: (p.full_name, p.email) for p in session.exec(select(Person))}
        schools = {s.code: s.name for s in session.exec(select(School))}
    return write_account_sheets(result.credentials, people, schools, folder)


def _counts(the_plan: Plan) -> dict[str, int]:
    return {kind.value: n for kind, n in the_plan.count_by_kind().items()}


def _outcome_counts(result: ApplyResult) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for outcome in result.outcomes:
        key = (outcome.action.kind.value, outcome.status)
        counts[key] = counts.get(key, 0) + 1
    return counts
