"""Write a closed run's completion back to the LMS, journaled and resumable.

For every learner seat that completed the run (final results only), the completion of
the template's "module completed" activity (found by its ID number, the run's
``activities.module_completed``) is overridden to complete with
``core_completion_override_activity_completion_status``: Moodle's course completion (and
certificates) follow at once (recorded). The call takes one learner: one call per seat,
up to the client's ``max_concurrency`` at once.

Recorded too: marking the activity incomplete again does not take the course completion
back. So nothing is ever un-written: a seat written as complete that a later decision no
longer completes is reported as a *correction* for a person to act on in Moodle.

Every write is journaled (``store.models.CompletionWrite``) before it is sent (pending),
while in flight (sending) and as soon as answered (done / failed / unknown). A write
whose answer was lost, or that a killed process left in flight, is never sent again
blindly: the next run reads the learner's activity completion back
(``core_completion_get_activities_completion_status``) and only sends it again if the
LMS does not have it. A seat already done is never sent again: re-running writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from connector.completion import COMPLETE, COMPLETE_PASS
from connector.errors import LmsConfigError, LmsOutcomeUnknown, LmsWsError
from connector.lms import MoodleLms
from store.closing_repo import WriteKey, journal_of, plan_writes, set_status
from store.models import CompletionWrite

# Rows the LMS may or may not have acted on: read back before anything else.
IN_DOUBT = ("unknown", "sending")


@dataclass(frozen=True)
class CompletedSeat:
    """A learner seat that completed the run: what the write-back marks."""

    identity_code: str
    course_idnumber: str
    lms_user_id: int

    @property
    def key(self) -> WriteKey:
        return (self.identity_code, self.course_idnumber)


@dataclass(frozen=True)
class Correction:
    """A seat written as complete in the LMS that the latest decision does not complete.

    Never un-written (Moodle would keep the course completion anyway): a person decides.
    """

    identity_code: str
    course_idnumber: str
    written_at: dt.datetime

    def describe(self) -> str:
        """Vietnamese, for the Sở."""
        return (
            f"Học viên {self.identity_code} (khóa {self.course_idnumber}) đã được ghi hoàn thành "
            f"trên hệ thống lúc {self.written_at:%d/%m/%Y %H:%M} nhưng kết quả mới nhất là chưa "
            "hoàn thành: cần người có thẩm quyền xem xét và sửa trên hệ thống."
        )


@dataclass(frozen=True)
class WritePlan:
    """What a write-back run does, decided from the journal and the completed seats."""

    new: tuple[CompletedSeat, ...]  # completed, never journaled: to send
    corrections: tuple[WriteKey, ...]  # done in the journal, no longer completed
    dropped: tuple[WriteKey, ...]  # planned or refused, no longer completed
    retry: tuple[WriteKey, ...]  # refused by the LMS before, still completed: sent again


def plan_writeback(
    journal: Mapping[WriteKey, str], completed: Iterable[CompletedSeat]
) -> WritePlan:
    """Pure: ``journal`` maps each journaled seat to its status (after read-backs)."""
    seats = {seat.key: seat for seat in completed}
    return WritePlan(
        new=tuple(seats[key] for key in sorted(seats) if key not in journal),
        corrections=tuple(
            sorted(key for key, status in journal.items() if status == "done" and key not in seats)
        ),
        dropped=tuple(
            sorted(
                key
                for key, status in journal.items()
                if status in ("pending", "failed") and key not in seats
            )
        ),
        retry=tuple(
            sorted(key for key, status in journal.items() if status == "failed" and key in seats)
        ),
    )


@dataclass(frozen=True)
class WritebackReport:
    """One write-back run: what it sent and what stands in the journal afterwards."""

    sent: int
    already_done: int  # done before this run
    read_back_done: int  # in doubt, and the LMS had it: not sent again
    read_back_resent: int  # in doubt, the LMS did not have it: sent again
    statuses: Mapping[str, int]  # the journal's rows by status, afterwards
    failures: tuple[str, ...]  # one line per failed seat
    corrections: tuple[Correction, ...]
    problems: tuple[str, ...]  # in Vietnamese
    calls: Mapping[str, int]

    @property
    def complete(self) -> bool:
        """Every completed seat is written and nothing is left in doubt."""
        return not self.problems and set(self.statuses) <= {"done", "dropped"}


def find_activity(lms: MoodleLms, course_id: int, idnumber: str) -> int | None:
    """The cmid of the course's activity with ``idnumber`` (``core_course_get_contents``
    gives no ID numbers: ``core_course_get_course_module`` per activity, last first)."""
    modules = [m for section in lms.courses.get_contents(course_id) for m in section.modules]
    for module in reversed(modules):
        if lms.courses.get_course_module(module.id).idnumber == idnumber:
            return module.id
    return None


def _read_back(lms: MoodleLms, rows: Sequence[CompletionWrite]) -> list[bool]:
    """Whether the LMS has each row's activity complete for its learner."""

    def has(row: CompletionWrite) -> bool:
        states = lms.completion.get_activities_completion_status(row.course_id, row.lms_user_id)
        return any(
            s.cmid == row.cmid and s.state in (COMPLETE, COMPLETE_PASS) for s in states.statuses
        )

    return lms.client.map_concurrent(has, rows)


