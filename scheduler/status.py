"""What ``bdtx status`` shows: each run's phase and next key date, each job's next run and
last result, outages and errors, and which daemon holds the lock — as plain data (the CLI
draws it, or prints it as JSON)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from app.root import App
from scheduler.daemon import job_specs, timelines
from scheduler.jobs import FINISHED, JobKind, due_jobs, job_states
from scheduler.lock import Me, pid_alive
from scheduler.timeline import next_key_instant, phase_at
from store.closing_repo import closing_of
from store.daemon_repo import latest_jobs, lock_holder, record_views, retry_records
from store.models import JobRun

PHASE_LABELS = {
    "before": "chưa bắt đầu",
    "online-1": "trực tuyến đợt 1 (ngày 1-7)",
    "virtual-class": "lớp học ảo (ngày 8-9)",
    "online-2": "trực tuyến đợt 2 (ngày 10-16)",
    "grading": "chấm bài",
    "closed": "đã kết thúc",
}
KEY_LABELS = {
    "provisioning": "cấp tài khoản, khóa học",
    "online-1-opens": "mở trực tuyến đợt 1",
    "virtual-class-opens": "mở lớp học ảo",
    "online-2-opens": "mở trực tuyến đợt 2",
    "submission-due": "hạn nộp bài cuối khóa",
    "grading-reminder": "nhắc báo cáo viên chấm bài",
    "grading-due": "hạn chấm bài",
    "closed": "kết thúc đợt",
}
JOB_LABELS = {
    JobKind.INBOX: "nhận danh sách (thư mục inbox)",
    JobKind.SYNC: "đồng bộ LMS (tài khoản, khóa học, ghi danh)",
    JobKind.PULL: "lấy tiến độ, điểm",
    JobKind.REMIND: "nhắc chấm bài",
    JobKind.CLOSE: "kết thúc đợt",
}
OUTCOME_LABELS = {
    "running": "đang chạy",
    "ok": "xong",
    "failed": "lỗi",
    "retrying": "LMS không trả lời, sẽ thử lại",
    "interrupted": "bị dừng (sẽ chạy tiếp)",
    "killed": "bị tắt giữa chừng (sẽ chạy lại)",
    "skipped": "không có việc",
}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def daemon_status(app: App, now: dt.datetime, kinds: Collection[JobKind]) -> dict[str, Any]:
    """The status at ``now`` (aware); ``kinds``: the job kinds the daemon runs."""
    engine = app.engine()
    zone = app.settings.site_zone()
    runs = []
    for timeline in timelines(app):
        run = app.settings.run(timeline.run_id)
        phase = phase_at(timeline, now)
        key = next_key_instant(timeline, now)
        closing = closing_of(engine, run.id)
        closed_early = closing is not None and closing.status == "done"
        runs.append(
            {
                "id": run.id,
                "name": run.name,
                "phase": phase.value,
                "phase_label": PHASE_LABELS.get(phase.value, phase.value)
                + (" (đã tổng kết)" if closed_early and phase.value != "closed" else ""),
                # When the run was closed (its lists written): at its close, or earlier by
                # hand (bdtx completion close --force); None while it is not.
                "closing_done_at": _iso(closing.finished_at) if closed_early and closing else None,
                "start": _iso(timeline.start),
                "closed_at": _iso(timeline.closed_at),
                "next_key": None
                if key is None
                else {
                    "kind": key.kind.value,
                    "label": KEY_LABELS.get(key.kind.value, key.kind.value),
                    "at": _iso(key.at.astimezone(zone)),
                    "class": key.class_id,
                },
            }
        )
    specs = job_specs(app, kinds)
    views = record_views(engine)
    states = job_states(views)
    due = {d.spec.id for d in due_jobs(specs, states, now)}
    last = latest_jobs(engine)
    jobs = []
    problems: list[str] = []
    for spec in specs:
        state = states.get(spec.id)
        if spec.id in due:
            next_at: dt.datetime | None = now
        elif state is not None and state.retry_at is not None:
            next_at = state.retry_at
        else:
            next_at = spec.next_slot(now)
        record = last.get(spec.id)
        entry: dict[str, Any] = {
            "id": spec.id,
            "kind": spec.kind.value,
            "label": JOB_LABELS[spec.kind],
            "run": spec.run_id,
            "next_at": _iso(next_at.astimezone(zone) if next_at else None),
            "due_now": spec.id in due,
            "last": None,
            "outage": None,
        }
        if record is not None:
            entry["last"] = {
                "outcome": record.outcome,
                "outcome_label": OUTCOME_LABELS.get(record.outcome, record.outcome),
                "scheduled_for": _iso(record.scheduled_for.astimezone(zone)),
                "started_at": _iso(record.started_at.astimezone(zone)),
                "ended_at": _iso(record.ended_at.astimezone(zone) if record.ended_at else None),
                "attempt": record.attempt,
                "counts": record.counts,
                "message": record.message,
            }
            if record.outcome == "retrying":
                since = record.outage_since or record.started_at
                entry["outage"] = {
                    "since": _iso(since.astimezone(zone)),
                    "attempts": record.attempt,
                    "retry_at": _iso(record.retry_at.astimezone(zone) if record.retry_at else None),
                    "error": record.message,
                }
                problems.append(
                    f"{spec.id}: LMS không trả lời từ {since.astimezone(zone):%d/%m/%Y %H:%M}, "
                    f"đã thử {record.attempt} lần: {record.message}"
                )
            elif record.outcome == "failed":
                problems.append(f"{spec.id}: {record.message}")
        jobs.append(entry)
    outages = recent_outages(retry_records(engine), last)
    holder = lock_holder(engine)
    daemon: dict[str, Any] | None = None
    if holder is not None:
        daemon = {
            "host": holder.host,
            "pid": holder.pid,
            "since": _iso(holder.since),
            "heartbeat": _iso(holder.heartbeat),
            "clock_at": _iso(holder.clock_at),
            "alive": holder.host != Me.current().host or pid_alive(holder.pid),
        }
    return {
        "now": _iso(now.astimezone(zone)),
        "daemon": daemon,
        "runs": runs,
        "jobs": jobs,
        "problems": problems,
        "outages": [{**o, "since": _iso(o["since"].astimezone(zone))} for o in outages],
    }


def recent_outages(
    retries: Sequence[JobRun], latest: Mapping[str, JobRun], limit: int = 5
) -> list[dict[str, Any]]:
    """The latest LMS outages the jobs waited out (or still wait out): per job and streak,
    since when, how many attempts failed, and whether the LMS answered again."""
    streaks: dict[tuple[str, dt.datetime], dict[str, Any]] = {}
    for record in retries:
        since = record.outage_since or record.started_at
        streak = streaks.setdefault(
            (record.job_id, since), {"job": record.job_id, "since": since, "attempts": 0}
        )
        streak["attempts"] = max(streak["attempts"], record.attempt)
        streak["last_id"] = record.id or 0
    for streak in streaks.values():
        last = latest.get(streak["job"])
        streak["over"] = (
            last is not None and (last.id or 0) > streak["last_id"] and last.outcome in FINISHED
        )
    chosen = sorted(streaks.values(), key=lambda s: s["last_id"])[-limit:]
    return [{k: v for k, v in s.items() if k != "last_id"} for s in chosen]
