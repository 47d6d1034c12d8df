"""The daemon on the real clock: APScheduler 3 fires each job at its next due instant.

Why two drivers. APScheduler reads the system time itself (``datetime.now``), so it
cannot run on a :class:`~scheduler.clock.SimulatedClock`; on simulated time (tests, the
accelerated demo) :meth:`scheduler.daemon.Daemon.loop` sleeps on the clock instead. Both
drivers only *wait*: what is due and what a job does is decided by the same planning
(``scheduler/jobs.py``) and run by the same :meth:`~scheduler.daemon.Daemon.run_due`.

Here each daemon job is one APScheduler job with its explicit id (``sync:M4-2023``), a
date trigger at the job's next due instant (now when due, else its retry time or next
slot), ``replace_existing``, coalescing and no misfire limit, kept in the state database
(``SQLAlchemyJobStore`` on the same engine, table ``apscheduler_jobs``). After each firing
every job is planned again from the records, so the store always says when each job runs
next; on restart it is rebuilt from the records the same way (catch-up included). One
worker thread: jobs never overlap.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from scheduler.daemon import Daemon
from scheduler.jobs import due_jobs, job_states
from store.daemon_repo import record_views

log = logging.getLogger("bdtx.daemon")
TABLE = "apscheduler_jobs"

_current: ApsDriver | None = None
_current_lock = threading.Lock()


def fire(job_id: str) -> None:
    """What APScheduler calls (by reference, as the job store keeps it): run that job."""
    with _current_lock:
        driver = _current
    if driver is not None:
        driver.fire(job_id)


class ApsDriver:
    """Runs a started :class:`Daemon` on APScheduler until it is asked to stop."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=daemon.app.engine(), tablename=TABLE)},
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=dt.UTC,
        )

    def plan(self) -> dict[str, dt.datetime]:
        """(Re)schedule every job at its next due instant; returns job id -> instant."""
        now = self.daemon.clock.now()
        specs = self.daemon.specs()
        states = job_states(record_views(self.daemon.app.engine()))
        due = {d.spec.id for d in due_jobs(specs, states, now)}
        planned: dict[str, dt.datetime] = {}
        for spec in specs:
            state = states.get(spec.id)
            at: dt.datetime | None
            if spec.id in due:
                at = now
            elif state is not None and state.retry_at is not None:
                at = state.retry_at
            else:
                at = spec.next_slot(now)
            if at is None:
                if self.scheduler.get_job(spec.id) is not None:
                    self.scheduler.remove_job(spec.id)
                continue
            planned[spec.id] = at
            self.scheduler.add_job(
                f"{__name__}:fire",
                trigger=DateTrigger(run_date=at, timezone=dt.UTC),
                args=[spec.id],
                id=spec.id,
                name=spec.id,
                replace_existing=True,
            )
        for job in self.scheduler.get_jobs():
            if job.id not in planned:  # a run no longer configured
                job.remove()
        return planned

    def fire(self, job_id: str) -> None:
        if self.daemon.stopping():
            return
        try:
            self.daemon.run_due(only={job_id})
        finally:
            if not self.daemon.stopping():
                self.plan()

    def run(self) -> None:
        """Start, plan, wait for the stop request, then let the running job finish."""
        global _current
        with _current_lock:
            _current = self
        self.scheduler.start(paused=True)
        try:
            planned = self.plan()
            log.info(
                "scheduled %d jobs; next at %s", len(planned), min(planned.values(), default=None)
            )
            self.scheduler.resume()
            while not self.daemon.wait_for_stop(1.0):  # short waits: signals get handled
                pass
        finally:
            self.scheduler.shutdown(wait=True)  # the running job ends after its batch
            with _current_lock:
                _current = None
