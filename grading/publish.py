"""The completion lists of a run as files: Excel workbooks or CSV, province, district
offices and schools, from one finished pull. Called by ``bdtx completion list`` and by the
closing of a run (:mod:`grading.closing`) alike.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from config.settings import RunSettings, Settings
from grading.lists import (
    CompletionLists,
    PersonRow,
    ResultRow,
    SchoolRow,
    build_lists,
    exempt_without_seat,
    fold,
)
from grading.rule import Outcome
from grading.year import RunOutcome, YearRating, year_list
from reports.completion import ListHeading, file_stem, write_csv, write_workbook
from reports.year import write_year
from scheduler.timeline import run_timeline
from store.db import session_scope
from store.grading_repo import latest_pull, results_of
from store.models import GradingPull, Person, RunClosing, School

LISTS_DIR = Path("var/lists")
FORMATS = ("xlsx", "csv")


class NoResults(Exception):
    """Nothing to list: the run has no finished pull, or the school has nobody in it."""


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _load(
    session: Session, run: RunSettings, pull_id: int | None
) -> tuple[CompletionLists, dt.datetime]:
    pull = latest_pull(session, run.id) if pull_id is None else session.get(GradingPull, pull_id)
    if pull is None or pull.id is None or pull.status != "done":
        raise NoResults(
            f"Đợt {run.id} chưa có lần lấy kết quả nào hoàn tất: "
            f"hãy chạy 'bdtx grading pull --run {run.id}' trước."
        )
    results = [
        ResultRow(
            identity_code=r.identity_code,
            course_idnumber=r.course_idnumber,
            outcome=r.outcome,
            class_code=r.class_code,
            seat=r.seat,
            explanation=r.explanation,
            survey_answered=r.survey_answered,
            survey_positive=r.survey_positive,
        )
        for r in results_of(session, pull.id)
    ]
    codes = {r.identity_code for r in results}
    stored = session.exec(
        select(Person).where(Person.status == "active", Person.exemption == "exempt")
    )
    exempt = {p.identity_code for p in stored}
    people = {
        p.identity_code: _person_row(p, exempt=p.identity_code in exempt)
        for p in session.exec(select(Person))
        if p.identity_code in codes or p.identity_code in exempt
    }
    results += exempt_without_seat(
        people.values(), codes, levels=run.levels, audiences=run.audiences
    )
    schools = {s.code: SchoolRow(s.code, s.name, s.district) for s in session.exec(select(School))}
    lists = build_lists(
        results,
        people,
        schools,
        module=f"Mô đun {run.module}",
        reference_subjects=run.concurrent_subjects,
    )
    return lists, pull.finished_at or pull.started_at


def write_lists(
    engine: Engine,
    run: RunSettings,
    folder: Path,
    *,
    school: str | None = None,
    fmt: str = "xlsx",
    tz: tzinfo = dt.UTC,
    pull_id: int | None = None,
) -> Written:
    """Write the lists of the run's latest finished pull (or of ``pull_id``) into ``folder``.

    The province, each district (when the roster has districts) and each school; with
    ``school`` only that school. Raises :class:`NoResults` when there is nothing to list.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    with session_scope(engine) as session:
        lists, pulled_at = _load(session, run, pull_id)
    if pulled_at.tzinfo is None:  # SQLite keeps no zone: the time was stored in UTC
        pulled_at = pulled_at.replace(tzinfo=dt.UTC)
    timeline = run_timeline(run, tz)

    def heading(scope: str) -> ListHeading:
        return ListHeading(
            run_id=run.id,
            run_name=run.name,
            module=f"Mô đun {run.module}",
            start=timeline.start.date(),
            end=(timeline.submission_due - dt.timedelta(days=1)).date(),  # day 16
            pulled_at=pulled_at.astimezone(tz),
            scope=scope,
        )

    names = {
        r.school_code: _school_scope(r.school_name) for rows in lists.rows.values() for r in rows
    }
    scopes: list[tuple[str, str, CompletionLists]] = []
    if school is not None:
        if school not in names:
            raise NoResults(f"Trường {school} không có học viên nào trong đợt {run.id}.")
        scopes.append((file_stem(school=school), names[school], lists.restrict(school=school)))
    else:
        scopes.append((file_stem(), "Toàn tỉnh", lists))
        for district in lists.districts():
            scopes.append(
                (file_stem(district=district), district, lists.restrict(district=district))
            )
        for code in lists.schools():
            scopes.append((file_stem(school=code), names[code], lists.restrict(school=code)))
    written = Written(counts=scopes[0][2].counts())
    for stem, scope, scoped in scopes:
        if fmt == "csv":
            written.files.extend(write_csv(folder, stem, scoped))
        else:
            written.files.append(write_workbook(folder / f"{stem}.xlsx", heading(scope), scoped))
    return written


