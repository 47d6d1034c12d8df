"""Pull a provisioned province's progress and grades, and decide completion.

The sample's module 4 is provisioned into the sandbox LMS; in one class, learners do what
learners do (through their own tokens: quiz, submission, survey) and the class's reporter
grades, once an outsider too. The pull then reads every course of the run and the rule
decides: each learner gets the outcome and reasons their actions call for, and the LMS
calls grow with courses, never with learners.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlmodel import select

from grading.pull import RunPull, pull_run
from grading.rule import CompletionPolicy, Outcome, Reason, decide_run
from sandbox.lms import SandboxLms
from sandbox.options import TEMPLATE_D0
from store.db import session_scope
from store.models import LmsAccount
from sync.desired import load_desired
from tests.e2e.provisioning import Province, provisioned_sample
from tests.sandbox_acting import act_as

DAY = 86400
BEFORE_RUN = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)
IN_THE_GRADING_WINDOW = dt.datetime(2023, 9, 25, 8, 0, tzinfo=dt.UTC)
AFTER_THE_RUN = dt.datetime(2023, 11, 1, 8, 0, tzinfo=dt.UTC)
COURSE = "BDTX-M4-2023-THCS-GV-TOAN"
STUDENT, TEACHER = 5, 4


@dataclass(frozen=True)
class ClassInLms:
    course_id: int
    quiz_id: int
    assign_id: int
    feedback_id: int
    reporter: str
    learners: dict[str, str]  # identity code -> username


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    province = provisioned_sample(tmp_path_factory.mktemp("pull"), BEFORE_RUN)
    ctx = province.ctx
    yield province
    ctx.close()


def _first_class(lms: SandboxLms) -> ClassInLms:
    site = lms.site
    course = site.courses[site.course_by_idnumber[COURSE]]
    group = site.groups[site.groups_of_course[course.id][0]]
    members = site.group_members[group.id]
    by_role: dict[int, list[int]] = {STUDENT: [], TEACHER: []}
    for userid in sorted(members):
        for role in site.course_roles(course.id, userid):
            by_role.setdefault(role, []).append(userid)
    activities = {a.modname: a for a in site.activities.values() if a.course == course.id}
    reporter = site.users[by_role[TEACHER][0]].username
    learners = {site.users[u].idnumber: site.users[u].username for u in by_role[STUDENT][:6]}
    for username in [reporter, *learners.values()]:
        lms.issue_token(username)
    return ClassInLms(
        course.id,
        activities["quiz"].instance,
        activities["assign"].instance,
        activities["feedback"].instance,
        reporter,
        learners,
    )


def _quiz(lms: SandboxLms, username: str, quiz_id: int, *, correct: bool) -> None:
    attempt = act_as(lms, username, "mod_quiz_start_attempt", {"quizid": quiz_id})["attempt"]
    act_as(
        lms,
        username,
        "mod_quiz_process_attempt",
        {
            "attemptid": attempt["id"],
            "finishattempt": 1,
            "data": [
                {"name": f"q{attempt['id']}:1_:sequencecheck", "value": "1"},
                {"name": f"q{attempt['id']}:1_answer", "value": "1" if correct else "0"},
            ],
        },
    )


def _submit(lms: SandboxLms, username: str, assign_id: int) -> None:
    act_as(
        lms,
        username,
        "mod_assign_save_submission",
        {
            "assignmentid": assign_id,
            "plugindata": {
                "onlinetext_editor": {"text": "<p>Sản phẩm</p>", "format": 1, "itemid": 0}
            },
        },
    )


def _grade(lms: SandboxLms, grader: str, assign_id: int, username: str, grade: float) -> None:
    userid = lms.site.user_by_username[username]
    act_as(
        lms,
        grader,
        "mod_assign_save_grade",
        {
            "assignmentid": assign_id,
            "userid": userid,
            "grade": grade,
            "attemptnumber": -1,
            "addattempt": 0,
            "workflowstate": "",
            "applytoall": 1,
        },
    )


def _answer_survey(lms: SandboxLms, username: str, feedback_id: int, option: str) -> None:
    activity = lms.site.activity_of("feedback", feedback_id)
    assert activity is not None
    item = activity.settings["items"][0]["id"]
    act_as(
        lms,
        username,
        "mod_feedback_process_page",
        {
            "feedbackid": feedback_id,
            "page": 0,
            "responses": [{"name": f"multichoice_{item}", "value": option}],
        },
    )


# What each of the six learners does, and what the rule must say of them.
STORY: list[tuple[bool, bool, float | None, str, tuple[Reason, ...]]] = [
    # quiz passed, submitted, grade, graded by, expected reasons
    (True, True, 80.0, "reporter", ()),
    (False, True, 80.0, "reporter", (Reason.NO_AUTO_PASS,)),
    (True, False, None, "", (Reason.NOT_SUBMITTED,)),
    (True, True, None, "", (Reason.NOT_GRADED,)),
    (True, True, 30.0, "reporter", (Reason.BELOW_PASS_MARK,)),
    (True, True, 90.0, "syncbot", (Reason.GRADER_NOT_ASSESSOR,)),
]


@pytest.fixture(scope="module")
def acted(province: Province) -> tuple[ClassInLms, RunPull]:
    lms = province.ctx.sandbox()
    one = _first_class(lms)
    learners = list(one.learners.values())
    lms.clock = lambda: float(TEMPLATE_D0 + 10 * DAY)  # quiz open, submissions open
    for (quiz_ok, submits, _, _, _), username in zip(STORY, learners, strict=True):
        _quiz(lms, username, one.quiz_id, correct=quiz_ok)
        if submits:
            _submit(lms, username, one.assign_id)
    lms.clock = lambda: float(TEMPLATE_D0 + 22 * DAY)  # survey open
    for option, username in zip(("1", "4"), learners, strict=False):
        _answer_survey(lms, username, one.feedback_id, option)
    for (_, _, grade, grader, _), username in zip(STORY, learners, strict=True):
        if grade is not None:
            who = one.reporter if grader == "reporter" else "syncbot"
            _grade(lms, who, one.assign_id, username, grade)
    lms.clock = lambda: IN_THE_GRADING_WINDOW.timestamp()  # enrolments still running
    return one, _pull(province)


def _pull(province: Province) -> RunPull:
    with session_scope(province.ctx.engine()) as session:
        desired = load_desired(
            session, province.ctx.settings.runs, province.ctx.settings.provisioning
        )
        accounts = {a.identity_code: a.lms_user_id for a in session.exec(select(LmsAccount))}
    return pull_run(province.ctx.lms(), desired, "M4-2023", accounts=accounts)


def test_each_learner_gets_the_outcome_their_actions_call_for(
    acted: tuple[ClassInLms, RunPull],
) -> None:
    one, pulled = acted
    results = decide_run(pulled.evidence, CompletionPolicy(), pulled.assessors_by_class)
    by_code = {r.identity_code: r for r in results}
    for (_, _, _, _, reasons), code in zip(STORY, one.learners, strict=True):
        result = by_code[code]
        assert result.reasons == reasons, code
        assert result.completed == (reasons == ())
    assert pulled.problems == ()


def test_learners_who_did_nothing_have_every_reason_and_no_one_is_lost(
    acted: tuple[ClassInLms, RunPull], province: Province
) -> None:
    one, pulled = acted
    results = decide_run(pulled.evidence, CompletionPolicy(), pulled.assessors_by_class)
    idle = [
        r
        for r in results
        if r.identity_code not in one.learners and r.outcome is not Outcome.REFERENCE
    ]
    assert idle, "the rest of the province did nothing"
    assert all(r.reasons == (Reason.NO_AUTO_PASS, Reason.NOT_SUBMITTED) for r in idle)
    with session_scope(province.ctx.engine()) as session:
        desired = load_desired(
            session, province.ctx.settings.runs, province.ctx.settings.provisioning
        )
    seats = [e for e in desired.enrolments.values() if e.role == "student"]
    assert len(results) == len(seats)
    references = [r for r in results if r.outcome is Outcome.REFERENCE]
    assert len(references) == sum(1 for e in seats if e.reference) > 0


def test_the_survey_answers_are_read_with_their_rating(acted: tuple[ClassInLms, RunPull]) -> None:
    one, pulled = acted
    first, second = list(one.learners)[:2]
    assert pulled.survey_positive == {(first, COURSE): True, (second, COURSE): False}
    answered = {e.identity_code for e in pulled.evidence if e.survey_answered}
    assert answered == {first, second}


def test_calls_grow_with_courses_not_learners(acted: tuple[ClassInLms, RunPull]) -> None:
    _, pulled = acted
    courses = 28
    assert pulled.calls == {
        "core_course_get_categories": 1,
        "core_course_get_courses_by_field": 1,
        "gradereport_user_get_grade_items": courses,
        "core_course_get_course_module": 3 * courses,  # quiz and final pass grades, survey
        "core_course_get_contents": courses,
        "mod_feedback_get_responses_analysis": courses,
        "mod_assign_get_submissions": 1,
        "mod_assign_get_grades": 1,
    }
    assert "mod_assign_get_submission_status" not in pulled.calls


def test_a_pull_is_stored_with_every_seat_and_its_reasons(
    acted: tuple[ClassInLms, RunPull], province: Province
) -> None:
    from grading import service
    from store.grading_repo import latest_pull, results_of

    one, _ = acted
    ctx = province.ctx
    report = service.pull(ctx.engine(), ctx.lms(), ctx.settings, "M4-2023", now=BEFORE_RUN)
    assert report.counts["completed"] == 1
    assert report.counts["reason:grader_not_assessor"] == 1
    assert [r.identity_code for r in report.flagged] == [list(one.learners)[5]]
    assert (report.survey_answered, report.survey_positive) == (2, 1)
    with session_scope(ctx.engine()) as session:
        pull = latest_pull(session, "M4-2023")
        assert pull is not None
        assert pull.id == report.pull_id
        assert pull.counts == dict(report.counts)
        assert pull.calls["gradereport_user_get_grade_items"] == 28
        rows = {(r.identity_code, r.course_idnumber): r for r in results_of(session, pull.id)}
    assert len(rows) == len(report.results)
    first, second, third = list(one.learners)[:3]
    assert rows[(first, COURSE)].outcome == "completed"
    assert rows[(first, COURSE)].survey_positive is True
    assert rows[(second, COURSE)].reasons == "no_auto_pass"
    assert "quiz_auto: 0/5 điểm, chưa đạt" in rows[(second, COURSE)].explanation
    assert rows[(third, COURSE)].explanation == "Chưa nộp bài tập cuối khóa"


def test_after_the_enrolments_end_each_learner_is_read_alone_with_the_same_results(
    acted: tuple[ClassInLms, RunPull], province: Province
) -> None:
    """Moodle's course-wide grade report lists active enrolments only (recorded on a real
    Moodle 4.5): after a run's enrolments end, the pull reads each learner alone and says
    so, and decides exactly as before."""
    _, during = acted
    lms = province.ctx.sandbox()
    lms.clock = lambda: AFTER_THE_RUN.timestamp()
    try:
        after = _pull(province)
    finally:
        lms.clock = lambda: IN_THE_GRADING_WINDOW.timestamp()
    learners_with_accounts = len(after.evidence)
    assert after.calls["gradereport_user_get_grade_items"] == 28 + learners_with_accounts
    assert any("hết thời hạn ghi danh" in problem for problem in after.problems)
    policy = CompletionPolicy()
    before = decide_run(during.evidence, policy, during.assessors_by_class)
    now = decide_run(after.evidence, policy, after.assessors_by_class)
    assert [(r.identity_code, r.reasons) for r in now] == [
        (r.identity_code, r.reasons) for r in before
    ]


def test_an_incremental_pull_decides_as_a_full_one_after_changes(
    acted: tuple[ClassInLms, RunPull], province: Province
) -> None:
    """Runs last: it changes grades. ``mod_assign_get_grades`` with ``since`` returns only
    the rows changed since the previous pull; the others come from its snapshot."""
    from grading import service

    one, _ = acted
    ctx = province.ctx
    lms = ctx.sandbox()
    baseline_at = dt.datetime.fromtimestamp(TEMPLATE_D0 + 23 * DAY, dt.UTC)  # after every grade
    baseline = service.pull(
        ctx.engine(), ctx.lms(), ctx.settings, "M4-2023", now=baseline_at, full=True
    )
    learners = list(one.learners.values())
    lms.clock = lambda: float(TEMPLATE_D0 + 24 * DAY)
    try:
        _grade(lms, one.reporter, one.assign_id, learners[3], 70.0)  # was waiting for a grade
        _grade(lms, one.reporter, one.assign_id, learners[4], 85.0)  # was below the mark
        _grade(lms, one.reporter, one.assign_id, learners[0], 20.0)  # was completed
    finally:
        lms.clock = lambda: IN_THE_GRADING_WINDOW.timestamp()
    later = baseline_at + dt.timedelta(days=2)

    incremental = service.pull(ctx.engine(), ctx.lms(), ctx.settings, "M4-2023", now=later)
    full = service.pull(ctx.engine(), ctx.lms(), ctx.settings, "M4-2023", now=later, full=True)

    assert incremental.since == int(baseline_at.timestamp()) - service.SINCE_MARGIN_S
    assert full.since is None

    def decided(report: service.PullReport) -> list[tuple[str, str, tuple[Reason, ...]]]:
        return [(r.identity_code, r.outcome.value, r.reasons) for r in report.results]

    assert decided(incremental) == decided(full)
    assert decided(incremental) != decided(baseline)
    by_code = {r.identity_code: r for r in incremental.results}
    codes = list(one.learners)
    assert [by_code[codes[i]].completed for i in range(6)] == [
        False,
        False,
        False,
        True,
        True,
        False,
    ]
    assert by_code[codes[5]].reasons == (Reason.GRADER_NOT_ASSESSOR,)  # kept from the snapshot
