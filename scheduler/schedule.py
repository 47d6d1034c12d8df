"""The schedule of one module run: a pure function of its start date, the config and ``now``.

Day 1 is the start date. With the defaults (the Sở's plan): days 1-7 online, days 8-9 virtual
class, days 10-16 online; the module ends on day 16; reporters grade until day 26 (end + 10
days), or later for a class given an extension. All day ranges are inclusive and in local
time (Asia/Ho_Chi_Minh); Moodle wants epoch seconds, given by ``local_midnight_epoch``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LOCAL_TIMEZONE_NAME = "Asia/Ho_Chi_Minh"


def local_zone(name: str = LOCAL_TIMEZONE_NAME) -> tzinfo:
    """The zone ``name``; for Asia/Ho_Chi_Minh without a tz database, its fixed UTC+7.

    (Viet Nam has kept UTC+7 without daylight saving since 1975.)
    """
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        if name != LOCAL_TIMEZONE_NAME:
            raise
        return timezone(timedelta(hours=7), LOCAL_TIMEZONE_NAME)


LOCAL_TZ = local_zone()


def local_midnight(day: date, tz: tzinfo = LOCAL_TZ) -> datetime:
    """00:00 local time on ``day``, an aware datetime in ``tz``: where every run day starts."""
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def local_midnight_epoch(day: date, tz: tzinfo = LOCAL_TZ) -> int:
    """Epoch seconds of 00:00 local time on ``day`` (2026-11-16 -> 1794762000 in Viet Nam)."""
    return int(local_midnight(day, tz).timestamp())


def local_date(moment: datetime, tz: tzinfo = LOCAL_TZ) -> date:
    """The local calendar day of an aware ``moment``; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(tz).date()


def epoch_to_local_date(epoch_seconds: int, tz: tzinfo = LOCAL_TZ) -> date:
    """The local calendar day of a Moodle timestamp."""
    return datetime.fromtimestamp(epoch_seconds, tz).date()


class Phase(StrEnum):
    BEFORE = "before"
    ONLINE_1 = "online-1"
    VIRTUAL_CLASS = "virtual-class"
    ONLINE_2 = "online-2"
    GRADING = "grading"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    """Lengths in days; the defaults are the Sở's 7 / 2 / 7 plan and 10 days of grading."""

    online_1_days: int = 7
    virtual_class_days: int = 2
    online_2_days: int = 7
    grading_days: int = 10

    def __post_init__(self) -> None:
        lengths = (self.online_1_days, self.virtual_class_days, self.online_2_days)
        if min(lengths) < 1 or self.grading_days < 0:
            raise ValueError(f"phase lengths must be >= 1 and grading days >= 0: {self}")


@dataclass(frozen=True, slots=True)
class PhaseSpan:
    """One phase, ``first_day`` to ``last_day`` inclusive."""

    phase: Phase
    first_day: date
    last_day: date

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def opens_at(self, tz: tzinfo = LOCAL_TZ) -> int:
        """Epoch seconds at local midnight starting ``first_day``."""
        return local_midnight_epoch(self.first_day, tz)

    def closes_at(self, tz: tzinfo = LOCAL_TZ) -> int:
        """Epoch seconds at local midnight ending ``last_day`` (the first instant after it)."""
        return local_midnight_epoch(self.last_day + timedelta(days=1), tz)


@dataclass(frozen=True)
class RunSchedule:
    """The dates of one module run; ``extensions`` maps class id to extra grading days."""

    start: date
    online_1: PhaseSpan
    virtual_class: PhaseSpan
    online_2: PhaseSpan
    grading_days: int
    extensions: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def end(self) -> date:
        """The last day of the module (day 16 by default)."""
        return self.online_2.last_day

    def grading_deadline(self, class_id: str | None = None) -> date:
        """The last grading day: end + grading days, plus the class's extension if any."""
        extension = self.extensions.get(class_id, 0) if class_id is not None else 0
        return self.end + timedelta(days=self.grading_days + extension)

    def grading(self, class_id: str | None = None) -> PhaseSpan:
        return PhaseSpan(
            Phase.GRADING, self.end + timedelta(days=1), self.grading_deadline(class_id)
        )

    def phases(self, class_id: str | None = None) -> tuple[PhaseSpan, ...]:
        """The four phases in order; the grading one for ``class_id``'s deadline."""
        spans = (self.online_1, self.virtual_class, self.online_2, self.grading(class_id))
        return tuple(span for span in spans if span.first_day <= span.last_day)

    def phase_at(self, now: datetime | date, class_id: str | None = None) -> Phase:
        """The phase on ``now``'s local day (an aware datetime, or a local date)."""
        day = local_date(now) if isinstance(now, datetime) else now
        if day < self.start:
            return Phase.BEFORE
        for span in self.phases(class_id):
            if span.contains(day):
                return span.phase
        return Phase.CLOSED


def build_schedule(
    start: date,
    config: ScheduleConfig | None = None,
    extensions: Mapping[str, int] | None = None,
) -> RunSchedule:
    """The schedule of a run starting (day 1) on ``start``; ``extensions``: class id -> days."""
    config = config or ScheduleConfig()
    extensions = dict(extensions or {})
    if any(days < 0 for days in extensions.values()):
        raise ValueError("grading extensions must be >= 0 days")
    online_1 = _span(Phase.ONLINE_1, start, config.online_1_days)
    virtual_class = _span(Phase.VIRTUAL_CLASS, _after(online_1), config.virtual_class_days)
    online_2 = _span(Phase.ONLINE_2, _after(virtual_class), config.online_2_days)
    return RunSchedule(
        start=start,
        online_1=online_1,
        virtual_class=virtual_class,
        online_2=online_2,
        grading_days=config.grading_days,
        extensions=MappingProxyType(dict(sorted(extensions.items()))),
    )


def _span(phase: Phase, first_day: date, days: int) -> PhaseSpan:
    return PhaseSpan(phase, first_day, first_day + timedelta(days=days - 1))


def _after(span: PhaseSpan) -> date:
    return span.last_day + timedelta(days=1)
