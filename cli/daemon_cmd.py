"""``bdtx daemon`` and ``bdtx status``: the command side; the daemon itself is scheduler/."""

from __future__ import annotations

import datetime as dt
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from rich.table import Table

from app.logs import logging_to
from cli.context import EXIT_OK, EXIT_PROBLEMS, AppContext
from config.settings import SettingsError
from scheduler.aps import ApsDriver
from scheduler.clock import SimulatedClock
from scheduler.daemon import Daemon, Ran, timelines
from scheduler.lock import LockHeld
from scheduler.status import OUTCOME_LABELS, daemon_status
from scheduler.tasks import registry

EXIT_LOCKED = 6  # another daemon holds this state database


def parse_moment(text: str, ctx: AppContext, option: str) -> dt.datetime:
    """An ISO date or date-time; without a zone it is the site's local time."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"{option} {text!r}: expected a date-time like 2023-08-28T00:00 (site time)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ctx.settings.site_zone())
    return moment.astimezone(dt.UTC)


@contextmanager
def stop_on_signals(daemon: Daemon) -> Iterator[None]:
    """SIGTERM and SIGINT ask the daemon to stop after the batch in flight."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        daemon.request_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_daemon(
    ctx: AppContext,
    *,
    once: bool,
    simulate: str | None,
    speed: float,
    until: str | None,
    log_format: str,
) -> int:
    with logging_to(log_format, ctx.redact):
        return _run_daemon(ctx, once=once, simulate=simulate, speed=speed, until=until)


def _run_daemon(
    ctx: AppContext, *, once: bool, simulate: str | None, speed: float, until: str | None
) -> int:
    end: dt.datetime | None = None
    if simulate is not None:
        start = parse_moment(simulate, ctx, "--simulate")
        ctx.clock = SimulatedClock(start, speed=speed)
        closings = [t.closed_at for t in timelines(ctx)]
        end = (
            parse_moment(until, ctx, "--until")
            if until is not None
            else max(closings, default=start) + dt.timedelta(days=1)
        )
    elif until is not None:
        end = parse_moment(until, ctx, "--until")
    daemon = Daemon(ctx, clock=ctx.clock)
    try:
        daemon.start()
    except LockHeld as held:
        message = (
            f"Một tiến trình bdtx daemon khác đang chạy trên cơ sở dữ liệu này "
            f"(máy {held.holder.host}, pid {held.holder.pid}, từ "
            f"{held.holder.since:%d/%m/%Y %H:%M:%S} UTC, tín hiệu cuối "
            f"{held.holder.heartbeat:%H:%M:%S} UTC). Không chạy thêm."
        )
        ctx.err_console.print(f"[red]{message}[/red]")
        return EXIT_LOCKED
    zone = ctx.settings.site_zone()

    def report(now: dt.datetime, ran: list[Ran]) -> None:
        for item in ran:
            if item.outcome == "skipped":
                continue
            ctx.console.print(
                f"{now.astimezone(zone):%d/%m/%Y %H:%M} {item.job_id}: "
                f"{OUTCOME_LABELS.get(item.outcome, item.outcome)}"
                + (f" — {item.message}" if item.message else ""),
                soft_wrap=True,
            )

    try:
        with stop_on_signals(daemon):
            if once or simulate is not None or end is not None:
                daemon.loop(until=end, once=once, on_pass=report)
            else:
                ApsDriver(daemon).run()
    finally:
        daemon.close()
    if daemon.lock_lost:
        ctx.err_console.print("[red]Mất khóa daemon (một tiến trình khác đã nhận): dừng.[/red]")
        return EXIT_PROBLEMS
    return EXIT_OK


def _when(text: str | None) -> str:
    if text is None:
        return "—"
    return dt.datetime.fromisoformat(text).strftime("%d/%m/%Y %H:%M")


def show_status(ctx: AppContext, *, as_json: bool, at: str | None) -> int:
    now = parse_moment(at, ctx, "--at") if at is not None else ctx.clock.now()
    status = daemon_status(ctx, now, registry().keys())
    if as_json:
        print(json.dumps(status, ensure_ascii=False, indent=2, default=str))
        return EXIT_PROBLEMS if status["problems"] else EXIT_OK
    console = ctx.console
    daemon = status["daemon"]
    if daemon is None:
        console.print("[yellow]Không có bdtx daemon nào đang chạy trên cơ sở dữ liệu này.[/yellow]")
    else:
        state = (
            "đang chạy" if daemon["alive"] else "[red]không còn chạy (khóa sẽ được nhận lại)[/red]"
        )
        console.print(
            f"bdtx daemon {state}: máy {daemon['host']}, pid {daemon['pid']}, "
            f"từ {_when(daemon['since'])} UTC, tín hiệu cuối {_when(daemon['heartbeat'])} UTC"
            + (f", giờ của daemon {_when(daemon['clock_at'])} UTC" if daemon["clock_at"] else "")
        )
    console.print(f"Thời điểm xem: {_when(status['now'])} (giờ Việt Nam)")
    console.print(_runs_table(status["runs"]))
    console.print(_jobs_table(status["jobs"]))
    for outage in status["outages"]:
        over = "đã trả lời lại" if outage["over"] else "[red]vẫn chưa trả lời[/red]"
        console.print(
            f"Sự cố LMS: {outage['job']} từ {_when(outage['since'])}, "
            f"{outage['attempts']} lần thử không được; {over}"
        )
    for problem in status["problems"]:
        console.print(f"[red]{problem}[/red]", soft_wrap=True)
    return EXIT_PROBLEMS if status["problems"] else EXIT_OK


def _runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Các đợt bồi dưỡng")
    for column in ("Đợt", "Giai đoạn", "Mốc tiếp theo", "Vào lúc", "Kết thúc"):
        table.add_column(column)
    for run in runs:
        key = run["next_key"]
        table.add_row(
            f"{run['id']} {run['name']}".strip(),
            run["phase_label"],
            key["label"] if key else "—",
            _when(key["at"]) if key else "—",
            _when(run["closed_at"]),
        )
    return table


def _jobs_table(jobs: list[dict[str, Any]]) -> Table:
    table = Table(title="Các việc của daemon")
    for column in ("Việc", "Lần tới", "Lần trước", "Kết quả", "Ghi chú"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        last = job["last"]
        next_at = "ngay bây giờ" if job["due_now"] else _when(job["next_at"])
        result = "—"
        note = ""
        if last is not None:
            result = last["outcome_label"]
            if last["attempt"] > 1:
                result += f" (lần thử {last['attempt']})"
            note = last["message"][:160]
        table.add_row(
            f"{job['id']}\n{job['label']}",
            next_at,
            _when(last["started_at"]) if last else "—",
            result,
            note,
            style="red" if last and last["outcome"] in ("failed", "retrying") else None,
        )
    return table
