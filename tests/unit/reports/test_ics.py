"""The iCalendar writer: escaping, folding on character boundaries, CRLF, UTC times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from reports.ics import Event, calendar, escape_text, fold

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = dt.datetime(2023, 10, 20, 9, 30, tzinfo=VN)


def unfold(text: str) -> list[str]:
    """Content lines back from the calendar text (RFC 5545 3.1)."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text[:-2].replace("\r\n ", "").split("\r\n")


def unescape(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(char)
    return "".join(out)


def parse(text: str) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in unfold(text):
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is not None:
            current[name] = value
    return events


def test_calendar_parses_back() -> None:
    summary = "Hạn chấm bài lớp THCS/GV/Toán/01; còn 2 học viên, chờ chấm"
    description = "Lớp: M4/THCS\\Toán\nBáo cáo viên: Nguyễn Thị Lan, Trần Văn Bình"
    due = dt.datetime(2023, 10, 27, 0, 0, tzinfo=VN)
    text = calendar([Event("c1-r1@bdtx", due, summary, description)], now=NOW, name="Hạn chấm")
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    (event,) = parse(text)
    assert event["UID"] == "c1-r1@bdtx"
    # 00:00 in Viet Nam (UTC+7) is 17:00 UTC the day before.
    assert event["DTSTART"] == "20231026T170000Z"
    assert event["DTSTAMP"] == "20231020T023000Z"
    assert unescape(event["SUMMARY"]) == summary
    assert unescape(event["DESCRIPTION"]) == description
    assert "\\;" in event["SUMMARY"]
    assert "\\," in event["SUMMARY"]
    assert "\\n" in event["DESCRIPTION"]
    assert "\\\\" in event["DESCRIPTION"]


def test_escape_text() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_long_utf8_lines_fold_on_character_boundaries() -> None:
    line = "SUMMARY:" + "Hạn chấm bài của lớp Ngữ văn " * 10
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 3
    for number, piece in enumerate(pieces):
        octets = piece.encode("utf-8")
        assert len(octets) <= 75
        if number:
            assert piece.startswith(" ")
        # each piece is valid UTF-8 on its own: no character was cut
        octets.decode("utf-8")
    assert folded.replace("\r\n ", "") == line
    # a fold is made only when needed: all but the last piece are close to full
    assert all(len(p.encode("utf-8")) >= 72 for p in pieces[:-1])


def test_short_lines_are_not_folded() -> None:
    assert fold("UID:abc") == "UID:abc"
    assert fold("X" * 75) == "X" * 75
    assert fold("X" * 76) == "X" * 75 + "\r\n X"
