"""A run's phases and key instants in the site's time zone: what the daemon acts on.

:func:`run_timeline` turns a configured run into aware datetimes in the site's zone
(Asia/Ho_Chi_Minh); the server's own zone is never used. The rules, the ones Moodle and
``sync/desired.py`` use (the recorded template's dates are days from its start at 00:00):

* a run day starts at 00:00 local time; day 1 is the run's ``start``;
* every phase is half-open, ``[start, end)``: ``end`` is 00:00 of the day after its last
  day, which is also the next phase's start:

  ====================  =================================  ================================
  provisioning          00:00, ``provision_lead_days``     accounts, courses, enrolments
                        before day 1
  online 1              [day 1, day 8)                     course start date
  virtual class         [day 8, day 10)                    the meetings (``virtual_class``)
  online 2              [day 10, day 17)
  submission due        00:00 of day 17                    course end date, assignment due
  grading               [day 17, day 17 + grading_days)
  grading due           00:00 of day 27 (+ extension)      the run closes (last pull,
                                                           write-back, lists)
  enrolment end         grading due + ``enrolment_grace``  a class's enrolment end
                        ``_days`` (2)
  closed                the latest grading due of any      nothing left to do
                        class
  ====================  =================================  ================================

* a grading reminder ``d`` days before a grading due falls on the local day ``d`` days
  before it, at ``reminder_time`` (default 08:00): with the due at 00:00 of day 27, the
  1-day reminder is sent on day 26, the last grading day, in the morning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from scheduler.schedule import (
    LOCAL_TZ,
    Phase,
    PhaseSpan,
    ScheduleConfig,
    build_schedule,
    local_midnight,
)

if TYPE_CHECKING:
    from config.settings import RunSettings, VirtualClassSlot


class KeyInstant(StrEnum):
    """The moments of a run at which something is due or changes."""

    PROVISIONING = "provisioning"
    ONLINE_1_OPENS = "online-1-opens"
    VIRTUAL_CLASS_OPENS = "virtual-class-opens"
    ONLINE_2_OPENS = "online-2-opens"
    SUBMISSION_DUE = "submission-due"
    GRADING_REMINDER = "grading-reminder"
    GRADING_DUE = "grading-due"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Interval:
    """``[start, end)``: ``end`` is the first instant after it."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Meeting:
    """One virtual-class meeting; no classes and no clusters: every class without its own."""

    start: datetime
    end: datetime
    meeting_url: str
    classes: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KeyMoment:
    """A key instant; ``class_id`` is set for a class's own (extended) grading instants."""

    at: datetime
    kind: KeyInstant
    class_id: str | None = None


@dataclass(frozen=True)
class RunTimeline:
    """The phases and key instants of one run; every datetime is aware, in the site's zone."""

    run_id: str
    tz: tzinfo
    provisioning_at: datetime
    online_1: Interval
    virtual_class: Interval
    online_2: Interval
    grading_days: int
    reminder_days: tuple[int, ...] = ()
    reminder_time: time = time(8, 0)
    meetings: tuple[Meeting, ...] = ()
    extensions: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    enrolment_grace_days: int = 0

    @property
    def start(self) -> datetime:
        """00:00 of day 1: the course start date."""
        return self.online_1.start

    @property
    def submission_due(self) -> datetime:
        """00:00 of day 17: the course end date and the final assignment's due date."""
        return self.online_2.end

    def grading_due(self, class_id: str | None = None) -> datetime:
        """The end of grading: ``grading_days`` after the submission due, plus the class's
        extension."""
        extension = self.extensions.get(class_id, 0) if class_id is not None else 0
        return self._days_after(self.submission_due, self.grading_days + extension)

    def enrolment_end(self, class_id: str | None = None) -> datetime:
        """The enrolment end of the class's learners and reporters: its grading due plus
        ``enrolment_grace_days``, so that the run closes (at its grading due) while every
        enrolment is still active."""
        return self._days_after(self.grading_due(class_id), self.enrolment_grace_days)

    def grading(self, class_id: str | None = None) -> Interval:
        return Interval(self.submission_due, self.grading_due(class_id))

    @property
    def closed_at(self) -> datetime:
        """When every class's grading is over, extensions included."""
        return max(self.grading_due(class_id) for class_id in (None, *self.extensions))

    def reminders(self, class_id: str | None = None) -> tuple[datetime, ...]:
        """The grading reminders of ``class_id``'s reporters, earliest first."""
        return tuple(sorted({at for _, at in self.reminder_moments(class_id)}))

    def reminder_moments(self, class_id: str | None = None) -> tuple[tuple[int, datetime], ...]:
        """Each reminder offset (days before the grading due) with its instant, earliest
        instant first."""
        due_day = self.grading_due(class_id).date()
        moments = {
            days: datetime.combine(
                due_day - timedelta(days=days), self.reminder_time, tzinfo=self.tz
            )
            for days in self.reminder_days
        }
        return tuple(sorted(moments.items(), key=lambda item: item[1]))

    def meetings_for(self, class_id: str, clusters: Iterable[str] = ()) -> tuple[Meeting, ...]:
        """The meetings of a class: those naming it; else those of its schools' clusters;
        else those naming neither (the run's default)."""
        named = tuple(m for m in self.meetings if class_id in m.classes)
        if named:
            return named
        cluster_set = set(clusters)
        of_clusters = tuple(m for m in self.meetings if cluster_set.intersection(m.clusters))
        if of_clusters:
            return of_clusters
        return tuple(m for m in self.meetings if not m.classes and not m.clusters)

    def key_moments(self, class_id: str | None = None) -> tuple[KeyMoment, ...]:
        """Every key instant in time order. For the run (``class_id`` None): the common
        ones, plus the reminders and grading due of each class with an extension."""
        common = [
            KeyMoment(self.provisioning_at, KeyInstant.PROVISIONING),
            KeyMoment(self.online_1.start, KeyInstant.ONLINE_1_OPENS),
            KeyMoment(self.virtual_class.start, KeyInstant.VIRTUAL_CLASS_OPENS),
            KeyMoment(self.online_2.start, KeyInstant.ONLINE_2_OPENS),
            KeyMoment(self.submission_due, KeyInstant.SUBMISSION_DUE),
        ]
        if class_id is None:
            graded: list[str | None] = [None, *sorted(self.extensions)]
            closed = self.closed_at
        else:
            graded = [class_id]
            closed = self.grading_due(class_id)
        for graded_class in graded:
            common += [
                KeyMoment(at, KeyInstant.GRADING_REMINDER, graded_class)
                for at in self.reminders(graded_class)
            ]
            common.append(
                KeyMoment(self.grading_due(graded_class), KeyInstant.GRADING_DUE, graded_class)
            )
        common.append(KeyMoment(closed, KeyInstant.CLOSED))
        order = list(KeyInstant)
        return tuple(sorted(common, key=lambda m: (m.at, order.index(m.kind), m.class_id or "")))

    def _days_after(self, moment: datetime, days: int) -> datetime:
        """Local midnight ``days`` calendar days after ``moment``'s local day."""
        return local_midnight(moment.astimezone(self.tz).date() + timedelta(days=days), self.tz)


