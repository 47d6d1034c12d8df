"""Class allocation of a module run against the stored roster: load, allocate, save.

The allocation and the reporter assignment themselves are pure (``roster.allocation``,
``roster.reporters``); this module feeds them the stored people and the previous
allocation, and writes the result back, touching only rows that change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from config.settings import RunSettings
from roster.allocation import (
    AllocatedClass,
    Allocation,
    AllocLearner,
    Move,
    MoveReason,
)
from roster.homes import allocate_home_first, next_homes
from roster.reporters import AllocStaff, StaffAssignment, StaffRole, assign_staff
from store.bulk import insert_rows
from store.models import ClassStaff, TrainingClass
from sync.safety import NeedsAccept, Thresholds, check_class_moves

MAIN = "main"
REFERENCE = "reference"
# Reference classes get their own id space: "M4-2023-KN/THCS/GV/<subject>/01" (kiêm nhiệm).
REFERENCE_SUFFIX = "-KN"
# Rows per bulk statement.
CHUNK = 2000
# Columns of the rows given to insert_rows: classmember and classhistory, staffhistory.
_SEAT_COLUMNS = ("run_id", "identity_code", "kind", "class_id")
_STAFF_HOME_COLUMNS = ("run_id", "class_id", "identity_code", "role")
_CLASS_COLUMNS = (
    "id",
    "run_id",
    "level",
    "audience",
    "subject",
    "ordinal",
    "name",
    "kind",
    "grading_extension_days",
)


@dataclass
class RunAllocation:
    """The outcome of allocating one run, for the CLI and the tests."""

    run_id: str
    main: Allocation
    reference: Allocation
    staff: StaffAssignment
    written: dict[str, int] = field(default_factory=dict)

    @property
    def classes(self) -> tuple[AllocatedClass, ...]:
        return self.main.classes + self.reference.classes

    @property
    def moves(self) -> tuple[Move, ...]:
        """Who changed class since the stored allocation (newcomers and leavers included)."""
        return self.main.moves + self.reference.moves

    @property
    def class_moves(self) -> int:
        """Learners moved from one class to another, returns to a home class not counted."""
        return sum(
            1
            for m in self.moves
            if m.from_class and m.to_class and m.reason is not MoveReason.RETURNED
        )


def _clusters(session: Session) -> dict[str, str]:
    school = SQLModel.metadata.tables["school"]
    return dict(_driver_rows(session, sa_select(school.c.code, school.c.cluster)))


MAIN_TRACK = "main"
# Core staff of a subject take only the reference (concurrent) subjects.
REFERENCE_ONLY_TRACK = "reference_only"


# What the allocation needs of a person, as the driver reads it (``_driver_rows``): identity
# code, school code, level, audience, subject, track and whether they do HĐTNHN concurrently
# (a bool, or 0/1 on SQLite). Plain tuples: a province run reads ~110,000 of them.
RunPerson = tuple[str, str, str, str, str, str, int]
_RUN_PERSON_COLUMNS = (
    "identity_code",
    "school_code",
    "level",
    "audience",
    "subject",
    "track",
    "concurrent_hdtnhn",
)


def _driver_rows(session: Session, statement: Select[Any]) -> Sequence[Any]:
    """The rows of ``statement`` as the database driver gives them: plain tuples.

    SQLAlchemy's ``Row`` objects and result processing cost about twice the fetch itself
    on 100,000 rows; only for columns whose driver values need no processing (strings;
    a boolean is 0/1 on SQLite, so callers use only its truth).
    """
    result = session.connection().execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def run_people(session: Session, run: RunSettings) -> Iterator[Sequence[RunPerson]]:
    """Active learners of the run's levels and audiences, not exempt, on a track it serves.

    In chunks of ``CHUNK`` rows: a province's ~110,000 rows at once held ~60 MB, while the
    seats made of them keep a fraction of it.
    """
    person = SQLModel.metadata.tables["person"]
    statement = sa_select(*(person.c[name] for name in _RUN_PERSON_COLUMNS)).where(
        person.c.status == "active",
        person.c.is_learner.is_(True),
        person.c.track.in_((MAIN_TRACK, REFERENCE_ONLY_TRACK)),
        person.c.exemption != "exempt",
        person.c.level.in_(run.levels),
        person.c.audience.in_(run.audiences),
    )
    result = session.connection().execute(statement)
    try:
        while people := result.cursor.fetchmany(CHUNK):
            yield people
    finally:
        result.close()


def main_learners(people: Iterable[RunPerson], clusters: dict[str, str]) -> list[AllocLearner]:
    """Main seats: each learner on the main track, in their audience's and subject's version.

    The driver makes a new string for every value of every row; the seats outlive the rows
    (in the allocation), so repeated values (school, level, audience, subject) are shared:
    ~30 MB less per province run.
    """
    shared: dict[str, str] = {}
    one = shared.setdefault
    return [
        AllocLearner(
            code,
            one(school, school),
            clusters.get(school, ""),
            one(level, level),
            one(audience, audience),
            one(subject, subject),
        )
        for code, school, level, audience, subject, track, _ in people
        if track == MAIN_TRACK
    ]


def reference_learners(
    people: Iterable[RunPerson], run: RunSettings, clusters: dict[str, str]
) -> list[AllocLearner]:
    """Concurrent learners' reference seats: teachers' version of each concurrent subject."""
    seats = []
    for code, school, level, _, own_subject, _, concurrent in people:
        if not concurrent:
            continue
        for subject in run.concurrent_subjects:
            if subject == own_subject:
                continue
            seats.append(AllocLearner(code, school, clusters.get(school, ""), level, "GV", subject))
    return seats


def staff_pool(session: Session, clusters: dict[str, str]) -> list[AllocStaff]:
    person = SQLModel.metadata.tables["person"]
    statement = sa_select(
        person.c.identity_code,
        person.c.staff_level,
        person.c.level,
        person.c.staff_subject,
        person.c.staff_role,
        person.c.school_code,
    ).where(
        person.c.status == "active",
        person.c.is_core_staff.is_(True),
        person.c.staff_role != "",
    )
    return [
        AllocStaff(
            person_id=code,
            level=staff_level or level,
            subject=staff_subject,
            role=StaffRole(staff_role),
            school_code=school_code,
            cluster=clusters.get(school_code, ""),
        )
        for code, staff_level, level, staff_subject, staff_role, school_code in session.execute(
            statement
        ).all()
    ]


def allocate_run(
    session: Session,
    run: RunSettings,
    *,
    max_class_size: int,
    limits: Thresholds | None = None,
) -> RunAllocation:
    """Allocate ``run`` from the stored roster, stably, and save the result.

    Learners go back to their home class (``ClassHistory``) when they come back or when
    their class can reopen. With ``limits`` (the safety gate; ``None`` once the user passed
    ``--accept``), an allocation moving too many learners between classes raises
    :class:`NeedsAccept` before anything is stored.
    """
    clusters = _clusters(session)
    main_seats: list[AllocLearner] = []
    reference_seats: list[AllocLearner] = []
    for people in run_people(session, run):
        main_seats += main_learners(people, clusters)
        reference_seats += reference_learners(people, run, clusters)
    seats = _stored_seats(session, "classmember", run.id)
    homes = _stored_seats(session, "classhistory", run.id)
    current = {kind: _of_kind(seats, kind) for kind in (MAIN, REFERENCE)}
    home = {kind: _of_kind(homes, kind) for kind in (MAIN, REFERENCE)}
    main = allocate_home_first(
        main_seats, run.id, current[MAIN], home[MAIN], max_class_size=max_class_size
    )
    reference = allocate_home_first(
        reference_seats,
        run.id + REFERENCE_SUFFIX,
        current[REFERENCE],
        home[REFERENCE],
        max_class_size=max_class_size,
    )
    class_ids = [k.class_id for k in main.classes + reference.classes]
    old_staff = list(
        session.exec(select(ClassStaff).where(col(ClassStaff.class_id).in_(class_ids)))
    )
    staff_homes = _staff_homes(session, run.id)
    previous_staff: dict[str, list[str]] = {
        cid: sorted(pairs) for cid, pairs in staff_homes.items()
    }
    for row in old_staff:
        if row.class_id not in staff_homes:
            previous_staff.setdefault(row.class_id, []).append(row.identity_code)
    pool = staff_pool(session, clusters)
    staff = assign_staff(main.classes + reference.classes, pool, previous=previous_staff)
    result = RunAllocation(run.id, main, reference, staff)
    if limits is not None:
        still_seated = sum(
            1
            for (code, kind) in seats
            if code in (main.class_of if kind == MAIN else reference.class_of)
        )
        violations = check_class_moves(run.id, result.class_moves, still_seated, limits)
        if violations:
            raise NeedsAccept(violations)
    result.written = _save(session, run, result, seats)
    _save_homes(session, run.id, result, homes)
    _save_staff_homes(session, run.id, staff, staff_homes, {p.person_id for p in pool})
    return result


def _staff_homes(session: Session, run_id: str) -> dict[str, dict[str, str]]:
    """Class id -> {staff identity code: role}: the staff each class of the run had."""
    table = SQLModel.metadata.tables["staffhistory"]
    statement = sa_select(table.c.class_id, table.c.identity_code, table.c.role).where(
        table.c.run_id == run_id
    )
    homes: dict[str, dict[str, str]] = {}
    for class_id, code, role in session.execute(statement):
        homes.setdefault(class_id, {})[code] = role
    return homes


def _save_staff_homes(
    session: Session,
    run_id: str,
    assignment: StaffAssignment,
    homes: dict[str, dict[str, str]],
    active_staff: set[str],
) -> None:
    """A class's home staff is set when it has none, or when all of it left the core staff.

    Otherwise it stays, even when this assignment differs (a closure elsewhere shifted the
    loads): the next assignment starts from it again, so undoing the closure undoes the
    shift, and an unchanged roster gets the same assignment.
    """
    table = SQLModel.metadata.tables["staffhistory"]
    replaced: list[dict[str, Any]] = []
    added: list[tuple[str, str, str, str]] = []
    for class_staff in assignment.classes:
        home = homes.get(class_staff.class_id, {})
        if home and any(code in active_staff for code in home):
            continue
        if home:
            replaced.append({"b_class": class_staff.class_id})
        for role, people in (
            (StaffRole.REPORTER, class_staff.reporters),
            (StaffRole.ASSISTANT, class_staff.assistants),
        ):
            added.extend((run_id, class_staff.class_id, code, role.value) for code in people)
    where = (table.c.run_id == run_id) & (table.c.class_id == bindparam("b_class"))
    for start in range(0, len(replaced), CHUNK):
        session.execute(delete(table).where(where), replaced[start : start + CHUNK])
    insert_rows(session, table, _STAFF_HOME_COLUMNS, added)


def _stored_seats(session: Session, table_name: str, run_id: str) -> dict[tuple[str, str], str]:
    """(identity code, kind) -> class id, from ``classmember`` or ``classhistory``."""
    table = SQLModel.metadata.tables[table_name]
    statement = sa_select(table.c.identity_code, table.c.kind, table.c.class_id).where(
        table.c.run_id == run_id
    )
    return {(code, kind): class_id for code, kind, class_id in _driver_rows(session, statement)}


def _of_kind(seats: dict[tuple[str, str], str], kind: str) -> dict[str, str]:
    return {code: class_id for (code, k), class_id in seats.items() if k == kind}


def _save_homes(
    session: Session, run_id: str, result: RunAllocation, homes: dict[tuple[str, str], str]
) -> None:
    """Record each seated learner's home class; leavers keep theirs.

    A home class stays while it is closed and the learner's group is unchanged (it may
    reopen); otherwise the learner's class becomes their home. Runs after ``_save``: a kind
    of seat nobody has a home for yet (a first allocation) gets its homes copied from the
    seats just written, in one ``INSERT ... SELECT`` (half the cost of inserting the rows).
    """
    new: list[tuple[str, str, str, str]] = []
    changed: list[dict[str, Any]] = []
    copied: list[str] = []
    for kind, allocation in ((MAIN, result.main), (REFERENCE, result.reference)):
        before = _of_kind(homes, kind)
        if not before:  # no homes of this kind: each seat becomes its learner's home
            if allocation.class_of:
                copied.append(kind)
            continue
        for code, class_id in sorted(next_homes(allocation, before).items()):
            if code not in before:
                new.append((run_id, code, kind, class_id))
            else:
                changed.append({"b_code": code, "b_kind": kind, "class_id": class_id})
    new.sort()  # primary-key order (person, kind): the cheapest to insert
    table = SQLModel.metadata.tables["classhistory"]
    where = (
        (table.c.run_id == run_id)
        & (table.c.identity_code == bindparam("b_code"))
        & (table.c.kind == bindparam("b_kind"))
    )
    insert_rows(session, table, _SEAT_COLUMNS, new)
    if copied:
        seat = SQLModel.metadata.tables["classmember"]
        seats = sa_select(*(seat.c[name] for name in _SEAT_COLUMNS)).where(
            seat.c.run_id == run_id, seat.c.kind.in_(copied)
        )
        session.execute(insert(table).from_select(_SEAT_COLUMNS, seats))
    statement = update(table).where(where).values(class_id=bindparam("class_id"))
    for start in range(0, len(changed), CHUNK):
        session.execute(statement, changed[start : start + CHUNK])


def _save(
    session: Session, run: RunSettings, result: RunAllocation, seats: dict[tuple[str, str], str]
) -> dict[str, int]:
    written = {"classes": 0, "seats": 0, "seats_removed": 0, "staff": 0, "staff_removed": 0}
    stored = {
        c.id: c
        for c in session.exec(select(TrainingClass).where(col(TrainingClass.run_id) == run.id))
    }
    wanted_classes: dict[str, tuple[AllocatedClass, str]] = {
        k.class_id: (k, MAIN) for k in result.main.classes
    } | {k.class_id: (k, REFERENCE) for k in result.reference.classes}
    new_classes: list[tuple[Any, ...]] = []
    for class_id, (klass, kind) in sorted(wanted_classes.items()):
        name = klass.display_name + (" (kiêm nhiệm)" if kind == REFERENCE else "")
        row = stored.get(class_id)
        values: dict[str, Any] = {
            "run_id": run.id,
            "level": klass.key.level,
            "audience": klass.key.audience,
            "subject": klass.key.subject,
            "ordinal": klass.ordinal,
            "name": name,
            "kind": kind,
        }
        if row is None:  # a bulk insert: an ORM object costs ~100 us (2,000+ classes a run)
            new_classes.append((class_id, *values.values(), 0))
            written["classes"] += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            written["classes"] += 1
    insert_rows(session, SQLModel.metadata.tables["trainingclass"], _CLASS_COLUMNS, new_classes)
    session.flush()
    wanted_seats = {MAIN: result.main.class_of, REFERENCE: result.reference.class_of}
    table = SQLModel.metadata.tables["classmember"]
    # Rows built straight from the allocations (no (person, kind) dictionary of every seat),
    # then sorted by (person, kind): new seats in primary-key order, the cheapest to insert.
    new: list[tuple[str, str, str, str]] = []
    changed: list[tuple[str, str, str]] = []
    for kind, class_of in wanted_seats.items():
        stored_seats = _of_kind(seats, kind)
        if not stored_seats:  # nobody had a seat of this kind: every one is new
            new.extend(zip(repeat(run.id), class_of, repeat(kind), class_of.values()))
            continue
        for pid, cid in class_of.items():
            before = stored_seats.get(pid)
            if before is None:
                new.append((run.id, pid, kind, cid))
            elif before != cid:
                changed.append((pid, kind, cid))
    new.sort()
    changed.sort()
    moved = [{"b_code": pid, "b_kind": kind, "class_id": cid} for pid, kind, cid in changed]
    gone = [
        {"b_code": pid, "b_kind": kind}
        for (pid, kind) in sorted(seats)
        if pid not in wanted_seats.get(kind, {})
    ]
    where = (
        (table.c.run_id == run.id)
        & (table.c.identity_code == bindparam("b_code"))
        & (table.c.kind == bindparam("b_kind"))
    )
    insert_rows(session, table, _SEAT_COLUMNS, new)
    for statement, rows in (
        (update(table).where(where).values(class_id=bindparam("class_id")), moved),
        (delete(table).where(where), gone),
    ):
        for start in range(0, len(rows), CHUNK):
            session.execute(statement, rows[start : start + CHUNK])
    written["seats"] = len(new) + len(moved)
    written["seats_removed"] = len(gone)
    written.update(_save_staff(session, result.staff, [*wanted_classes, *stored]))
    # Seats and staff of closed classes go first: they refer to the class.
    session.flush()
    for class_id, row in stored.items():
        if class_id not in wanted_classes:
            session.delete(row)
            written["classes_closed"] = written.get("classes_closed", 0) + 1
    return written


def _save_staff(
    session: Session, assignment: StaffAssignment, class_ids: list[str]
) -> dict[str, int]:
    stored = {
        (s.class_id, s.identity_code): s
        for s in session.exec(select(ClassStaff).where(col(ClassStaff.class_id).in_(class_ids)))
    }
    wanted: dict[tuple[str, str], str] = {}
    for class_staff in assignment.classes:
        for pid in class_staff.reporters:
            wanted[(class_staff.class_id, pid)] = StaffRole.REPORTER.value
        for pid in class_staff.assistants:
            wanted[(class_staff.class_id, pid)] = StaffRole.ASSISTANT.value
    added = removed = 0
    new: list[tuple[str, str, str]] = []
    for key, role in sorted(wanted.items()):
        row = stored.get(key)
        if row is None:
            new.append((*key, role))
            added += 1
        elif row.role != role:
            row.role = role
            session.add(row)
            added += 1
    for key, row in stored.items():
        if key not in wanted:
            session.delete(row)
            removed += 1
    table = SQLModel.metadata.tables["classstaff"]
    insert_rows(session, table, ("class_id", "identity_code", "role"), new)
    return {"staff": added, "staff_removed": removed}
