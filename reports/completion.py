"""The completion lists as files: one workbook (or a set of CSV files) per scope.

A workbook holds the completed list, the not-completed list with reasons, the exempt
people, the reference-subject seats and a summary against the targets; every sheet opens
with the title block of the annex (run, dates, totals, when the results were pulled).
Workbooks go through :mod:`reports.xlsx`, so nothing becomes a formula; CSV files are
UTF-8 with a BOM (Excel reads the diacritics) and formula-like text gets a leading ``'``.

Files of a run go to ``var/lists/<run>/``: ``tinh`` (the province), ``phong-<district>``
per district when the roster has districts, ``truong-<school code>`` per school.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grading.lists import CompletionLists, ListKind, ListRow, slug
from grading.targets import TargetLine
from reports.csvfile import write_csv_table
from reports.xlsx import CellValue, SafeWorkbook

__all__ = [
    "HEADERS",
    "SHEET_TITLES",
    "SUMMARY_HEADER",
    "SUMMARY_TITLE",
    "TITLE",
    "ListHeading",
    "list_table",
    "summary_table",
    "title_lines",
    "write_csv",
    "write_workbook",
]

TITLE = "DANH SÁCH KẾT QUẢ BỒI DƯỠNG THƯỜNG XUYÊN"
SUMMARY_TITLE = "Tổng hợp theo mục tiêu"
_BASE = ["STT", "Họ và tên", "Ngày sinh", "Đơn vị công tác", "Cấp học", "Môn", "Mô đun", "Kết quả"]
HEADERS: dict[ListKind, list[str]] = {
    ListKind.COMPLETED: _BASE,
    ListKind.NOT_COMPLETED: [*_BASE, "Lý do chưa hoàn thành"],
    ListKind.EXEMPT: [*_BASE, "Lý do miễn"],
    ListKind.REFERENCE: _BASE,
}
SUMMARY_HEADER = [
    "Phạm vi",
    "Đơn vị",
    "Số học viên",
    "Hoàn thành",
    "Tỉ lệ hoàn thành (%)",
    "Đạt mục tiêu hoàn thành (trên 98%)",
    "Đã trả lời khảo sát",
    "Phản hồi tích cực",
    "Tỉ lệ phản hồi tích cực (%)",
    "Đạt mục tiêu khảo sát (trên 75%)",
]
_DIMENSIONS = {
    "province": "Toàn tỉnh",
    "level": "Cấp học",
    "subject": "Môn",
    "district": "Huyện/thành phố",
    "school": "Trường",
}
_WIDTHS = [6, 28, 12, 34, 9, 22, 12, 18, 60]
# Excel allows 31 characters in a sheet title; the full name is in the title block.
SHEET_TITLES = {
    ListKind.COMPLETED: "Hoàn thành",
    ListKind.NOT_COMPLETED: "Chưa hoàn thành",
    ListKind.EXEMPT: "Miễn",
    ListKind.REFERENCE: "Môn tham khảo (không cấp CN)",
}
_CSV_NAMES = {
    ListKind.COMPLETED: "hoan-thanh",
    ListKind.NOT_COMPLETED: "chua-hoan-thanh",
    ListKind.EXEMPT: "mien",
    ListKind.REFERENCE: "mon-tham-khao",
}


@dataclass(frozen=True)
class ListHeading:
    """What the title block says: the run, its dates, the scope and the pull."""

    run_id: str
    run_name: str
    module: str
    start: dt.date
    end: dt.date
    pulled_at: dt.datetime  # in the site's zone
    scope: str  # "Toàn tỉnh", "Huyện ...", "Trường ..."


def title_lines(heading: ListHeading, lists: CompletionLists, list_name: str) -> list[str]:
    counts = lists.counts()
    total = sum(counts.values())
    run = f"{heading.run_name} ({heading.run_id})" if heading.run_name else heading.run_id
    if heading.module not in run:
        run = f"{run} — {heading.module}"
    return [
        TITLE,
        f"Đợt bồi dưỡng: {run}",
        f"Thời gian: từ ngày {heading.start:%d/%m/%Y} đến ngày {heading.end:%d/%m/%Y}",
        f"Phạm vi: {heading.scope}",
        f"Danh sách: {list_name}",
        (
            f"Tổng số: {total}; hoàn thành: {counts['completed']}; "
            f"chưa hoàn thành: {counts['not_completed']}; miễn: {counts['exempt']}; "
            f"môn tham khảo: {counts['reference']}"
        ),
        f"Kết quả lấy từ hệ thống lúc {heading.pulled_at:%H:%M ngày %d/%m/%Y}",
    ]


def list_table(kind: ListKind, rows: Sequence[ListRow]) -> list[list[CellValue]]:
    """The rows of one list under :data:`HEADERS` (without the header)."""
    table: list[list[CellValue]] = []
    for number, row in enumerate(rows, start=1):
        cells: list[CellValue] = [
            number,
            row.full_name,
            row.birth_date,
            row.school_name,
            row.level,
            row.subject,
            row.module,
            row.result,
        ]
        if kind in (ListKind.NOT_COMPLETED, ListKind.EXEMPT):
            cells.append(row.reason)
        table.append(cells)
    return table


def summary_table(
    lines: Sequence[TargetLine], school_names: dict[str, str]
) -> list[list[CellValue]]:
    table: list[list[CellValue]] = []
    for line in lines:
        key = school_names.get(line.key, line.key) if line.dimension == "school" else line.key
        table.append(
            [
                _DIMENSIONS.get(line.dimension, line.dimension),
                key or "Toàn tỉnh",
                line.learners,
                line.completed,
                round(line.completion_rate, 2),
                "Đạt" if line.meets_completion else "Chưa đạt",
                line.answered,
                line.positive,
                round(line.positive_rate, 2),
                "Đạt" if line.meets_survey else "Chưa đạt",
            ]
        )
    return table


def _school_names(lists: CompletionLists) -> dict[str, str]:
    return {r.school_code: r.school_name for rows in lists.rows.values() for r in rows}


def write_workbook(path: Path, heading: ListHeading, lists: CompletionLists) -> Path:
    """One workbook: the four lists and the summary, each under the title block."""
    book = SafeWorkbook()
    first_row = len(title_lines(heading, lists, "")) + 2  # the data's first row
    for kind in ListKind:
        sheet = book.sheet(SHEET_TITLES[kind], widths=_WIDTHS, freeze=f"A{first_row}")
        sheet.title_block(title_lines(heading, lists, kind.value))
        sheet.header(HEADERS[kind])
        sheet.rows(list_table(kind, lists.of(kind)))
    summary = book.sheet(SUMMARY_TITLE, widths=[16, 34, *[14] * 8], freeze=f"A{first_row}")
    summary.title_block(title_lines(heading, lists, SUMMARY_TITLE))
    summary.header(SUMMARY_HEADER)
    summary.rows(summary_table(lists.summary(), _school_names(lists)))
    path.parent.mkdir(parents=True, exist_ok=True)
    return book.save(path)


def write_csv(folder: Path, stem: str, lists: CompletionLists) -> list[Path]:
    """One CSV file per list (``<stem>-hoan-thanh.csv`` ...) and the summary."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables: list[tuple[str, list[str], list[list[CellValue]]]] = [
        (_CSV_NAMES[kind], HEADERS[kind], list_table(kind, lists.of(kind))) for kind in ListKind
    ]
    tables.append(
        ("tong-hop", SUMMARY_HEADER, summary_table(lists.summary(), _school_names(lists)))
    )
    for name, header, rows in tables:
        written.append(write_csv_table(folder / f"{stem}-{name}.csv", header, rows))
    return written


def file_stem(*, school: str | None = None, district: str | None = None) -> str:
    """``tinh``, ``phong-<district>`` or ``truong-<school code>``."""
    if school is not None:
        return f"truong-{slug(school)}"
    if district is not None:
        return f"phong-{slug(district)}"
    return "tinh"
