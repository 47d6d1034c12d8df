"""The daemon: runs each module run's jobs on time, for months, without anyone watching.

One :class:`Daemon` per process and per state database (its lock, ``scheduler/lock.py``).
Each pass (:meth:`Daemon.run_due`) reads the job records, asks the pure planning
(``scheduler/jobs.py``) which jobs are due at the clock's ``now`` — after downtime, each
missed job once — and runs them one after the other, recording each run (start, end,
outcome, counts, error; redacted) in the state database:

* a job failing because the LMS cannot be reached (or a write's answer was lost) is
  recorded ``retrying`` and due again after a growing wait (``[daemon] retry_*``), until
  the LMS answers; the sync then re-plans from what the LMS holds and does only the rest;
* any other failure is recorded ``failed`` (shown by ``bdtx status``) and the job waits
  for its next slot;
* a stop request (SIGTERM/SIGINT: :meth:`Daemon.request_stop`) lets the sync finish the
  batch in flight, journal it, and end; no further job starts.

What waits between passes depends on the clock. On the real clock, APScheduler
(``scheduler/aps.py``) holds one job per daemon job in the state database and fires each
at its next due instant. On a simulated clock (tests, the accelerated demo) APScheduler
cannot be used — it reads the system time itself — so :meth:`Daemon.loop` sleeps on the
clock until the next due instant. Both call the same :meth:`Daemon.run_due`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.root import App
from config.settings import RunSettings
from connector.errors import LmsOutcomeUnknown, LmsRetryableError
from scheduler.clock import Clock
from scheduler.jobs import (
    Cadence,
    DueJob,
    JobKind,
    JobSpec,
    all_jobs,
    due_jobs,
    job_states,
    next_wakeup,
    retry_wait,
)
from scheduler.lock import Holder, Me
from scheduler.tasks import JobFunction, JobOutcome, registry
from scheduler.timeline import RunTimeline, run_timeline
from store.closing_repo import closed_runs
from store.daemon_repo import (
    acquire_lock,
    finish_job,
    fold_skipped,
    heartbeat,
    record_views,
    release_lock,
    settle_dead_jobs,
    start_job,
)
from store.db import session_scope
from store.extensions_repo import run_extension_days

log = logging.getLogger("bdtx.daemon")

RETRYABLE: tuple[type[BaseException], ...] = (LmsRetryableError, LmsOutcomeUnknown)


def real_now() -> dt.datetime:
    """The wall clock, for the lock only: the lock is about processes, not the schedule."""
    return dt.datetime.now(dt.UTC)


def cadence_of(app: App) -> Cadence:
    daemon = app.settings.daemon
    return Cadence(
        inbox_every=dt.timedelta(minutes=daemon.inbox_every_minutes),
        resync_every=dt.timedelta(hours=daemon.resync_every_hours),
        pull_online_every=dt.timedelta(minutes=daemon.pull_online_every_minutes),
        pull_grading_every=dt.timedelta(hours=daemon.pull_grading_every_hours),
    )


def timelines(app: App) -> list[RunTimeline]:
    """Every configured run's timeline, with the grading extensions the Sở granted
    (``bdtx grading extend``: kept even for a class an allocation closed and reopened)."""
    with session_scope(app.engine()) as session:
        extensions = {run.id: run_extension_days(session, run.id) for run in app.settings.runs}
    zone = app.settings.site_zone()
    return [run_timeline(run, zone, extensions[run.id]) for run in app.settings.runs]


def job_specs(
    app: App, kinds: Collection[JobKind], cadence: Cadence | None = None
) -> list[JobSpec]:
    """The daemon's jobs; a run whose closing is done has none left to run."""
    closed = closed_runs(app.engine())
    return all_jobs(timelines(app), cadence or cadence_of(app), kinds, closed)


@dataclass(frozen=True)
class Ran:
    """One job run of a pass."""

    job_id: str
    scheduled_for: dt.datetime
    outcome: str
    message: str = ""
    counts: Mapping[str, Any] = field(default_factory=dict)


