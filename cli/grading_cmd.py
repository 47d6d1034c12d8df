"""``bdtx grading pull``: progress, grades and completion, on demand."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from cli.context import EXIT_OK, AppContext
from grading import service
from grading.rule import Outcome, Reason

OUTCOME_ORDER = (Outcome.COMPLETED, Outcome.NOT_COMPLETED, Outcome.EXEMPT, Outcome.REFERENCE)


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "—"


def report_table(report: service.PullReport) -> Table:
    """One run's results, in Vietnamese."""
    table = Table(title=f"Kết quả đợt {report.run_id} (lần lấy dữ liệu #{report.pull_id})")
    table.add_column("Kết quả")
    table.add_column("Số học viên", justify="right")
    for outcome in OUTCOME_ORDER:
        table.add_row(outcome.label, str(report.counts.get(outcome.value, 0)))
    table.add_section()
    for reason in Reason:
        count = report.counts.get(f"reason:{reason.value}", 0)
        if count:
            table.add_row(f"  {reason.label}", str(count))
    table.add_section()
    completed = report.counts.get(Outcome.COMPLETED.value, 0)
    table.add_row("Tỉ lệ hoàn thành (mục tiêu trên 98%)", _percent(completed, report.learners))
    table.add_row("Đã trả lời phiếu khảo sát", _percent(report.survey_answered, report.learners))
    table.add_row(
        "Phản hồi tích cực (mục tiêu trên 75%)",
        _percent(report.survey_positive, report.learners),
    )
    return table


def calls_table(report: service.PullReport) -> Table:
    table = Table(title="LMS calls")
    table.add_column("function")
    table.add_column("calls", justify="right")
    for function, count in report.calls.items():
        table.add_row(function, str(count))
    return table


def as_dict(report: service.PullReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "pull_id": report.pull_id,
        "learners": report.learners,
        "counts": dict(report.counts),
        "survey_answered": report.survey_answered,
        "survey_positive": report.survey_positive,
        "flagged": [r.identity_code for r in report.flagged],
        "problems": list(report.problems),
        "calls": dict(report.calls),
    }


def run_pull(ctx: AppContext, run_ids: list[str], *, as_json: bool, now: Any) -> int:
    """Pull each run (all configured runs when none is named)."""
    runs = run_ids or [run.id for run in ctx.settings.runs]
    reports = [
        service.pull(ctx.engine(), ctx.lms(), ctx.settings, run_id, now=now()) for run_id in runs
    ]
    if as_json:
        print(json.dumps({"ok": True, "runs": [as_dict(r) for r in reports]}, ensure_ascii=False))
        return EXIT_OK
    for report in reports:
        ctx.console.print(report_table(report))
        for problem in report.problems:
            ctx.console.print(f"[yellow]{problem}[/yellow]")
        if report.flagged:
            ctx.console.print(
                f"[yellow]{len(report.flagged)} bài được chấm bởi người không phụ trách lớp: "
                "cần Sở xem xét.[/yellow]"
            )
        ctx.console.print(calls_table(report))
    return EXIT_OK
