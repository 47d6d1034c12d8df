"""``bdtx run``: the main job, once — what the daemon does on each scheduled pass.

1. check the LMS (site, release, required functions);
2. import the configured roster files (validate, store, report);
3. allocate the classes of every configured run and assign reporters;
4. provision: plan against the LMS and apply;
5. with ``--simulate``: the daemon on simulated time through the first run, from its
   provisioning to its close, printing what happened at each key date.

Each of 2-4 stops at its safety threshold (too many leavers, class moves, or LMS
removals) before storing or writing anything, with exit code 4, unless --accept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from cli.classes_cmd import allocation_table
from cli.context import EXIT_LMS, EXIT_NEEDS_ACCEPT, EXIT_OK, EXIT_PROBLEMS, AppContext
from cli.roster_cmd import EXIT_NOT_A_ROSTER, changes_table, print_warnings, refuse
from cli.sync_cmd import apply_with_progress, plan_table
from config.settings import RunSettings
from grading.publish import LISTS_DIR
from roster.errors import RosterFormatError
from roster.reasons import Status
from roster.report import summary_table
from roster.service import allocate_runs, import_files, import_warnings
from sandbox.activity import simulate_until
from sandbox.lms import SandboxLms
from scheduler.clock import SimulatedClock
from scheduler.daemon import Daemon, Ran
from scheduler.jobs import Cadence
from scheduler.lock import LockHeld
from scheduler.status import KEY_LABELS, OUTCOME_LABELS
from scheduler.timeline import run_timeline
from store.db import session_scope
from store.extensions_repo import run_extension_days
from sync import service
from sync.safety import NeedsAccept


def main_job(
    ctx: AppContext, *, accept: bool, now: Callable[[], dt.datetime], simulate: bool = False
) -> int:
    console = ctx.console
    lms = ctx.lms()
    where = (
        "sandbox LMS (built in, not a real Moodle)"
        if ctx.settings.lms.is_sandbox
        else ctx.settings.lms.url
    )
    console.rule(f"1. LMS: {where}")
    info = lms.site.get_site_info()
    missing = lms.missing_functions()
    console.print(f"{info.sitename} — release {info.release}, user {info.username}")
    if missing:
        console.print(
            f"[red]{len(missing)} functions missing from the service: run 'bdtx lms check'.[/red]"
        )
        return EXIT_LMS

    console.rule("2. Danh sách (roster)")
    files = ctx.settings.roster.files
    if not files:
        console.print(
            "[yellow]No roster files configured ([roster] files): nothing to import.[/yellow]"
        )
        return EXIT_PROBLEMS
    try:
        result, changes, report_path = import_files(ctx, files, now=now(), accept=accept)
    except RosterFormatError as error:
        ctx.err_console.print(f"[red]{error}[/red]", soft_wrap=True)
        return EXIT_NOT_A_ROSTER
    except NeedsAccept as stop:
        return refuse(ctx, stop, as_json=False, what="Chưa lưu danh sách.")
    console.print(summary_table(result))
    if changes is not None and changes.any:
        console.print(changes_table(changes))
    print_warnings(ctx, import_warnings(ctx, result, changes, now().date()))
    console.print(f"Báo cáo cho các trường: {report_path}")

    console.rule("3. Phân lớp (classes)")
    try:
        allocations = allocate_runs(ctx, list(ctx.settings.runs), accept=accept)
    except NeedsAccept as stop:
        return refuse(ctx, stop, as_json=False, what="Chưa lưu phân lớp.")
    console.print(allocation_table(allocations))

    console.rule("4. Đồng bộ LMS (provisioning)")
    calls_before = lms.client.stats.calls
    try:
        report = apply_with_progress(ctx, accept=accept, expected_digest=None, now=now, quiet=False)
    except service.NeedsAccept as stop:
        for violation in stop.violations:
            ctx.err_console.print(f"[red]{violation.message()}[/red]")
        return EXIT_NEEDS_ACCEPT
    console.print(
        plan_table(
            report.preview.plan,
            f"Đồng bộ #{report.run_id}: {report.status}",
            report.preview.calendar,
        )
    )
    outcome = report.result
    calls = lms.client.stats.calls - calls_before
    console.print(
        f"done {outcome.count('done')}, failed {outcome.count('failed')}, "
        f"conflicts {len(report.preview.plan.conflicts)}, LMS calls {calls}"
    )
    calendar = service.calendar_status(report.preview.calendar)
    if calendar:
        console.print(f"[yellow]{calendar}[/yellow]")
    if outcome.stopped:
        console.print(f"[red]{outcome.stopped}[/red]")
        return EXIT_LMS
    rejected = result.status_counts()[Status.REJECTED]
    late = report.preview.calendar.timed_out
    code = EXIT_PROBLEMS if outcome.failures() or rejected or late else EXIT_OK
    if simulate and ctx.settings.runs:
        simulate_module_run(ctx, ctx.settings.runs[0])
    return code


# The demo's intervals: a province-wide pull takes a while, so every two days online and
# every three in grading (the service pulls hourly, then daily), a re-sync every two days.
DEMO_CADENCE = Cadence(
    inbox_every=dt.timedelta(days=1),
    resync_every=dt.timedelta(days=2),
    pull_online_every=dt.timedelta(days=2),
    pull_grading_every=dt.timedelta(days=3),
)


def simulate_module_run(ctx: AppContext, run: RunSettings) -> None:
    """Run the real daemon on simulated time through ``run``, from its provisioning to
    its close, printing what happened at each key date.

    On the sandbox LMS the learners and reporters act too, day by day, through their own
    web-service calls (``sandbox/activity.py``): most pass, some fail the quiz, some never
    submit, one class is graded late, one grade comes from outside the class. The pulls,
    reminders and the closing then see what they did.
    """
    console = ctx.console
    zone = ctx.settings.site_zone()
    timeline = run_timeline(run, zone)
    console.rule(f"5. Mô phỏng đợt {run.id}: daemon chạy trên thời gian giả lập")
    clock = ctx.clock if isinstance(ctx.clock, SimulatedClock) else simulated_clock(ctx, run)
    sandbox = ctx.sandbox() if ctx.settings.lms.is_sandbox else None
    daemon = Daemon(ctx, clock=clock, cadence=DEMO_CADENCE)
    try:
        daemon.start()
    except LockHeld as held:
        console.print(f"[yellow]Bỏ qua mô phỏng: {held}[/yellow]")
        return
    moments = list(timeline.key_moments())
    closed: list[Ran] = []

    def before_pass(now: dt.datetime) -> None:
        while moments and moments[0].at <= now:
            moment = moments.pop(0)
            label = KEY_LABELS.get(moment.kind.value, moment.kind.value)
            console.print(f"[bold]{moment.at.astimezone(zone):%d/%m/%Y %H:%M} — {label}[/bold]")
        if sandbox is not None:  # what learners and reporters did since the last pass
            _learners_act(ctx, sandbox, run, now)

    def on_pass(now: dt.datetime, ran: list[Ran]) -> None:
        for item in ran:
            if item.outcome == "skipped" or not item.job_id.endswith(run.id):
                continue
            if item.job_id.startswith("close:") and item.outcome == "ok":
                closed.append(item)
            outcome = OUTCOME_LABELS.get(item.outcome, item.outcome)
            detail = _summary(item) if item.outcome == "ok" else item.message[:200]
            console.print(
                f"  {now.astimezone(zone):%d/%m %H:%M} {item.job_id}: {outcome}"
                + (f" — {detail}" if detail else ""),
                soft_wrap=True,
            )

    try:
        daemon.loop(
            until=timeline.closed_at + dt.timedelta(hours=1),
            on_pass=on_pass,
            before_pass=before_pass,
        )
    finally:
        daemon.close()
    if closed:
        console.print(
            f"Danh sách hoàn thành đợt {run.id} (tỉnh, phòng, trường): {LISTS_DIR / run.id}"
        )


def _learners_act(ctx: AppContext, sandbox: SandboxLms, run: RunSettings, now: dt.datetime) -> None:
    """What the run's learners and reporters have done by ``now``, on the sandbox LMS."""
    with session_scope(ctx.engine()) as session:
        extensions = {run.id: run_extension_days(session, run.id)}
    [summary] = simulate_until(
        sandbox,
        [run],
        now,
        extensions=extensions,
        category_prefix=ctx.settings.provisioning.category_prefix,
    )
    done = sum(summary.done.values())
    if done:
        kinds = ", ".join(
            f"{ACTIVITY_LABELS.get(kind, kind)} {n}" for kind, n in sorted(summary.done.items())
        )
        ctx.console.print(f"  (mô phỏng) học viên và báo cáo viên: {kinds}", soft_wrap=True)