class Daemon:
    """Runs the jobs; build one per process, :meth:`start` it, :meth:`close` it."""

    def __init__(
        self,
        app: App,
        *,
        clock: Clock,
        me: Me | None = None,
        wall: Callable[[], dt.datetime] = real_now,
        functions: Mapping[JobKind, JobFunction] | None = None,
        cadence: Cadence | None = None,
    ) -> None:
        """``cadence``: other intervals than ``[daemon]``'s (the accelerated demo)."""
        self.app = app
        self.cadence = cadence
        self.clock = clock
        self.me = me or Me.current()
        self.wall = wall
        self._stop = threading.Event()
        self.functions = dict(functions) if functions is not None else registry(self.stopping)
        self.lock_lost = False
        self.taken_from: Holder | None = None
        self._beat: threading.Thread | None = None
        self._locked = False

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        """Take the lock (raises LockHeld naming the holder), start the heartbeat, and mark
        the job runs a killed predecessor left ``running`` as killed."""
        settings = self.app.settings.daemon
        engine = self.app.engine()
        self.taken_from = acquire_lock(
            engine,
            self.me,
            now=self.wall(),
            lease=dt.timedelta(seconds=settings.lock_lease_seconds),
        )
        self._locked = True
        if self.taken_from is not None:
            log.warning(
                "lock taken over from a daemon that is gone: %s", self.taken_from.describe()
            )
        killed = settle_dead_jobs(engine, now=self.clock.now())
        if killed:
            log.warning("%d job run(s) of a killed daemon marked killed; they run again", killed)
        heartbeat(engine, self.me, now=self.wall(), clock_at=self.clock.now())
        self._beat = threading.Thread(target=self._heartbeat, name="bdtx-heartbeat", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        every = self.app.settings.daemon.heartbeat_seconds
        while not self._stop.wait(every):
            try:
                ours = heartbeat(
                    self.app.engine(), self.me, now=self.wall(), clock_at=self.clock.now()
                )
            except Exception:  # a database hiccup: the lease allows a few missed beats
                log.exception("heartbeat failed")
                continue
            if not ours:
                log.error("the daemon lock was taken over by another process: stopping")
                self.lock_lost = True
                self.request_stop()

    def request_stop(self) -> None:
        """Stop after the current batch (safe from a signal handler)."""
        self._stop.set()
        self.clock.wake()

    def stopping(self) -> bool:
        return self._stop.is_set()

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        if self._locked and not self.lock_lost:
            release_lock(self.app.engine(), self.me)
        self._locked = False

    # -- passes ------------------------------------------------------------------------

    def specs(self) -> list[JobSpec]:
        return job_specs(self.app, self.functions, self.cadence)

    def due(self, now: dt.datetime) -> list[DueJob]:
        return due_jobs(self.specs(), job_states(record_views(self.app.engine())), now)

    def next_wakeup(self, now: dt.datetime) -> dt.datetime | None:
        return next_wakeup(self.specs(), job_states(record_views(self.app.engine())), now)

    def run_due(self, only: Collection[str] | None = None) -> list[Ran]:
        """Run every job due at the clock's now (or only those of ``only``), in order."""
        ran: list[Ran] = []
        for job in self.due(self.clock.now()):
            if self.stopping():
                break
            if only is not None and job.spec.id not in only:
                continue
            ran.append(self.run_job(job))
        return ran

    def run_job(self, job: DueJob) -> Ran:
        spec = job.spec
        run = self.app.settings.run(spec.run_id) if spec.run_id else None
        started = self.clock.now()
        engine = self.app.engine()
        record = start_job(
            engine,
            job_id=spec.id,
            kind=spec.kind.value,
            run_id=spec.run_id,
            scheduled_for=job.scheduled_for,
            attempt=job.attempt,
            outage_since=job.outage_since,
            now=started,
            me=self.me,
        )
        log.log(
            logging.DEBUG if spec.kind is JobKind.INBOX else logging.INFO,
            "job %s (due %s, attempt %d) started",
            spec.id,
            job.scheduled_for.isoformat(),
            job.attempt,
            extra={"job": spec.id, "attempt": job.attempt},
        )
        redact = self.app.redact
        try:
            outcome = self._call(spec.kind, run, started)
        except RETRYABLE as error:
            settings = self.app.settings.daemon
            wait = retry_wait(
                job.attempt,
                dt.timedelta(seconds=settings.retry_first_seconds),
                dt.timedelta(seconds=settings.retry_max_seconds),
            )
            now = self.clock.now()
            message = redact(f"LMS không trả lời (lần {job.attempt}): {error}")
            finish_job(
                engine,
                record,
                outcome="retrying",
                now=now,
                message=message,
                retry_at=now + wait,
                outage_since=job.outage_since or started,
            )
            log.warning(
                "job %s: LMS unreachable (attempt %d), retry in %ds: %s",
                spec.id,
                job.attempt,
                int(wait.total_seconds()),
                message,
                extra={"job": spec.id, "outcome": "retrying"},
            )
            return Ran(spec.id, job.scheduled_for, "retrying", message)
        except Exception as error:
            message = redact(f"{type(error).__name__}: {error}")
            finish_job(engine, record, outcome="failed", now=self.clock.now(), message=message)
            log.error(
                "job %s failed: %s", spec.id, message, extra={"job": spec.id, "outcome": "failed"}
            )
            return Ran(spec.id, job.scheduled_for, "failed", message)
        finally:
            if spec.kind is not JobKind.INBOX:  # the inbox does not use the LMS
                self.app.end_of_command()
        message = redact(outcome.message)
        finish_job(
            engine,
            record,
            outcome=outcome.outcome,
            now=self.clock.now(),
            counts=outcome.counts,
            message=message,
        )
        if outcome.outcome == "skipped":
            fold_skipped(engine, record)
        log.log(
            logging.DEBUG if outcome.outcome == "skipped" else logging.INFO,
            "job %s: %s %s",
            spec.id,
            outcome.outcome,
            message,
            extra={"job": spec.id, "outcome": outcome.outcome},
        )
        return Ran(spec.id, job.scheduled_for, outcome.outcome, message, dict(outcome.counts))

    def _call(self, kind: JobKind, run: RunSettings | None, now: dt.datetime) -> JobOutcome:
        return self.functions[kind](self.app, run, now)

    def loop(
        self,
        *,
        until: dt.datetime | None = None,
        once: bool = False,
        on_pass: Callable[[dt.datetime, list[Ran]], None] | None = None,
        before_pass: Callable[[dt.datetime], None] | None = None,
    ) -> None:
        """Run due jobs, sleep on the clock until the next is due, again; until stopped,
        or the clock passes ``until``, or after one pass (``once``). ``before_pass`` hears
        the time of each pass before its jobs run, ``on_pass`` what they did."""
        idle = dt.timedelta(hours=1)  # nothing scheduled: look again (the config may change)
        while not self.stopping():
            if before_pass is not None:
                before_pass(self.clock.now())
            ran = self.run_due()
            now = self.clock.now()
            if on_pass is not None and ran:
                on_pass(now, ran)
            if once or self.stopping() or (until is not None and now >= until):
                return
            wake = self.next_wakeup(now) or now + idle
            if until is not None:
                wake = min(wake, until)
            self.clock.sleep(max((wake - now).total_seconds(), 0.001))
