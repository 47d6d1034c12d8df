"""Send the grading reminders due at ``now`` (``bdtx grading remind``, and the daemon).

Idempotent and cheap to call often: it reads a run's classes and their extensions, and
stops there (no LMS call, no pull rows read) unless some class is inside a reminder
window; then it reads the waiting submissions of the latest finished pull, selects
(:func:`grading.reminders.select_reminders`), checks the recipients' accounts in the LMS
(one ``core_user_get_users_by_field``: Moodle accepts messages to a suspended user
silently, so a suspension made by hand in Moodle is caught here), claims each reminder in
the state database before sending (two callers at once never send the same one), sends
one ``core_message_send_instant_messages`` call for all, and records each outcome.

A reminder whose answer was lost is recorded ``unknown`` and never sent again; one that
was not sent (the LMS refused the call) is ``failed`` and sent on the next call.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine

from config.settings import RunSettings, Settings
from connector.errors import LmsConfigError, LmsError, LmsOutcomeUnknown
from connector.lms import MoodleLms
from connector.messages import InstantMessage
from grading.reminders import (
    NOT_IN_LMS,
    SUSPENDED,
    ClassReminder,
    Reminder,
    Skipped,
    current_offset,
    reminder_html,
    reminder_lines,
    select_reminders,
)
from scheduler.timeline import run_timeline
from store.closing_repo import closing_of
from store.reminders_repo import (
    Claim,
    claim,
    load_class_work,
    load_run_classes,
    sent_keys,
    settle,
)

log = logging.getLogger(__name__)

SENT = "sent"
REFUSED = "refused"
SKIPPED = "skipped"
UNKNOWN = "unknown"
FAILED = "failed"
WOULD_SEND = "would_send"  # --dry-run


@dataclass(frozen=True)
class ReminderOutcome:
    """One message (or, with ``--dry-run``, one that would go) and what became of it."""

    identity_code: str
    full_name: str
    lms_user_id: int | None
    classes: tuple[ClassReminder, ...]
    status: str
    text: str
    error: str = ""


@dataclass(frozen=True)
class RemindReport:
    run_id: str
    now: dt.datetime
    dry_run: bool
    pull_id: int | None = None
    outcomes: tuple[ReminderOutcome, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    lms_calls: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def problems(self) -> bool:
        return any(o.status in (FAILED, UNKNOWN, REFUSED) for o in self.outcomes)


def run_label(run: RunSettings) -> str:
    return f"{run.name or f'Mô đun {run.module}'} ({run.id})"


def remind(
    engine: Engine,
    lms: MoodleLms | None,
    settings: Settings,
    run_id: str,
    *,
    now: dt.datetime,
    dry_run: bool = False,
) -> RemindReport:
    """Send (or with ``dry_run`` only show) the reminders of ``run_id`` due at ``now``."""
    run = settings.run(run_id)
    tz = settings.site_zone()
    closing = closing_of(engine, run_id)
    if closing is not None and closing.status == "done":
        # Closed (perhaps early, with --force): a grade given now no longer counts.
        note = f"Đợt {run_id} đã tổng kết: không nhắc chấm bài nữa."
        return RemindReport(run_id, now, dry_run, notes=(note,))
    classes = load_run_classes(engine, run_id)
    timeline = run_timeline(run, tz, classes.extensions)
    in_window = [c for c in sorted(classes.names) if current_offset(timeline, c, now)]
    if not in_window:
        return RemindReport(run_id, now, dry_run, notes=("Không có lớp nào đến giờ nhắc.",))
    pulled = load_class_work(engine, run_id, in_window)
    if pulled.pull_id is None:
        note = "Chưa lấy dữ liệu chấm bài (bdtx grading pull): chưa biết lớp nào còn bài chờ chấm."
        return RemindReport(run_id, now, dry_run, notes=(note,))
    selection = select_reminders(run_id, pulled.work, timeline, now, sent_keys(engine, run_id))
    label = run_label(run)

    def text_of(reminder: Reminder) -> str:
        return reminder_html(
            reminder_lines(reminder, run_label=label, tz=tz, pulled_at=pulled.pulled_at)
        )

    base = RemindReport(run_id, now, dry_run, pulled.pull_id, skipped=selection.skipped)
    if dry_run or not selection.reminders:
        outcomes = tuple(_outcome(r, WOULD_SEND, text_of(r)) for r in selection.reminders)
        return replace(base, outcomes=outcomes)
    if lms is None:
        raise ValueError("an LMS is needed to send reminders")
    calls_before = lms.client.stats.calls
    outcomes, skipped = _send(engine, lms, selection.reminders, text_of, pulled.pull_id, now)
    calls = lms.client.stats.calls - calls_before
    return replace(base, outcomes=outcomes, skipped=(*selection.skipped, *skipped), lms_calls=calls)


def _outcome(reminder: Reminder, status: str, text: str, error: str = "") -> ReminderOutcome:
    assessor = reminder.assessor
    return ReminderOutcome(
        assessor.identity_code,
        assessor.full_name,
        assessor.lms_user_id,
        reminder.classes,
        status,
        text,
        error,
    )


def _send(
    engine: Engine,
    lms: MoodleLms,
    reminders: Sequence[Reminder],
    text_of: Callable[[Reminder], str],
    pull_id: int | None,
    now: dt.datetime,
) -> tuple[tuple[ReminderOutcome, ...], tuple[Skipped, ...]]:
    user_ids = [r.assessor.lms_user_id for r in reminders if r.assessor.lms_user_id is not None]
    found = lms.users.get_users_by_field("id", user_ids)
    outcomes: list[ReminderOutcome] = []
    skipped: list[Skipped] = []
    to_send: list[tuple[Reminder, list[int], str]] = []
    for reminder in reminders:
        assessor = reminder.assessor
        assert assessor.lms_user_id is not None
        claims = [
            Claim(key, assessor.lms_user_id, c.waiting)
            for key, c in zip(reminder.keys, reminder.classes, strict=True)
        ]
        held = claim(engine, claims, pull_id=pull_id, now=now)
        if not held:
            continue  # another caller has them
        kept = Reminder(
            reminder.run_id,
            assessor,
            tuple(c for k, c in zip(reminder.keys, reminder.classes, strict=True) if k in held),
        )
        ids = list(held.values())
        user = found.get(assessor.lms_user_id)
        if user is None or user.suspended:
            reason = "không còn tài khoản trên LMS" if user is None else "bị tạm khóa trên LMS"
            settle(engine, ids, status=SKIPPED, now=now, error=reason)
            skipped.extend(
                Skipped(c.class_code, assessor.identity_code, SUSPENDED if user else NOT_IN_LMS)
                for c in kept.classes
            )
            continue
        to_send.append((kept, ids, text_of(kept)))
    if not to_send:
        return tuple(outcomes), tuple(skipped)
    messages = [
        InstantMessage(
            touserid=reminder.assessor.lms_user_id or 0,
            text=text,
            clientmsgid=f"bdtx-remind-{min(ids)}",
        )
        for reminder, ids, text in to_send
    ]
    try:
        answers = lms.messages.send_instant_messages(messages)
    except LmsError as error:
        status = UNKNOWN if isinstance(error, LmsOutcomeUnknown) else FAILED
        for reminder, ids, text in to_send:
            settle(engine, ids, status=status, now=now, text=text, error=str(error))
            outcomes.append(_outcome(reminder, status, text, str(error)))
        log.warning("grading reminders %s: %s", status, error)
        if isinstance(error, LmsConfigError):
            raise
        return tuple(outcomes), tuple(skipped)
    for (reminder, ids, text), (_, answer) in zip(to_send, answers, strict=True):
        if answer.sent:
            settle(engine, ids, status=SENT, now=now, text=text, msgid=answer.msgid)
            outcomes.append(_outcome(reminder, SENT, text))
        else:
            why = answer.errormessage or "refused"
            settle(engine, ids, status=REFUSED, now=now, text=text, error=why)
            outcomes.append(_outcome(reminder, REFUSED, text, why))
    log.info(
        "grading reminders: %d sent, %d refused",
        sum(1 for o in outcomes if o.status == SENT),
        sum(1 for o in outcomes if o.status == REFUSED),
    )
    return tuple(outcomes), tuple(skipped)
