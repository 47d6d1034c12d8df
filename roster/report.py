"""The validation report: an Excel workbook in Vietnamese, and a ``rich`` summary table.

Sheets: ``Tổng hợp`` (counts per status, per reason, learners per level and audience),
then one sheet per status (``Đã nhập``, ``Bị từ chối``, ``Bị loại trừ``) with each
row's original columns followed by ``Trạng thái``, ``Lý do``, ``Ghi chú xử lý`` and its
source. The header row of a status sheet is a roster header, so a school can fix the
rejected rows and send the sheet back as it is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from rich.table import Table

from roster.model import Audience, CellValue, ImportResult, Level, RowOutcome, Track
from roster.reasons import Effect, ReasonCode, Status

__all__ = ["REPORT_COLUMNS", "SUMMARY_SHEET", "summary_table", "write_report"]

SUMMARY_SHEET = "Tổng hợp"
REPORT_COLUMNS = ("Trạng thái", "Lý do", "Ghi chú xử lý", "Tệp", "Trang tính", "Dòng")
"""Columns added after a row's original columns on each status sheet."""

_TRACK_LABELS = {
    Track.MAIN: "Mô đun của năm (môn chính)",
    Track.PREREQUISITE: "Học MĐ 1, 2, 3 trước",
    Track.REFERENCE_ONLY: "Chỉ môn tham khảo (cốt cán)",
}
_AUDIENCE_LABELS = {Audience.MANAGER: "CBQL", Audience.TEACHER: "GV"}
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_MAX_WIDTH = 60
_DATE_FORMAT = "DD/MM/YYYY"


def write_report(result: ImportResult, path: Path | str) -> Path:
    """Write the report workbook to ``path`` (streaming) and return the path."""
    path = Path(path)
    workbook = Workbook(write_only=True)
    # Write-only sheets offer the Worksheet methods used here (append, freeze_panes,
    # column_dimensions, auto_filter); the stubs do not say so.
    _write_summary(cast(Worksheet, workbook.create_sheet(SUMMARY_SHEET)), result)
    for status in Status:
        rows = [o for o in result.outcomes if o.status is status]
        _write_status_sheet(cast(Worksheet, workbook.create_sheet(status.label)), rows)
    workbook.save(path)
    return path


# -- summary ------------------------------------------------------------------------


def _summary_rows(result: ImportResult) -> list[list[CellValue]]:
    counts = result.status_counts()
    rows: list[list[CellValue]] = [["Trạng thái", "", "Số dòng"]]
    rows += [[status.label, "", counts[status]] for status in Status]
    rows += [["Tổng số dòng đã đọc", "", result.rows_read], []]
    rows += [["Trạng thái", "Lý do", "Số dòng"]]
    for (status, code), count in _reason_lines(result):
        rows.append([status.label, _reason_label(status, code), count])
    rows += [[], ["Cấp học", "Đối tượng", "Hình thức", "Số học viên"]]
    for (level, audience, track), count in sorted(
        result.learner_counts().items(), key=lambda item: _learner_order(item[0])
    ):
        rows.append([level.value, _AUDIENCE_LABELS[audience], _TRACK_LABELS[track], count])
    references = Counter(s for x in result.learners for s in x.reference_subjects)
    rows += [[f"Môn tham khảo: {subject}", "", "", n] for subject, n in sorted(references.items())]
    rows += [["Báo cáo viên, trợ giảng (cốt cán)", "", "", len(result.core_staff)]]
    rows += [["Miễn, giảm bồi dưỡng", "", "", len(result.exemptions)]]
    return rows


def _learner_order(key: tuple[Level, Audience, Track]) -> tuple[int, int, int]:
    level, audience, track = key
    return (list(Level).index(level), list(Audience).index(audience), list(Track).index(track))


def _reason_lines(result: ImportResult) -> list[tuple[tuple[Status, ReasonCode], int]]:
    """(status, reason) counts: statuses in order, blocking reasons before notes."""
    effect_order = {Effect.REJECT: 0, Effect.EXCLUDE: 1, Effect.NOTE: 2}
    status_order = list(Status)
    return sorted(
        result.reason_counts_by_status().items(),
        key=lambda item: (
            status_order.index(item[0][0]),
            effect_order[item[0][1].effect],
            -item[1],
            item[0][1].value,
        ),
    )


