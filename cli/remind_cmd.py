"""``bdtx grading extend`` and ``bdtx grading remind``: a class's grading extension, and the
reminders to assessors with work waiting (the use cases are grading/extend.py and
grading/remind.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from rich.table import Table

from cli.context import EXIT_OK, EXIT_PROBLEMS, AppContext, fail
from grading.extend import ExtendReport, extend_class
from grading.extensions import ExtensionRefused
from grading.remind import FAILED, REFUSED, SENT, UNKNOWN, WOULD_SEND, RemindReport, remind
from grading.reminders import SKIP_LABELS

log = logging.getLogger("bdtx")

STATUS_LABELS = {
    SENT: "đã gửi",
    WOULD_SEND: "sẽ gửi (chạy thử)",
    REFUSED: "LMS từ chối",
    FAILED: "chưa gửi được (gửi lại lần sau)",
    UNKNOWN: "không rõ đã gửi chưa (không gửi lại)",
}


def _day(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _enrolment_end(report: ExtendReport) -> dt.datetime:
    """The enrolment end sent to the LMS, in the site's zone (the grading due if none)."""
    due = report.change.due
    return report.enrolment_end.astimezone(due.tzinfo) if report.enrolment_end else due


def extend_messages(report: ExtendReport) -> list[str]:
    """What the officials read, in Vietnamese."""
    change = report.change
    added = change.days - change.previous_days
    name = f"{report.class_name} ({report.class_id})" if report.class_name else report.class_id
    lines = []
    if report.repeated:
        lines.append(f"Lớp {name} đã được gia hạn chấm bài đến hết ngày {_day(change.until)}.")
    else:
        lines.append(
            f"Đã gia hạn chấm bài lớp {name} đến hết ngày {_day(change.until)} "
            f"(hạn cũ: hết ngày {_day(change.previous_until)}; thêm {added} ngày). "
            f"Lý do: {report.reason}. Người gia hạn: {report.granted_by}."
        )
    lines.append("Hạn chấm, lời nhắc báo cáo viên và danh sách quá hạn của phần mềm dùng hạn mới.")
    if report.lms_error:
        lines.append(
            f"Chưa cập nhật được ghi danh trên LMS: {report.lms_error}. Chạy lại đúng lệnh "
            "này để gửi lại."
        )
    elif report.course_in_lms:
        lines.append(
            f"Trên LMS: đã kéo dài ghi danh của {report.enrolments_updated} người của lớp "
            f"(học viên, báo cáo viên, trợ giảng) đến 00:00 ngày "
            f"{_day(_enrolment_end(report).date())}, để báo cáo viên vẫn chấm được bài đến "
            "hạn mới"
            + (
                f"; {report.not_enrolled_yet} người chưa được ghi danh sẽ được ghi danh với "
                "hạn mới ở lần đồng bộ tới (bdtx sync apply)."
                if report.not_enrolled_yet
                else "."
            )
        )
    else:
        lines.append(
            "Khóa học của lớp chưa có trên LMS: lần đồng bộ tới (bdtx sync apply) sẽ ghi "
            "danh với hạn mới."
        )
    lines.append(
        "Trên LMS không có gì khác thay đổi: Moodle chỉ cho gia hạn nộp bài cho từng học "
        "viên (mod_assign_save_user_extensions), không có gia hạn chấm bài theo lớp; hạn "
        "nộp, hạn đóng và hạn chấm của bài tập cuối khóa là chung cho cả khóa học nên giữ "
        "nguyên, và dòng thời gian trên Moodle của báo cáo viên vẫn hiện hạn chấm chung."
    )
    return lines


def extend_payload(report: ExtendReport) -> dict[str, Any]:
    change = report.change
    return {
        "ok": report.ok,
        "run_id": report.run_id,
        "class_id": report.class_id,
        "until": change.until.isoformat(),
        "previous_until": change.previous_until.isoformat(),
        "extension_days": change.days,
        "previous_extension_days": change.previous_days,
        "grading_due": change.due.isoformat(),
        "previous_grading_due": change.previous_due.isoformat(),
        "reason": report.reason,
        "granted_by": report.granted_by,
        "granted_at": report.granted_at.isoformat(),
        "repeated": report.repeated,
        "lms": {
            "course_found": report.course_in_lms,
            "enrolments_updated": report.enrolments_updated,
            "enrolments_failed": report.enrolments_failed,
            "not_enrolled_yet": report.not_enrolled_yet,
            "error": report.lms_error,
            "enrolment_end": (_enrolment_end(report).isoformat() if report.enrolment_end else None),
            "assignment_dates_changed": False,
        },
    }


