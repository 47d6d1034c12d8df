"""Reading roster files: ``.xlsx`` (calamine, a Rust reader) and ``.csv`` (streaming).

The only module of ``roster`` that touches files. ``read_rows`` finds the header row
below any title rows, maps the headers, then yields one ``RawRow`` per non-empty data
row with its original values and its source (file, sheet, row number). Anything that
makes the file unreadable as the expected list raises one ``RosterFormatError``; a
header with a field in two columns raises ``BadHeaderError`` (which column to trust?).

The format is read from the content, not the name: an ``.xlsx`` saved as ``.xls`` is
read. A CSV is UTF-8 (with or without BOM) or UTF-16 with a BOM (Excel's "Unicode
text", tab-separated); the delimiter is sniffed.
"""

from __future__ import annotations

import csv
import ctypes
import datetime as dt
import io
import itertools
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from roster.errors import BadHeaderError, RosterFormatError
from roster.headers import (
    Field,
    HeaderMap,
    HeaderNotFoundError,
    RosterKind,
    find_header,
    missing_fields,
    parse_overrides,
)
from roster.model import CellValue, RowSource, quick_init
from roster.text import is_blank

if TYPE_CHECKING:
    from python_calamine import CalamineWorkbook

__all__ = ["HEADER_SCAN_ROWS", "RawRow", "read_any", "read_rows"]

HEADER_SCAN_ROWS = 30
"""How many rows at the top of a sheet may hold titles before the header row."""

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text" is UTF-16 LE
_CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
_DELIMITERS = (",", ";", "\t")


@quick_init
@dataclass(frozen=True, slots=True)
class RawRow:
    """One data row as read: original values aligned with ``header.columns``."""

    source: RowSource
    header: HeaderMap
    values: tuple[CellValue, ...]

    def get(self, field: Field) -> CellValue:
        """The original value of ``field``'s column, ``None`` if absent or empty."""
        index = self.header.index.get(field)
        if index is None or index >= len(self.values):
            return None
        return self.values[index]

    def has(self, field: Field) -> bool:
        """True when the sheet has a column for ``field``."""
        return field in self.header.index


def read_rows(
    path: Path | str,
    kind: RosterKind,
    *,
    header_overrides: Mapping[str, str] | None = None,
    sheet: str | None = None,
) -> Iterator[RawRow]:
    """Yield the data rows of a roster file of ``kind``.

    ``header_overrides`` maps header texts to ``Field`` values (see
    ``roster.headers.parse_overrides``); ``sheet`` picks a sheet by name, otherwise the
    first sheet with a complete header is read. Raises ``RosterFormatError``.
    """
    path = Path(path)
    overrides = parse_overrides(header_overrides)
    file_kind = _sniff(path)
    if file_kind == "xlsx":
        yield from _read_xlsx(path, kind, overrides, sheet)
    else:
        yield from _read_csv(path, kind, overrides)


def read_any(
    path: Path | str,
    kinds: Sequence[RosterKind],
    *,
    header_overrides: Mapping[str, str] | None = None,
) -> tuple[RosterKind, Iterator[RawRow]]:
    """The first of ``kinds`` whose header a sheet of the file shows, and its data rows.

    The same as trying ``read_rows`` for each kind in turn (a header with a field in two
    columns raises ``BadHeaderError`` at once; no kind fitting raises the last kind's
    ``RosterFormatError``), but each sheet of a workbook is loaded once, not once per kind.
    """
    path = Path(path)
    if not kinds:
        raise ValueError("no roster kind to look for")
    if _sniff(path) == "csv":
        return _detect_csv(path, kinds, header_overrides)
    overrides = parse_overrides(header_overrides)
    workbook = _open_workbook(path)
    try:
        sheets = {name: _sheet_rows(workbook, name, path) for name in _worksheets(workbook)}
        scanned = {
            name: list(itertools.islice(rows, HEADER_SCAN_ROWS)) for name, rows in sheets.items()
        }
    finally:
        workbook.close()
    failures: list[tuple[str, HeaderNotFoundError]] = []
    for kind in kinds:
        failures = []
        for name, rows in sheets.items():
            try:
                header = find_header(enumerate(scanned[name], start=1), kind, overrides)
            except HeaderNotFoundError as error:
                failures.append((name, error))
                continue
            for other, unused in sheets.items():
                if other != name:
                    unused.close()
            _check_header(header, path.name, name)
            data = itertools.chain(scanned[name][header.row :], rows)
            return kind, _raw_rows(data, header, path.name, name)
    for rows in sheets.values():
        rows.close()
    raise _no_header_error(failures, kinds[-1], path.name)


