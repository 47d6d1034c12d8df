"""Reporters' grading deadlines: per class, how far grading has come and how long is left.

Pure: the caller reads the rows (class -> reporters, class -> learners, the latest pull's
per-seat status) and the class's grading due instant from
:func:`scheduler.timeline.run_timeline`, and passes ``now`` in. Without any pull the counts
of submissions and grades are unknown (``None``), the learners still come from the roster.

* submitted: the seat's reasons do not include ``not_submitted``; an exempt seat has no
  reasons stored, so it counts as submitted only once it has a grade (it never waits);
* graded: the seat has a final grade;
* waiting: submitted but not graded yet.

Days left count local calendar days in the site's zone: a due at 00:00 of day 27 seen on
day 26 (any time) leaves 1 day, seen on day 27 leaves 0 and the class is overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

NOT_SUBMITTED = "not_submitted"
EXEMPT = "exempt"  # the stored outcome of an exempt seat


@dataclass(frozen=True, slots=True)
class SeatStatus:
    """One learner's seat in a class at the latest pull."""

    identity_code: str
    reasons: tuple[str, ...]
    final_grade: float | None
    exempt: bool = False

    @property
    def submitted(self) -> bool:
        if self.exempt:
            return self.graded
        return NOT_SUBMITTED not in self.reasons

    @property
    def graded(self) -> bool:
        return self.final_grade is not None


@dataclass(frozen=True, slots=True)
class Reporter:
    identity_code: str
    full_name: str
    email: str = ""


@dataclass(frozen=True, slots=True)
class ClassDeadline:
    """A class's grading progress and deadline; counts are ``None`` when no pull was made."""

    class_code: str
    class_name: str
    reporters: tuple[Reporter, ...]
    learners: int
    submitted: int | None
    graded: int | None
    waiting: int | None
    due: datetime
    days_left: int
    overdue: bool


def parse_reasons(text: str) -> tuple[str, ...]:
    """The stored comma-separated reason codes."""
    return tuple(code for code in (part.strip() for part in text.split(",")) if code)


def class_deadline(
    class_code: str,
    *,
    reporters: Sequence[Reporter],
    roster_learners: int,
    seats: Sequence[SeatStatus] | None,
    due: datetime,
    now: datetime,
    tz: tzinfo,
    class_name: str = "",
) -> ClassDeadline:
    """One class's deadline line. ``seats`` None: no pull yet, counts from the roster only."""
    if due.tzinfo is None or now.tzinfo is None:
        raise ValueError("due and now must be timezone-aware")
    if seats is None:
        learners = roster_learners
        submitted = graded = waiting = None
    else:
        learners = len({s.identity_code for s in seats}) or roster_learners
        submitted = sum(1 for s in seats if s.submitted)
        graded = sum(1 for s in seats if s.graded)
        waiting = sum(1 for s in seats if s.submitted and not s.graded)
    days_left = (due.astimezone(tz).date() - now.astimezone(tz).date()).days
    return ClassDeadline(
        class_code=class_code,
        class_name=class_name,
        reporters=tuple(sorted(reporters, key=lambda r: r.identity_code)),
        learners=learners,
        submitted=submitted,
        graded=graded,
        waiting=waiting,
        due=due,
        days_left=days_left,
        overdue=now >= due,
    )


def deadlines(
    *,
    classes: Mapping[str, str],
    reporters: Mapping[str, Sequence[Reporter]],
    roster: Mapping[str, int],
    seats: Mapping[str, Sequence[SeatStatus]] | None,
    due: Mapping[str, datetime],
    now: datetime,
    tz: tzinfo,
) -> list[ClassDeadline]:
    """Every class (id -> name) in id order; ``seats`` None when no pull was made."""
    return [
        class_deadline(
            code,
            class_name=name,
            reporters=reporters.get(code, ()),
            roster_learners=roster.get(code, 0),
            seats=None if seats is None else seats.get(code, ()),
            due=due[code],
            now=now,
            tz=tz,
        )
        for code, name in sorted(classes.items())
    ]


def select(
    rows: Iterable[ClassDeadline], *, reporter: str | None = None, class_code: str | None = None
) -> list[ClassDeadline]:
    """The lines of one reporter and/or one class."""
    return [
        row
        for row in rows
        if (reporter is None or any(r.identity_code == reporter for r in row.reporters))
        and (class_code is None or row.class_code == class_code)
    ]


def by_reporter(rows: Iterable[ClassDeadline]) -> dict[Reporter, list[ClassDeadline]]:
    """Each reporter's classes, reporters in identity-code order."""
    grouped: dict[Reporter, list[ClassDeadline]] = {}
    for row in rows:
        for reporter in row.reporters:
            grouped.setdefault(reporter, []).append(row)
    return dict(sorted(grouped.items(), key=lambda item: item[0].identity_code))


def overdue_classes(rows: Iterable[ClassDeadline]) -> list[ClassDeadline]:
    """The escalation list for the Sở: grading due passed with submissions still waiting
    for a grade (a class without a pull yet is not known to be late)."""
    return [row for row in rows if row.overdue and (row.waiting or 0) > 0]
