"""Learners' and reporters' activity simulated on a small provisioned run (sandbox only).

What the simulation did is read back from the site itself (attempts, submissions, grades
and survey answers with their times), so each test checks what the LMS holds, not what the
simulation says of itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from grading.rule import Reason
from sandbox.activity import ActivitySummary, simulate_until
from sandbox.activity_plan import ActivityMix
from sandbox.lms import SandboxLms
from sandbox.state import Site
from scheduler.timeline import run_timeline
from tests.sandbox_small_run import RUN, local, small_run_site

AFTER_GRADING = 31  # run day: every class graded, the late one too


def _facts(site: Site) -> dict[str, Any]:
    """Everything learners and reporters did, by username, with the instants."""
    name = {u.id: u.username for u in site.users.values()}
    return {
        "attempts": sorted(
            (name[a.userid], a.attempt, a.timestart, a.timefinish, a.sumgrades)
            for a in site.quiz_attempts.values()
        ),
        "submissions": sorted(
            (name[s.userid], s.status, s.timemodified) for s in site.submissions.values()
        ),
        "grades": sorted(
            (name[g.userid], g.grade, name[g.grader], g.timemodified)
            for g in site.assign_grades.values()
        ),
        "survey": sorted(
            (name[r.userid], tuple(sorted(r.answers.items())), r.timemodified)
            for r in site.feedback_responses.values()
        ),
    }


def _simulate(lms: SandboxLms, day: int, **options: Any) -> ActivitySummary:
    [summary] = simulate_until(lms, [RUN], local(day), **options)
    return summary


@pytest.fixture(scope="module")
def one_shot() -> tuple[SandboxLms, ActivitySummary]:
    lms = small_run_site()
    return lms, _simulate(lms, AFTER_GRADING)


def test_day_by_day_does_each_action_once_at_its_instant_like_one_shot(
    one_shot: tuple[SandboxLms, ActivitySummary],
) -> None:
    lms, at_once = one_shot
    daily = small_run_site()
    made = 0
    for day in range(-2, AFTER_GRADING + 1):
        summary = _simulate(daily, day)
        made += sum(summary.done.values())
        again = _simulate(daily, day)
        assert again.done == {}, f"day {day}: a second call at the same instant acted again"
    assert made == sum(at_once.done.values()) > 0
    assert _facts(daily.site) == _facts(lms.site)
    assert summary.expected == at_once.expected
    assert summary.pending == at_once.pending == 0


def test_the_same_seed_tells_the_same_story_another_seed_another(
    one_shot: tuple[SandboxLms, ActivitySummary],
) -> None:
    lms, summary = one_shot
    same = small_run_site()
    assert _simulate(same, AFTER_GRADING).expected == summary.expected
    assert _facts(same.site) == _facts(lms.site)
    other = small_run_site()
    _simulate(other, AFTER_GRADING, seed=7)
    assert _facts(other.site)["grades"] != _facts(lms.site)["grades"]


def test_every_action_falls_in_its_phase_and_the_activity_window(
    one_shot: tuple[SandboxLms, ActivitySummary],
) -> None:
    lms, summary = one_shot
    site = lms.site
    timeline = run_timeline(RUN)
    day = {n: int(local(n, 0).timestamp()) for n in (1, 8, 10, 15, 17, 22, 27, 29)}
    assert day[27] == int(timeline.grading_due().timestamp())
    # the template's quiz is open days 8-14 (taken in the online phase, from day 10), its
    # survey from day 22; the submission due is day 17 00:00
    assert all(
        day[10] <= a.timestart <= a.timefinish < day[15] for a in site.quiz_attempts.values()
    )
    assert all(day[10] <= s.timemodified < day[17] for s in site.submissions.values())
    assert all(day[22] <= r.timemodified < day[27] for r in site.feedback_responses.values())
    [late] = summary.late_classes
    late_members = {
        uid
        for gid in (g.id for g in site.groups.values() if g.idnumber == late)
        for uid in site.group_members[gid]
    }
    for grade in site.assign_grades.values():
        if grade.userid in late_members:
            assert day[27] < grade.timemodified <= day[29], "the late class: after its deadline"
        else:
            assert day[17] <= grade.timemodified < day[27]
    assert any(g.userid in late_members for g in site.assign_grades.values())


def test_the_story_has_every_case_the_issue_asks_for(
    one_shot: tuple[SandboxLms, ActivitySummary],
) -> None:
    lms, summary = one_shot
    assert summary.refused == ()
    counts = summary.counts()
    assert counts["completed"] > len(summary.expected) // 2
    [outsider] = summary.outsider_grades
    assert outsider.grader_class_id != outsider.class_id
    grade = lms.site.assign_grades[
        next(k for k in lms.site.assign_grades if k[1] == outsider.learner.userid)
    ]
    assert lms.site.users[grade.grader].username == outsider.grader.username
    by_user = {r.username: r for r in summary.expected}
    assert Reason.GRADER_NOT_ASSESSOR in by_user[outsider.learner.username].reasons
    answered = [r.survey_positive for r in summary.expected if r.survey_positive is not None]
    assert True in answered
    assert False in answered
    assert any(r.graded_late for r in summary.expected)


def test_a_story_with_every_failure_shows_each_reason() -> None:
    """With large shares of every failure, each reason the rule knows appears, and the
    expectation follows what the LMS holds: no right quiz answer, no auto pass."""
    lms = small_run_site()
    mix = ActivityMix(quiz_fail=0.3, never_submit=0.2, never_graded=0.2, below_pass=0.3)
    summary = _simulate(lms, AFTER_GRADING, mix=mix)
    counts = summary.counts()
    for reason in Reason:
        assert counts.get(f"reason:{reason.value}", 0) > 0, reason
    site = lms.site
    passed = {
        site.users[a.userid].username for a in site.quiz_attempts.values() if a.sumgrades == 1.0
    }
    for result in summary.expected:
        assert (Reason.NO_AUTO_PASS in result.reasons) == (result.username not in passed)


def test_mid_run_the_expectation_counts_only_what_is_done() -> None:
    lms = small_run_site()
    summary = _simulate(lms, 12)
    assert summary.pending > 0
    assert "grade" not in summary.done
    assert "survey_answer" not in summary.done
    assert summary.done["quiz_attempt"] > 0
    assert all(
        Reason.NOT_SUBMITTED in r.reasons or Reason.NOT_GRADED in r.reasons
        for r in summary.expected
    )


def test_activities_never_open_during_the_run_are_reported_not_simulated() -> None:
    """A run whose course dates were not moved from the template's (two years apart)."""
    early = RUN.model_copy(update={"start": RUN.start.replace(year=RUN.start.year - 2)})
    lms = small_run_site(early)
    clock = lms.clock
    [summary] = simulate_until(lms, [early], local(AFTER_GRADING))
    assert summary.done == {}
    assert len(summary.refused) == 2 * 3  # two courses, three activities
    assert all("is not open during the run" in problem for problem in summary.refused)
    assert {r.reasons for r in summary.expected} == {(Reason.NO_AUTO_PASS, Reason.NOT_SUBMITTED)}
    assert lms.clock is clock, "the sandbox's clock is given back"