def _school_scope(name: str) -> str:
    """A school as the title block names it: "Trường ..." once, whatever the roster wrote."""
    return name if fold(name).startswith("truong") else f"Trường {name}"


@dataclass
class YearWritten:
    year: int
    runs: list[str]  # the runs of the year that have results
    files: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # per year rating
    problems: list[str] = field(default_factory=list)  # in Vietnamese


def default_year(settings: Settings) -> int:
    """The year of the latest configured run (runs belong to the year they start in)."""
    if not settings.runs:
        raise NoResults("Chưa cấu hình đợt bồi dưỡng nào ([[runs]]).")
    return max(run.start.year for run in settings.runs)


def write_year_lists(
    engine: Engine, settings: Settings, year: int, folder: Path, *, fmt: str = "xlsx"
) -> YearWritten:
    """The year results from each run of ``year``: its closing pull when closed, else its
    latest finished pull. Raises :class:`NoResults` when no run of the year has results."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    runs = [run for run in settings.runs if run.start.year == year]
    outcomes: dict[str, list[RunOutcome]] = {}
    written = YearWritten(year=year, runs=[])
    with session_scope(engine) as session:
        for run in runs:
            closing = session.get(RunClosing, run.id)
            pull_id = closing.pull_id if closing is not None and closing.status == "done" else None
            if pull_id is None:
                latest = latest_pull(session, run.id)
                pull_id = latest.id if latest is not None else None
            if pull_id is None:
                written.problems.append(
                    f"Đợt {run.id} (mô đun {run.module}) chưa có kết quả: chưa được tính."
                )
                continue
            written.runs.append(run.id)
            for result in results_of(session, pull_id):
                if result.seat != "main":
                    continue  # a reference subject is never certified
                outcomes.setdefault(result.identity_code, []).append(
                    RunOutcome(run.module, Outcome(result.outcome))
                )
        if not written.runs:
            raise NoResults(f"Năm {year} chưa có đợt bồi dưỡng nào có kết quả.")
        levels = {level for run in runs for level in run.levels}
        audiences = {audience for run in runs for audience in run.audiences}
        people = {
            p.identity_code: _person_row(
                p,
                exempt=p.exemption == "exempt"
                and p.status == "active"
                and p.level in levels
                and p.audience in audiences,
            )
            for p in session.exec(select(Person))
        }
        schools = {
            s.code: SchoolRow(s.code, s.name, s.district) for s in session.exec(select(School))
        }
    people = {code: person for code, person in people.items() if code in outcomes or person.exempt}
    rows = year_list(outcomes, people, schools, required=settings.year_modules)
    written.files = write_year(folder, year, rows, required=settings.year_modules, fmt=fmt)
    counted = Counter(row.result.rating.value for row in rows)
    written.counts = {rating.value: counted.get(rating.value, 0) for rating in YearRating}
    return written


def _person_row(person: Person, *, exempt: bool) -> PersonRow:
    """A stored person as the lists print them."""
    return PersonRow(
        identity_code=person.identity_code,
        full_name=person.full_name,
        birth_date=person.birth_date,
        school_code=person.school_code,
        district=person.district,
        level=person.level,
        subject=person.subject,
        audience=person.audience,
        exemption_reason=person.exemption_reason,
        exempt=exempt,
    )