def _detect_csv(
    path: Path, kinds: Sequence[RosterKind], header_overrides: Mapping[str, str] | None
) -> tuple[RosterKind, Iterator[RawRow]]:
    """A CSV is read as a stream: trying a kind costs its first rows only."""
    error: RosterFormatError | None = None
    for kind in kinds:
        rows = read_rows(path, kind, header_overrides=header_overrides)
        try:
            first = next(rows, None)
        except BadHeaderError:
            raise
        except RosterFormatError as failed:
            error = failed
            continue
        return kind, itertools.chain([] if first is None else [first], rows)
    assert error is not None
    raise error


def _sniff(path: Path) -> str:
    """``"xlsx"`` or ``"csv"`` from the file's first bytes, or a format error."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except FileNotFoundError:
        raise RosterFormatError("không tìm thấy tệp.", file=path.name) from None
    except OSError as error:
        raise RosterFormatError(f"không mở được tệp ({error.strerror}).", file=path.name) from None
    if not head:
        raise RosterFormatError("tệp rỗng, không có dữ liệu.", file=path.name)
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_UTF16_BOMS):
        return "csv"
    if head.startswith(_OLE_MAGIC):
        raise RosterFormatError(
            "tệp Excel 97-2003 (.xls) chưa được hỗ trợ: hãy mở bằng Excel và lưu lại dạng .xlsx.",
            file=path.name,
        )
    if path.suffix.lower() in _CSV_SUFFIXES:
        return "csv"
    raise RosterFormatError(
        "không phải tệp Excel (.xlsx) hay CSV hợp lệ (tệp hỏng hoặc sai định dạng).",
        file=path.name,
    )


# -- xlsx ---------------------------------------------------------------------------


def _read_xlsx(
    path: Path, kind: RosterKind, overrides: Mapping[str, Field | None], sheet: str | None
) -> Iterator[RawRow]:
    workbook = _open_workbook(path)
    try:
        yield from _read_workbook(workbook, path, kind, overrides, sheet)
    finally:
        workbook.close()


def _read_workbook(
    workbook: CalamineWorkbook,
    path: Path,
    kind: RosterKind,
    overrides: Mapping[str, Field | None],
    sheet: str | None,
) -> Iterator[RawRow]:
    names = [sheet] if sheet is not None else _worksheets(workbook)
    if sheet is not None and sheet not in workbook.sheet_names:
        available = ", ".join(f"“{n}”" for n in workbook.sheet_names)
        raise RosterFormatError(
            f"không có trang tính “{sheet}” (các trang tính: {available}).", file=path.name
        )
    failures: list[tuple[str, HeaderNotFoundError]] = []
    for name in names:
        rows = _sheet_rows(workbook, name, path)
        scanned = list(itertools.islice(rows, HEADER_SCAN_ROWS))
        try:
            header = find_header(enumerate(scanned, start=1), kind, overrides)
        except HeaderNotFoundError as error:
            failures.append((name, error))
            rows.close()
            continue
        _check_header(header, path.name, name)
        data = itertools.chain(scanned[header.row :], rows)
        yield from _raw_rows(data, header, path.name, name)
        return
    raise _no_header_error(failures, kind, path.name)


def _worksheets(workbook: CalamineWorkbook) -> list[str]:
    """The names of the worksheets, in order: a chart sheet has no rows."""
    from python_calamine import SheetTypeEnum

    return [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]


def _open_workbook(path: Path) -> CalamineWorkbook:
    """The workbook, read by calamine (Rust): several times faster than openpyxl."""
    from python_calamine import CalamineWorkbook, XmlError

    try:
        handle = path.open("rb")
    except OSError as error:
        raise RosterFormatError(f"không mở được tệp ({error.strerror}).", file=path.name) from None
    try:
        # From a handle: the format is the content's, whatever the name (.xlsx saved as .xls).
        with handle:
            return CalamineWorkbook.from_filelike(handle)
    except XmlError as error:
        raise RosterFormatError(
            f"tệp Excel bị hỏng, không đọc được ({type(error).__name__}).", file=path.name
        ) from None
    except Exception as error:  # ZipError, CalamineError: not a workbook package
        raise RosterFormatError(
            f"không phải tệp Excel (.xlsx) hợp lệ ({type(error).__name__}).", file=path.name
        ) from None


def _sheet_rows(
    workbook: CalamineWorkbook, name: str, path: Path
) -> Generator[tuple[CellValue, ...], None, None]:
    """Rows of one sheet from A1 as value tuples, with the values openpyxl gives (``None``
    for an empty cell, ``int`` for a whole number, ``datetime`` for a date); a damaged
    sheet becomes a format error. Every cell is read, whatever size the sheet records.

    The sheet is loaded when the first row is asked for, then converted whole and let go
    at once: calamine's copy of a sheet is larger than its converted rows, so holding it
    while the rows are validated would raise the peak memory by that much."""
    yield from _load_sheet(workbook, name, path)


def _load_sheet(workbook: CalamineWorkbook, name: str, path: Path) -> list[tuple[CellValue, ...]]:
    try:
        sheet = workbook.get_sheet_by_name(name)
        # Rows from the first one (A1's); columns from the first used one: padded below.
        rows: Iterator[list[Any]] = sheet.iter_rows()
        end = sheet.end
    except Exception as error:  # damaged XML inside a valid zip
        raise RosterFormatError(
            f"trang tính bị hỏng, không đọc được ({type(error).__name__}).",
            file=path.name,
            sheet=name,
        ) from None
    if end is None:
        return []
    converted = _PlainValues(end[1] + 1).rows(rows)
    del rows, sheet  # calamine's copy of the sheet is freed here, before any validation
    _release_freed_memory()
    return converted


def _release_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``).

    calamine's copy of a large sheet is millions of small C allocations; once it is
    freed, glibc keeps most of those pages (the heap only shrinks from its top), so the
    rows validated next would take new pages on top of them and the import's peak
    memory would include the whole sheet twice over. Elsewhere than glibc: nothing."""
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError, TypeError):  # no C library by that name, no such call
        return
    trim(0)