def _send(lms: MoodleLms, row: CompletionWrite) -> tuple[str, str]:
    """(status, error) of one override."""
    try:
        answer = lms.completion.override_activity_completion_status(
            row.lms_user_id, row.cmid, complete=True
        )
    except LmsOutcomeUnknown as error:
        return "unknown", str(error)
    except LmsConfigError:
        raise  # the service or its rights: nothing else can succeed either
    except LmsWsError as error:
        return "failed", str(error)
    if answer.tracking == 0:
        # Moodle changes nothing on an activity without completion tracking, and says so
        # only by ``tracking`` 0 (real Moodle 4.5).
        return "failed", (
            f"activity {row.cmid} has no completion tracking in the LMS, which changed "
            "nothing: set manual completion on it (and on the template's)"
        )
    if answer.state not in (COMPLETE, COMPLETE_PASS):
        return "failed", f"the LMS answered state {answer.state}"
    return "done", ""


def write_back(
    engine: Engine,
    lms: MoodleLms,
    run_id: str,
    completed: Iterable[CompletedSeat],
    *,
    course_ids: Mapping[str, int],
    activity_idnumber: str,
    pull_id: int,
    now: dt.datetime,
) -> WritebackReport:
    """Mark ``completed`` seats complete in the LMS; ``course_ids``: course idnumber ->
    LMS id of the run's courses."""
    before = {name: s.calls for name, s in lms.client.stats.snapshot().items()}
    completed = list(completed)
    journal = {(r.identity_code, r.course_idnumber): r for r in journal_of(engine, run_id)}
    already_done = sum(1 for r in journal.values() if r.status == "done")

    # 1. Rows in doubt: read back, never re-send blindly.
    doubtful = [r for r in journal.values() if r.status in IN_DOUBT]
    found = _read_back(lms, doubtful)
    set_status(
        engine,
        run_id,
        (
            (
                (r.identity_code, r.course_idnumber),
                "done" if has else "pending",
                r.error,
                "done" if has else "not_done",
            )
            for r, has in zip(doubtful, found, strict=True)
        ),
        now,
    )
    statuses = {key: r.status for key, r in journal.items()}
    for r, has in zip(doubtful, found, strict=True):
        statuses[(r.identity_code, r.course_idnumber)] = "done" if has else "pending"

    # 2. Plan: new seats, corrections, seats planned but no longer completed.
    plan = plan_writeback(statuses, completed)
    set_status(engine, run_id, ((key, "dropped", "", None) for key in plan.dropped), now)
    set_status(engine, run_id, ((key, "pending", "", None) for key in plan.retry), now)
    problems: list[str] = []
    cmids: dict[str, int | None] = {}
    for course in sorted({seat.course_idnumber for seat in plan.new}):
        if course not in course_ids:
            problems.append(f"Khóa học {course} không có trên hệ thống: chưa ghi hoàn thành")
            cmids[course] = None
            continue
        cmids[course] = find_activity(lms, course_ids[course], activity_idnumber)
        if cmids[course] is None:
            problems.append(
                f"Khóa học {course}: không có hoạt động mã {activity_idnumber} "
                "(hoạt động 'hoàn thành mô-đun' của khóa mẫu): chưa ghi hoàn thành"
            )
    plan_writes(
        engine,
        [
            {
                "run_id": run_id,
                "identity_code": seat.identity_code,
                "course_idnumber": seat.course_idnumber,
                "pull_id": pull_id,
                "course_id": course_ids[seat.course_idnumber],
                "lms_user_id": seat.lms_user_id,
                "cmid": cmids[seat.course_idnumber],
                "status": "pending",
                "error": "",
                "resolution": "",
                "planned_at": now,
                "updated_at": now,
            }
            for seat in plan.new
            if cmids.get(seat.course_idnumber) is not None
        ],
    )

    # 3. Send every pending row, journaling each chunk before and after.
    pending = [r for r in journal_of(engine, run_id) if r.status == "pending"]
    resent = sum(1 for r in pending if r.resolution == "not_done")
    chunk = max(1, lms.client.max_concurrency)
    for start in range(0, len(pending), chunk):
        rows = pending[start : start + chunk]
        keys = [(r.identity_code, r.course_idnumber) for r in rows]
        set_status(engine, run_id, ((key, "sending", "", None) for key in keys), now)
        answers = lms.client.map_concurrent(lambda row: _send(lms, row), rows)
        set_status(
            engine,
            run_id,
            (
                (key, status, error, None)
                for key, (status, error) in zip(keys, answers, strict=True)
            ),
            now,
        )

    final = journal_of(engine, run_id)
    by_key = {(r.identity_code, r.course_idnumber): r for r in final}
    after = lms.client.stats.snapshot()
    calls = Counter({name: s.calls - before.get(name, 0) for name, s in after.items()})
    return WritebackReport(
        sent=len(pending),
        already_done=already_done,
        read_back_done=sum(1 for has in found if has),
        read_back_resent=resent,
        statuses=dict(sorted(Counter(r.status for r in final).items())),
        failures=tuple(
            f"{r.identity_code} ({r.course_idnumber}): {r.error}"
            for r in final
            if r.status == "failed"
        ),
        corrections=tuple(
            Correction(key[0], key[1], by_key[key].updated_at) for key in plan.corrections
        ),
        problems=tuple(problems),
        calls={name: count for name, count in sorted(calls.items()) if count},
    )
