"""The one Excel writer: every workbook the software writes goes through it.

Nothing a user opens may run as a formula. openpyxl turns any string that starts with
``=`` into a formula cell, and Excel re-evaluates text starting with ``=``, ``+``, ``-``
or ``@`` (also after a leading tab or carriage return) as soon as a user edits the cell,
including DDE payloads such as ``=cmd|' /C calc'!A0``. :func:`safe_value` makes such
strings explicit text cells (type ``s``) with Excel's "quote prefix" set, so they are
shown as typed and stay text when edited. Characters XML cannot hold are dropped.

Usage (streaming, write-only)::

    book = SafeWorkbook()
    sheet = book.sheet("Tài khoản", widths=[6, 14, 30], freeze="A4")
    sheet.title_block(["Trường THCS A", "Lưu ý: ..."])
    sheet.header(["STT", "Mã định danh", "Họ và tên"])
    sheet.rows(rows)
    book.save(path)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "CellValue",
    "SafeSheet",
    "SafeWorkbook",
    "auto_widths",
    "is_formula_like",
    "sheet_title",
]

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None

DATE_FORMAT = "DD/MM/YYYY"
MAX_WIDTH = 60
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
# A leading =, +, -, @ (after optional white space, tab or CR) is read as a formula by
# spreadsheet programs; "|" with "!" is the DDE form.
_FORMULA_START = re.compile(r"^[\s\u00a0]*[=+\-@\uff1d\uff0b\uff0d\uff20]")
_DDE = re.compile(r"\|.*!")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet program could take ``text`` for a formula."""
    return bool(_FORMULA_START.match(text) or text.startswith(("\t", "\r")) or _DDE.search(text))


def sheet_title(text: str) -> str:
    """A valid sheet title: no ``[]:*?/\\``, at most 31 characters, never empty."""
    return _SHEET_TITLE_BAD.sub("-", text)[:31] or "Sheet"


class SafeSheet:
    """A write-only sheet whose rows are appended through :func:`SafeSheet.row`."""

    def __init__(self, worksheet: Worksheet) -> None:
        self._sheet = worksheet
        self.rows_written = 0

    def title_block(self, lines: Iterable[str]) -> None:
        """Lines of text above the table (one cell each, the first in bold)."""
        for number, line in enumerate(lines):
            self.row([line], bold=number == 0)

    def header(self, titles: Sequence[str]) -> None:
        """The header row: bold, filled, wrapped."""
        self.row(list(titles), bold=True)

    def row(self, values: Sequence[CellValue], *, bold: bool = False) -> None:
        self._sheet.append([self._cell(v, bold=bold) for v in values])
        self.rows_written += 1

    def rows(self, rows: Iterable[Sequence[CellValue]]) -> None:
        for values in rows:
            self.row(values)

    def _cell(self, value: CellValue, *, bold: bool) -> Cell | CellValue:
        """Plain numbers and ordinary text go as they are (fast); anything else a cell."""
        if isinstance(value, dt.time | dt.timedelta):
            value = str(value)
        risky = False
        if isinstance(value, str):
            if ILLEGAL_CHARACTERS_RE.search(value):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            risky = is_formula_like(value)
        is_date = isinstance(value, dt.date)
        if not (bold or risky or is_date):
            return value
        cell = WriteOnlyCell(self._sheet, value=cast(Any, value))
        if isinstance(value, str):
            cell.data_type = "s"  # never "f", whatever openpyxl inferred
        if risky:
            cell.quotePrefix = True  # Excel keeps it text when the user edits the cell
        if is_date:
            cell.number_format = DATE_FORMAT
        if bold:
            cell.font = _BOLD
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        return cell


class SafeWorkbook:
    """A streaming workbook of :class:`SafeSheet` sheets."""

    def __init__(self) -> None:
        self._workbook = Workbook(write_only=True)

    def sheet(
        self,
        title: str,
        *,
        widths: Sequence[int] = (),
        freeze: str | None = None,
        auto_filter: str | None = None,
    ) -> SafeSheet:
        """A new sheet. Write-only sheets need widths, frozen panes and the filter range
        before any row: ``widths`` are per column from A; ``freeze`` e.g. ``"A2"``."""
        # Write-only sheets offer these Worksheet members; the stubs do not say so.
        worksheet = cast(Worksheet, self._workbook.create_sheet(sheet_title(title)))
        for index, width in enumerate(widths, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = width
        if freeze:
            worksheet.freeze_panes = freeze
        if auto_filter:
            worksheet.auto_filter.ref = auto_filter
        return SafeSheet(worksheet)

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        self._workbook.save(path)
        return path


def auto_widths(rows: Iterable[Sequence[object]], *, minimum: int = 6) -> list[int]:
    """Column widths from the longest text of each column (capped at ``MAX_WIDTH``)."""
    widths: list[int] = []
    for row in rows:
        for index, value in enumerate(row):
            text = _shown(value)
            width = max(minimum, min(len(text) + 2, MAX_WIDTH))
            if index < len(widths):
                widths[index] = max(widths[index], width)
            else:
                widths.append(width)
    return widths


def _shown(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)
