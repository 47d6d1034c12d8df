"""``bdtx run``: the main job, once — what the daemon does on each scheduled pass.

1. check the LMS (site, release, required functions);
2. import the configured roster files (validate, store, report);
3. allocate the classes of every configured run and assign reporters;
4. provision: plan against the LMS and apply.

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
from roster.errors import RosterFormatError
from roster.reasons import Status
from roster.report import summary_table
from roster.service import allocate_runs, import_files, import_warnings
from sync import service
from sync.safety import NeedsAccept


def main_job(ctx: AppContext, *, accept: bool, now: Callable[[], dt.datetime]) -> int:
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
    return EXIT_PROBLEMS if outcome.failures() or rejected or late else EXIT_OK