_EXACT_FLOAT = 1e15  # beyond Excel's 15 significant digits a number is not a whole one


class _PlainValues:
    """Cell values as openpyxl read them, repeated texts shared (school, subject...)."""

    # Distinct texts remembered per column: a column of names or e-mails stops sharing.
    MAX_SHARED = 4096
    # Rows converted together, column by column (and how often sharing is reconsidered).
    CHUNK = 2048

    def __init__(self, width: int) -> None:
        self.width = width
        self.days = _Days()

    def rows(self, cells_by_row: Iterable[Sequence[object]]) -> list[tuple[CellValue, ...]]:
        """Each row as a tuple of ``width`` plain values, the missing leading cells empty.

        Rows go by chunks, turned into columns: a column of texts only (most) is mapped
        at once through its dictionary of texts seen, where the empty text maps to
        ``None``: ``setdefault`` shares a repeated text, ``get`` only empties ``""`` once
        the column holds too many distinct texts to be worth it."""
        width = self.width
        seen: list[dict[str, str | None]] = [{"": None} for _ in range(width)]
        lookups: list[Callable[[str, str], str | None]] = [t.setdefault for t in seen]
        shared = [True] * width
        converted: list[tuple[CellValue, ...]] = []
        source = iter(cells_by_row)
        while chunk := list(itertools.islice(source, self.CHUNK)):
            if len({len(cells) for cells in chunk}) != 1:  # not a rectangle: pad each row
                chunk = [self._padded(cells) for cells in chunk]
            columns: list[Sequence[object]] = list(zip(*chunk, strict=True))
            missing = width - len(columns)  # the sheet's leading empty columns
            columns[:0] = [("",) * len(chunk)] * missing
            plain = [self._column(shared[i], lookups[i], cells) for i, cells in enumerate(columns)]
            converted.extend(zip(*plain, strict=True))
            for column, texts in enumerate(seen):
                if len(texts) > self.MAX_SHARED:
                    seen[column] = {"": None}
                    lookups[column] = seen[column].get
                    shared[column] = False
        return converted

    def _padded(self, cells: Sequence[object]) -> list[object]:
        return [""] * (self.width - len(cells)) + list(cells)

    def _column(
        self,
        shared: bool,
        lookup: Callable[[str, str], str | None],
        cells: Sequence[object],
    ) -> Sequence[CellValue]:
        kinds = set(map(type, cells))
        if kinds == {str}:  # text only: mapped without a Python loop
            if not shared and "" not in cells:  # nothing to share or empty: as it is
                return cells  # type: ignore[return-value]
            return list(map(lookup, cells, cells))  # type: ignore[arg-type]
        if kinds <= {str, dt.date}:  # dates (birth dates): each day converted once
            days = self.days
            return [lookup(cell, cell) if type(cell) is str else days[cell] for cell in cells]  # type: ignore[index]
        return [lookup(cell, cell) if type(cell) is str else _plain_cell(cell) for cell in cells]