# What the simulated learners and reporters did (sandbox/activity.py's action kinds).
ACTIVITY_LABELS = {
    "quiz_attempt": "lượt làm bài kiểm tra",
    "submission": "bài nộp",
    "survey_answer": "trả lời khảo sát",
    "grade": "điểm chấm",
}


def _summary(item: Ran) -> str:
    """What a job did, in a few words."""
    counts = item.counts
    if item.job_id.startswith("sync:"):
        return f"{counts.get('done', 0)} lệnh ghi LMS"
    outcomes = (
        f"{counts.get('completed', 0)} hoàn thành, {counts.get('not_completed', 0)} chưa, "
        f"{counts.get('exempt', 0)} miễn"
    )
    if item.job_id.startswith("pull:"):
        return outcomes
    if item.job_id == "inbox":
        return f"{counts.get('imported', 0)} dòng đã nhập"
    if item.job_id.startswith("remind:"):
        return f"{counts.get('sent', 0)} tin nhắn nhắc chấm bài"
    if item.job_id.startswith("close:"):
        return f"{outcomes}; {counts.get('files', 0)} tệp danh sách"
    return ""


def simulated_clock(ctx: AppContext, run: RunSettings | None = None) -> SimulatedClock:
    """The demo's clock: ``run``'s (default: the first run's) provisioning time, moved on
    only by the daemon. The sandbox LMS keeps the same time, so what it records is dated
    in the run."""
    run = run or (ctx.settings.runs[0] if ctx.settings.runs else None)
    start = (
        run_timeline(run, ctx.settings.site_zone()).provisioning_at
        if run is not None
        else ctx.clock.now()
    )
    clock = SimulatedClock(start, speed=0)
    ctx.clock = clock
    if ctx.settings.lms.is_sandbox:
        ctx.sandbox().clock = lambda: clock.now().timestamp()
    return clock
