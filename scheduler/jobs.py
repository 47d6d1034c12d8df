"""The daemon's jobs, pure: which exist, when each is due, which are due now.

Every job has an explicit id (``sync:M4-2023``, ``pull:M4-2023``, ``inbox``) and a
series of *slots*, the instants it should run at, taken from the run's timeline
(``scheduler/timeline.py``) and the ``[daemon]`` settings:

==========  ===================================================================  =========
job         slots                                                                 stale
==========  ===================================================================  =========
inbox       every ``inbox_every_minutes`` (aligned on the hour)                   never
sync        the provisioning time (``provision_lead_days`` before day 1), then    one
            every ``resync_every_hours`` until the run closes                     interval
pull        every ``pull_online_every_minutes`` during days 1-16, then every      one
            ``pull_grading_every_hours`` during grading, and once at closing      interval
remind      each grading reminder instant (``reminder_days`` at ``reminder_time``) 12 hours
close       the run's closing instant (its latest grading due)                    never
==========  ===================================================================  =========

A run whose closing is done (at its close, or earlier by hand: ``bdtx completion close
--force``) has no slot left in any of its jobs: its lists are written, nothing more is
pulled, synced or sent for it.

A job is due when its latest slot at or before ``now`` has no finished record (ok,
failed or skipped) — so after any downtime each job runs **once** for everything it
missed, not once per missed slot. A slot stops being due ``stale`` after it when no later
slot came (a sync of a run closed for weeks, a reminder of last month are not sent).
A job whose last attempt failed because the LMS was unreachable (``retrying``) is due
again at its ``retry_at``, with growing waits (:func:`retry_wait`). Records of runs that
were interrupted or killed are not finished: the job is due again at once (every job is
idempotent: the sync resumes from what the LMS holds, an import of the same files is a
no-op).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from scheduler.timeline import KeyInstant, RunTimeline

FINISHED = frozenset({"ok", "failed", "skipped"})
RETRYING = "retrying"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class JobKind(StrEnum):
    """The kinds of job, in the order due jobs run (a run's sync before its pull)."""

    INBOX = "inbox"
    SYNC = "sync"
    PULL = "pull"
    REMIND = "remind"
    CLOSE = "close"


@dataclass(frozen=True)
class Cadence:
    """The ``[daemon]`` intervals (see config/settings.py ``DaemonSettings``)."""

    inbox_every: dt.timedelta = dt.timedelta(minutes=5)
    resync_every: dt.timedelta = dt.timedelta(hours=24)
    pull_online_every: dt.timedelta = dt.timedelta(minutes=60)
    pull_grading_every: dt.timedelta = dt.timedelta(hours=24)
    reminder_stale: dt.timedelta = dt.timedelta(hours=12)


@dataclass(frozen=True)
class JobSpec:
    """One job: its slots, explicit (``slots``) or periodic (``every`` from ``EPOCH``)."""

    id: str
    kind: JobKind
    run_id: str = ""
    slots: tuple[dt.datetime, ...] = ()
    every: dt.timedelta | None = None
    stale_after: dt.timedelta | None = None

    def latest_slot(self, now: dt.datetime) -> dt.datetime | None:
        """The latest slot at or before ``now`` that is still worth running, if any."""
        if self.every is not None:
            return EPOCH + ((now - EPOCH) // self.every) * self.every
        past = [s for s in self.slots if s <= now]
        if not past:
            return None
        latest = past[-1]
        if self.stale_after is not None and now - latest >= self.stale_after:
            return None
        return latest

    def next_slot(self, now: dt.datetime) -> dt.datetime | None:
        """The first slot strictly after ``now``; ``None`` when the series is over."""
        if self.every is not None:
            return EPOCH + ((now - EPOCH) // self.every + 1) * self.every
        return next((s for s in self.slots if s > now), None)


@dataclass(frozen=True)
class JobState:
    """What the records say of one job (see :func:`job_states`)."""

    done_through: dt.datetime | None = None  # latest slot with a finished record
    retry_at: dt.datetime | None = None  # set while the last attempt is ``retrying``
    attempt: int = 0  # the last attempt's number when retrying
    outage_since: dt.datetime | None = None


@dataclass(frozen=True)
class JobRecordView:
    """The part of a stored job run the planning needs (``store.models.JobRun``)."""

    id: int
    job_id: str
    scheduled_for: dt.datetime
    outcome: str
    attempt: int = 1
    retry_at: dt.datetime | None = None
    outage_since: dt.datetime | None = None


@dataclass(frozen=True)
class DueJob:
    spec: JobSpec
    scheduled_for: dt.datetime
    attempt: int = 1
    outage_since: dt.datetime | None = None


def _series(start: dt.datetime, end: dt.datetime, every: dt.timedelta) -> list[dt.datetime]:
    slots, at = [], start
    while at < end:
        slots.append(at)
        at += every
    return slots


def run_jobs(
    timeline: RunTimeline, cadence: Cadence, kinds: Collection[JobKind], *, closed: bool = False
) -> list[JobSpec]:
    """The jobs of one run (only the ``kinds`` the daemon can run); ``closed``: the run's
    closing is done, so its jobs keep their ids (and records) but have no slot left."""
    specs = _run_jobs(timeline, cadence, kinds)
    if closed:
        return [replace(spec, slots=()) for spec in specs]
    return specs


def _run_jobs(timeline: RunTimeline, cadence: Cadence, kinds: Collection[JobKind]) -> list[JobSpec]:
    run = timeline.run_id
    closed = timeline.closed_at
    specs: list[JobSpec] = []
    if JobKind.SYNC in kinds:
        slots = _series(timeline.provisioning_at, closed, cadence.resync_every)
        specs.append(
            JobSpec(f"sync:{run}", JobKind.SYNC, run, tuple(slots), None, cadence.resync_every)
        )
    if JobKind.PULL in kinds:
        online = _series(timeline.start, timeline.submission_due, cadence.pull_online_every)
        grading = _series(timeline.submission_due, closed, cadence.pull_grading_every)
        slots = sorted({*online, *grading, closed})
        stale = max(cadence.pull_online_every, cadence.pull_grading_every)
        specs.append(JobSpec(f"pull:{run}", JobKind.PULL, run, tuple(slots), None, stale))
    if JobKind.REMIND in kinds:
        reminders = sorted(
            {m.at for m in timeline.key_moments() if m.kind is KeyInstant.GRADING_REMINDER}
        )
        specs.append(
            JobSpec(
                f"remind:{run}", JobKind.REMIND, run, tuple(reminders), None, cadence.reminder_stale
            )
        )
    if JobKind.CLOSE in kinds:
        specs.append(JobSpec(f"close:{run}", JobKind.CLOSE, run, (closed,)))
    return specs


def all_jobs(
    timelines: Iterable[RunTimeline],
    cadence: Cadence,
    kinds: Collection[JobKind],
    closed_runs: Collection[str] = (),
) -> list[JobSpec]:
    """Every job of the daemon: the inbox, then each run's (``closed_runs``: the runs whose
    closing is done)."""
    specs = (
        [JobSpec("inbox", JobKind.INBOX, every=cadence.inbox_every)]
        if JobKind.INBOX in kinds
        else []
    )
    for timeline in sorted(timelines, key=lambda t: (t.start, t.run_id)):
        specs += run_jobs(timeline, cadence, kinds, closed=timeline.run_id in closed_runs)
    return specs


def job_states(records: Iterable[JobRecordView]) -> dict[str, JobState]:
    """Per job id, what its records say: the slot it is done through, and a retry."""
    done: dict[str, dt.datetime] = {}
    last: dict[str, JobRecordView] = {}
    for record in sorted(records, key=lambda r: r.id):
        last[record.job_id] = record
        if record.outcome in FINISHED:
            seen = done.get(record.job_id)
            if seen is None or record.scheduled_for > seen:
                done[record.job_id] = record.scheduled_for
    states = {}
    for job_id in {*done, *last}:
        latest = last.get(job_id)
        retrying = latest is not None and latest.outcome == RETRYING
        states[job_id] = JobState(
            done_through=done.get(job_id),
            retry_at=latest.retry_at if retrying and latest is not None else None,
            attempt=latest.attempt if retrying and latest is not None else 0,
            outage_since=latest.outage_since if retrying and latest is not None else None,
        )
    return states


def due_jobs(
    specs: Sequence[JobSpec], states: Mapping[str, JobState], now: dt.datetime
) -> list[DueJob]:
    """The jobs to run at ``now``, each once, in :class:`JobKind` order then spec order."""
    due: list[DueJob] = []
    for spec in specs:
        slot = spec.latest_slot(now)
        state = states.get(spec.id, JobState())
        if state.retry_at is not None:
            if slot is not None and now >= state.retry_at:
                due.append(DueJob(spec, slot, state.attempt + 1, state.outage_since))
            continue
        if slot is not None and (state.done_through is None or state.done_through < slot):
            due.append(DueJob(spec, slot))
    order = list(JobKind)
    position = {spec.id: i for i, spec in enumerate(specs)}
    return sorted(due, key=lambda d: (order.index(d.spec.kind), position[d.spec.id]))


def next_wakeup(
    specs: Sequence[JobSpec], states: Mapping[str, JobState], now: dt.datetime
) -> dt.datetime | None:
    """The earliest instant after ``now`` at which some job becomes due (None: none will)."""
    moments = [m for m in (spec.next_slot(now) for spec in specs) if m is not None]
    moments += [s.retry_at for s in states.values() if s.retry_at is not None and s.retry_at > now]
    return min(moments, default=None)


def retry_wait(attempt: int, first: dt.timedelta, cap: dt.timedelta) -> dt.timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): doubling, capped."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    factor: int = 2 ** min(attempt - 1, 30)
    return min(cap, first * factor)
