"""Tables of the state database (SQLModel). Schema changes go through Alembic migrations.

The roster side: schools, people (learners and core staff), their enrolment in module
runs, every input row's outcome per import, classes and their reporters.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class School(SQLModel, table=True):
    """A school or education centre of the province (``truong.xlsx``)."""

    code: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=255)
    kind: str = Field(default="", max_length=64)  # Loại hình: THCS, THPT, TH&THCS, ...
    district: str = Field(default="", max_length=128)
    cluster: str = Field(default="", max_length=128)


class Person(SQLModel, table=True):
    """One person, keyed by the identity code (Mã định danh): learner, core staff or both.

    ``status`` is ``active`` while the person is on the latest roster, ``left`` after.
    """

    identity_code: str = Field(primary_key=True, max_length=32)
    full_name: str = Field(max_length=255)
    lastname: str = Field(max_length=255)
    firstname: str = Field(max_length=128)
    birth_date: date | None = None
    gender: str = Field(default="", max_length=16)
    email: str = Field(default="", max_length=255, index=True)
    phone: str = Field(default="", max_length=32)
    school_code: str = Field(default="", max_length=32, index=True)
    district: str = Field(default="", max_length=128)
    level: str = Field(default="", max_length=16)
    audience: str = Field(default="", max_length=16)
    position: str = Field(default="", max_length=128)
    subject: str = Field(default="", max_length=128)
    is_learner: bool = True
    is_core_staff: bool = False
    staff_role: str = Field(default="", max_length=32)  # reporter / assistant
    staff_subject: str = Field(default="", max_length=128)
    staff_level: str = Field(default="", max_length=16)
    track: str = Field(default="", max_length=32)  # main / prerequisite (modules 1-3)
    exemption: str = Field(default="", max_length=16)  # "", exempt, reduced
    exemption_reason: str = Field(default="", max_length=255)
    concurrent_hdtnhn: bool = False
    status: str = Field(default="active", max_length=16)  # active / left / excluded
    left_at: datetime | None = None
    updated_at: datetime
    last_import_id: int | None = Field(default=None, foreign_key="rosterimport.id")


class RosterImport(SQLModel, table=True):
    """One import of roster files: when, what, and the counts per status and reason."""

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime
    files: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rows_read: int = 0
    imported: int = 0
    rejected: int = 0
    excluded: int = 0
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RowHeader(SQLModel, table=True):
    """The original column texts of one sheet of an import, stored once for all its rows."""

    import_id: int = Field(foreign_key="rosterimport.id", primary_key=True)
    seq: int = Field(primary_key=True)  # RowOutcome.header
    column_names: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RowOutcome(SQLModel, table=True):
    """What became of one input row: imported, rejected (reasons) or excluded (rule).

    Its original cells are ``cells``, aligned with the column texts of its import's
    :class:`RowHeader` number ``header`` (``store.roster_repo.original_cells`` pairs them).
    """

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="rosterimport.id", index=True)
    source_file: str = Field(max_length=255)
    sheet: str = Field(default="", max_length=128)
    row_number: int
    identity_code: str = Field(default="", max_length=32, index=True)
    status: str = Field(max_length=16)
    reasons: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    header: int = 0
    cells: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class TrainingClass(SQLModel, table=True):
    """A class (lớp) of one module run, level, audience and subject."""

    id: str = Field(primary_key=True, max_length=160)
    run_id: str = Field(max_length=32, index=True)
    level: str = Field(max_length=16)
    audience: str = Field(max_length=16)
    subject: str = Field(max_length=128)
    ordinal: int
    name: str = Field(max_length=255)
    kind: str = Field(default="main", max_length=16)  # main / reference (concurrent subject)
    grading_extension_days: int = 0


class ClassMember(SQLModel, table=True):
    """A learner's seat in a class: one main seat per run, plus reference seats."""

    run_id: str = Field(primary_key=True, max_length=32)
    identity_code: str = Field(primary_key=True, foreign_key="person.identity_code", max_length=32)
    kind: str = Field(primary_key=True, default="main", max_length=16)  # main / reference
    class_id: str = Field(foreign_key="trainingclass.id", max_length=160, index=True)


class ClassHistory(SQLModel, table=True):
    """The class a learner belongs to in a run (their "home" class), kept after they leave.

    It survives what one bad import does: when the learner comes back, or their class is
    reopened after a closure had moved them, the allocation returns them to it. It changes
    when they are placed in another class that lasts (their group changed, the class was
    rebalanced, or they came back and their class was full).
    """

    run_id: str = Field(primary_key=True, max_length=32)
    identity_code: str = Field(primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, default="main", max_length=16)  # main / reference
    class_id: str = Field(max_length=160)  # no foreign key: the class may be closed


