"""Who is due a grading reminder, when, never twice; extensions move the reminders; the
text in Vietnamese; a class's extension and what it refuses."""

from __future__ import annotations

import datetime as dt
import unicodedata
from zoneinfo import ZoneInfo

import pytest

from config.settings import RunSettings
from grading.extensions import ExtensionRefused, plan_extension
from grading.reminders import (
    LEFT,
    NO_ACCOUNT,
    SUSPENDED,
    Assessor,
    ClassWork,
    SlotKey,
    reminder_html,
    reminder_lines,
    select_reminders,
)
from scheduler.timeline import run_timeline

VN = ZoneInfo("Asia/Ho_Chi_Minh")
# Day 1 on 2023-10-01: grading due at 00:00 of day 27, 2023-10-27; reminders 3 and 1 days
# before at 08:00: 2023-10-24 08:00 and 2023-10-26 08:00.
RUN = RunSettings(id="M4-2023", module=4, name="Mô đun 4", start=dt.date(2023, 10, 1))
LAN = Assessor("R1", "Nguyễn Thị Lan", "reporter", lms_user_id=101)
TRO = Assessor("A1", "Lê Văn Trợ", "assistant", lms_user_id=102)
BINH = Assessor("R2", "Trần Văn Bình", "reporter", lms_user_id=103)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2023, 10, day, hour, minute, tzinfo=VN)


def work(code: str, waiting: int, *assessors: Assessor) -> ClassWork:
    return ClassWork(code, f"Lớp {code}", waiting, assessors)


def test_nothing_before_the_first_offset_then_the_3_day_reminder() -> None:
    timeline = run_timeline(RUN, VN)
    classes = [work("C1", 2, LAN, TRO)]
    assert select_reminders(RUN.id, classes, timeline, at(24, 7, 59)).reminders == ()
    chosen = select_reminders(RUN.id, classes, timeline, at(24, 8, 0)).reminders
    assert [r.assessor.identity_code for r in chosen] == ["A1", "R1"]  # assistants too
    (line,) = chosen[0].classes
    assert (line.offset_days, line.days_left, line.waiting) == (3, 3, 2)
    assert line.due == at(27, 0)


def test_only_classes_with_work_waiting_are_reminded() -> None:
    timeline = run_timeline(RUN, VN)
    classes = [work("C1", 0, LAN), work("C2", 1, BINH)]
    chosen = select_reminders(RUN.id, classes, timeline, at(24, 9)).reminders
    assert [(r.assessor.identity_code, [c.class_code for c in r.classes]) for r in chosen] == [
        ("R2", ["C2"])
    ]


def test_never_twice_for_the_same_offset_and_the_next_offset_comes_in_its_turn() -> None:
    timeline = run_timeline(RUN, VN)
    classes = [work("C1", 2, LAN)]
    sent: set[SlotKey] = set()
    for hour in (8, 9, 20):
        for reminder in select_reminders(RUN.id, classes, timeline, at(24, hour), sent).reminders:
            sent.update(reminder.keys)
    assert [k.offset_days for k in sent] == [3]
    assert select_reminders(RUN.id, classes, timeline, at(25, 23), sent).reminders == ()
    (one_day,) = select_reminders(RUN.id, classes, timeline, at(26, 8), sent).reminders
    assert [(c.offset_days, c.days_left) for c in one_day.classes] == [(1, 1)]


def test_a_late_caller_sends_only_the_latest_offset_and_nothing_once_due() -> None:
    timeline = run_timeline(RUN, VN)
    classes = [work("C1", 2, LAN)]
    (late,) = select_reminders(RUN.id, classes, timeline, at(26, 9)).reminders
    assert [c.offset_days for c in late.classes] == [1]
    assert select_reminders(RUN.id, classes, timeline, at(27, 0)).reminders == ()


