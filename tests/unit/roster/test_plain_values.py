"""Cells as calamine gives them -> the values openpyxl gave, converted chunk by chunk."""

from __future__ import annotations

import datetime as dt

from roster.readers import _PlainValues


def test_cells_become_plain_values_with_the_leading_empty_columns_put_back() -> None:
    cells = [
        ["Trường A", 1.0, "", dt.date(1985, 9, 26)],
        ["Trường A", 2.5, "x", True],
    ]
    rows = _PlainValues(5).rows(cells)
    assert rows == [
        (None, "Trường A", 1, None, dt.datetime(1985, 9, 26)),
        (None, "Trường A", 2.5, "x", True),
    ]
    assert [type(v) for v in rows[0]] == [type(None), str, int, type(None), dt.datetime]


def test_repeated_texts_are_shared_until_a_column_has_too_many_distinct_ones() -> None:
    plain = _PlainValues(2)
    plain.CHUNK = 10
    plain.MAX_SHARED = 15
    cells = [["".join(["Trường ", "A"]), f"{n:04d}@x.vn"] for n in range(60)]
    cells += [["", "".join(["0001", "@x.vn"])]]
    rows = plain.rows(cells)
    assert [r[1] for r in rows[:60]] == [c[1] for c in cells[:60]]
    assert len({id(r[0]) for r in rows[:60]}) == 1  # one shared "Trường A"
    assert rows[60] == (None, "0001@x.vn")
    assert rows[60][1] is not rows[1][1]  # the e-mail column no longer shares