def run_extend(
    ctx: AppContext,
    class_id: str,
    until: dt.date,
    reason: str,
    *,
    as_json: bool,
    now: Callable[[], dt.datetime],
) -> int:
    try:
        report = extend_class(
            ctx.engine(),
            ctx.lms(),
            ctx.settings,
            class_id,
            until,
            reason,
            user=ctx.user,
            now=now(),
        )
    except ExtensionRefused as refused:
        return fail(ctx.err_console, refused, EXIT_PROBLEMS, "refused", as_json=as_json)
    log.info(
        "class %s: grading extended to %s; %d enrolments moved in the LMS; the assignment's "
        "due, cut-off and grading-due dates in Moodle are unchanged",
        report.class_id,
        report.change.until.isoformat(),
        report.enrolments_updated,
    )
    if as_json:
        print(json.dumps(extend_payload(report), ensure_ascii=False))
    else:
        for line in extend_messages(report):
            ctx.console.print(line)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _remind_table(report: RemindReport, tz: dt.tzinfo) -> Table:
    title = f"Nhắc hạn chấm bài đợt {report.run_id}"
    table = Table(title=title)
    for header in ("Người nhận", "Lớp", "Chờ chấm", "Hạn chấm", "Còn (ngày)", "Kết quả"):
        table.add_column(header)
    for outcome in report.outcomes:
        for c in outcome.classes:
            table.add_row(
                f"{outcome.full_name} ({outcome.identity_code})",
                c.class_code,
                str(c.waiting),
                c.due.astimezone(tz).strftime("%H:%M %d/%m/%Y"),
                str(c.days_left),
                STATUS_LABELS.get(outcome.status, outcome.status)
                + (f": {outcome.error}" if outcome.error else ""),
            )
    return table


def remind_payload(report: RemindReport) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "pull_id": report.pull_id,
        "dry_run": report.dry_run,
        "sent": report.count(SENT),
        "would_send": report.count(WOULD_SEND),
        "refused": report.count(REFUSED),
        "failed": report.count(FAILED),
        "unknown": report.count(UNKNOWN),
        "messages": [
            {
                "identity_code": o.identity_code,
                "full_name": o.full_name,
                "lms_user_id": o.lms_user_id,
                "status": o.status,
                "error": o.error,
                "text": o.text,
                "classes": [
                    {
                        "class_code": c.class_code,
                        "waiting": c.waiting,
                        "due": c.due.isoformat(),
                        "days_left": c.days_left,
                        "offset_days": c.offset_days,
                    }
                    for c in o.classes
                ],
            }
            for o in report.outcomes
        ],
        "skipped": [
            {"class_code": s.class_code, "identity_code": s.identity_code, "reason": s.reason}
            for s in report.skipped
        ],
        "lms_calls": report.lms_calls,
        "notes": list(report.notes),
    }


def run_remind(
    ctx: AppContext,
    run_ids: Sequence[str],
    *,
    dry_run: bool,
    as_json: bool,
    now: Callable[[], dt.datetime],
) -> int:
    """Send the reminders due now, run by run (every configured run when none is named)."""
    moment = now()
    runs = list(run_ids) or [run.id for run in ctx.settings.runs]
    for run_id in runs:
        ctx.settings.run(run_id)  # an unknown run is a settings error before anything else
    reports = [
        remind(
            ctx.engine(),
            None if dry_run else ctx.lms(),
            ctx.settings,
            run_id,
            now=moment,
            dry_run=dry_run,
        )
        for run_id in runs
    ]
    problems = any(r.problems for r in reports)
    if as_json:
        payload = {"ok": not problems, "runs": [remind_payload(r) for r in reports]}
        print(json.dumps(payload, ensure_ascii=False))
        return EXIT_PROBLEMS if problems else EXIT_OK
    tz = ctx.settings.site_zone()
    for report in reports:
        if report.outcomes:
            ctx.console.print(_remind_table(report, tz))
        for note in report.notes:
            ctx.console.print(f"Đợt {report.run_id}: {note}")
        if not report.outcomes and not report.notes:
            ctx.console.print(f"Đợt {report.run_id}: không có lời nhắc nào cần gửi lúc này.")
        for skipped in report.skipped:
            label = SKIP_LABELS.get(skipped.reason, skipped.reason)
            ctx.console.print(
                f"[yellow]Không nhắc {skipped.identity_code} (lớp {skipped.class_code}): "
                f"{label}.[/yellow]"
            )
    return EXIT_PROBLEMS if problems else EXIT_OK
