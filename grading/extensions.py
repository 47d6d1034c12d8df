"""A class's grading extension (``bdtx grading extend``): what it changes, or why not (pure).

``until`` is the new last grading day, a local date: grading is then due at 00:00 of the
day after, as the run's own due (:mod:`scheduler.timeline`). The extension is stored as
days over the run's ``grading_days``; a new extension replaces the previous one and must
end later than the class's current deadline (extensions never shorten one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.schedule import local_midnight
from scheduler.timeline import RunTimeline

MAX_EXTENSION_DAYS = 60  # beyond the run's own grading window: a typo more likely than a plan


class ExtensionRefused(ValueError):
    """The extension makes no sense; the message says why, in Vietnamese."""


@dataclass(frozen=True, slots=True)
class ExtensionChange:
    class_id: str
    previous_days: int
    days: int
    previous_until: date  # the last grading day before
    until: date
    previous_due: datetime  # 00:00 after the last grading day
    due: datetime


def last_grading_day(due: datetime) -> date:
    """The last local day of grading for a due at 00:00 local time."""
    return due.date() - timedelta(days=1)


def _vn(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def plan_extension(timeline: RunTimeline, class_id: str, until: date) -> ExtensionChange:
    """The change from the class's current deadline (``timeline`` carries its extension)
    to ``until``; :class:`ExtensionRefused` when it is not later, or unreasonably far."""
    previous_due = timeline.grading_due(class_id)
    previous_until = last_grading_day(previous_due)
    run_until = last_grading_day(timeline.grading_due(None))
    if until <= previous_until:
        raise ExtensionRefused(
            f"Lớp {class_id}: ngày gia hạn {_vn(until)} không sau hạn chấm hiện tại "
            f"(hết ngày {_vn(previous_until)}). Gia hạn chỉ kéo dài hạn chấm, không rút ngắn."
        )
    days = (until - run_until).days
    if days > MAX_EXTENSION_DAYS:
        raise ExtensionRefused(
            f"Lớp {class_id}: ngày gia hạn {_vn(until)} quá xa, hơn {MAX_EXTENSION_DAYS} ngày "
            f"sau hạn chấm của đợt (hết ngày {_vn(run_until)}). Kiểm tra lại ngày."
        )
    return ExtensionChange(
        class_id=class_id,
        previous_days=timeline.extensions.get(class_id, 0),
        days=days,
        previous_until=previous_until,
        until=until,
        previous_due=previous_due,
        due=local_midnight(until + timedelta(days=1), timeline.tz),
    )
