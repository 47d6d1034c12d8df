"""``bdtx grading deadlines``: each class's grading progress and due, per reporter.

The table (filtered by reporter or class) is printed; the files are always written for
the whole of the runs shown: ``tong-quan.xlsx`` (the Sở's overview, one row per class),
and per reporter ``bao-cao-vien-<code>.xlsx`` and ``bao-cao-vien-<code>.ics``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from cli.context import EXIT_OK, AppContext
from grading.deadlines import (
    ClassDeadline,
    Reporter,
    by_reporter,
    deadlines,
    overdue_classes,
    select,
)
from reports.ics import Event, calendar
from reports.xlsx import CellValue, SafeWorkbook
from scheduler.timeline import run_timeline
from store.deadlines_repo import load_deadline_rows

OUT_DIR = Path("var/deadlines")
OVERVIEW_FILE = "tong-quan.xlsx"
DASH = "—"
HEADERS = (
    "Lớp",
    "Báo cáo viên",
    "Học viên",
    "Đã nộp",
    "Đã chấm",
    "Chờ chấm",
    "Hạn chấm",
    "Còn (ngày)",
    "Quá hạn",
)
OVERDUE_SHEET = "Quá hạn chấm"
OVERDUE_TITLE = "Lớp quá hạn chấm bài còn bài chờ chấm: cần Sở xử lý"
_UNSAFE_NAME = re.compile(r"[^0-9A-Za-z_-]")


@dataclass(frozen=True)
class RunDeadlines:
    run_id: str
    pull_id: int | None
    rows: list[ClassDeadline]


def collect(ctx: AppContext, run_ids: Sequence[str], now: dt.datetime) -> list[RunDeadlines]:
    """Every class of the runs (all configured runs when none is named)."""
    tz = ctx.settings.site_zone()
    runs = [ctx.settings.run(r) for r in run_ids] or list(ctx.settings.runs)
    result = []
    for run in runs:
        stored = load_deadline_rows(ctx.engine(), run.id)
        timeline = run_timeline(run, tz, stored.extensions)
        rows = deadlines(
            classes=stored.classes,
            reporters=stored.reporters,
            roster=stored.roster,
            seats=stored.seats,
            due={code: timeline.grading_due(code) for code in stored.classes},
            now=now,
            tz=tz,
        )
        result.append(RunDeadlines(run.id, stored.pull_id, rows))
    return result


def _due_text(row: ClassDeadline, tz: dt.tzinfo) -> str:
    return row.due.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def _reporters_text(reporters: Sequence[Reporter]) -> str:
    return ", ".join(r.full_name or r.identity_code for r in reporters) or DASH


def cells(row: ClassDeadline, tz: dt.tzinfo) -> list[CellValue]:
    """One row of the table and of the workbooks, in HEADERS order."""
    return [
        row.class_code,
        _reporters_text(row.reporters),
        row.learners,
        DASH if row.submitted is None else row.submitted,
        DASH if row.graded is None else row.graded,
        DASH if row.waiting is None else row.waiting,
        _due_text(row, tz),
        row.days_left,
        "Quá hạn" if row.overdue else "",
    ]


def deadlines_table(rows: Sequence[ClassDeadline], tz: dt.tzinfo, title: str) -> Table:
    table = Table(title=title)
    for header in HEADERS:
        numeric = header not in ("Lớp", "Báo cáo viên", "Hạn chấm", "Quá hạn")
        table.add_column(header, justify="right" if numeric else "left")
    for row in rows:
        values = ["" if v is None else str(v) for v in cells(row, tz)]
        if row.overdue:
            values[-1] = f"[red]{values[-1]}[/red]"
        table.add_row(*values)
    return table


def _file_stem(reporter: Reporter) -> str:
    return "bao-cao-vien-" + (_UNSAFE_NAME.sub("_", reporter.identity_code) or "_")


def event_uid(run_id: str, class_code: str, reporter: Reporter) -> str:
    """Stable per run, class and reporter: re-importing updates the event."""
    key = f"{run_id}\x1f{class_code}\x1f{reporter.identity_code}".encode()
    return f"{hashlib.sha256(key).hexdigest()[:32]}@bdtx-sync"


def _event(run_id: str, row: ClassDeadline, reporter: Reporter, tz: dt.tzinfo) -> Event:
    lines = [
        f"Đợt: {run_id}",
        f"Lớp: {row.class_code}" + (f" ({row.class_name})" if row.class_name else ""),
        f"Hạn chấm: trước {_due_text(row, tz)}",
        f"Học viên: {row.learners}",
    ]
    if row.submitted is not None:
        lines += [
            f"Đã nộp: {row.submitted}",
            f"Đã chấm: {row.graded}",
            f"Chờ chấm: {row.waiting}",
        ]
    return Event(
        uid=event_uid(run_id, row.class_code, reporter),
        start=row.due,
        summary=f"Hạn chấm bài lớp {row.class_code}",
        description="\n".join(lines),
    )


def write_files(
    runs: Sequence[RunDeadlines], out_dir: Path, tz: dt.tzinfo, now: dt.datetime
) -> list[Path]:
    """The overview workbook, and a workbook and a calendar per reporter."""
    out_dir.mkdir(parents=True, exist_ok=True)
    headers = ["Đợt", *HEADERS]
    widths = [14, 40, 40, 10, 10, 10, 10, 18, 10, 10]
    stamp = f"Số liệu lúc {now.astimezone(tz).strftime('%H:%M %d/%m/%Y')}"
    notes = [_no_pull_note(r.run_id) for r in runs if r.pull_id is None]
    written: list[Path] = []

    book = SafeWorkbook()
    sheet = book.sheet("Tổng quan", widths=widths, freeze="A4")
    sheet.title_block(["Hạn chấm bài của báo cáo viên: tổng quan", stamp, *notes])
    sheet.header(headers)
    for run in runs:
        sheet.rows([run.run_id, *cells(row, tz)] for row in run.rows)
    late = book.sheet(OVERDUE_SHEET, widths=widths, freeze="A4")
    late.title_block([OVERDUE_TITLE, stamp, *notes])
    late.header(headers)
    for run in runs:
        late.rows([run.run_id, *cells(row, tz)] for row in overdue_classes(run.rows))
    written.append(book.save(out_dir / OVERVIEW_FILE))

    per_reporter: dict[Reporter, list[tuple[str, ClassDeadline]]] = {}
    for run in runs:
        for reporter, rows in by_reporter(run.rows).items():
            per_reporter.setdefault(reporter, []).extend((run.run_id, row) for row in rows)
    for reporter, items in sorted(per_reporter.items(), key=lambda kv: kv[0].identity_code):
        stem = _file_stem(reporter)
        book = SafeWorkbook()
        sheet = book.sheet("Hạn chấm", widths=widths, freeze="A4")
        sheet.title_block(
            [f"Hạn chấm bài: {reporter.full_name} ({reporter.identity_code})", stamp, *notes]
        )
        sheet.header(headers)
        sheet.rows([run_id, *cells(row, tz)] for run_id, row in items)
        written.append(book.save(out_dir / f"{stem}.xlsx"))
        text = calendar(
            (_event(run_id, row, reporter, tz) for run_id, row in items),
            now=now,
            name=f"Hạn chấm bài BDTX: {reporter.full_name}",
        )
        ics_path = out_dir / f"{stem}.ics"
        ics_path.write_bytes(text.encode("utf-8"))
        written.append(ics_path)
    return written


def _no_pull_note(run_id: str) -> str:
    return (
        f"Đợt {run_id}: chưa lấy dữ liệu chấm bài (bdtx grading pull), số đã nộp và đã chấm "
        "chưa có; số học viên lấy theo danh sách lớp."
    )


def _as_dict(row: ClassDeadline, run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "class_code": row.class_code,
        "class_name": row.class_name,
        "reporters": [
            {"identity_code": r.identity_code, "full_name": r.full_name} for r in row.reporters
        ],
        "learners": row.learners,
        "submitted": row.submitted,
        "graded": row.graded,
        "waiting": row.waiting,
        "due": row.due.isoformat(),
        "days_left": row.days_left,
        "overdue": row.overdue,
    }


def show_deadlines(
    ctx: AppContext,
    run_ids: Sequence[str],
    *,
    reporter: str | None,
    class_code: str | None,
    out_dir: Path | None,
    as_json: bool,
    now: Callable[[], dt.datetime],
) -> int:
    moment = now()
    tz = ctx.settings.site_zone()
    runs = collect(ctx, run_ids, moment)
    files = write_files(runs, out_dir or OUT_DIR, tz, moment)
    shown = [(run, select(run.rows, reporter=reporter, class_code=class_code)) for run in runs]
    if as_json:
        payload = {
            "ok": True,
            "runs": [
                {
                    "run_id": run.run_id,
                    "pull_id": run.pull_id,
                    "classes": [_as_dict(row, run.run_id) for row in rows],
                    "overdue": [_as_dict(row, run.run_id) for row in overdue_classes(rows)],
                }
                for run, rows in shown
            ],
            "files": [str(path) for path in files],
        }
        print(json.dumps(payload, ensure_ascii=False))
        return EXIT_OK
    for run, rows in shown:
        title = f"Hạn chấm bài đợt {run.run_id}"
        if run.pull_id is not None:
            title += f" (lần lấy dữ liệu #{run.pull_id})"
        ctx.console.print(deadlines_table(rows, tz, title))
        if run.pull_id is None:
            ctx.console.print(f"[yellow]{_no_pull_note(run.run_id)}[/yellow]")
        if not rows:
            ctx.console.print("Không có lớp nào phù hợp.")
        late = overdue_classes(rows)
        if late:
            ctx.console.print(deadlines_table(late, tz, f"{OVERDUE_TITLE} (đợt {run.run_id})"))
        else:
            ctx.console.print(f"Đợt {run.run_id}: không có lớp nào quá hạn chấm còn bài chờ chấm.")
    ctx.console.print(f"Đã ghi {len(files)} tệp vào {out_dir or OUT_DIR}.")
    return EXIT_OK
