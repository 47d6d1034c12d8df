"""Grading extensions granted by the Sở (``bdtx grading extend``): stored and read back.

A class's extension is its newest :class:`~store.models.GradingExtension` row; a class
never extended has the days its :class:`~store.models.TrainingClass` row carries (0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlmodel import Session, col, select

from store.models import GradingExtension, TrainingClass


def latest_extensions(session: Session, class_ids: Iterable[str]) -> dict[str, GradingExtension]:
    """The newest extension row of each class that has one."""
    ids = list(class_ids)
    latest: dict[str, GradingExtension] = {}
    if not ids:
        return latest
    rows = session.exec(
        select(GradingExtension)
        .where(col(GradingExtension.class_id).in_(ids))
        .order_by(col(GradingExtension.id))
    )
    for row in rows:
        latest[row.class_id] = row
    return latest


def extension_days(session: Session, classes: Iterable[TrainingClass]) -> dict[str, int]:
    """Class id -> extra grading days: the newest extension granted, else the class's own."""
    by_id = {c.id: c for c in classes}
    latest = latest_extensions(session, by_id)
    return {
        class_id: latest[class_id].days if class_id in latest else klass.grading_extension_days
        for class_id, klass in by_id.items()
    }


def record_extension(session: Session, extension: GradingExtension) -> GradingExtension:
    """Store a granted extension and mirror its days on the class row."""
    session.add(extension)
    klass = session.get(TrainingClass, extension.class_id)
    if klass is not None:
        klass.grading_extension_days = extension.days
        session.add(klass)
    session.flush()
    return extension


def record_lms_outcome(
    session: Session, extension_id: int, *, now: dt.datetime, enrolments: int, error: str = ""
) -> None:
    """What the LMS did with the class's enrolments (an empty ``error``: done)."""
    row = session.get(GradingExtension, extension_id)
    if row is None:
        return
    row.lms_enrolments = enrolments
    row.lms_error = error[:2000]
    row.lms_updated_at = None if error else now
    session.add(row)


def run_extension_days(session: Session, run_id: str) -> dict[str, int]:
    """Class id -> extra grading days for every class of a run: what
    :func:`scheduler.timeline.run_timeline` takes wherever a run's timeline is built."""
    classes = session.exec(select(TrainingClass).where(TrainingClass.run_id == run_id))
    return extension_days(session, classes)
