"""Grading use cases, called by the CLI and the daemon alike: pull a run, decide, keep it.

Everything comes in from the composition root (engine, LMS, settings, ``now``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import select

from config.settings import RunSettings, Settings
from connector.lms import MoodleLms
from grading.pull import ActivityIds, PreviousGrade, pull_run
from grading.rule import CompletionPolicy, LearnerResult, Outcome, decide_run
from store.db import session_scope
from store.grading_repo import finish_pull, latest_pull, results_of, save_results, start_pull
from store.models import LmsAccount, Person
from sync.desired import load_desired


@dataclass(frozen=True)
class PullReport:
    """One run's pull: the decisions, their counts, the survey, what it cost."""

    run_id: str
    pull_id: int
    results: tuple[LearnerResult, ...]
    survey_answered: int
    survey_positive: int
    calls: Mapping[str, int]
    problems: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    since: int | None = None  # incremental: grades modified since then (None: full pull)

    @property
    def learners(self) -> int:
        """Main seats of people not exempt: what the targets count."""
        return sum(
            1 for r in self.results if r.outcome in (Outcome.COMPLETED, Outcome.NOT_COMPLETED)
        )

    @property
    def flagged(self) -> tuple[LearnerResult, ...]:
        return tuple(r for r in self.results if r.flagged)


def _counts(results: tuple[LearnerResult, ...]) -> dict[str, int]:
    counts: Counter[str] = Counter(r.outcome.value for r in results)
    for result in results:
        if result.outcome is Outcome.NOT_COMPLETED:
            counts.update(f"reason:{reason.value}" for reason in result.reasons)
    return dict(sorted(counts.items()))


# Grades modified this long before the previous pull started are read again: the LMS's
# clock and ours may differ a little, and re-reading a grade is harmless.
SINCE_MARGIN_S = 900


def _previous_grades(
    engine: Engine, run_id: str
) -> tuple[int | None, dict[tuple[str, str], PreviousGrade] | None]:
    """``since`` and the grades of the run's last finished pull (None, None: none)."""
    with session_scope(engine) as session:
        last = latest_pull(session, run_id)
        if last is None or last.id is None:
            return None, None
        started = last.started_at
        if started.tzinfo is None:  # SQLite keeps no zone: stored in UTC
            started = started.replace(tzinfo=dt.UTC)
        kept = {
            (r.identity_code, r.course_idnumber): PreviousGrade(r.final_grade, r.grader_id)
            for r in results_of(session, last.id)
        }
    return int(started.timestamp()) - SINCE_MARGIN_S, kept


def policy_for(run: RunSettings) -> CompletionPolicy:
    """The run's completion rule settings (``[runs.pass_marks]``, ``[runs.activities]``)."""
    return CompletionPolicy(
        required_activities=(run.activities.quiz,),
        pass_mark=run.pass_marks.final_product,
        pass_scale=run.pass_marks.final_product_scale,
        graded_pass_percent=run.pass_marks.quiz_percent,
    )


def activity_ids_for(run: RunSettings) -> ActivityIds:
    return ActivityIds(
        quiz=run.activities.quiz,
        final=run.activities.final_product,
        survey=run.activities.survey,
    )


def pull(
    engine: Engine,
    lms: MoodleLms,
    settings: Settings,
    run_id: str,
    *,
    now: dt.datetime,
    policy: CompletionPolicy | None = None,
    full: bool = False,
) -> PullReport:
    """Pull a run's progress and grades, decide every seat, store the snapshot.

    Incremental after a finished pull (unless ``full``): grades modified since that
    pull started (less :data:`SINCE_MARGIN_S` for clocks that differ), merged with the
    grades it kept.
    """
    run = settings.run(run_id)
    policy = policy or policy_for(run)
    since, previous = (None, None) if full else _previous_grades(engine, run_id)
    with session_scope(engine) as session:
        desired = load_desired(session, [run], settings.provisioning)
        accounts = {a.identity_code: a.lms_user_id for a in session.exec(select(LmsAccount))}
        exempt = frozenset(
            p.identity_code
            for p in session.exec(select(Person).where(Person.exemption == "exempt"))
        )
    pull_id = start_pull(engine, run_id, now)
    try:
        pulled = pull_run(
            lms,
            desired,
            run_id,
            accounts=accounts,
            exempt=exempt,
            policy=policy,
            ids=activity_ids_for(run),
            since=since,
            previous=previous,
        )
    except BaseException:
        finish_pull(engine, pull_id, status="failed", now=now, counts={}, calls={}, problems=[])
        raise
    results = tuple(decide_run(pulled.evidence, policy, pulled.assessors_by_class))
    save_results(
        engine,
        pull_id,
        run_id,
        (
            (
                evidence,
                result,
                pulled.survey_positive.get((evidence.identity_code, evidence.course_idnumber)),
            )
            for evidence, result in zip(pulled.evidence, results, strict=True)
        ),
    )
    counts = _counts(results)
    finish_pull(
        engine,
        pull_id,
        status="done",
        now=now,
        counts=counts,
        calls=pulled.calls,
        problems=pulled.problems,
    )
    # The survey rates count main seats that are certified or not: a reference seat's
    # answer is about another course, an exempt person's is not asked for.
    counted = {
        (evidence.identity_code, evidence.course_idnumber)
        for evidence, result in zip(pulled.evidence, results, strict=True)
        if result.outcome in (Outcome.COMPLETED, Outcome.NOT_COMPLETED)
    }
    return PullReport(
        run_id=run_id,
        pull_id=pull_id,
        results=results,
        survey_answered=sum(1 for seat in pulled.survey_positive if seat in counted),
        survey_positive=sum(
            1 for seat, positive in pulled.survey_positive.items() if positive and seat in counted
        ),
        calls=pulled.calls,
        problems=pulled.problems,
        counts=counts,
        since=since,
    )
