"""The one Excel writer: every workbook the software writes goes through it.

Nothing a user opens may run as a formula. Excel re-evaluates text starting with ``=``,
``+``, ``-`` or ``@`` (also after a leading tab or carriage return) as soon as a user
edits the cell, including DDE payloads such as ``=cmd|' /C calc'!A0``. The writer has no
way to write a formula at all: every text is an inline string cell, and formula-like
text (:func:`is_formula_like`) gets Excel's "quote prefix" style, so it is shown as typed
and stays text when edited. Characters XML cannot hold are dropped.

The package is serialised here, not by openpyxl (whose writer took 20 s for a province's
validation report, 4 s now): workbook, styles and sheets as plain SpreadsheetML.

Usage (streaming: rows go to a temporary file as they come)::

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
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape, quoteattr

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
HEADER_FILL = "DDEBF7"
# A leading =, +, -, @ (after optional white space, tab or CR) is read as a formula by
# spreadsheet programs; "|" with "!" is the DDE form.
_FORMULA_START = re.compile(r"^[\s\u00a0]*[=+\-@\uff1d\uff0b\uff0d\uff20]")
_DDE = re.compile(r"\|.*!")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
# Characters XML 1.0 cannot hold (C0 controls but tab, newline and CR), as openpyxl drops.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet program could take ``text`` for a formula."""
    return bool(_FORMULA_START.match(text) or text.startswith(("\t", "\r")) or _DDE.search(text))


def sheet_title(text: str) -> str:
    """A valid sheet title: no ``[]:*?/\\``, at most 31 characters, never empty."""
    return _SHEET_TITLE_BAD.sub("-", text)[:31] or "Sheet"