def _reason_label(status: Status, code: ReasonCode) -> str:
    """The reason's label, saying when it is a note or an exclusion behind a rejection."""
    if code.effect is Effect.NOTE:
        return f"{code.label} (ghi chú)"
    if status is Status.REJECTED and code.effect is Effect.EXCLUDE:
        return f"{code.label} (sau khi sửa vẫn bị loại trừ)"
    return code.label


def _write_summary(sheet: Worksheet, result: ImportResult) -> None:
    rows = _summary_rows(result)
    _set_widths(sheet, [[str(v) for v in row] for row in rows])
    sheet.freeze_panes = "A2"
    for row in rows:
        is_header = bool(row) and row[-1] in ("Số dòng", "Số học viên")
        sheet.append([_cell(sheet, value, bold=is_header) for value in row])


# -- status sheets ------------------------------------------------------------------


def _write_status_sheet(sheet: Worksheet, outcomes: Sequence[RowOutcome]) -> None:
    columns = _original_columns(outcomes)
    header = [*columns, *REPORT_COLUMNS]
    lines = [_line(outcome, columns) for outcome in outcomes]
    _set_widths(sheet, [header, *([_shown(v) for v in line] for line in lines[:2000])])
    sheet.freeze_panes = "A2"
    if lines:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(lines) + 1}"
    sheet.append([_cell(sheet, title, bold=True) for title in header])
    for line in lines:
        sheet.append([_cell(sheet, value) for value in line])


def _original_columns(outcomes: Iterable[RowOutcome]) -> list[str]:
    """The union of the rows' original headers, in order of first appearance."""
    seen: dict[str, None] = {}
    for columns in dict.fromkeys(o.columns for o in outcomes):  # a few distinct tuples
        for column in columns:
            seen.setdefault(column, None)
    return list(seen)


def _line(outcome: RowOutcome, columns: Sequence[str]) -> list[CellValue]:
    by_column = dict(zip(outcome.columns, outcome.values, strict=True))
    blocking = "; ".join(r.message for r in outcome.reasons if r.code.effect is not Effect.NOTE)
    notes = "; ".join(r.message for r in outcome.reasons if r.code.effect is Effect.NOTE)
    source = outcome.source
    return [
        *(by_column.get(column) for column in columns),
        outcome.status.label,
        blocking,
        notes,
        source.file,
        source.sheet or "",
        source.row,
    ]


# -- cells --------------------------------------------------------------------------


def _cell(sheet: Worksheet, value: CellValue, *, bold: bool = False) -> Cell | CellValue:
    """A cell that keeps dates as dates, text as text (never a formula), headers bold.

    Plain values (numbers, ordinary text) are returned as they are: the write-only sheet
    makes their cells itself, much faster than a styled cell each.
    """
    if isinstance(value, dt.time | dt.timedelta):
        value = str(value)
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    is_formula_like = isinstance(value, str) and value.startswith("=")
    if not (bold or is_formula_like or isinstance(value, dt.date)):
        return value
    cell = WriteOnlyCell(sheet, value=cast(Any, value))
    if is_formula_like:
        cell.data_type = "s"  # a typed "=..." stays text, not a formula
    if isinstance(value, dt.date):
        cell.number_format = _DATE_FORMAT
    if bold:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    return cell


def _shown(value: CellValue) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


def _set_widths(sheet: Worksheet, rows: Iterable[Sequence[str]]) -> None:
    """Column widths from the longest text (capped), set before any row is written."""
    widths: dict[int, int] = {}
    for row in rows:
        for index, text in enumerate(row, start=1):
            widths[index] = max(widths.get(index, 6), min(len(text) + 2, _MAX_WIDTH))
    for index, width in widths.items():
        sheet.column_dimensions[get_column_letter(index)].width = width


# -- console ------------------------------------------------------------------------


def summary_table(result: ImportResult) -> Table:
    """The summary as a ``rich`` table: each status with its count, then its reasons."""
    table = Table(title="Kết quả nhập danh sách", show_lines=False)
    table.add_column("Trạng thái", style="bold")
    table.add_column("Lý do")
    table.add_column("Số dòng", justify="right")
    counts = result.status_counts()
    lines = _reason_lines(result)
    styles = {Status.IMPORTED: "green", Status.REJECTED: "red", Status.EXCLUDED: "yellow"}
    for status in Status:
        table.add_row(status.label, "", str(counts[status]), style=styles[status])
        for (line_status, code), count in lines:
            if line_status is status:
                table.add_row("", _reason_label(status, code), str(count))
    table.add_section()
    table.add_row("Tổng số dòng đã đọc", "", str(result.rows_read), style="bold")
    return table
