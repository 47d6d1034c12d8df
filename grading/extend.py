"""Extend a class's grading deadline (``bdtx grading extend``): record the Sở's decision and
keep Moodle consistent with it.

What Moodle offers (recorded, ``_meta__grading_scenario.json``): ``mod_assign_save_user_
extensions`` extends one learner's *submission* due date only; the assignment's due,
cut-off and grading-due dates stay, and there is no per-class grading due. So nothing in
the assignment moves, and Moodle's own timeline keeps showing the reporter the course's
grading due. What does move is the end of the class's enrolments (learners and
assessors: they end with the class's grading window, ``sync/desired.py``), so that the
reporter can still grade until the new deadline. The sync cannot read an enrolment's end
back (``core_enrol_get_enrolled_users`` does not give it), so it would never notice the
change: the extension re-sends the class's current enrolments itself, with
``enrol_manual_enrol_users`` (which updates the times of an existing enrolment, recorded
``ok_already_enrolled``); people not yet enrolled get the new end from the next sync.
If the LMS cannot be reached, the decision stays recorded and running the same command
again re-sends the enrolments.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlmodel import col, select

from config.settings import RunSettings, Settings
from connector.enrol import Enrolment
from connector.errors import LmsConfigError, LmsError
from connector.lms import MoodleLms
from grading.extensions import ExtensionChange, ExtensionRefused, plan_extension
from scheduler.timeline import run_timeline
from store.db import session_scope
from store.extensions_repo import (
    extension_days,
    latest_extensions,
    record_extension,
    record_lms_outcome,
)
from store.models import GradingExtension, LmsAccount, TrainingClass
from sync.desired import load_desired

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtendReport:
    run_id: str
    class_id: str
    class_name: str
    change: ExtensionChange
    reason: str
    granted_by: str
    granted_at: dt.datetime
    extension_id: int
    repeated: bool  # the same extension again: only its enrolments were re-sent
    course_in_lms: bool = False
    enrolments_updated: int = 0
    enrolments_failed: int = 0
    not_enrolled_yet: int = 0  # the next sync enrols them with the new end
    lms_error: str = ""
    # The end sent with the class's enrolments: the grading due plus the run's
    # enrolment_grace_days (None: nothing sent).
    enrolment_end: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.lms_error and not self.enrolments_failed


def extend_class(
    engine: Engine,
    lms: MoodleLms | None,
    settings: Settings,
    class_id: str,
    until: dt.date,
    reason: str,
    *,
    user: str,
    now: dt.datetime,
) -> ExtendReport:
    """Record the extension of ``class_id`` to ``until`` (its new last grading day), then
    move the end of the class's enrolments in the LMS (``lms`` None: only record)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ExtensionRefused("Cần ghi lý do gia hạn (--reason).")
    with session_scope(engine) as session:
        klass = session.get(TrainingClass, class_id)
        if klass is None:
            raise ExtensionRefused(
                f"Không có lớp {class_id}. Xem mã các lớp bằng lệnh 'bdtx classes show'."
            )
        run = settings.run(klass.run_id)
        latest = latest_extensions(session, [class_id]).get(class_id)
        current = extension_days(session, [klass])
        timeline = run_timeline(run, settings.site_zone(), current)
        repeated = latest is not None and latest.until == until and latest.lms_updated_at is None
        if latest is not None and repeated:
            row = latest
            change = ExtensionChange(
                class_id,
                latest.previous_days,
                latest.days,
                latest.previous_until,
                latest.until,
                run_timeline(
                    run, settings.site_zone(), {class_id: latest.previous_days}
                ).grading_due(class_id),
                timeline.grading_due(class_id),
            )
        else:
            change = plan_extension(timeline, class_id, until)
            row = record_extension(
                session,
                GradingExtension(
                    run_id=run.id,
                    class_id=class_id,
                    until=change.until,
                    days=change.days,
                    previous_until=change.previous_until,
                    previous_days=change.previous_days,
                    reason=reason[:1000],
                    granted_by=user[:64],
                    granted_at=now,
                ),
            )
        assert row.id is not None
        report = ExtendReport(
            run_id=run.id,
            class_id=class_id,
            class_name=klass.name,
            change=change,
            reason=row.reason,
            granted_by=row.granted_by,
            granted_at=row.granted_at,
            extension_id=row.id,
            repeated=repeated,
        )
    log.info(
        "grading extension: class %s until %s (%+d days) by %s",
        class_id,
        change.until.isoformat(),
        change.days - change.previous_days,
        report.granted_by,
    )
    if lms is None:
        return report
    return _move_enrolments(engine, lms, settings, run, report, now)


def _move_enrolments(
    engine: Engine,
    lms: MoodleLms,
    settings: Settings,
    run: RunSettings,
    report: ExtendReport,
    now: dt.datetime,
) -> ExtendReport:
    """Re-send the class's current enrolments with the end the desired state now gives."""
    with session_scope(engine) as session:
        desired = load_desired(session, [run], settings.provisioning)
        wanted = [e for e in desired.enrolments.values() if report.class_id in e.groups]
        codes = [e.identity_code for e in wanted]
        accounts = {
            a.identity_code: a.lms_user_id
            for a in session.exec(
                select(LmsAccount).where(col(LmsAccount.identity_code).in_(codes))
            )
        }
    course_ids = {e.course_idnumber for e in wanted}
    try:
        rows: list[Enrolment] = []
        course_in_lms = False
        for course_idnumber in sorted(course_ids):
            found = lms.courses.get_courses_by_field("idnumber", course_idnumber).courses
            if not found:
                continue
            course_in_lms = True
            course = found[0].id
            enrolled = {u.id for u in lms.enrol.get_enrolled_users(course)}
            rows += [
                Enrolment(
                    roleid=settings.provisioning.role_ids[e.role],
                    userid=accounts[e.identity_code],
                    courseid=course,
                    timestart=e.timestart,
                    timeend=e.timeend,
                )
                for e in wanted
                if e.course_idnumber == course_idnumber
                and accounts.get(e.identity_code) in enrolled
            ]
        outcome = lms.enrol.enrol_users(rows) if rows else None
    except LmsError as error:
        with session_scope(engine) as session:
            record_lms_outcome(
                session, report.extension_id, now=now, enrolments=0, error=str(error)
            )
        log.warning("grading extension %s: enrolments not updated: %s", report.class_id, error)
        if isinstance(error, LmsConfigError):
            raise
        return replace(report, lms_error=str(error))
    ends = [r.timeend for r in rows if r.timeend is not None]
    enrolment_end = (
        dt.datetime.fromtimestamp(max(ends), tz=report.change.due.tzinfo) if ends else None
    )
    done = len(outcome.done) if outcome else 0
    failed = len(outcome.failed) if outcome else 0
    refused = "; ".join(str(e) for _, e in outcome.failed[:3]) if outcome else ""
    with session_scope(engine) as session:
        record_lms_outcome(session, report.extension_id, now=now, enrolments=done, error=refused)
    return replace(
        report,
        course_in_lms=course_in_lms,
        enrolments_updated=done,
        enrolments_failed=failed,
        not_enrolled_yet=len(wanted) - done - failed,
        lms_error=refused,
        enrolment_end=enrolment_end,
    )