class _Days(dict[dt.date, CellValue]):
    """Date cells as ``datetime`` values (openpyxl's), each day made once and shared."""

    def __missing__(self, day: dt.date) -> CellValue:
        value = self[day] = _plain_cell(day)
        return value


def _plain_cell(cell: object) -> CellValue:
    """A cell that is not text: a whole float becomes an ``int``, a date a ``datetime``."""
    kind = type(cell)
    if kind is float:
        number = cast(float, cell)
        if number.is_integer() and -_EXACT_FLOAT < number < _EXACT_FLOAT:
            return int(number)
        return number
    if kind is dt.date:
        day = cast(dt.date, cell)
        return dt.datetime(day.year, day.month, day.day)
    if kind in _PLAIN_TYPES:
        return cast(CellValue, cell)
    return _plain(cell)


_PLAIN_TYPES = frozenset({str, int, float, bool, dt.datetime, dt.date, dt.time, dt.timedelta})


def _plain(value: object) -> CellValue:
    """``None`` or a plain value; decimals become floats, anything else text."""
    if value is None or isinstance(value, str | int | float | dt.date | dt.time | dt.timedelta):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _no_header_error(
    failures: Sequence[tuple[str, HeaderNotFoundError]], kind: RosterKind, file: str
) -> RosterFormatError:
    """The clearest message: a sheet with some recognised columns, else no header at all."""
    partial = [(name, e.best, e.missing) for name, e in failures if e.best is not None]
    if partial:
        name, _, missing = max(partial, key=lambda item: len(item[1].index) if item[1] else 0)
        names = ", ".join(f"“{f.label}”" for f in missing)
        return RosterFormatError(
            f"không phải {kind.label}: thiếu cột bắt buộc {names}.", file=file, sheet=name or None
        )
    needed = ", ".join(f"“{f.label}”" for f in missing_fields({}, kind))
    sheet = (failures[0][0] or None) if len(failures) == 1 else None
    return RosterFormatError(
        f"không tìm thấy dòng tiêu đề của {kind.label} (cần các cột {needed}).",
        file=file,
        sheet=sheet,
    )


