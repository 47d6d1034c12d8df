"""``bdtx lms check``'s table of the template courses: per activity, what the schedule push
cannot move and what to change in the template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from scheduler.validation import RunProblem


def template_row(problem: RunProblem) -> dict[str, Any]:
    return {
        "run": problem.run_id,
        "key": problem.key,
        "activity": problem.activity,
        "severity": problem.severity,
        "message": problem.message,
    }


def template_table(problems: Sequence[RunProblem]) -> Table:
    table = Table(title="Template courses: what the schedule push cannot do, and what to change")
    for column in ("run", "setting", "activity", "status"):
        table.add_column(column, overflow="fold")
    table.add_column("what to change", overflow="fold")
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        table.add_row(
            problem.run_id,
            problem.key,
            problem.activity or "—",
            "missing" if problem.severity == "error" else "warning",
            problem.message,
            style=style,
        )
    return table
