"""``bdtx sync plan | apply | history``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.table import Table

from cli.context import (
    EXIT_LMS,
    EXIT_NEEDS_ACCEPT,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_SETTINGS,
    AppContext,
    fail,
)
from config.settings import SettingsError
from connector.profile_fields import ProfileFieldCheck
from reports.xlsx import SafeWorkbook
from store.db import session_scope
from store.models import SyncRun
from store.sync_repo import history, run_record, settle_killed_runs
from sync import service
from sync.calendar import CalendarPlan
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
    ActionKind.MOVE_EVENT: "Dời ngày (lịch Moodle)",
    ActionKind.CREATE_EVENT: "Tạo lịch lớp học ảo",
}


def plan_table(plan: Plan, title: str, calendar: CalendarPlan | None = None) -> Table:
    table = Table(title=title)
    table.add_column("Hành động")
    table.add_column("Số lượng", justify="right")
    for kind, count in plan.count_by_kind().items():
        table.add_row(ACTION_LABELS[kind], str(count))
    table.add_section()
    table.add_row("Tổng số lệnh ghi", str(plan.writes), style="bold")
    if plan.conflicts:
        table.add_row("Cần xem xét (không làm)", str(len(plan.conflicts)), style="yellow")
    if calendar is not None and calendar.waiting:
        waiting = len(calendar.waiting) - len(calendar.timed_out)
        if waiting:
            table.add_row("Lịch: chờ Moodle (khóa học)", str(waiting), style="yellow")
        if calendar.timed_out:
            table.add_row(
                "Lịch: chờ Moodle quá lâu (lỗi)", str(len(calendar.timed_out)), style="red"
            )
    return table


def calendar_json(calendar: CalendarPlan) -> dict[str, Any]:
    """The schedule push's status in the ``--json`` summaries."""
    return {
        "waiting": list(calendar.waiting),
        "timed_out": list(calendar.timed_out),
        "drifted": list(calendar.drifted),
        "status": service.calendar_status(calendar),
    }


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
        "conflicts": [dataclasses.asdict(c) for c in plan.conflicts],
        "violations": [v.message() for v in preview.violations],
        "calendar": calendar_json(preview.calendar),
    }
    json_path = out / "plan.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), "utf-8")
    workbook = SafeWorkbook()
    summary = workbook.sheet("Tổng hợp", widths=(40, 12), freeze="A2")
    summary.header(["Hành động", "Số lượng"])
    for kind, count in plan.count_by_kind().items():
        summary.row([ACTION_LABELS[kind], count])
    summary.row(["Cần xem xét", len(plan.conflicts)])
    for violation in preview.violations:
        summary.row([violation.message()])
    by_kind: dict[ActionKind, list[Any]] = {}
    for action in plan.actions:
        by_kind.setdefault(action.kind, []).append(action)
    for kind, actions in by_kind.items():
        sheet = workbook.sheet(ACTION_LABELS[kind], widths=(40, 50, 80), freeze="A2")
        sheet.header(["Đối tượng", "Lý do", "Chi tiết"])
        for action in actions:
            details = "; ".join(f"{k}={v}" for k, v in action.data.items())
            sheet.row([action.key, action.reason, details])
    if plan.conflicts:
        sheet = workbook.sheet("Cần xem xét", widths=(40, 20, 80), freeze="A2")
        sheet.header(["Đối tượng", "Mã", "Nội dung"])
        for conflict in plan.conflicts:
            sheet.row([conflict.key, conflict.code, conflict.message])
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
    service.reconcile(ctx.engine(), preview, now=now, by_run=None)
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
                    "warnings": [c.message for c in preview.plan.conflicts],
                    "calendar": calendar_json(preview.calendar),
                    "lms_calls": ctx.lms().client.stats.calls,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        ctx.console.print(
            plan_table(preview.plan, "Kế hoạch đồng bộ (chưa ghi gì vào LMS)", preview.calendar)
        )
        status = service.calendar_status(preview.calendar)
        if status:
            ctx.console.print(f"[yellow]{status}[/yellow]")
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

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
        return service.apply_app(
            ctx,
            now=now,
            accept=accept,
            expected_digest=expected_digest,
            progress=advance,
            on_fields=None if quiet else lambda fields: warn_missing_profile_fields(ctx, fields),
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
        "warnings": [c.message for c in report.preview.plan.conflicts],
        "concurrency": report.concurrency,
        "calendar": calendar_json(report.preview.calendar),
    }
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        ctx.console.print(
            plan_table(
                report.preview.plan,
                f"Đồng bộ #{report.run_id}: {report.status}",
                report.preview.calendar,
            )
        )
        table = Table(title="Kết quả")
        for column in ("Xong", "Lỗi", "Chưa rõ", "Chưa chạy", "Lệnh LMS"):
            table.add_column(column, justify="right")
        table.add_row(
            *(str(summary[k]) for k in ("done", "failed", "unknown", "pending", "lms_calls"))
        )
        ctx.console.print(table)
        if report.concurrency:
            ctx.console.print(
                f"Số lệnh gửi đồng thời: {report.concurrency['level']} "
                f"({report.concurrency['reason']})"
            )
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
        status = service.calendar_status(report.preview.calendar)
        if status:
            ctx.console.print(f"[yellow]{status}[/yellow]")
    if report.status == "interrupted":
        return EXIT_LMS
    # Failed actions, or courses whose events Moodle has not made for too long.
    late = report.preview.calendar.timed_out
    return EXIT_PROBLEMS if result.failures() or late else EXIT_OK


