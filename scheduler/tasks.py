"""What each daemon job does: one function per job kind, ``(app, run, now) -> JobOutcome``.

Each calls a use case (``roster/service.py``, ``sync/service.py``, ``grading/service.py``)
with what the composition root holds; none knows the CLI. Every one is idempotent: run
twice, the second does nothing new. An exception is classified by the daemon: an LMS
that cannot be reached (``LmsRetryableError``, ``LmsOutcomeUnknown``) is retried with
growing waits; anything else is recorded as failed and waits for the job's next slot.

:func:`registry` maps each :class:`~scheduler.jobs.JobKind` the project can run to its
function; the planning only schedules kinds found there.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from app.root import App
from config.settings import RunSettings
from connector.errors import LmsError
from grading import service as grading
from grading.closing import ClosingTooEarly, close_run
from grading.publish import LISTS_DIR
from grading.remind import remind
from roster.errors import RosterFormatError
from roster.reasons import Status
from roster.service import allocate_runs, import_files
from scheduler.jobs import JobKind
from scheduler.timeline import run_timeline
from sync import service as sync
from sync.apply import StopRequested
from sync.safety import NeedsAccept

ROSTER_SUFFIXES = (".xlsx", ".csv")


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: ``ok``, ``failed`` (a person must look), ``skipped`` (nothing to
    do) or ``interrupted`` (stopped on request: runs again at the next start)."""

    outcome: str = "ok"
    counts: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""


JobFunction = Callable[[App, RunSettings | None, dt.datetime], JobOutcome]


def registry(should_stop: Callable[[], bool] = lambda: False) -> dict[JobKind, JobFunction]:
    """The job functions; ``should_stop`` is asked between the sync's batches."""
    return {
        JobKind.INBOX: inbox_job,
        JobKind.SYNC: partial(sync_job, should_stop=should_stop),
        JobKind.PULL: pull_job,
        JobKind.REMIND: remind_job,
        JobKind.CLOSE: close_job,
    }


# -- inbox -------------------------------------------------------------------------------


def inbox_files(inbox: Path, *, settle_seconds: float, real_now: float) -> list[Path]:
    """The roster files waiting in ``inbox`` (not in its subfolders), oldest name first;
    a file changed less than ``settle_seconds`` ago may still be being copied: not yet."""
    if not inbox.is_dir():
        return []
    return sorted(
        path
        for path in inbox.iterdir()
        if path.is_file()
        and path.suffix.lower() in ROSTER_SUFFIXES
        and not path.name.startswith((".", "~$"))
        and real_now - path.stat().st_mtime >= settle_seconds
    )


def _move(paths: list[Path], folder: Path, now: dt.datetime) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for path in paths:
        target = folder / f"{stamp}-{path.name}"
        shutil.move(str(path), target)
        moved.append(target.name)
    return moved


def inbox_job(app: App, _run: RunSettings | None, now: dt.datetime) -> JobOutcome:
    """Import the roster files dropped in ``[daemon] inbox`` together, as one import.

    Imported: the report is written, the classes of every run allocated, the files moved
    to ``done/`` (the next sync provisions the changes). An import or an allocation that
    trips a safety threshold stores nothing and the files go to ``refused/``: a person
    looks at the report and imports them by hand with ``--accept``. A file that is not a
    roster is refused the same way.
    """
    daemon = app.settings.daemon
    files = inbox_files(
        daemon.inbox, settle_seconds=daemon.inbox_settle_seconds, real_now=time.time()
    )
    if not files:
        return JobOutcome("skipped", {"files": 0})
    names = [p.name for p in files]
    try:
        result, changes, report = import_files(app, files, now=now)
    except (RosterFormatError, NeedsAccept) as error:
        moved = _move(files, daemon.inbox / "refused", now)
        why = _refusal(error)
        return JobOutcome(
            "failed",
            {"files": len(files), "refused": moved},
            f"Không nhập {', '.join(names)}: {why} Các tệp đã chuyển vào "
            f"{daemon.inbox / 'refused'}; xem lại rồi nhập bằng tay ('bdtx roster import').",
        )
    moved = _move(files, daemon.inbox / "done", now)
    counts: dict[str, Any] = {
        "files": len(files),
        "imported": result.status_counts()[Status.IMPORTED],
        "rejected": result.status_counts()[Status.REJECTED],
        "report": str(report),
        "done": moved,
    }
    if changes is not None:
        counts |= {"new": len(changes.new), "left": len(changes.left)}
    try:
        allocations = allocate_runs(app, list(app.settings.runs))
    except NeedsAccept as stop:
        return JobOutcome(
            "failed",
            counts,
            f"Đã nhập {', '.join(names)} nhưng chưa phân lớp: {_refusal(stop)} "
            "Chạy 'bdtx classes allocate --accept' nếu đúng.",
        )
    counts["classes"] = sum(len(a.classes) for a in allocations)
    return JobOutcome("ok", counts, f"Đã nhập {', '.join(names)}; báo cáo: {report}")


