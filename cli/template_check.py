"""``bdtx lms check``'s table of the template courses: per activity, what the schedule push
cannot move and what to change in the template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table

from config.settings import RunSettings
from connector.errors import LmsWsError
from connector.lms import MoodleLms
from scheduler.validation import RunProblem, check_templates
from sync.template_read import read_templates


def template_findings(lms: MoodleLms, runs: Sequence[RunSettings]) -> list[RunProblem]:
    """The runs' templates checked; a template the service user may not read (a limited
    user: the check above lists what it lacks) is said so, not a stop."""
    try:
        templates = read_templates(lms, {run.template_course for run in runs})
    except LmsWsError as error:
        return [
            RunProblem(
                run.id,
                "template_course",
                f"could not read template {run.template_course!r}: {error}",
                severity="warning",
            )
            for run in runs
        ]
    return check_templates(runs, templates)


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