def _refuse(ctx: AppContext, message: str, code: int, as_json: bool) -> int:
    """Say why nothing was applied: on stderr, and as JSON on stdout for scripts."""
    kind = "needs_accept" if code == EXIT_NEEDS_ACCEPT else "settings"
    return fail(ctx.err_console, message, code, kind, as_json=as_json)


def show_history(
    ctx: AppContext, *, run_id: int | None = None, as_json: bool, now: dt.datetime
) -> int:
    """The latest runs (or one run and its batches): done, failed, unknown, pending.

    A run whose process died is shown (and recorded) as killed first.
    """
    settle_killed_runs(ctx.engine(), now=now, by_run=None)
    with session_scope(ctx.engine()) as session:
        runs = (
            history(session) if run_id is None else [r for r in [session.get(SyncRun, run_id)] if r]
        )
        if run_id is not None and not runs:
            raise SettingsError(f"Không có lần đồng bộ #{run_id} ('bdtx sync history').")
        records = [run_record(session, run, with_batches=run_id is not None) for run in runs]
    if as_json:
        print(json.dumps({"runs": records}, ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    table = Table(title="Lịch sử đồng bộ")
    columns = ("#", "Bắt đầu", "Người chạy", "Kiểu", "Trạng thái", "Số lệnh", "Xong", "Lỗi")
    for column in (*columns, "Chưa rõ", "Chưa chạy", "Lô", "Đồng thời"):
        table.add_column(column)
    for record in records:
        totals = record["totals"]
        table.add_row(
            str(record["id"]),
            record["started_at"].strftime("%d/%m/%Y %H:%M"),
            record["user"],
            record["mode"],
            STATUS_LABELS.get(record["status"], record["status"]),
            str(sum(totals.values())),
            str(totals["done"]),
            str(totals["failed"]),
            _unknown_cell(totals["unknown"], record["unknown_resolved"]),
            str(totals["pending"]),
            str(record["batch_count"]),
            str((record.get("tuning") or {}).get("level", "")),
        )
    ctx.console.print(table)
    for record in records:
        reason = (record.get("tuning") or {}).get("reason")
        if reason and run_id is not None:
            ctx.console.print(f"#{record['id']}: số lệnh gửi đồng thời {reason}")
    for record in records:
        shown = run_id is not None or record["status"] != "done" or "Lịch:" in record["message"]
        if record["message"] and shown:
            ctx.console.print(f"#{record['id']}: {record['message']}")
    if run_id is not None:
        ctx.console.print(batch_table(records[0]))
    return EXIT_OK


STATUS_LABELS = {
    "running": "đang chạy",
    "done": "xong",
    "done_with_errors": "xong, có lỗi",
    "stopped": "dừng trước khi ghi",
    "interrupted": "bị ngắt",
    "killed": "bị tắt giữa chừng",
}
BATCH_LABELS = {
    "sent": "đang gửi",
    "done": "xong",
    "failed": "lỗi",
    "unknown": "chưa rõ",
    "pending": "chưa gửi",
}


def _unknown_cell(unknown: int, resolved: dict[str, int]) -> str:
    if not unknown:
        return "0"
    found = resolved.get("done", 0)
    missing = resolved.get("not_done", 0)
    if not found and not missing:
        return f"{unknown} (chưa đọc lại)"
    return f"{unknown} (đọc lại: {found} đã có, {missing} làm lại)"


def batch_table(record: dict[str, Any]) -> Table:
    table = Table(title=f"Đồng bộ #{record['id']}: từng lô (mỗi lô một lệnh gửi LMS)")
    for column in ("Lô", "Hành động", "Lệnh", "Số dòng", "Kết quả", "Xong", "Lỗi", "Chưa rõ"):
        table.add_column(column)
    table.add_column("Lỗi đầu tiên", overflow="fold")
    for batch in record["batches"]:
        table.add_row(
            str(batch["seq"]),
            ACTION_LABELS.get(ActionKind(batch["kind"]), batch["kind"]),
            batch["call"],
            str(batch["size"]),
            BATCH_LABELS.get(batch["status"], batch["status"]),
            str(batch["done"]),
            str(batch["failed"]),
            str(batch["unknown"]),
            batch["error"][:200],
        )
    not_sent = record["not_sent"]
    if not_sent:
        table.add_section()
        table.add_row("—", "Chưa gửi / không gửi được", "", str(not_sent), "", "", "", "", "")
    return table
