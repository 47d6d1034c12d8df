"""The year results as files: one workbook (or CSV file) for the province and one per school.

Every person of the year's runs: "Hoàn thành kế hoạch BDTX" (at least the required
number of modules completed), "Không hoàn thành kế hoạch BDTX" (with how many modules
are missing) or exempt (with the reason). Workbooks go through :mod:`reports.xlsx`.
Files go to ``var/lists/nam-<year>/``: ``tinh`` and ``truong-<school code>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from grading.lists import fold
from grading.year import YearRating, YearRow
from reports.completion import file_stem
from reports.csvfile import write_csv_table
from reports.xlsx import CellValue, SafeWorkbook

TITLE = "DANH SÁCH KẾT QUẢ THỰC HIỆN KẾ HOẠCH BỒI DƯỠNG THƯỜNG XUYÊN"
SHEET = "Kết quả năm"
HEADERS = [
    "STT",
    "Họ và tên",
    "Ngày sinh",
    "Đơn vị công tác",
    "Cấp học",
    "Môn",
    "Số mô đun hoàn thành",
    "Các mô đun hoàn thành",
    "Kết quả",
    "Ghi chú",
]
_WIDTHS = [6, 28, 12, 34, 9, 22, 12, 20, 30, 40]


def title_lines(year: int, scope: str, rows: Sequence[YearRow], required: int) -> list[str]:
    counts = Counter(r.result.rating for r in rows)
    return [
        TITLE,
        f"Năm: {year}",
        f"Phạm vi: {scope}",
        f"Yêu cầu: hoàn thành ít nhất {required} mô đun trong năm",
        (
            f"Tổng số: {len(rows)}; {YearRating.COMPLETED.label.lower()}: "
            f"{counts[YearRating.COMPLETED]}; {YearRating.NOT_COMPLETED.label.lower()}: "
            f"{counts[YearRating.NOT_COMPLETED]}; miễn: {counts[YearRating.EXEMPT]}"
        ),
    ]


def year_table(rows: Sequence[YearRow]) -> list[list[CellValue]]:
    return [
        [
            number,
            row.full_name,
            row.birth_date,
            row.school_name,
            row.level,
            row.subject,
            len(row.result.modules_completed),
            ", ".join(f"Mô đun {m}" for m in row.result.modules_completed),
            row.result.rating.label,
            row.note,
        ]
        for number, row in enumerate(rows, start=1)
    ]


def write_year_workbook(
    path: Path, year: int, scope: str, rows: Sequence[YearRow], required: int
) -> Path:
    lines = title_lines(year, scope, rows, required)
    book = SafeWorkbook()
    sheet = book.sheet(SHEET, widths=_WIDTHS, freeze=f"A{len(lines) + 2}")
    sheet.title_block(lines)
    sheet.header(HEADERS)
    sheet.rows(year_table(rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    return book.save(path)


def write_year_csv(path: Path, rows: Sequence[YearRow]) -> Path:
    """UTF-8 with a BOM; formula-like text gets a leading ``'``."""
    return write_csv_table(path, HEADERS, year_table(rows))


def write_year(
    folder: Path, year: int, rows: Sequence[YearRow], *, required: int, fmt: str = "xlsx"
) -> list[Path]:
    """The province's file and one per school, in ``folder``."""
    scopes: list[tuple[str, str, list[YearRow]]] = [(file_stem(), "Toàn tỉnh", list(rows))]
    names = {r.school_code: r.school_name for r in rows}
    for code in sorted(names):
        name = names[code]
        scope = name if fold(name).startswith("truong") else f"Trường {name}"
        scopes.append((file_stem(school=code), scope, [r for r in rows if r.school_code == code]))
    written = []
    for stem, scope, scoped in scopes:
        if fmt == "csv":
            written.append(write_year_csv(folder / f"{stem}.csv", scoped))
        else:
            written.append(
                write_year_workbook(folder / f"{stem}.xlsx", year, scope, scoped, required)
            )
    return written
