"""``bdtx completion list|close|year``: a run's completion lists (Excel or CSV), closing a
run, the year results."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from cli.context import EXIT_NEEDS_ACCEPT, EXIT_OK, EXIT_PROBLEMS, AppContext, fail
from grading.closing import ClosingReport, ClosingTooEarly, close_run
from grading.publish import (
    FORMATS,
    LISTS_DIR,
    NoResults,
    default_year,
    write_lists,
    write_year_lists,
)

__all__ = ["FORMATS", "close_command", "list_command", "year_command"]


def list_command(
    ctx: AppContext,
    run_id: str,
    *,
    school: str | None,
    fmt: str,
    out: Path | None,
    as_json: bool,
) -> int:
    run = ctx.settings.run(run_id)
    folder = (out or LISTS_DIR) / run.id
    try:
        written = write_lists(
            ctx.engine(), run, folder, school=school, fmt=fmt, tz=ctx.settings.site_zone()
        )
    except NoResults as error:
        return fail(ctx.err_console, error, EXIT_PROBLEMS, "no_results", as_json=as_json)
    if as_json:
        print(
            json.dumps(
                {"ok": True, "files": [str(p) for p in written.files], "counts": written.counts},
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    ctx.console.print(f"Đã ghi {len(written.files)} tệp vào {folder}:")
    for path in written.files:
        ctx.console.print(f"  {path}")
    return EXIT_OK


def _closing_dict(report: ClosingReport) -> dict[str, Any]:
    writeback = report.writeback
    return {
        "ok": True,
        "run_id": report.run_id,
        "status": report.status,
        "forced": report.forced,
        "resumed": report.resumed,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "pull_id": report.pull_id,
        "counts": dict(report.counts),
        "written": writeback.sent if writeback else 0,
        "files": list(report.files),
        "problems": list(report.problems),
        "corrections": list(report.corrections),
        "calls": dict(writeback.calls) if writeback else {},
    }


def close_command(
    ctx: AppContext,
    run_id: str,
    *,
    force: bool,
    fmt: str,
    out: Path | None,
    as_json: bool,
    now: dt.datetime,
) -> int:
    """Close a run: last pull, write-back, lists; once (a closed run is only reported)."""
    run = ctx.settings.run(run_id)
    try:
        report = close_run(
            ctx.engine(),
            ctx.lms(),
            ctx.settings,
            run.id,
            now=now,
            lists_dir=out or LISTS_DIR,
            force=force,
            fmt=fmt,
        )
    except ClosingTooEarly as error:
        return fail(ctx.err_console, error, EXIT_NEEDS_ACCEPT, "too_early", as_json=as_json)
    exit_code = EXIT_OK if report.status in ("done", "already_closed") else EXIT_PROBLEMS
    if as_json:
        print(json.dumps(_closing_dict(report), ensure_ascii=False))
        return exit_code
    tz = ctx.settings.site_zone()
    if report.status == "already_closed":
        when = report.finished_at.astimezone(tz) if report.finished_at else report.started_at
        ctx.console.print(
            f"Đợt {run.id} đã được tổng kết lúc {when:%H:%M %d/%m/%Y}; không làm lại. "
            f"Danh sách: {len(report.files)} tệp."
        )
        return exit_code
    ctx.console.print(f"Tổng kết đợt {run.id} (lần lấy dữ liệu #{report.pull_id}):")
    for key, count in report.counts.items():
        ctx.console.print(f"  {key}: {count}")
    ctx.console.print(f"Đã ghi {len(report.files)} tệp danh sách.")
    for line in (*report.problems, *report.corrections):
        ctx.console.print(f"[yellow]{line}[/yellow]")
    if report.status != "done":
        ctx.console.print(
            "[yellow]Chưa tổng kết xong: chạy lại lệnh này để tiếp tục từ chỗ đã dừng.[/yellow]"
        )
    return exit_code


def year_command(
    ctx: AppContext, year: int | None, *, fmt: str, out: Path | None, as_json: bool
) -> int:
    """The year results per person: province and per school."""
    try:
        chosen = year if year is not None else default_year(ctx.settings)
        written = write_year_lists(
            ctx.engine(), ctx.settings, chosen, (out or LISTS_DIR) / f"nam-{chosen}", fmt=fmt
        )
    except NoResults as error:
        return fail(ctx.err_console, error, EXIT_PROBLEMS, "no_results", as_json=as_json)
    if as_json:
        body = {
            "ok": True,
            "year": written.year,
            "runs": written.runs,
            "required": ctx.settings.year_modules,
            "files": [str(p) for p in written.files],
            "counts": written.counts,
            "problems": written.problems,
        }
        print(json.dumps(body, ensure_ascii=False))
        return EXIT_OK
    ctx.console.print(
        f"Kết quả năm {written.year} (các đợt: {', '.join(written.runs)}): "
        f"hoàn thành {written.counts['completed']}, "
        f"không hoàn thành {written.counts['not_completed']}, miễn {written.counts['exempt']}."
    )
    for problem in written.problems:
        ctx.console.print(f"[yellow]{problem}[/yellow]")
    ctx.console.print(f"Đã ghi {len(written.files)} tệp.")
    return EXIT_OK
