"""What the schedule push needs from the sync journal: the dates it set and when it copied
each course. Read-only; no table of its own (the journal's ``syncaction`` rows say it all)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from store.models import SyncAction
from sync.model import ActionKind


def written_event_times(session: Session) -> dict[str, int]:
    """Event key -> the instant the last successful move or create of it set."""
    statement = (
        select(SyncAction)
        .where(
            col(SyncAction.kind).in_([ActionKind.MOVE_EVENT.value, ActionKind.CREATE_EVENT.value]),
            col(SyncAction.status) == "done",
        )
        .order_by(col(SyncAction.sync_run_id), col(SyncAction.seq))
    )
    written: dict[str, int] = {}
    for row in session.exec(statement):
        value = (row.data or {}).get("timestart")
        if value is not None:
            written[row.key] = int(value)
    return written


def course_copy_times(session: Session) -> dict[str, int]:
    """Course idnumber -> when the sync copied it (epoch seconds; the latest copy sent)."""
    # A copy whose answer was lost ("unknown") may well have been made: the read adopts it.
    statement = select(SyncAction.key, SyncAction.updated_at).where(
        col(SyncAction.kind) == ActionKind.CREATE_COURSE.value,
        col(SyncAction.status).in_(["done", "unknown"]),
    )
    copied: dict[str, int] = {}
    for key, when in session.exec(statement):
        stamp = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
        copied[key] = max(copied.get(key, 0), int(stamp.timestamp()))
    return copied
