"""Closing a module run, once: last pull, decide, write back, the completion lists, and
the record of it all.

Called by ``bdtx completion close`` and, at the run's grading deadline, by the daemon.
Everything comes in from the composition root (engine, LMS, settings, ``now``).

* A run is closed once: a ``done`` closing is never run again (the record says when,
  the counts and the files).
* A closing interrupted (crash, LMS down, a write in doubt) resumes where it stopped:
  the closing pull is kept and reused, the write-back resumes from its journal
  (:mod:`grading.writeback`), the lists are written again from the same pull.
* Timing: the run closes when the grading window of every class (extensions included)
  has ended, at its grading deadline. Enrolments stay open ``enrolment_grace_days``
  longer (``scheduler.timeline.RunTimeline.enrolment_end``), so the closing pull still
  reads each course in one call: Moodle's course-wide grade report lists active
  enrolments only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from config.settings import RunSettings, Settings
from connector.lms import MoodleLms
from grading import service
from grading.publish import write_lists
from grading.pull import run_courses
from grading.rule import Outcome
from grading.writeback import CompletedSeat, WritebackReport, write_back
from scheduler.timeline import run_timeline
from store.closing_repo import closing_of, save_closing
from store.db import session_scope
from store.extensions_repo import run_extension_days
from store.grading_repo import results_of
from store.models import GradingPull, LmsAccount, RunClosing
from sync.desired import load_desired


class ClosingTooEarly(Exception):
    """The run's grading window has not ended (``--force`` closes it anyway)."""


@dataclass(frozen=True)
class ClosingReport:
    run_id: str
    status: str  # done / running (to resume) / already_closed
    started_at: dt.datetime
    finished_at: dt.datetime | None
    pull_id: int | None
    counts: Mapping[str, int]
    files: tuple[str, ...]
    problems: tuple[str, ...]
    forced: bool = False
    resumed: bool = False
    writeback: WritebackReport | None = None
    corrections: tuple[str, ...] = field(default=())


def closes_at(engine: Engine, run: RunSettings, settings: Settings) -> dt.datetime:
    """When the run's grading window ends for every class, extensions included."""
    with session_scope(engine) as session:
        extensions = run_extension_days(session, run.id)
    return run_timeline(run, settings.site_zone(), extensions).closed_at


def _closed(closing: RunClosing) -> ClosingReport:
    return ClosingReport(
        run_id=closing.run_id,
        status="already_closed",
        started_at=closing.started_at,
        finished_at=closing.finished_at,
        pull_id=closing.pull_id,
        counts=dict(closing.counts),
        files=tuple(closing.files),
        problems=tuple(closing.problems),
        forced=closing.forced,
    )


def _pull_done(engine: Engine, pull_id: int | None) -> bool:
    if pull_id is None:
        return False
    with session_scope(engine) as session:
        pull = session.get(GradingPull, pull_id)
        return pull is not None and pull.status == "done"


def _completed_seats(engine: Engine, pull_id: int) -> tuple[list[CompletedSeat], dict[str, int]]:
    """The pull's completed main seats with their LMS accounts, and its outcome counts."""
    with session_scope(engine) as session:
        accounts = {a.identity_code: a.lms_user_id for a in session.exec(select(LmsAccount))}
        results = results_of(session, pull_id)
        pull = session.get(GradingPull, pull_id)
        counts = dict(pull.counts) if pull is not None else {}
    seats = [
        CompletedSeat(r.identity_code, r.course_idnumber, accounts[r.identity_code])
        for r in results
        if r.outcome == Outcome.COMPLETED.value and r.identity_code in accounts
    ]
    return seats, {k: int(v) for k, v in counts.items()}


def close_run(
    engine: Engine,
    lms: MoodleLms,
    settings: Settings,
    run_id: str,
    *,
    now: dt.datetime,
    lists_dir: Path,
    force: bool = False,
    fmt: str = "xlsx",
) -> ClosingReport:
    """Close ``run_id`` (see the module doc); raises :class:`ClosingTooEarly` before its
    grading window ends unless ``force``. Lists go in ``lists_dir / run_id``."""
    run = settings.run(run_id)
    closing = closing_of(engine, run.id)
    if closing is not None and closing.status == "done":
        return _closed(closing)
    due = closes_at(engine, run, settings)
    if now < due and not force and closing is None:
        local = due.astimezone(settings.site_zone())
        raise ClosingTooEarly(
            f"Đợt {run.id} chưa hết thời hạn chấm bài (đến {local:%H:%M ngày %d/%m/%Y}): "
            "chưa thể tổng kết. Dùng --force để tổng kết ngay."
        )
    resumed = closing is not None
    if closing is None:
        closing = RunClosing(run_id=run.id, started_at=now, forced=now < due)
        save_closing(engine, closing)

    problems: list[str] = []
    if not _pull_done(engine, closing.pull_id):
        pulled = service.pull(engine, lms, settings, run.id, now=now)
        closing.pull_id = pulled.pull_id
        save_closing(engine, closing)
        problems.extend(pulled.problems)
    assert closing.pull_id is not None
    seats, counts = _completed_seats(engine, closing.pull_id)

    with session_scope(engine) as session:
        desired = load_desired(session, [run], settings.provisioning)
    report = write_back(
        engine,
        lms,
        run.id,
        seats,
        course_ids=run_courses(lms, desired, run.id),
        activity_idnumber=run.activities.module_completed,
        pull_id=closing.pull_id,
        now=now,
    )
    problems.extend(report.problems)
    problems.extend(f"Không ghi được hoàn thành: {line}" for line in report.failures)
    if report.statuses.get("unknown"):
        problems.append(
            f"{report.statuses['unknown']} lệnh ghi hoàn thành chưa rõ kết quả: "
            "chạy lại để kiểm tra và ghi tiếp."
        )
    corrections = tuple(c.describe() for c in report.corrections)

    written = write_lists(
        engine,
        run,
        lists_dir / run.id,
        fmt=fmt,
        tz=settings.site_zone(),
        pull_id=closing.pull_id,
    )
    files = tuple(str(p) for p in written.files)
    done = report.complete
    closing.status = "done" if done else "running"
    closing.finished_at = now if done else None
    closing.counts = {
        **counts,
        **{f"writeback:{status}": n for status, n in report.statuses.items()},
    }
    closing.files = list(files)
    closing.problems = [*problems, *corrections]
    save_closing(engine, closing)
    return ClosingReport(
        run_id=run.id,
        status=closing.status,
        started_at=closing.started_at,
        finished_at=closing.finished_at,
        pull_id=closing.pull_id,
        counts=dict(closing.counts),
        files=files,
        problems=tuple(problems),
        forced=closing.forced,
        resumed=resumed,
        writeback=report,
        corrections=corrections,
    )
