"""The sample's module 4, provisioned, lived through by simulated learners and reporters,
then pulled: every learner's decided result is the one the simulation expects.

The run starts on the template's day 1, so the copied courses' activity dates are the
run's without moving any (moving them is the schedule push's business).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlmodel import select

from cli.context import AppContext
from grading import service
from grading.pull import ActivityIds, pull_run
from grading.rule import Outcome, Reason
from sandbox.activity import ActivitySummary, simulate_until
from sandbox.options import TEMPLATE_D0
from scheduler.schedule import LOCAL_TZ
from scheduler.timeline import run_timeline
from store.db import session_scope
from store.models import LmsAccount
from sync.desired import load_desired
from tests.e2e.provisioning import M4, SAMPLE, Province, province_settings

START = dt.datetime.fromtimestamp(TEMPLATE_D0, LOCAL_TZ).date()
RUN = M4.model_copy(update={"start": START})
BEFORE_RUN = dt.datetime.combine(START - dt.timedelta(days=10), dt.time(8), tzinfo=LOCAL_TZ)
AFTER_LATE_GRADING = dt.datetime.combine(
    START + dt.timedelta(days=28), dt.time(8), tzinfo=LOCAL_TZ
)  # day 29: two days after the grading deadline


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    folder = tmp_path_factory.mktemp("simulated")
    settings = province_settings(f"sqlite:///{folder / 'state.sqlite'}")
    ctx = AppContext(settings=settings.model_copy(update={"runs": [RUN]}))
    ctx.sandbox_state_file = folder / "sandbox.json"
    province = Province(ctx, BEFORE_RUN)
    province.import_roster(SAMPLE)
    assert province.apply().status == "done"
    yield province
    ctx.close()


@pytest.fixture(scope="module")
def simulated(province: Province) -> tuple[ActivitySummary, service.PullReport]:
    lms = province.ctx.sandbox()
    [summary] = simulate_until(lms, [RUN], AFTER_LATE_GRADING)
    lms.clock = lambda: AFTER_LATE_GRADING.timestamp()
    ctx = province.ctx
    report = service.pull(ctx.engine(), ctx.lms(), ctx.settings, RUN.id, now=AFTER_LATE_GRADING)
    return summary, report


def test_every_learner_gets_the_result_the_simulation_expects(
    simulated: tuple[ActivitySummary, service.PullReport],
) -> None:
    summary, report = simulated
    assert summary.refused == ()
    expected = {(r.class_id, r.identity_code): r for r in summary.expected}
    decided = {(r.class_code, r.identity_code): r for r in report.results}
    assert set(decided) == set(expected)
    assert len(decided) > 5000
    for key, result in decided.items():
        if result.outcome is Outcome.EXEMPT:
            continue
        assert result.reasons == expected[key].reasons, key
        if result.outcome is not Outcome.REFERENCE:
            assert result.completed == expected[key].completed, key


def test_the_counts_per_reason_are_the_simulations(
    simulated: tuple[ActivitySummary, service.PullReport],
) -> None:
    summary, report = simulated
    counted = {
        (r.class_code, r.identity_code)
        for r in report.results
        if r.outcome in (Outcome.COMPLETED, Outcome.NOT_COMPLETED)
    }
    expected: Counter[str] = Counter()
    for result in summary.expected:
        if (result.class_id, result.identity_code) in counted:
            expected["completed" if result.completed else "not_completed"] += 1
            expected.update(f"reason:{reason.value}" for reason in result.reasons)
    assert {k: v for k, v in report.counts.items() if k in expected} == dict(expected)
    assert report.counts["completed"] > 0.85 * report.learners
    for reason in Reason:
        assert report.counts[f"reason:{reason.value}"] > 0, reason
    assert report.counts["reason:grader_not_assessor"] == 1


def test_the_outsider_grade_is_flagged_with_its_grader(
    province: Province, simulated: tuple[ActivitySummary, service.PullReport]
) -> None:
    summary, report = simulated
    [outsider] = summary.outsider_grades
    [flagged] = report.flagged
    assert flagged.identity_code == outsider.learner.identity_code
    assert flagged.class_code == outsider.class_id
    site = province.ctx.sandbox().site
    assert site.users[flagged.grader_id or 0].username == outsider.grader.username


def test_the_late_class_was_graded_after_its_deadline_and_its_grades_count(
    province: Province, simulated: tuple[ActivitySummary, service.PullReport]
) -> None:
    summary, report = simulated
    [late] = summary.late_classes
    due = int(run_timeline(RUN).grading_due(late).timestamp())
    site = province.ctx.sandbox().site
    [course] = {r.course_idnumber for r in summary.expected if r.class_id == late}
    course_id = site.course_by_idnumber[course]
    [assign] = [
        a for a in site.activities.values() if a.course == course_id and a.modname == "assign"
    ]
    by_code = {u.idnumber: u.id for u in site.users.values()}
    graded = [r for r in report.results if r.class_code == late and r.final_grade is not None]
    assert graded
    for result in graded:
        grade = site.assign_grades[(assign.instance, by_code[result.identity_code])]
        assert grade.timemodified > due
    assert all(
        r.graded_late == (r.class_id == late and Reason.NOT_GRADED not in r.reasons)
        for r in summary.expected
        if Reason.NOT_SUBMITTED not in r.reasons
    )


def test_each_seats_survey_answer_and_rating_are_the_simulations(
    province: Province, simulated: tuple[ActivitySummary, service.PullReport]
) -> None:
    """Per seat (a learner with a reference subject answers two surveys), from what the
    pull read: answered or not, and the rating positive (1-2 of 4) or negative (3-4)."""
    summary, _ = simulated
    ctx = province.ctx
    with session_scope(ctx.engine()) as session:
        desired = load_desired(session, [RUN], ctx.settings.provisioning)
        accounts = {a.identity_code: a.lms_user_id for a in session.exec(select(LmsAccount))}
    pulled = pull_run(ctx.lms(), desired, RUN.id, accounts=accounts)
    expected = {(r.class_id, r.identity_code): r.survey_positive for r in summary.expected}
    read = {
        (e.class_code, e.identity_code): (
            None if not e.survey_answered else e.survey_rating in ActivityIds().positive_answers
        )
        for e in pulled.evidence
    }
    assert read == expected
    assert 0 < sum(1 for v in read.values() if v is False) < sum(1 for v in read.values() if v)


def test_a_few_learners_by_name(
    province: Province, simulated: tuple[ActivitySummary, service.PullReport]
) -> None:
    """One learner per outcome the story has, looked up by username in the LMS."""
    summary, report = simulated
    decided = {(r.class_code, r.identity_code): r for r in report.results}
    seen: set[tuple[Reason, ...]] = set()
    for result in summary.expected:
        if result.reasons in seen or len(result.reasons) > 1:
            continue
        seen.add(result.reasons)
        pulled = decided[(result.class_id, result.identity_code)]
        site = province.ctx.sandbox().site
        user = site.users[site.user_by_username[result.username]]
        assert user.idnumber == result.identity_code
        assert pulled.reasons == result.reasons, result.username
    assert {(), (Reason.NO_AUTO_PASS,), (Reason.NOT_SUBMITTED,), (Reason.NOT_GRADED,)} <= seen


def test_the_survey_rates_count_each_main_seat_once(
    simulated: tuple[ActivitySummary, service.PullReport],
) -> None:
    """A learner with a reference seat answers two surveys: only the main seat's answer
    counts towards the run's survey rates, and never in place of the main seat's own."""
    summary, report = simulated
    certified = {
        (r.class_code, r.identity_code)
        for r in report.results
        if r.outcome in (Outcome.COMPLETED, Outcome.NOT_COMPLETED)
    }
    main = [r for r in summary.expected if (r.class_id, r.identity_code) in certified]
    assert report.survey_answered == sum(1 for r in main if r.survey_positive is not None)
    assert report.survey_positive == sum(1 for r in main if r.survey_positive)
    answered_by_everyone = sum(1 for r in summary.expected if r.survey_positive is not None)
    assert report.survey_answered < answered_by_everyone  # reference seats answered too