def _refusal(error: Exception) -> str:
    if isinstance(error, NeedsAccept):
        return " ".join(v.message() for v in error.violations)
    return str(error)


# -- sync --------------------------------------------------------------------------------


def provisioned_runs(app: App, now: dt.datetime) -> list[RunSettings]:
    """The runs whose provisioning time has come (closed ones stay: nothing is removed)."""
    zone = app.settings.site_zone()
    return [run for run in app.settings.runs if run_timeline(run, zone).provisioning_at <= now]


def sync_job(
    app: App,
    run: RunSettings | None,
    now: dt.datetime,
    *,
    should_stop: Callable[[], bool],
) -> JobOutcome:
    """Allocate and provision every run whose time has come (this one included).

    The apply journals each batch; when the LMS goes away mid-way the job raises the
    LMS's error (the daemon retries) and the next attempt re-plans from what the LMS
    holds, doing only what is left.
    """
    assert run is not None
    runs = provisioned_runs(app, now)
    try:
        allocate_runs(app, runs)
        report = sync.apply_app(app, now=app.clock, runs=runs, should_stop=should_stop)
    except NeedsAccept as stop:
        return JobOutcome(
            "failed",
            {},
            f"Đợt {run.id}: dừng trước khi ghi — {_refusal(stop)} "
            "Xem 'bdtx sync plan' rồi chạy 'bdtx sync apply --accept' nếu đúng.",
        )
    result = report.result
    counts = {
        "sync": report.run_id,
        "status": report.status,
        "writes": report.preview.plan.writes,
        "done": result.count("done"),
        "failed": result.count("failed"),
        "unknown": result.count("unknown"),
        "pending": result.count("pending"),
    }
    if report.status == "interrupted":
        if isinstance(report.stopped_by, StopRequested):
            return JobOutcome("interrupted", counts, result.stopped)
        if isinstance(report.stopped_by, LmsError):
            raise report.stopped_by
        raise RuntimeError(result.stopped)
    if result.failures():
        return JobOutcome(
            "failed",
            counts,
            f"Đồng bộ #{report.run_id}: {len(result.failures())} lệnh lỗi ('bdtx sync history').",
        )
    return JobOutcome("ok", counts)


# -- pull --------------------------------------------------------------------------------


def pull_job(app: App, run: RunSettings | None, now: dt.datetime) -> JobOutcome:
    """Pull the run's progress and grades and decide every seat (grading/service.py)."""
    assert run is not None
    report = grading.pull(app.engine(), app.lms(), app.settings, run.id, now=now)
    counts: dict[str, Any] = {"pull": report.pull_id, "learners": report.learners, **report.counts}
    problems = report.problems
    message = "; ".join(problems[:2]) + (
        f" (và {len(problems) - 2} điều khác)" if len(problems) > 2 else ""
    )
    return JobOutcome("ok", counts, message)


# -- reminders ---------------------------------------------------------------------------


def remind_job(app: App, run: RunSettings | None, now: dt.datetime) -> JobOutcome:
    """At each reminder time: pull first, so that a reporter who graded overnight is not
    reminded, then send the reminders due (grading/remind.py: once per class, offset and
    deadline, only to active assessors with work waiting)."""
    assert run is not None
    grading.pull(app.engine(), app.lms(), app.settings, run.id, now=now)
    report = remind(app.engine(), app.lms(), app.settings, run.id, now=now)
    counts = {
        "sent": report.count("sent"),
        "refused": report.count("refused"),
        "unknown": report.count("unknown"),
        "failed": report.count("failed"),
        "skipped": len(report.skipped),
    }
    failed = counts["refused"] + counts["failed"]
    message = f"{failed} nhắc nhở không gửi được ('bdtx grading remind')." if failed else ""
    return JobOutcome("failed" if failed else "ok", counts, message)


# -- closing -----------------------------------------------------------------------------


def close_job(app: App, run: RunSettings | None, now: dt.datetime) -> JobOutcome:
    """When every class's grading window has ended: the last pull, the decisions, the
    write-back to the LMS, the completion lists and the record (grading/closing.py). A run
    closed already is not closed again; one left half-way is resumed."""
    assert run is not None
    try:
        report = close_run(
            app.engine(), app.lms(), app.settings, run.id, now=now, lists_dir=LISTS_DIR
        )
    except ClosingTooEarly as early:  # an extension granted since the slot was planned
        return JobOutcome("skipped", {}, str(early))
    counts: dict[str, Any] = {
        "pull": report.pull_id,
        **report.counts,
        "files": len(report.files),
        "corrections": len(report.corrections),
    }
    if report.status != "done" and report.status != "already_closed":
        problems = "; ".join(report.problems[:2])
        return JobOutcome("failed", counts, f"Tổng kết đợt {run.id} chưa xong: {problems}")
    folder = LISTS_DIR / run.id
    return JobOutcome("ok", counts, f"Danh sách hoàn thành: {folder}")
