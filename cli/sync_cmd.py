"""``bdtx sync plan | apply | history``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from cli.context import (
    EXIT_LMS,
    EXIT_NEEDS_ACCEPT,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_SETTINGS,
    AppContext,
)
from connector.profile_fields import ProfileFieldCheck
from store.db import session_scope
from store.sync_repo import history
from sync import service
from sync.model import ActionKind, Plan

# Vietnamese names of the actions, for the people who review a plan.
ACTION_LABELS = {
    ActionKind.CREATE_CATEGORY: "Tạo danh mục",
    ActionKind.CREATE_COURSE: "Tạo khóa học",
    ActionKind.UPDATE_COURSE: "Sửa khóa học",
    ActionKind.CREATE_GROUP: "Tạo lớp (nhóm)",
    ActionKind.CREATE_USER: "Tạo tài khoản",
    ActionKind.UPDATE_USER: "Sửa tài khoản",
    ActionKind.SUSPEND_USER: "Tạm khóa tài khoản",
    ActionKind.REACTIVATE_USER: "Mở lại tài khoản",
    ActionKind.ENROL: "Ghi danh",
    ActionKind.CHANGE_ROLE: "Đổi vai trò",
    ActionKind.UNENROL: "Hủy ghi danh",
    ActionKind.ADD_MEMBER: "Xếp vào lớp",
    ActionKind.REMOVE_MEMBER: "Rút khỏi lớp",
}


def plan_table(plan: Plan, title: str) -> Table:
    table = Table(title=title)
    table.add_column("Hành động")
    table.add_column("Số lượng", justify="right")
    for kind, count in plan.count_by_kind().items():
        table.add_row(ACTION_LABELS[kind], str(count))
    table.add_section()
    table.add_row("Tổng số lệnh ghi", str(plan.writes), style="bold")
    if plan.conflicts:
        table.add_row("Cần xem xét (không làm)", str(len(plan.conflicts)), style="yellow")
    return table


def write_plan_files(preview: service.SyncPreview, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    plan = preview.plan
    data = {
        "digest": preview.digest,
        "counts": {k.value: n for k, n in plan.count_by_kind().items()},
        "actions": [
            {"kind": a.kind.value, "key": a.key, "reason": a.reason, "data": dict(a.data)}
            for a in plan.actions
        ],
        "conflicts": [vars(c) for c in plan.conflicts],
        "violations": [v.message() for v in preview.violations],
    }
    json_path = out / "plan.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), "utf-8")
    workbook = Workbook(write_only=True)
    summary = cast(Worksheet, workbook.create_sheet("Tổng hợp"))
    summary.append(["Hành động", "Số lượng"])
    for kind, count in plan.count_by_kind().items():
        summary.append([ACTION_LABELS[kind], count])
    summary.append(["Cần xem xét", len(plan.conflicts)])
    for violation in preview.violations:
        summary.append([violation.message()])
    by_kind: dict[ActionKind, list[Any]] = {}
    for action in plan.actions:
        by_kind.setdefault(action.kind, []).append(action)
    for kind, actions in by_kind.items():
        sheet = cast(Worksheet, workbook.create_sheet(ACTION_LABELS[kind][:31]))
        sheet.append(["Đối tượng", "Lý do", "Chi tiết"])
        for action in actions:
            details = "; ".join(f"{k}={v}" for k, v in action.data.items())
            sheet.append([action.key, action.reason, details])
    if plan.conflicts:
        sheet = cast(Worksheet, workbook.create_sheet("Cần xem xét"))
        sheet.append(["Đối tượng", "Mã", "Nội dung"])
        for conflict in plan.conflicts:
            sheet.append([conflict.key, conflict.code, conflict.message])
    xlsx_path = out / "plan.xlsx"
    workbook.save(xlsx_path)
    return json_path, xlsx_path


def warn_missing_profile_fields(ctx: AppContext, check: ProfileFieldCheck) -> None:
    """Say which configured profile fields the site lacks (the sync leaves them out)."""
    if check.missing:
        ctx.console.print(
            "[yellow]LMS không có trường hồ sơ (không gửi): "
            f"{', '.join(sorted(check.missing))}. Xem 'bdtx lms check'.[/yellow]"
        )


def run_plan(ctx: AppContext, out: Path, *, as_json: bool, now: dt.datetime) -> int:
    fields = ctx.profile_fields(write=False)
    if not as_json:
        warn_missing_profile_fields(ctx, fields)
    preview = service.preview(
        ctx.engine(),
        ctx.lms(),
        ctx.settings,
        now=now,
        site_customfields=fields.usable,
        kept_customfields=fields.kept or frozenset(),
    )
    json_path, xlsx_path = write_plan_files(preview, out)
    if as_json:
        print(
            json.dumps(
                {
                    "digest": preview.digest,
                    "writes": preview.plan.writes,
                    "counts": {k.value: n for k, n in preview.plan.count_by_kind().items()},
                    "conflicts": len(preview.plan.conflicts),
                    "violations": [v.message() for v in preview.violations],
                    "lms_calls": ctx.lms().client.stats.calls,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        ctx.console.print(plan_table(preview.plan, "Kế hoạch đồng bộ (chưa ghi gì vào LMS)"))
        for violation in preview.violations:
            ctx.console.print(f"[red]{violation.message()}[/red]")
        ctx.console.print(
            f"Chi tiết: {xlsx_path} và {json_path}; đọc LMS: {ctx.lms().client.stats.calls} lệnh"
        )
    return EXIT_NEEDS_ACCEPT if preview.violations else EXIT_OK


def apply_with_progress(
    ctx: AppContext,
    *,
    accept: bool,
    expected_digest: str | None,
    now: Callable[[], dt.datetime],
    quiet: bool,
) -> service.SyncReport:
    """Apply, with a progress bar per kind of action (raises NeedsAccept / PlanMoved)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=ctx.console,
        transient=True,
        disable=quiet,
    ) as progress:
        tasks: dict[ActionKind, Any] = {}

        def advance(kind: ActionKind, done: int, _total: int) -> None:
            if kind not in tasks:
                tasks[kind] = progress.add_task(ACTION_LABELS[kind], total=None)
            progress.advance(tasks[kind], done)

        # The probe account is written first: fields the site lacks are never sent.
        fields = ctx.profile_fields(write=True)
        if not quiet:
            warn_missing_profile_fields(ctx, fields)
        return service.apply(
            ctx.engine(),
            ctx.lms(),
            ctx.settings,
            now=now(),
            clock=now,
            user=ctx.user,
            site_customfields=fields.usable,
            kept_customfields=fields.kept or frozenset(),
            accept=accept,
            expected_digest=expected_digest,
            progress=advance,
        )