class StaffHistory(SQLModel, table=True):
    """The reporters and assistants a class had (its "home" staff), kept when it closes.

    The next assignment starts from these pairs, so a class reopened after a bad import gets
    its staff back; a class's pairs are replaced only when all of them left the core staff.
    """

    run_id: str = Field(primary_key=True, max_length=32)
    class_id: str = Field(primary_key=True, max_length=160)  # no foreign key: may be closed
    identity_code: str = Field(primary_key=True, max_length=32)
    role: str = Field(max_length=16)  # reporter / assistant


class ClassStaff(SQLModel, table=True):
    """A reporter or assistant assigned to a class."""

    class_id: str = Field(primary_key=True, foreign_key="trainingclass.id", max_length=160)
    identity_code: str = Field(primary_key=True, foreign_key="person.identity_code", max_length=32)
    role: str = Field(max_length=16)  # reporter / assistant


class LmsAccount(SQLModel, table=True):
    """An LMS account this software created (or adopted): the accounts it may manage."""

    identity_code: str = Field(primary_key=True, max_length=32)
    lms_user_id: int = Field(index=True)
    username: str = Field(max_length=100)
    created_at: datetime
    suspended: bool = False  # as this software last set it


class SyncRun(SQLModel, table=True):
    """One ``sync plan`` or ``sync apply``: who, when, what it planned and what became of it."""

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None
    user: str = Field(default="", max_length=64)
    mode: str = Field(max_length=16)  # plan / apply
    # running / done / done_with_errors / stopped / interrupted / killed
    status: str = Field(max_length=16)
    plan_digest: str = Field(default="", max_length=64)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    message: str = Field(default="", max_length=2000)
    # How hard the apply pushed the LMS: concurrency mode, level chosen and why, steps.
    tuning: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The apply read every participant's profile fields (none trusted from the journal):
    # the re-syncs after it may trust them for [provisioning] profile_recheck_days.
    profiles_read_all: bool = False
    # The process that runs it, so a later run can tell a live run from a killed one.
    host: str = Field(default="", max_length=255)
    pid: int | None = None


class SyncAction(SQLModel, table=True):
    """The journal: every action of an apply and its outcome."""

    id: int | None = Field(default=None, primary_key=True)
    sync_run_id: int = Field(foreign_key="syncrun.id", index=True)
    seq: int
    kind: str = Field(max_length=32)
    key: str = Field(max_length=255, index=True)
    reason: str = Field(default="", max_length=500)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)  # pending/done/failed/unknown
    error: str = Field(default="", max_length=2000)
    updated_at: datetime
    batch_seq: int | None = None  # the SyncBatch that last settled it (None: never sent)
    # For an ``unknown`` outcome: what a later run's read-back of the LMS found.
    resolution: str = Field(default="", max_length=16)  # "" / done / not_done
    resolved_by_run: int | None = None


class SyncBatch(SQLModel, table=True):
    """One request of an apply, journaled as soon as it was answered (or its answer lost)."""

    sync_run_id: int = Field(foreign_key="syncrun.id", primary_key=True)
    seq: int = Field(primary_key=True)
    kind: str = Field(max_length=32)
    call: str = Field(max_length=64)  # the wsfunction
    size: int
    status: str = Field(max_length=16)  # done / failed / unknown / pending
    done: int = 0
    failed: int = 0
    unknown: int = 0
    pending: int = 0
    error: str = Field(default="", max_length=2000)
    recorded_at: datetime


