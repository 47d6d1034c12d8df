"""What ``bdtx grading extend`` tells the officials: the new deadline, what moved in Moodle
and, plainly, what did not."""

from __future__ import annotations

import datetime as dt
import unicodedata
from zoneinfo import ZoneInfo

from cli.remind_cmd import extend_messages, extend_payload
from grading.extend import ExtendReport
from grading.extensions import ExtensionChange

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CHANGE = ExtensionChange(
    class_id="M4-2023/THCS/GV/Toán/01",
    previous_days=0,
    days=4,
    previous_until=dt.date(2023, 10, 26),
    until=dt.date(2023, 10, 30),
    previous_due=dt.datetime(2023, 10, 27, tzinfo=VN),
    due=dt.datetime(2023, 10, 31, tzinfo=VN),
)


def report(**fields: object) -> ExtendReport:
    values: dict[str, object] = {
        "run_id": "M4-2023",
        "class_id": CHANGE.class_id,
        "class_name": "Lớp 01 — Toán THCS",
        "change": CHANGE,
        "reason": "Báo cáo viên ốm",
        "granted_by": "chuyenvien",
        "granted_at": dt.datetime(2023, 10, 25, 3, tzinfo=dt.UTC),
        "extension_id": 1,
        "repeated": False,
    }
    values.update(fields)
    return ExtendReport(**values)  # type: ignore[arg-type]


def test_the_message_says_what_moved_in_moodle_and_what_did_not() -> None:
    text = "\n".join(
        extend_messages(
            report(
                course_in_lms=True,
                enrolments_updated=48,
                not_enrolled_yet=2,
                enrolment_end=dt.datetime(2023, 11, 2, tzinfo=VN),
            )
        )
    )
    assert "đến hết ngày 30/10/2023 (hạn cũ: hết ngày 26/10/2023; thêm 4 ngày)" in text
    assert "Lý do: Báo cáo viên ốm. Người gia hạn: chuyenvien." in text
    assert "đã kéo dài ghi danh của 48 người" in text
    assert "đến 00:00 ngày 02/11/2023" in text
    assert "2 người chưa được ghi danh" in text
    assert "hạn nộp, hạn đóng và hạn chấm của bài tập cuối khóa" in text
    assert "giữ nguyên" in text
    assert unicodedata.is_normalized("NFC", text)


def test_an_lms_failure_is_said_with_what_to_do() -> None:
    failed = report(lms_error="connection refused")
    assert not failed.ok
    text = "\n".join(extend_messages(failed))
    assert "Chưa cập nhật được ghi danh trên LMS: connection refused" in text
    assert "Chạy lại đúng lệnh này" in text
    payload = extend_payload(failed)
    assert payload["ok"] is False
    assert payload["lms"]["assignment_dates_changed"] is False
    assert payload["grading_due"] == "2023-10-31T00:00:00+07:00"


def test_the_enrolment_end_said_is_the_one_sent_with_its_grace_days() -> None:
    # Real Moodle 4.5, after `grading extend --until 2026-12-05` with the default
    # enrolment_grace_days = 2, had the class's enrolments end at 00:00 of 08/12 while the
    # message said 06/12 (the grading due): the message must say what was sent.
    text = "\n".join(
        extend_messages(
            report(
                course_in_lms=True,
                enrolments_updated=41,
                enrolment_end=dt.datetime(2023, 11, 2, 17, tzinfo=dt.UTC),
            )
        )
    )
    assert "đến 00:00 ngày 03/11/2023" in text  # 17:00 UTC is 00:00 the next day in Vietnam
    assert "31/10/2023" not in text.split("Trên LMS: ")[1].split("\n")[0]
    payload = extend_payload(report(course_in_lms=True, enrolment_end=CHANGE.due))
    assert payload["lms"]["enrolment_end"] == "2023-10-31T00:00:00+07:00"
