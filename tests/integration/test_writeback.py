"""Write-back against the sandbox LMS: course completion follows, a lost answer is read
back (never re-sent blindly), re-running writes nothing, a correction is reported."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from connector.client import MoodleClient
from connector.completion import OVERRIDE_ACTIVITY_COMPLETION_STATUS
from connector.lms import MoodleLms
from grading.writeback import CompletedSeat, WritebackReport, write_back
from sandbox import SandboxLms, SandboxOptions
from sandbox.faults import FaultKind
from store.closing_repo import journal_of, set_status

NOW = 1_796_500_000
WHEN = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)
COURSE = "BDTX-M4-THCS-GV-TOAN"
CODES = ("7000000001", "7000000002", "7000000003", "7000000004")


def _site() -> tuple[SandboxLms, int, dict[str, int]]:
    """A copy of a template with the "module completed" activity and four learners."""
    sandbox = SandboxLms(SandboxOptions(module_completed_activity=True), clock=lambda: NOW)
    course = sandbox.call(
        "core_course_duplicate_course",
        {"courseid": 2, "fullname": "Toán THCS", "shortname": COURSE, "categoryid": 1},
    )["id"]
    users = sandbox.call(
        "core_user_create_users",
        {
            "users": [
                {
                    "username": f"hv{code}",
                    "password": "Hv#2026abcd",
                    "firstname": "Học viên",
                    "lastname": code,
                    "email": f"hv{code}@example.edu.vn",
                }
                for code in CODES
            ]
        },
    )
    ids = {code: user["id"] for code, user in zip(CODES, users, strict=True)}
    sandbox.call(
        "enrol_manual_enrol_users",
        {"enrolments": [{"roleid": 5, "userid": i, "courseid": course} for i in ids.values()]},
    )
    return sandbox, course, ids


def _lms(sandbox: SandboxLms, concurrency: int = 1) -> MoodleLms:
    client = MoodleClient(
        "http://sandbox.invalid",
        sandbox.token_for("syncbot"),
        transport=sandbox.transport(),
        max_concurrency=concurrency,
    )
    return MoodleLms(client)


def _course_completed(sandbox: SandboxLms, course: int, userid: int) -> bool:
    status = sandbox.call(
        "core_completion_get_course_completion_status", {"courseid": course, "userid": userid}
    )
    return bool(status["completionstatus"]["completed"])


def _write(
    engine: Engine, lms: MoodleLms, course: int, ids: dict[str, int], codes: tuple[str, ...]
) -> WritebackReport:
    return write_back(
        engine,
        lms,
        "M4-2026",
        [CompletedSeat(code, COURSE, ids[code]) for code in codes],
        course_ids={COURSE: course},
        activity_idnumber="module_completed",
        pull_id=1,
        now=WHEN,
    )


def test_the_course_completion_of_exactly_the_completed_learners_follows(engine: Engine) -> None:
    sandbox, course, ids = _site()

    report = _write(engine, _lms(sandbox, concurrency=2), course, ids, CODES[:3])

    assert report.sent == 3
    assert report.statuses == {"done": 3}
    assert report.complete
    assert report.calls[OVERRIDE_ACTIVITY_COMPLETION_STATUS] == 3
    assert [_course_completed(sandbox, course, ids[c]) for c in CODES] == [True, True, True, False]


def test_running_again_writes_nothing(engine: Engine) -> None:
    sandbox, course, ids = _site()
    _write(engine, _lms(sandbox), course, ids, CODES[:3])

    again = _write(engine, _lms(sandbox), course, ids, CODES[:3])

    assert (again.sent, again.already_done) == (0, 3)
    assert OVERRIDE_ACTIVITY_COMPLETION_STATUS not in again.calls


def test_a_lost_answer_is_read_back_and_not_sent_again(engine: Engine) -> None:
    sandbox, course, ids = _site()
    sandbox.inject_fault(
        OVERRIDE_ACTIVITY_COMPLETION_STATUS, on_call=2, kind=FaultKind.DROP_RESPONSE
    )

    first = _write(engine, _lms(sandbox), course, ids, CODES[:3])
    assert first.statuses == {"done": 2, "unknown": 1}
    assert not first.complete

    second = _write(engine, _lms(sandbox), course, ids, CODES[:3])

    assert (second.read_back_done, second.sent) == (1, 0)
    assert OVERRIDE_ACTIVITY_COMPLETION_STATUS not in second.calls
    assert second.statuses == {"done": 3}
    assert _course_completed(sandbox, course, ids[CODES[1]])


def test_a_write_left_in_flight_that_never_arrived_is_sent_after_the_read_back(
    engine: Engine,
) -> None:
    """A process killed after journaling 'sending' and before the request left."""
    sandbox, course, ids = _site()
    _write(engine, _lms(sandbox), course, ids, CODES[:1])
    sandbox.call(  # the LMS does not have it (as if never sent)
        "core_completion_override_activity_completion_status",
        {"userid": ids[CODES[0]], "cmid": journal_of(engine, "M4-2026")[0].cmid, "newstate": 0},
    )
    set_status(engine, "M4-2026", [((CODES[0], COURSE), "sending", "", None)], WHEN)

    report = _write(engine, _lms(sandbox), course, ids, CODES[:1])

    assert (report.read_back_done, report.read_back_resent, report.sent) == (0, 1, 1)
    [row] = journal_of(engine, "M4-2026")
    assert (row.status, row.resolution) == ("done", "not_done")


def test_a_learner_no_longer_completed_is_reported_never_unwritten(engine: Engine) -> None:
    sandbox, course, ids = _site()
    _write(engine, _lms(sandbox), course, ids, CODES[:2])

    later = _write(engine, _lms(sandbox), course, ids, CODES[:1])

    assert [(c.identity_code, c.course_idnumber) for c in later.corrections] == [(CODES[1], COURSE)]
    assert "cần người có thẩm quyền xem xét" in later.corrections[0].describe()
    assert OVERRIDE_ACTIVITY_COMPLETION_STATUS not in later.calls
    assert _course_completed(sandbox, course, ids[CODES[1]])


def test_a_course_without_the_activity_is_named_and_nothing_is_written(engine: Engine) -> None:
    sandbox, course, ids = _site()

    report = write_back(
        engine,
        _lms(sandbox),
        "M4-2026",
        [CompletedSeat(CODES[0], COURSE, ids[CODES[0]])],
        course_ids={COURSE: course},
        activity_idnumber="hoan_thanh",
        pull_id=1,
        now=WHEN,
    )

    assert report.problems == (
        f"Khóa học {COURSE}: không có hoạt động mã hoan_thanh (hoạt động 'hoàn thành "
        "mô-đun' của khóa mẫu): chưa ghi hoàn thành",
    )
    assert not report.complete
    assert journal_of(engine, "M4-2026") == []


def test_an_activity_without_completion_tracking_is_refused_not_silently_done(
    engine: Engine,
) -> None:
    """Real Moodle 4.5, asked to override the completion of an activity whose completion
    tracking is "none", changes nothing and answers ``state`` 0, ``tracking`` 0, without
    an error (tried on the real site, cmid of a forum): nothing is complete, the course
    completion does not follow, and the write-back says what to change."""
    sandbox, course, ids = _site()
    [activity] = [
        a
        for a in sandbox.site.activities.values()
        if a.course == course and a.idnumber == "module_completed"
    ]
    activity.completion = 0

    report = _write(engine, _lms(sandbox), course, ids, CODES[:1])

    assert report.statuses == {"failed": 1}
    assert not report.complete
    assert "no completion tracking" in report.failures[0]
    assert not _course_completed(sandbox, course, ids[CODES[0]])
    answer = sandbox.call(
        "core_completion_override_activity_completion_status",
        {"userid": ids[CODES[1]], "cmid": activity.cmid, "newstate": 1},
    )
    assert (answer["state"], answer["tracking"], answer["overrideby"]) == (0, 0, None)
