"""``bdtx roster import`` and ``bdtx roster report``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from cli.context import (
    EXIT_NEEDS_ACCEPT,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_SETTINGS,
    AppContext,
    fail,
)
from roster.errors import RosterFormatError
from roster.model import ImportResult
from roster.reasons import Status
from roster.report import summary_table
from roster.service import REPORTS_DIR, import_files, import_warnings
from store.db import session_scope
from store.roster_repo import ImportChanges, latest_import
from sync.safety import NeedsAccept

EXIT_NOT_A_ROSTER = 5


def summary_json(
    result: ImportResult, changes: ImportChanges | None, warnings: Sequence[str] = ()
) -> dict[str, object]:
    counts = result.status_counts()
    return {
        "rows_read": result.rows_read,
        "imported": counts[Status.IMPORTED],
        "rejected": counts[Status.REJECTED],
        "excluded": counts[Status.EXCLUDED],
        "reasons": {code.value: n for code, n in sorted(result.reason_counts().items())},
        "learners": len(result.learners),
        "core_staff": len(result.core_staff),
        "exemptions": len(result.exemptions),
        "changes": changes.as_dict() if changes else None,
        "warnings": list(warnings),
    }


def print_warnings(ctx: AppContext, warnings: Sequence[str]) -> None:
    for warning in warnings:
        ctx.console.print(f"[yellow]{escape(warning)}[/yellow]")


def changes_table(changes: ImportChanges) -> Table:
    table = Table(title="Thay đổi so với lần nhập trước")
    table.add_column("Loại")
    table.add_column("Số người", justify="right")
    table.add_row("Người mới", str(len(changes.new)))
    table.add_row("Thay đổi thông tin", str(len(changes.changed)))
    table.add_row("Rời danh sách", str(len(changes.left)))
    table.add_row("Trở lại danh sách", str(len(changes.returned)))
    table.add_row("Không đổi", str(changes.unchanged))
    return table


def run_import(
    ctx: AppContext,
    paths: Sequence[Path],
    *,
    dry_run: bool,
    report: Path | None,
    as_json: bool,
    now: dt.datetime,
    accept: bool = False,
) -> int:
    try:
        with ctx.console.status("Đang đọc và kiểm tra danh sách..."):
            result, changes, report_path = import_files(
                ctx, paths, now=now, dry_run=dry_run, accept=accept
            )
    except RosterFormatError as error:
        return fail(ctx.err_console, error, EXIT_NOT_A_ROSTER, "not_a_roster", as_json=as_json)
    except NeedsAccept as stop:
        return refuse(ctx, stop, as_json=as_json, what="Chưa lưu gì.")
    if report is not None and not _copy(ctx, report_path, report):
        return EXIT_SETTINGS
    warnings = import_warnings(ctx, result, changes, now.date())
    if as_json:
        print(json.dumps(summary_json(result, changes, warnings), ensure_ascii=False, indent=2))
    else:
        ctx.console.print(summary_table(result))
        if changes is not None:
            ctx.console.print(changes_table(changes))
        print_warnings(ctx, warnings)
        ctx.console.print(
            f"Báo cáo: {report or report_path}" + (" (chạy thử, chưa lưu)" if dry_run else "")
        )
    return EXIT_PROBLEMS if result.status_counts()[Status.REJECTED] else EXIT_OK


def refuse(ctx: AppContext, stop: NeedsAccept, *, as_json: bool, what: str) -> int:
    """Report a change stopped at a safety threshold; exit code 4."""
    for violation in stop.violations:
        ctx.err_console.print(f"[red]{violation.message()} {what}[/red]", soft_wrap=True)
    if as_json:
        messages = [v.message() for v in stop.violations]
        print(json.dumps({"needs_accept": messages}, ensure_ascii=False))
    return EXIT_NEEDS_ACCEPT


def copy_latest_report(ctx: AppContext, out: Path) -> int:
    with session_scope(ctx.engine()) as session:
        record = latest_import(session)
    source = REPORTS_DIR / f"roster-import-{record.id}.xlsx" if record else None
    if source is None or not source.exists():
        ctx.console.print(
            "[red]Chưa có lần nhập danh sách nào: chạy 'bdtx roster import' trước.[/red]"
        )
        return EXIT_PROBLEMS
    if not _copy(ctx, source, out):
        return EXIT_SETTINGS
    ctx.console.print(f"Báo cáo lần nhập #{record.id if record else ''}: {out}")
    return EXIT_OK


def _copy(ctx: AppContext, source: Path, target: Path) -> bool:
    try:
        shutil.copyfile(source, target)
    except OSError as error:
        ctx.err_console.print(
            f"[red]Không ghi được báo cáo vào {target}: {error.strerror}[/red]", soft_wrap=True
        )
        return False
    return True