class GradingPull(SQLModel, table=True):
    """One pull of a run's progress and grades from the LMS, and what it cost."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=32, index=True)
    started_at: datetime
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=16)  # running / done / failed
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    calls: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    problems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class LearnerResult(SQLModel, table=True):
    """The completion decision for one seat (person x course) at one pull."""

    pull_id: int = Field(foreign_key="gradingpull.id", primary_key=True)
    identity_code: str = Field(primary_key=True, max_length=32)
    course_idnumber: str = Field(primary_key=True, max_length=255)
    run_id: str = Field(max_length=32, index=True)
    class_code: str = Field(default="", max_length=160)
    seat: str = Field(default="main", max_length=16)  # main / reference
    outcome: str = Field(max_length=16)  # completed / not_completed / exempt / reference
    reasons: str = Field(default="", max_length=200)  # reason codes, comma-separated
    explanation: str = Field(default="", max_length=2000)  # Vietnamese, every reason
    final_grade: float | None = None
    final_grade_max: float | None = None
    grader_id: int | None = None
    auto_pass: bool = False
    assessor_pass: bool = False
    survey_answered: bool = False
    survey_positive: bool | None = None
    activities: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CompletionWrite(SQLModel, table=True):
    """The write-back journal: one override of the "module completed" activity per
    learner seat that completed a run, and what became of it.

    ``status``: pending (planned) / sending (handed to the LMS, no answer journaled yet)
    / done / failed / unknown (sent, answer lost: read back before anything is sent again).
    """

    run_id: str = Field(primary_key=True, max_length=32)
    identity_code: str = Field(primary_key=True, max_length=32)
    course_idnumber: str = Field(primary_key=True, max_length=255)
    pull_id: int  # the pull whose result is written
    course_id: int  # LMS ids
    lms_user_id: int
    cmid: int
    status: str = Field(default="pending", max_length=16, index=True)
    error: str = Field(default="", max_length=2000)
    # For an ``unknown`` (or ``sending``) call: what the read-back found (done / not_done).
    resolution: str = Field(default="", max_length=16)
    planned_at: datetime
    updated_at: datetime


class RunClosing(SQLModel, table=True):
    """The closing of a module run: once per run; a closing not ``done`` is resumed."""

    run_id: str = Field(primary_key=True, max_length=32)
    status: str = Field(default="running", max_length=16)  # running / done
    started_at: datetime
    finished_at: datetime | None = None
    forced: bool = False  # closed before the grading window ended
    pull_id: int | None = None  # the closing pull
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    files: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    problems: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class GradingExtension(SQLModel, table=True):
    """A class's grading deadline extended by the Sở: who, when, why, from what to what.

    One row per decision, never updated but for the LMS outcome; the newest row of a class
    is its extension (``TrainingClass.grading_extension_days`` mirrors it). No foreign key
    to the class: it may be closed and reopened by a later allocation, and keeps its
    extension.
    """

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=32, index=True)
    class_id: str = Field(max_length=160, index=True)
    until: date  # the new last grading day (local); grading is due at 00:00 the day after
    days: int  # extra grading days over the run's, in total
    previous_until: date
    previous_days: int
    reason: str = Field(max_length=1000)
    granted_by: str = Field(max_length=64)
    granted_at: datetime
    # The class's enrolments re-sent to the LMS with the new end (None: not yet).
    lms_updated_at: datetime | None = None
    lms_enrolments: int = 0
    lms_error: str = Field(default="", max_length=2000)


class GradingReminder(SQLModel, table=True):
    """One grading reminder to one assessor for one class, deadline and offset.

    The unique key is what "never twice" means: a reminder ``offset_days`` before the
    class's grading due ``due_epoch`` (a new due after an extension has its own). ``status``:
    ``sending`` (claimed, the answer not yet stored), ``sent``, ``refused`` (Moodle said
    why), ``skipped`` (the account is suspended or gone in the LMS), ``unknown`` (the answer
    was lost: never re-sent), ``failed`` (not sent: tried again on the next call).
    """

    __table_args__ = (
        UniqueConstraint(
            "run_id", "class_id", "identity_code", "offset_days", "due_epoch", name="uq_reminder"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=32, index=True)
    class_id: str = Field(max_length=160)
    identity_code: str = Field(max_length=32)
    offset_days: int
    due_epoch: int  # the class's grading due, epoch seconds
    status: str = Field(max_length=16)
    lms_user_id: int | None = None
    msgid: int | None = None
    waiting: int = 0  # submissions waiting for a grade, as the message said
    pull_id: int | None = None
    text: str = Field(default="", max_length=4000)
    error: str = Field(default="", max_length=2000)
    created_at: datetime
    updated_at: datetime


class JobRun(SQLModel, table=True):
    """One run of one daemon job (``bdtx daemon``): when it was due, what became of it.

    ``outcome``: running / ok / failed / retrying (the LMS was unreachable: tried again at
    ``retry_at``) / interrupted (stopped on request) / killed (its process died) / skipped.
    """

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=160, index=True)  # e.g. "sync:M4-2023", "inbox"
    kind: str = Field(max_length=32)
    run_id: str = Field(default="", max_length=32)  # the module run ("" for the inbox)
    scheduled_for: datetime
    started_at: datetime
    ended_at: datetime | None = None
    outcome: str = Field(default="running", max_length=16, index=True)
    attempt: int = 1  # 1, then 2, 3, ... while the LMS stays unreachable
    outage_since: datetime | None = None  # the first failed attempt of a retry streak
    retry_at: datetime | None = None
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: str = Field(default="", max_length=2000)  # redacted
    host: str = Field(default="", max_length=255)
    pid: int | None = None


class DaemonLock(SQLModel, table=True):
    """The one daemon allowed per state database: who holds it, since when, last heartbeat."""

    name: str = Field(primary_key=True, max_length=32)
    host: str = Field(max_length=255)
    pid: int
    since: datetime
    heartbeat: datetime
    clock_at: datetime | None = None  # the daemon's own (maybe simulated) time at heartbeat
