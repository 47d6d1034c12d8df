"""The CSV files we write: UTF-8 with a BOM (Excel opens Vietnamese text right), dates as
``dd/mm/yyyy``, and formula-like text given a leading ``'`` so no cell is ever a formula
(the same rule as ``reports/xlsx.py``)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from reports.xlsx import CellValue, is_formula_like

__all__ = ["write_csv_table"]


def write_csv_table(path: Path, header: Sequence[str], rows: Iterable[Sequence[CellValue]]) -> Path:
    """Write ``header`` then ``rows`` to ``path`` (its folder made when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_cell(v) for v in row] for row in rows)
    return path


def _cell(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    return "'" + text if isinstance(value, str) and is_formula_like(text) else text