def test_what_the_lms_refuses_is_reported_and_not_expected() -> None:
    """An administrator took quiz attempts away from students: every attempt is refused."""
    lms = small_run_site()
    lms.site.role_changes[5] = {"mod/quiz:attempt": False}
    summary = _simulate(lms, AFTER_GRADING)
    assert "quiz_attempt" not in summary.done
    refusals = [r for r in summary.refused if r.startswith("quiz_attempt")]
    assert refusals
    assert all("Attempt quizzes" in r for r in refusals)
    assert all(Reason.NO_AUTO_PASS in r.reasons for r in summary.expected)
    assert summary.done["submission"] > 0
    # put right: the refused attempts are made at their own instants, once
    del lms.site.role_changes[5]
    retried = _simulate(lms, AFTER_GRADING)
    assert retried.refused == ()
    assert retried.done == {"quiz_attempt": len(refusals)}
    assert _simulate(lms, AFTER_GRADING).done == {}
    assert len(lms.site.quiz_attempts) == len(refusals)


def test_suspended_people_keep_their_seat_and_do_nothing() -> None:
    """A suspended learner cannot log in: their seat is expected with every reason; a
    class whose only reporter is suspended is never graded."""
    lms = small_run_site()
    site = lms.site
    learner, reporter = site.user_by_username["hv1105"], site.user_by_username["bcv12"]
    lms.call("core_user_update_users", {"users": [{"id": learner, "suspended": 1}]})
    lms.call("core_user_update_users", {"users": [{"id": reporter, "suspended": 1}]})
    summary = _simulate(lms, AFTER_GRADING)
    assert summary.refused == ()
    by_user = {r.username: r for r in summary.expected}
    assert by_user["hv1105"].reasons == (Reason.NO_AUTO_PASS, Reason.NOT_SUBMITTED)
    assert not [a for a in site.quiz_attempts.values() if a.userid == learner]
    assert not [g for g in site.assign_grades.values() if g.grader == reporter]
    unattended = [r for r in summary.expected if r.username.startswith("hv12")]
    assert unattended
    assert {r.reasons[-1] for r in unattended} <= {Reason.NOT_GRADED, Reason.NOT_SUBMITTED}
    assert any(r.reasons[-1] is Reason.NOT_GRADED for r in unattended)