def column_letter(index: int) -> str:
    """``1`` -> ``"A"``, ``27`` -> ``"AA"``."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# Cell styles (``cellXfs`` of styles.xml, in this order): plain, bold header, date,
# quote-prefixed text, and the last two in a bold header.
_PLAIN, _BOLD, _DATE, _QUOTED, _BOLD_QUOTED, _BOLD_DATE = range(6)
_LETTERS = [column_letter(i) for i in range(1, 16385)]  # Excel's 16,384 columns


class SafeSheet:
    """A streaming sheet whose rows are appended through :func:`SafeSheet.row`.

    Rows are serialised at once to a temporary file (memory stays flat whatever the
    number of rows); the workbook copies them into the package when saved.
    """

    def __init__(
        self,
        title: str,
        *,
        widths: Sequence[int],
        freeze: str | None,
        auto_filter: str | None,
    ) -> None:
        self.title = title
        self.widths = tuple(widths)
        self.freeze = freeze
        self.auto_filter = auto_filter
        self.rows_written = 0
        self.max_column = 0
        self._data: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115

    def title_block(self, lines: Iterable[str]) -> None:
        """Lines of text above the table (one cell each, the first in bold)."""
        for number, line in enumerate(lines):
            self.row([line], bold=number == 0)

    def header(self, titles: Sequence[str]) -> None:
        """The header row: bold, filled, wrapped."""
        self.row(list(titles), bold=True)

    def row(self, values: Sequence[CellValue], *, bold: bool = False) -> None:
        self.rows_written += 1
        number = str(self.rows_written)
        cells = [
            _cell(value, _LETTERS[index] + number, bold)
            for index, value in enumerate(values)
            if bold or (value is not None and value != "")
        ]
        self.max_column = max(self.max_column, len(values))
        self._data.write(f'<row r="{number}">{"".join(cells)}</row>')

    def rows(self, rows: Iterable[Sequence[CellValue]]) -> None:
        for values in rows:
            self.row(values)

    def _xml(self, index: int, package: zipfile.ZipFile) -> None:
        """Write the sheet as ``xl/worksheets/sheet<index>.xml`` of ``package``."""
        last = f"{_LETTERS[max(self.max_column, 1) - 1]}{max(self.rows_written, 1)}"
        head = [
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">',
            f'<dimension ref="A1:{last}"/>',
            f"<sheetViews>{_sheet_view(self.freeze)}</sheetViews>",
            '<sheetFormatPr defaultRowHeight="15"/>',
        ]
        if self.widths:
            cols = "".join(
                f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                for i, w in enumerate(self.widths, start=1)
            )
            head.append(f"<cols>{cols}</cols>")
        head.append("<sheetData>")
        tail = "</sheetData>"
        if self.auto_filter:
            tail += f"<autoFilter ref={quoteattr(self.auto_filter)}/>"
        tail += (
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
            "</worksheet>"
        )
        with package.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as out:
            out.write("".join(head).encode())
            self._data.seek(0)
            while chunk := self._data.read(1 << 20):
                out.write(chunk.encode())
            out.write(tail.encode())
        self._data.close()


def _cell(value: CellValue, ref: str, bold: bool) -> str:
    """One ``<c>`` element: text inline (never a formula), numbers, booleans, dates."""
    if value is None or value == "":
        return f'<c r="{ref}" s="{_BOLD}"/>'  # only a header row writes empty cells
    if isinstance(value, str):
        if ILLEGAL_CHARACTERS_RE.search(value):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        style = _BOLD if bold else _PLAIN
        if is_formula_like(value):
            style = _BOLD_QUOTED if bold else _QUOTED  # Excel keeps it text when edited
        space = ' xml:space="preserve"' if value != value.strip() else ""
        styled = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{styled} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}"{_BOLD_ATTR if bold else ""} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"{_BOLD_ATTR if bold else ""}><v>{value!r}</v></c>'
    if isinstance(value, dt.date):
        day = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (day.replace(tzinfo=None) - _EXCEL_EPOCH) / dt.timedelta(days=1)
        style = _BOLD_DATE if bold else _DATE
        return f'<c r="{ref}" s="{style}"><v>{serial!r}</v></c>'
    return _cell(str(value), ref, bold)  # a time or a duration: as text


_BOLD_ATTR = f' s="{_BOLD}"'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _sheet_view(freeze: str | None) -> str:
    """The sheet view, with the rows above and the columns left of ``freeze`` frozen."""
    if not freeze or freeze == "A1":
        return '<sheetView workbookViewId="0"/>'
    match = re.fullmatch(r"([A-Z]+)(\d+)", freeze)
    if match is None:
        raise ValueError(f"not a cell reference: {freeze}")
    letters, row = match.groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    x_split, y_split = column - 1, int(row) - 1
    pane = {(True, True): "bottomRight", (False, True): "bottomLeft"}.get(
        (x_split > 0, y_split > 0), "topRight"
    )
    splits = (f' xSplit="{x_split}"' if x_split else "") + (
        f' ySplit="{y_split}"' if y_split else ""
    )
    return (
        f'<sheetView workbookViewId="0"><pane{splits} topLeftCell="{freeze}" '
        f'activePane="{pane}" state="frozen"/>'
        f'<selection pane="{pane}" activeCell="{freeze}" sqref="{freeze}"/></sheetView>'
    )


_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_MAIN_NS}">'
    f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b val="1"/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/>'
    f'</fill><fill><patternFill patternType="solid"><fgColor rgb="00{HEADER_FILL}"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" '
    'applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" quotePrefix="1" applyFont="1" '
    'applyFill="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="1" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


class SafeWorkbook:
    """A streaming workbook of :class:`SafeSheet` sheets, written as an ``.xlsx`` package:
    inline text (never a formula), numbers, booleans and dates, in the six styles above."""

    def __init__(self) -> None:
        self._sheets: list[SafeSheet] = []

    def sheet(
        self,
        title: str,
        *,
        widths: Sequence[int] = (),
        freeze: str | None = None,
        auto_filter: str | None = None,
    ) -> SafeSheet:
        """A new sheet. ``widths`` are per column from A; ``freeze`` e.g. ``"A2"``;
        ``auto_filter`` the filtered range, e.g. ``"A1:F200"``."""
        taken = {s.title for s in self._sheets}
        name = sheet_title(title)
        number = 1
        while name in taken:  # as openpyxl names a repeated title
            name = f"{sheet_title(title)[:29]}{number}"
            number += 1
        sheet = SafeSheet(name, widths=widths, freeze=freeze, auto_filter=auto_filter)
        self._sheets.append(sheet)
        return sheet

    def save(self, path: Path | str) -> Path:
        path = Path(path)
        if not self._sheets:
            self.sheet("Sheet")  # a workbook has at least one sheet
        partial = path.with_name(path.name + ".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
            package.writestr("[Content_Types].xml", self._content_types())
            package.writestr("_rels/.rels", _ROOT_RELS)
            package.writestr("xl/workbook.xml", self._workbook_xml())
            package.writestr("xl/_rels/workbook.xml.rels", self._workbook_rels())
            package.writestr("xl/styles.xml", _STYLES)
            for index, sheet in enumerate(self._sheets, start=1):
                sheet._xml(index, package)
        shutil.move(partial, path)
        return path

    def _content_types(self) -> str:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(self._sheets) + 1)
        )
        return (
            _XML_HEAD
            + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{sheets}</Types>"
        )

    def _workbook_xml(self) -> str:
        sheets = "".join(
            f'<sheet name={quoteattr(s.title)} sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(self._sheets, start=1)
        )
        filters = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{escape(_quoted_title(s.title))}!{_absolute(s.auto_filter)}</definedName>"
            for i, s in enumerate(self._sheets)
            if s.auto_filter
        )
        names = f"<definedNames>{filters}</definedNames>" if filters else ""
        return (
            _XML_HEAD + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
            "<bookViews><workbookView/></bookViews>"
            f"<sheets>{sheets}</sheets>{names}</workbook>"
        )

    def _workbook_rels(self) -> str:
        sheets = "".join(
            f'<Relationship Id="rId{i}" Type="{_OFFICE_REL}/worksheet" '
            f'Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(self._sheets) + 1)
        )
        styles = (
            f'<Relationship Id="rId{len(self._sheets) + 1}" Type="{_OFFICE_REL}/styles" '
            'Target="styles.xml"/>'
        )
        return _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">{sheets}{styles}</Relationships>'


_ROOT_RELS = (
    _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_OFFICE_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def _quoted_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str | None) -> str:
    """``A1:F20`` -> ``$A$1:$F$20``."""
    return re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", ref or "")


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