def test_an_extension_moves_the_reminders_and_gives_the_new_due_its_own() -> None:
    before = run_timeline(RUN, VN)
    after = run_timeline(RUN, VN, {"C1": 4})  # due 00:00 2023-10-31
    classes = [work("C1", 2, LAN)]
    (old,) = select_reminders(RUN.id, classes, before, at(24, 8)).reminders
    sent = set(old.keys)
    # On the old 1-day instant the extended class is not due a reminder any more...
    assert select_reminders(RUN.id, classes, after, at(26, 8), sent).reminders == ()
    # ...its 3-day reminder comes 3 days before the new due, though one was sent for the old.
    assert select_reminders(RUN.id, classes, after, at(28, 7), sent).reminders == ()
    (new,) = select_reminders(RUN.id, classes, after, at(28, 8), sent).reminders
    (line,) = new.classes
    assert (line.offset_days, line.due, line.days_left) == (3, at(31, 0), 3)
    assert new.keys[0] != old.keys[0]


def test_one_message_per_assessor_names_every_class_due() -> None:
    timeline = run_timeline(RUN, VN)
    classes = [work("C1", 2, LAN), work("C2", 5, LAN, BINH)]
    chosen = select_reminders(RUN.id, classes, timeline, at(24, 8)).reminders
    by_code = {r.assessor.identity_code: [c.class_code for c in r.classes] for r in chosen}
    assert by_code == {"R1": ["C1", "C2"], "R2": ["C2"]}


def test_left_suspended_and_accountless_assessors_are_skipped_with_the_reason() -> None:
    timeline = run_timeline(RUN, VN)
    gone = Assessor("R3", "Đã Nghỉ", lms_user_id=104, active=False)
    locked = Assessor("R4", "Bị Khóa", lms_user_id=105, suspended=True)
    new = Assessor("R5", "Chưa Có", lms_user_id=None)
    selection = select_reminders(
        RUN.id, [work("C1", 1, LAN, gone, locked, new)], timeline, at(24, 8)
    )
    assert [r.assessor.identity_code for r in selection.reminders] == ["R1"]
    assert {(s.identity_code, s.reason) for s in selection.skipped} == {
        ("R3", LEFT),
        ("R4", SUSPENDED),
        ("R5", NO_ACCOUNT),
    }


def test_the_text_names_the_run_classes_counts_deadline_and_days_left_in_nfc() -> None:
    timeline = run_timeline(RUN, VN)
    (reminder,) = select_reminders(
        RUN.id, [work("C1", 2, LAN), work("C2", 1, LAN)], timeline, at(26, 8)
    ).reminders
    lines = reminder_lines(
        reminder, run_label="Mô đun 4 (M4-2023)", tz=VN, pulled_at=at(25, 22, 15)
    )
    text = "\n".join(lines)
    assert "Kính gửi Nguyễn Thị Lan," in text
    assert "Mô đun 4 (M4-2023)" in text
    assert "- Lớp C1 (C1): 2 bài đã nộp chưa được chấm" in text
    assert "- Lớp C2 (C2): 1 bài" in text
    assert "hạn chấm trước 00:00 ngày 27/10/2023 (còn 1 ngày)" in text
    assert "22:15 25/10/2023" in text
    assert unicodedata.is_normalized("NFC", text)
    html = reminder_html(["a < b", "c"])
    assert html == "<p>a &lt; b</p><p>c</p>"


def test_an_extension_is_counted_from_the_run_and_must_end_later() -> None:
    timeline = run_timeline(RUN, VN, {"C2": 3})  # C2: last grading day 2023-10-29
    change = plan_extension(timeline, "C1", dt.date(2023, 10, 30))
    assert (change.previous_until, change.until) == (dt.date(2023, 10, 26), dt.date(2023, 10, 30))
    assert (change.previous_days, change.days) == (0, 4)
    assert change.due == at(31, 0)
    assert change.previous_due == at(27, 0)
    again = plan_extension(timeline, "C2", dt.date(2023, 10, 31))
    assert (again.previous_days, again.days, again.previous_until) == (
        3,
        5,
        dt.date(2023, 10, 29),
    )
    for until in (dt.date(2023, 10, 29), dt.date(2023, 10, 20)):
        with pytest.raises(ExtensionRefused, match="không sau hạn chấm hiện tại"):
            plan_extension(timeline, "C2", until)
    with pytest.raises(ExtensionRefused, match="quá xa"):
        plan_extension(timeline, "C1", dt.date(2024, 10, 30))