def run_apply(
    ctx: AppContext,
    *,
    accept: bool,
    plan_file: Path | None,
    as_json: bool,
    now: Callable[[], dt.datetime],
) -> int:
    expected = None
    if plan_file is not None:
        try:
            expected = str(json.loads(plan_file.read_text("utf-8"))["digest"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            return _refuse(
                ctx,
                f"Không đọc được kế hoạch {plan_file}: {type(error).__name__} "
                f"({error}). Dùng tệp plan.json do 'bdtx sync plan' tạo ra.",
                EXIT_SETTINGS,
                as_json,
            )
    try:
        report = apply_with_progress(
            ctx, accept=accept, expected_digest=expected, now=now, quiet=as_json
        )
    except service.NeedsAccept as stop:
        message = " ".join(v.message() for v in stop.violations)
        return _refuse(ctx, message, EXIT_NEEDS_ACCEPT, as_json)
    except service.PlanMoved as moved:
        return _refuse(ctx, str(moved), EXIT_NEEDS_ACCEPT, as_json)
    result = report.result
    summary = {
        "run": report.run_id,
        "status": report.status,
        "done": result.count("done"),
        "failed": result.count("failed"),
        "unknown": result.count("unknown"),
        "pending": result.count("pending"),
        "conflicts": len(report.preview.plan.conflicts),
        "lms_calls": ctx.lms().client.stats.calls,
        "stopped": result.stopped,
    }
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        ctx.console.print(
            plan_table(report.preview.plan, f"Đồng bộ #{report.run_id}: {report.status}")
        )
        table = Table(title="Kết quả")
        for column in ("Xong", "Lỗi", "Chưa rõ", "Chưa chạy", "Lệnh LMS"):
            table.add_column(column, justify="right")
        table.add_row(
            *(str(summary[k]) for k in ("done", "failed", "unknown", "pending", "lms_calls"))
        )
        ctx.console.print(table)
        for failure in result.failures()[:30]:
            label = ACTION_LABELS[failure.action.kind]
            ctx.console.print(f"  [red]{label} {failure.action.key}: {failure.error}[/red]")
        if len(result.failures()) > 30:
            ctx.console.print(
                f"  … và {len(result.failures()) - 30} lỗi khác ('bdtx sync history')"
            )
        for conflict in report.preview.plan.conflicts[:30]:
            ctx.console.print(f"  [yellow]{conflict.message}[/yellow]")
        if result.stopped:
            ctx.console.print(f"[red]{result.stopped}[/red]")
    if report.status == "interrupted":
        return EXIT_LMS
    return EXIT_PROBLEMS if result.failures() else EXIT_OK


def _refuse(ctx: AppContext, message: str, code: int, as_json: bool) -> int:
    """Say why nothing was applied: on stderr, and as JSON on stdout for scripts."""
    ctx.err_console.print(f"[red]{message}[/red]")
    if as_json:
        print(json.dumps({"error": message, "exit_code": code}, ensure_ascii=False))
    return code


def show_history(ctx: AppContext, *, as_json: bool) -> int:
    with session_scope(ctx.engine()) as session:
        runs = history(session)
    if as_json:
        print(json.dumps([r.model_dump() for r in runs], ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    table = Table(title="Lịch sử đồng bộ")
    for column in ("#", "Bắt đầu", "Người chạy", "Kiểu", "Trạng thái", "Số lệnh", "Lỗi"):
        table.add_column(column)
    for run in runs:
        total = sum(int(v) for v in run.counts.values())
        table.add_row(
            str(run.id),
            run.started_at.strftime("%d/%m/%Y %H:%M"),
            run.user,
            run.mode,
            run.status,
            str(total),
            str(len(run.errors)),
        )
    ctx.console.print(table)
    return EXIT_OK
