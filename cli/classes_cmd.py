"""``bdtx classes allocate`` and ``bdtx classes show``."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass

from rich.markup import escape
from rich.table import Table
from sqlmodel import col, select

from cli.context import EXIT_OK, EXIT_PROBLEMS, AppContext
from cli.roster_cmd import refuse
from roster.reporters import MissingReporter
from roster.service import allocate_runs
from store.classes_repo import RunAllocation
from store.db import session_scope
from store.models import ClassMember, ClassStaff, Person, TrainingClass
from sync.safety import NeedsAccept


def allocation_table(results: list[RunAllocation]) -> Table:
    table = Table(title="Phân lớp")
    columns = ("Đợt", "Lớp", "Học viên", "Chỗ tham khảo", "Mới xếp", "Chuyển lớp", "Thiếu BCV")
    for column in columns:
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            r.run_id,
            str(len(r.classes)),
            str(len(r.main.class_of)),
            str(len(r.reference.class_of)),
            str(sum(1 for m in r.moves if m.from_class is None)),
            str(r.class_moves),
            str(sum(1 for p in r.staff.problems if isinstance(p, MissingReporter))),
        )
    return table


def allocation_warnings(result: RunAllocation, *, moves: int | None = None) -> list[str]:
    """Class changes of people already placed, then staffing problems: what the table
    output lists under the table and ``--json`` carries as ``warnings``."""
    lines = [
        f"{result.run_id}: {move.person_id} {move.from_class} → {move.to_class or '—'}: "
        f"{move.message}"
        for move in result.moves[:moves]
        if move.from_class is not None
    ]
    return lines + [problem.message for problem in result.staff.problems]


def run_allocate(
    ctx: AppContext, run_ids: list[str], *, as_json: bool, accept: bool = False
) -> int:
    runs = [ctx.settings.run(r) for r in run_ids] if run_ids else list(ctx.settings.runs)
    try:
        results = allocate_runs(ctx, runs, accept=accept)
    except NeedsAccept as stop:
        return refuse(ctx, stop, as_json=as_json, what="Chưa lưu gì.")
    problems = sum(len(r.staff.problems) for r in results)
    if as_json:
        summary = [
            {
                "run": r.run_id,
                "classes": len(r.classes),
                "learners": len(r.main.class_of),
                "reference_seats": len(r.reference.class_of),
                "moves": len(r.moves),
                "class_moves": r.class_moves,
                "written": r.written,
                "problems": [p.message for p in r.staff.problems],
                "warnings": allocation_warnings(r),
            }
            for r in results
        ]
        print(json.dumps({"runs": summary}, ensure_ascii=False, indent=2))
        return EXIT_PROBLEMS if problems else EXIT_OK
    ctx.console.print(allocation_table(results))
    for r in results:
        for warning in allocation_warnings(r, moves=20):
            ctx.console.print(f"  [yellow]{escape(warning)}[/yellow]")
    return EXIT_PROBLEMS if problems else EXIT_OK


@dataclass(frozen=True)
class ClassLine:
    id: str
    name: str
    kind: str
    size: int
    schools: int
    main_school: str
    reporters: list[str]


def show_classes(ctx: AppContext, run_id: str | None, *, as_json: bool) -> int:
    if run_id:
        ctx.settings.run(run_id)  # an unknown run is a settings error, not an empty list
    with session_scope(ctx.engine()) as session:
        query = select(TrainingClass).order_by(col(TrainingClass.id))
        if run_id:
            query = query.where(col(TrainingClass.run_id) == run_id)
        classes = list(session.exec(query))
        seats = list(session.exec(select(ClassMember)))
        staff = list(session.exec(select(ClassStaff)))
        people = {p.identity_code: p for p in session.exec(select(Person))}
    members: dict[str, list[str]] = {}
    for seat in seats:
        members.setdefault(seat.class_id, []).append(seat.identity_code)
    reporters_of: dict[str, list[str]] = {}
    for assigned in staff:
        if assigned.role == "reporter" and assigned.identity_code in people:
            reporters_of.setdefault(assigned.class_id, []).append(
                people[assigned.identity_code].full_name
            )
    lines = []
    for klass in classes:
        schools = Counter(people[c].school_code for c in members.get(klass.id, []) if c in people)
        lines.append(
            ClassLine(
                id=klass.id,
                name=klass.name,
                kind=klass.kind,
                size=len(members.get(klass.id, [])),
                schools=len(schools),
                main_school=schools.most_common(1)[0][0] if schools else "",
                reporters=sorted(reporters_of.get(klass.id, [])),
            )
        )
    if as_json:
        shown = [asdict(line) for line in lines]
        print(json.dumps({"classes": shown}, ensure_ascii=False, indent=2))
    else:
        table = Table(title=f"Lớp ({len(lines)})")
        for column in ("Mã lớp", "Tên lớp", "Sĩ số", "Số trường", "Báo cáo viên"):
            table.add_column(column)
        for line in lines:
            reporters = ", ".join(line.reporters) or "[red]chưa có[/red]"
            table.add_row(line.id, line.name, str(line.size), str(line.schools), reporters)
        ctx.console.print(table)
    return EXIT_PROBLEMS if any(not line.reporters for line in lines) else EXIT_OK
