"""Who is due a grading reminder at ``now``, and what it says (pure).

A class's assessors (reporters and assistants) are reminded at each of the run's
``reminder_days`` before the class's grading due (extensions included), at
``reminder_time`` (:meth:`scheduler.timeline.RunTimeline.reminder_moments`), when:

* the class has submissions waiting for a grade at the latest pull;
* the grading due has not passed (an overdue class goes on the Sở's escalation list);
* the assessor is on the roster (not left), has an LMS account, and the sync has not
  suspended it (Moodle accepts a message to a suspended user without a word: recorded);
* the same reminder (run, class, assessor, offset, due) was never sent before.

Only the latest offset whose instant has passed counts: a caller that was not running at
the 3-day instant and wakes after the 1-day one sends the 1-day reminder alone. A new due
(an extension) has reminders of its own. One message per assessor names every class due
a reminder at that moment.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from scheduler.timeline import RunTimeline

LEFT = "left"
NO_ACCOUNT = "no_account"
SUSPENDED = "suspended"
NOT_IN_LMS = "not_in_lms"

SKIP_LABELS = {
    LEFT: "không còn trong danh sách",
    NO_ACCOUNT: "chưa có tài khoản trên hệ thống",
    SUSPENDED: "tài khoản bị tạm khóa",
    NOT_IN_LMS: "tài khoản không còn trên LMS",
}


@dataclass(frozen=True, slots=True)
class Assessor:
    """A reporter or assistant of a class, as the state database knows them."""

    identity_code: str
    full_name: str
    role: str = "reporter"
    active: bool = True  # still on the roster
    lms_user_id: int | None = None
    suspended: bool = False  # as the sync last set the account


@dataclass(frozen=True, slots=True)
class ClassWork:
    """A class with the submissions waiting for a grade at the latest pull."""

    class_code: str
    class_name: str
    waiting: int
    assessors: tuple[Assessor, ...]


@dataclass(frozen=True, slots=True, order=True)
class SlotKey:
    """What makes a reminder the same reminder."""

    run_id: str
    class_code: str
    identity_code: str
    offset_days: int
    due_epoch: int


@dataclass(frozen=True, slots=True)
class ClassReminder:
    """One class in a reminder."""

    class_code: str
    class_name: str
    waiting: int
    due: datetime
    days_left: int
    offset_days: int


@dataclass(frozen=True)
class Reminder:
    """One message to one assessor, for every class due a reminder at that moment."""

    run_id: str
    assessor: Assessor
    classes: tuple[ClassReminder, ...]

    @property
    def keys(self) -> tuple[SlotKey, ...]:
        return tuple(
            SlotKey(
                self.run_id,
                c.class_code,
                self.assessor.identity_code,
                c.offset_days,
                int(c.due.timestamp()),
            )
            for c in self.classes
        )


@dataclass(frozen=True, slots=True)
class Skipped:
    """An assessor left out of a reminder that was due, and why (a key of SKIP_LABELS)."""

    class_code: str
    identity_code: str
    reason: str


@dataclass(frozen=True)
class Selection:
    reminders: tuple[Reminder, ...] = ()
    skipped: tuple[Skipped, ...] = field(default_factory=tuple)


def current_offset(
    timeline: RunTimeline, class_code: str, now: datetime
) -> tuple[int, datetime] | None:
    """The latest reminder offset of the class whose instant is at or before ``now`` (and
    its grading due not yet reached); ``None`` when no reminder is due."""
    due = timeline.grading_due(class_code)
    if now >= due:
        return None
    passed = [(days, at) for days, at in timeline.reminder_moments(class_code) if at <= now]
    return passed[-1] if passed else None


def days_left(due: datetime, now: datetime, tz: tzinfo) -> int:
    """Local calendar days from ``now`` to the due (as the deadlines table counts them)."""
    return (due.astimezone(tz).date() - now.astimezone(tz).date()).days


def _skip_reason(assessor: Assessor) -> str | None:
    if not assessor.active:
        return LEFT
    if assessor.lms_user_id is None:
        return NO_ACCOUNT
    if assessor.suspended:
        return SUSPENDED
    return None


def select_reminders(
    run_id: str,
    classes: Iterable[ClassWork],
    timeline: RunTimeline,
    now: datetime,
    already: Set[SlotKey] = frozenset(),
) -> Selection:
    """The reminders due at ``now`` that were not sent before (``already``)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    per_assessor: dict[str, tuple[Assessor, list[ClassReminder]]] = {}
    skipped: list[Skipped] = []
    for work in sorted(classes, key=lambda c: c.class_code):
        if work.waiting <= 0:
            continue
        offset = current_offset(timeline, work.class_code, now)
        if offset is None:
            continue
        offset_days, _ = offset
        due = timeline.grading_due(work.class_code)
        line = ClassReminder(
            work.class_code,
            work.class_name,
            work.waiting,
            due,
            days_left(due, now, timeline.tz),
            offset_days,
        )
        for assessor in sorted(work.assessors, key=lambda a: a.identity_code):
            key = SlotKey(
                run_id, work.class_code, assessor.identity_code, offset_days, int(due.timestamp())
            )
            if key in already:
                continue
            reason = _skip_reason(assessor)
            if reason is not None:
                skipped.append(Skipped(work.class_code, assessor.identity_code, reason))
                continue
            entry = per_assessor.setdefault(assessor.identity_code, (assessor, []))
            entry[1].append(line)
    reminders = tuple(
        Reminder(run_id, assessor, tuple(lines))
        for _, (assessor, lines) in sorted(per_assessor.items())
    )
    return Selection(reminders, tuple(skipped))


def _day(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d/%m/%Y")


def reminder_lines(
    reminder: Reminder, *, run_label: str, tz: tzinfo, pulled_at: datetime | None
) -> list[str]:
    """The message, line by line, in Vietnamese (NFC)."""
    lines = [
        f"Kính gửi {reminder.assessor.full_name or reminder.assessor.identity_code},",
        f"Nhắc hạn chấm bài tập cuối khóa, đợt bồi dưỡng {run_label}:",
    ]
    for c in reminder.classes:
        left = "hôm nay là ngày cuối" if c.days_left <= 0 else f"còn {c.days_left} ngày"
        name = f"{c.class_name} ({c.class_code})" if c.class_name else f"Lớp {c.class_code}"
        lines.append(
            f"- {name}: {c.waiting} bài đã nộp chưa được chấm; hạn chấm trước 00:00 "
            f"ngày {_day(c.due, tz)} ({left})."
        )
    if pulled_at is not None:
        lines.append(f"Số liệu lấy từ hệ thống lúc {pulled_at.astimezone(tz):%H:%M %d/%m/%Y}.")
    lines.append("Kính đề nghị thầy/cô hoàn thành việc chấm điểm trên hệ thống trước hạn.")
    return [unicodedata.normalize("NFC", line) for line in lines]


def reminder_html(lines: Sequence[str]) -> str:
    """The message as Moodle's HTML text format (``textformat`` 1): one paragraph a line."""
    return "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines)