# -- csv ----------------------------------------------------------------------------


def _read_csv(
    path: Path, kind: RosterKind, overrides: Mapping[str, Field | None]
) -> Iterator[RawRow]:
    try:
        with path.open(encoding=_csv_encoding(path), newline="") as handle:
            sample = handle.read(64 * 1024)
            handle.seek(0)
            if "\x00" in sample:
                raise RosterFormatError("không phải tệp CSV (dữ liệu nhị phân).", file=path.name)
            delimiter = _delimiter(sample, kind, overrides, path.name)
            rows = (tuple[CellValue, ...](r) for r in csv.reader(handle, delimiter=delimiter))
            scanned = list(itertools.islice(rows, HEADER_SCAN_ROWS))
            header = find_header(enumerate(scanned, start=1), kind, overrides)
            _check_header(header, path.name, None)
            data = itertools.chain(scanned[header.row :], rows)
            yield from _raw_rows(data, header, path.name, None)
    except UnicodeError:
        raise RosterFormatError(
            "tệp CSV không dùng bảng mã UTF-8: hãy lưu lại với “CSV UTF-8”.", file=path.name
        ) from None
    except csv.Error as error:
        raise RosterFormatError(f"tệp CSV bị lỗi định dạng ({error}).", file=path.name) from None


def _csv_encoding(path: Path) -> str:
    """UTF-16 when the file starts with its byte order mark, else UTF-8 (BOM optional)."""
    with path.open("rb") as handle:
        head = handle.read(2)
    return "utf-16" if head in _UTF16_BOMS else "utf-8-sig"


def _delimiter(
    sample: str, kind: RosterKind, overrides: Mapping[str, Field | None], file: str
) -> str:
    """The delimiter (``,``, ``;`` or tab) under which the sample shows a complete header."""
    failures: list[tuple[str, HeaderNotFoundError]] = []
    for delimiter in _DELIMITERS:
        lines = csv.reader(io.StringIO(sample), delimiter=delimiter)
        scanned = list(itertools.islice(lines, HEADER_SCAN_ROWS))
        try:
            find_header(enumerate(scanned, start=1), kind, overrides)
        except HeaderNotFoundError as error:
            failures.append(("", error))
            continue
        return delimiter
    raise _no_header_error(failures, kind, file)


# -- header -------------------------------------------------------------------------


def _check_header(header: HeaderMap, file: str, sheet: str | None) -> None:
    """A field in two columns is a file error: which of them should be trusted?"""
    if not header.duplicates:
        return
    from reports.xlsx import column_letter

    parts = []
    for field, indices in header.duplicates.items():
        where = ", ".join(f"{column_letter(i + 1)} “{header.columns[i]}”" for i in indices)
        parts.append(f"{field.label} ({where})")
    raise BadHeaderError(
        f"dòng tiêu đề {header.row} có cột trùng nhau: {'; '.join(parts)}. "
        "Hãy xoá hoặc đổi tên cột thừa rồi gửi lại.",
        file=file,
        sheet=sheet,
    )


# -- rows ---------------------------------------------------------------------------


def _raw_rows(
    rows: Iterator[tuple[CellValue, ...]] | itertools.chain[tuple[CellValue, ...]],
    header: HeaderMap,
    file: str,
    sheet: str | None,
) -> Iterator[RawRow]:
    """Data rows after the header, empty ones skipped, values cut/padded to the header."""
    width = len(header.columns)
    skip = {header.index[Field.ROW_NUMBER]} if Field.ROW_NUMBER in header.index else set()
    checked = [i for i in range(width) if i not in skip]  # a row number alone is empty
    for offset, row in enumerate(rows, start=header.row + 1):
        values = row[:width] if len(row) >= width else row + (None,) * (width - len(row))
        for i in checked:  # most rows: their first cell checked is not blank
            value = values[i]
            if value is not None and not is_blank(value):
                yield RawRow(RowSource(file, sheet, offset), header, values)
                break