def run_timeline(
    run: RunSettings,
    tz: tzinfo = LOCAL_TZ,
    extensions: Mapping[str, int] | None = None,
) -> RunTimeline:
    """The timeline of ``run`` in the zone ``tz``; ``extensions``: class id -> extra grading
    days granted by the Sở (>= 0)."""
    schedule = build_schedule(run.start, ScheduleConfig(grading_days=run.grading_days), extensions)
    return RunTimeline(
        run_id=run.id,
        tz=tz,
        provisioning_at=local_midnight(run.start - timedelta(days=run.provision_lead_days), tz),
        online_1=_interval(schedule.online_1, tz),
        virtual_class=_interval(schedule.virtual_class, tz),
        online_2=_interval(schedule.online_2, tz),
        grading_days=run.grading_days,
        reminder_days=tuple(run.reminder_days),
        reminder_time=run.reminder_time,
        meetings=tuple(_meeting(slot, tz) for slot in run.virtual_class),
        extensions=schedule.extensions,
        enrolment_grace_days=run.enrolment_grace_days,
    )


def phase_at(timeline: RunTimeline, now: datetime, class_id: str | None = None) -> Phase:
    """The phase at the aware instant ``now``; for the run (``class_id`` None) grading lasts
    until :attr:`RunTimeline.closed_at`, for a class until its own grading due."""
    _require_aware(now)
    end = timeline.closed_at if class_id is None else timeline.grading_due(class_id)
    if now < timeline.online_1.start:
        return Phase.BEFORE
    for phase, interval in (
        (Phase.ONLINE_1, timeline.online_1),
        (Phase.VIRTUAL_CLASS, timeline.virtual_class),
        (Phase.ONLINE_2, timeline.online_2),
        (Phase.GRADING, Interval(timeline.submission_due, end)),
    ):
        if interval.contains(now):
            return phase
    return Phase.CLOSED


def next_key_instant(
    timeline: RunTimeline, now: datetime, class_id: str | None = None
) -> KeyMoment | None:
    """The first key instant strictly after ``now`` (the daemon woken at an instant asks for
    the one after it); ``None`` once the run is closed."""
    _require_aware(now)
    return next((m for m in timeline.key_moments(class_id) if m.at > now), None)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")


def _interval(span: PhaseSpan, tz: tzinfo) -> Interval:
    return Interval(
        local_midnight(span.first_day, tz), local_midnight(span.last_day + timedelta(days=1), tz)
    )


def _meeting(slot: VirtualClassSlot, tz: tzinfo) -> Meeting:
    start = slot_start(slot, tz)
    return Meeting(
        start=start,
        end=start + timedelta(minutes=slot.duration_minutes),
        meeting_url=slot.meeting_url,
        classes=tuple(slot.classes),
        clusters=tuple(slot.clusters),
    )


def slot_start(slot: VirtualClassSlot, tz: tzinfo) -> datetime:
    """A slot's start in ``tz``: a naive configured time is local time in the site's zone."""
    if slot.start.tzinfo is None:
        return slot.start.replace(tzinfo=tz)
    return slot.start.astimezone(tz)
