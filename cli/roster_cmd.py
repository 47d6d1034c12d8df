"""``bdtx roster import`` and ``bdtx roster report``."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.markup import escape
from rich.table import Table
from sqlmodel import select

from cli.context import (
    EXIT_NEEDS_ACCEPT,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_SETTINGS,
    AppContext,
    print_json_error,
)
from config.settings import RosterSettings, RunSettings
from roster.eligibility import EligibilityPolicy, PrerequisitePolicy
from roster.errors import RosterFormatError
from roster.headers import RosterKind
from roster.importer import ImportOptions, build_result, read_schools
from roster.model import ImportResult, School
from roster.readers import RawRow, read_any
from roster.reasons import Status
from roster.report import summary_table, write_report
from roster.validate import ValidationRules
from store.db import session_scope
from store.models import School as StoredSchool
from store.roster_repo import ImportChanges, latest_import, save_import
from sync import service
from sync.safety import NeedsAccept

EXIT_NOT_A_ROSTER = 5
REPORTS_DIR = Path("var/reports")


@dataclass
class RosterFiles:
    """The files of one import, sorted by what they hold."""

    schools: Path | None = None
    learners: list[Path] = field(default_factory=list)
    core_staff: list[Path] = field(default_factory=list)
    rows: dict[Path, Iterator[RawRow]] = field(default_factory=dict)
    """The learners' and core staff's rows, read as their kind was recognised."""


KINDS = (RosterKind.SCHOOLS, RosterKind.CORE_STAFF, RosterKind.LEARNERS)
"""The order in which a file's header is tried (a school list's columns are the fewest)."""


def sort_files(paths: Iterable[Path], options: ImportOptions) -> RosterFiles:
    files = RosterFiles()
    for path in paths:
        kind, rows = read_any(path, KINDS, header_overrides=options.header_overrides)
        if kind is RosterKind.SCHOOLS:
            if files.schools is not None:
                raise RosterFormatError(
                    "chỉ được có một danh sách trường trong một lần nhập.", file=path.name
                )
            files.schools = path  # small: read again as the school list
            continue
        files.rows[path] = rows
        if kind is RosterKind.CORE_STAFF:
            files.core_staff.append(path)
        else:
            files.learners.append(path)
    if not files.learners:
        raise RosterFormatError(
            "không có danh sách học viên "
            "(cần cột Mã định danh, Họ và tên, Email, Đơn vị công tác...).",
            file=", ".join(p.name for p in paths) or "(không có tệp)",
        )
    return files


def import_options(settings: RosterSettings, username_pattern: str) -> ImportOptions:
    prerequisite = (
        PrerequisitePolicy.ROUTE
        if settings.without_modules_123 == "route"
        else PrerequisitePolicy.EXCLUDE
    )
    assume = {"done": True, "not_done": False}.get(settings.assume_modules_123 or "")
    return ImportOptions(
        header_overrides=settings.header_overrides,
        rules=ValidationRules(username_pattern=username_pattern, assume_modules_123=assume),
        policy=EligibilityPolicy(prerequisite=prerequisite),
    )


def _rows(files: RosterFiles, paths: Sequence[Path]) -> Iterable[RawRow]:
    return itertools.chain.from_iterable(files.rows[p] for p in paths)


def read_roster(ctx: AppContext, paths: Sequence[Path], *, today: dt.date) -> ImportResult:
    """Validate the files (schools from the file, else from the last import)."""
    options = import_options(ctx.settings.roster, ctx.settings.provisioning.username_pattern)
    files = sort_files(paths, options)
    if files.schools is not None:
        schools: Sequence[School] = read_schools(
            files.schools, header_overrides=options.header_overrides
        )
    else:
        with session_scope(ctx.engine()) as session:
            stored = list(session.exec(select(StoredSchool)))
        if not stored:
            raise RosterFormatError(
                "chưa có danh sách trường: "
                "nhập kèm tệp danh sách trường (Mã trường, Tên trường...).",
                file=", ".join(p.name for p in paths),
            )
        schools = [School(s.code, s.name, s.kind, s.district, s.cluster) for s in stored]
    return build_result(
        _rows(files, files.learners),
        _rows(files, files.core_staff),
        schools,
        today=today,
        rules=options.rules,
        policy=options.policy,
    )


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


def locked_school_changes(
    changes: ImportChanges, runs: Sequence[RunSettings], today: dt.date
) -> dict[str, list[str]]:
    """Per run past its unit lock date: who changed school (kept in their class)."""
    moved = sorted(code for code, fields in changes.changed.items() if "school_code" in fields)
    return {
        run.id: moved
        for run in runs
        if moved and run.unit_lock_date is not None and today > run.unit_lock_date
    }


def import_warnings(
    ctx: AppContext, result: ImportResult, changes: ImportChanges | None, today: dt.date
) -> list[str]:
    """What an import warns about, the same for the tables and for ``--json``: the files'
    notices (unknown columns, assumed values), then school changes after a lock date."""
    warnings = list(result.notices)
    if changes is None:
        return warnings
    for run_id, codes in locked_school_changes(changes, ctx.settings.runs, today).items():
        lock = ctx.settings.run(run_id).unit_lock_date
        assert lock is not None
        warnings.append(
            f"Đợt {run_id}: {len(codes)} người đổi đơn vị sau ngày khóa "
            f"{lock:%d/%m/%Y} — giữ nguyên lớp của đợt: {', '.join(codes[:20])}"
            f"{' …' if len(codes) > 20 else ''}"
        )
    return warnings


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


def import_files(
    ctx: AppContext,
    paths: Sequence[Path],
    *,
    now: dt.datetime,
    dry_run: bool = False,
    accept: bool = False,
) -> tuple[ImportResult, ImportChanges | None, Path]:
    """Validate, store (unless dry run) and write the report; the use case behind the CLI.

    Raises NeedsAccept, having stored nothing, when the import would mark more people as
    left than ``[roster] max_leavers`` allows and ``accept`` is not given.
    """
    result = read_roster(ctx, paths, today=now.date())
    changes = None
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    report_path = REPORTS_DIR / "roster-dry-run.xlsx"
    if not dry_run:
        limits = None if accept else service.thresholds(ctx.settings)
        with session_scope(ctx.engine()) as session:
            record, changes = save_import(
                session, result, files=[str(p) for p in paths], now=now, limits=limits
            )
        report_path = REPORTS_DIR / f"roster-import-{record.id}.xlsx"
    write_report(result, report_path)
    return result, changes, report_path


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
        ctx.err_console.print(f"[red]{error}[/red]", soft_wrap=True)
        if as_json:
            print_json_error(str(error), EXIT_NOT_A_ROSTER, "not_a_roster")
        return EXIT_NOT_A_ROSTER
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
