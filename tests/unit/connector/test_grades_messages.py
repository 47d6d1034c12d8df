"""``connector.grades`` and ``connector.messages`` against recorded answers."""

from __future__ import annotations

from connector.grades import GET_GRADE_ITEMS, Grades
from connector.messages import SEND_INSTANT_MESSAGES, InstantMessage, Messages

from .recorded_replies import RecordedReplies, recorded_form, serve


def test_one_users_grade_items() -> None:
    case = "gradereport_user_get_grade_items__after_quiz_and_assign"
    replies, client = serve(case)

    [report] = Grades(client).get_grade_items(3, userid=5).usergrades

    assert replies.sent(GET_GRADE_ITEMS) == [recorded_form(case)]
    assert (report.userid, report.useridnumber) == (5, "HV2026-0001")
    quiz = report.item("quiz", 17)
    final = report.item("assign", 18)
    assert quiz is not None
    assert final is not None
    assert (quiz.graderaw, quiz.grademax) == (10.0, 10.0)
    assert (final.graderaw, final.grademax) == (85.0, 100.0)
    assert report.item("assign", 999) is None


def test_every_users_grade_items() -> None:
    case = "gradereport_user_get_grade_items__ok_all_users"
    replies, client = serve(case)

    reports = Grades(client).get_grade_items(3).usergrades

    assert replies.sent(GET_GRADE_ITEMS) == [recorded_form(case)]
    assert reports[0].userid == 12
    course_total = reports[0].course_item
    assert course_total is not None
    assert course_total.graderaw is None


def test_messages_sent_and_refused() -> None:
    replies = RecordedReplies({SEND_INSTANT_MESSAGES: "core_message_send_instant_messages__ok"})
    message = InstantMessage(
        touserid=5, text="Chào Nhung, bài nộp của bạn đã được chấm.", clientmsgid="sync-001"
    )

    [(sent_message, result)] = Messages(replies.client()).send_instant_messages([message])

    assert replies.sent(SEND_INSTANT_MESSAGES) == [
        recorded_form("core_message_send_instant_messages__ok")
    ]
    assert sent_message is message
    assert (result.sent, result.msgid, result.clientmsgid) == (True, 1, "sync-001")

    _, client = serve("core_message_send_instant_messages__nonexistent_user")
    [(_, refused)] = Messages(client).send_instant_messages(
        [InstantMessage(touserid=999999, text="x", clientmsgid="sync-002")]
    )
    assert refused.sent is False
    assert refused.errormessage is not None
    assert "doesn't exist" in refused.errormessage


def test_a_message_without_client_id() -> None:
    case = "core_message_send_instant_messages__ok_no_clientmsgid"
    replies, client = serve(case)
    [(_, result)] = Messages(client).send_instant_messages([InstantMessage(touserid=6, text="x")])
    assert replies.sent(SEND_INSTANT_MESSAGES) == [recorded_form(case)]
    assert result.sent
