"""The validation report: an Excel workbook in Vietnamese, and a ``rich`` summary table.

Sheets: ``Tổng hợp`` (counts per status, per reason, learners per level and audience),
then one sheet per status (``Đã nhập``, ``Bị từ chối``, ``Bị loại trừ``) with each
row's original columns followed by ``Trạng thái``, ``Lý do``, ``Ghi chú xử lý`` and its
source. The header row of a status sheet is a roster header, so a school can fix the
rejected rows and send the sheet back as it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich.table import Table

from reports.xlsx import SafeWorkbook, auto_widths, column_letter
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


def write_report(result: ImportResult, path: Path | str) -> Path:
    """Write the report workbook to ``path`` (streaming) and return the path."""
    path = Path(path)
    workbook = SafeWorkbook()
    _write_summary(workbook, result)
    for status in Status:
        rows = [o for o in result.outcomes if o.status is status]
        _write_status_sheet(workbook, status.label, rows)
    return workbook.save(path)


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
    if result.notices:
        rows += [[], ["Lưu ý"]]
        rows += [[notice] for notice in result.notices]
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


def _write_summary(workbook: SafeWorkbook, result: ImportResult) -> None:
    rows = _summary_rows(result)
    sheet = workbook.sheet(SUMMARY_SHEET, widths=auto_widths(rows), freeze="A2")
    for row in rows:
        is_header = bool(row) and row[-1] in ("Số dòng", "Số học viên")
        sheet.row(row, bold=is_header)


# -- status sheets ------------------------------------------------------------------


def _write_status_sheet(workbook: SafeWorkbook, title: str, outcomes: Sequence[RowOutcome]) -> None:
    columns = _original_columns(outcomes)
    header = [*columns, *REPORT_COLUMNS]
    lines = [_line(outcome, columns) for outcome in outcomes]
    widths = auto_widths([header, *lines[:2000]])
    last = f"A1:{column_letter(len(header))}{len(lines) + 1}" if lines else None
    sheet = workbook.sheet(title, widths=widths, freeze="A2", auto_filter=last)
    sheet.header(header)
    sheet.rows(lines)


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
