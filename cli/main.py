"""The ``bdtx`` command.

Exit codes scripts can rely on: 0 success; 1 the work found problems (rows rejected,
functions missing, actions failed); 2 a setting is wrong; 3 the LMS could not be reached
or refused the service; 4 an import, allocation or plan needs ``--accept`` (a safety
threshold); 5 an input file is not a roster.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.root import SANDBOX_STATE_FILE
from cli.context import (
    EXIT_LMS,
    EXIT_NEEDS_ACCEPT,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_SETTINGS,
    AppContext,
    RedactingStream,
    print_json_error,
    tune_gc,
)
from config.settings import SettingsError
from connector.errors import LmsConfigError, LmsError

if TYPE_CHECKING:
    from sandbox.lms import SandboxLms

EXIT_NOT_A_ROSTER = 5

app = typer.Typer(
    help="bdtx-sync: continuous professional development of teachers on Moodle.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
lms_app = typer.Typer(help="The LMS connection.", no_args_is_help=True)
sandbox_app = typer.Typer(
    help="The built-in sandbox LMS (for trying things out).", no_args_is_help=True
)
roster_app = typer.Typer(help="School lists: import, validate, report.", no_args_is_help=True)
classes_app = typer.Typer(help="Classes of each module run.", no_args_is_help=True)
sync_app = typer.Typer(
    help="Provisioning: accounts, courses, classes, enrolments.", no_args_is_help=True
)
app.add_typer(lms_app, name="lms")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(roster_app, name="roster")
app.add_typer(classes_app, name="classes")
app.add_typer(sync_app, name="sync")
grading_app = typer.Typer(help="Progress, grades and completion.", no_args_is_help=True)
app.add_typer(grading_app, name="grading")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (default: config/bdtx.toml).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the final summary as JSON.")]
RunsOption = Annotated[
    list[str] | None, typer.Option("--run", help="A run id (repeatable; default: every run).")
]

console = Console()
err_console = Console(stderr=True)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextmanager
def _context(
    config: Path | None, *, quiet: bool = False, as_json: bool = False
) -> Iterator[AppContext]:
    """Build the app once; turn expected failures into one message and an exit code.

    With ``--json`` (``as_json``) the failure is also printed on standard output, as the
    one JSON error object of :func:`~cli.context.print_json_error`.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    tune_gc()

    def fail(message: str, shown: str, code: int, kind: str) -> typer.Exit:
        err_console.print(shown)
        if as_json:
            print_json_error(message, code, kind)
        return typer.Exit(code)

    try:
        ctx = AppContext.from_config(config, console=Console(quiet=quiet))
    except SettingsError as error:
        raise fail(str(error), f"[red]{error}[/red]", EXIT_SETTINGS, "settings") from None
    # Everything the command prints (tables, messages, JSON, errors) is redacted.
    out = RedactingStream(sys.stdout, ctx.redact)
    err = RedactingStream(sys.stderr, ctx.redact)
    with redirect_stdout(out), redirect_stderr(err):
        try:
            yield ctx
        except SettingsError as error:
            raise fail(str(error), f"[red]{error}[/red]", EXIT_SETTINGS, "settings") from None
        except LmsConfigError as error:
            message = f"LMS từ chối: {error}. Chạy 'bdtx lms check' để biết cần sửa gì."
            raise fail(message, f"[red]{message}[/red]", EXIT_LMS, "lms") from None
        except LmsError as error:
            message = f"Không làm việc được với LMS: {error}"
            raise fail(message, f"[red]{message}[/red]", EXIT_LMS, "lms") from None
        except typer.Exit:
            raise
        except Exception as error:
            if as_json:
                print_json_error(f"{type(error).__name__}: {error}", EXIT_PROBLEMS, "internal")
            raise
        finally:
            ctx.close()


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# -- lms ---------------------------------------------------------------------------------


@lms_app.command("check")
def lms_check(
    config: ConfigOption = None,
    as_json: JsonOption = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also list what cannot be probed.")
    ] = False,
) -> None:
    """Connect; show site, release and user; list every missing function and capability."""
    from cli.template_check import template_findings, template_row, template_table
    from connector.check import MISSING, NOT_CHECKED, WARNING, check_lms
    from connector.check_groups import ReporterProbe, add_reporter_check
    from sync.desired import run_category_idnumber

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        settings = ctx.settings
        template = settings.runs[0].template_course if settings.runs else "TPL-MODULE"
        report = check_lms(ctx.lms(), template, ctx.configured_profile_fields)
        prefix = settings.provisioning.category_prefix
        probe = ReporterProbe(
            teacher_roleid=settings.provisioning.role_ids.get("teacher", 4),
            category_idnumbers=tuple(run_category_idnumber(prefix, r.id) for r in settings.runs),
        )
        add_reporter_check(report, ctx.lms(), probe)
        template_problems = template_findings(ctx.lms(), settings.runs)
        template_errors = [p for p in template_problems if p.severity == "error"]
        if as_json:
            _print_json(
                {
                    "site": report.site_name,
                    "release": report.release,
                    "user": report.username,
                    "ok": report.ok,
                    "problems": [vars(line) for line in report.problems],
                    "warnings": [vars(line) for line in report.warnings],
                    "template": [template_row(p) for p in template_problems],
                }
            )
        else:
            ctx.console.print(
                f"Site: [bold]{report.site_name}[/bold]  release {report.release}  "
                f"user {report.username} (id {report.userid})"
            )
            wanted = (MISSING, WARNING, NOT_CHECKED) if show_all else (MISSING, WARNING)
            shown = [line for line in report.lines if line.status in wanted]
            if shown:
                table = Table(title="What the Moodle side still needs")
                table.add_column("kind")
                longest = max(len(line.name) for line in shown)
                table.add_column("name", overflow="fold", min_width=min(longest, 40))
                table.add_column("status", no_wrap=True)
                table.add_column("detail", overflow="fold")
                for line in shown:
                    style = "red" if line.status == MISSING else "yellow"
                    table.add_row(line.kind, line.name, line.status, line.detail, style=style)
                ctx.console.print(table)
            unchecked = sum(1 for line in report.lines if line.status == NOT_CHECKED)
            checked = len(report.lines) - unchecked
            missing = len(report.problems)
            verdict = "[green]ready[/green]" if report.ok else f"[red]{missing} missing[/red]"
            if report.warnings:
                verdict += f", [yellow]{len(report.warnings)} warning(s)[/yellow]"
            ctx.console.print(f"{checked} checks: {verdict}")
            if unchecked and not show_all:
                ctx.console.print(
                    f"{unchecked} checks could not be made (most capabilities cannot be "
                    "probed without writing: the README lists them); --all shows them and why."
                )
            if template_problems:
                ctx.console.print(template_table(template_problems))
        if not report.ok or template_errors:
            raise typer.Exit(EXIT_PROBLEMS)


# -- sandbox -----------------------------------------------------------------------------


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    state: Annotated[
        Path, typer.Option(help="The sandbox's state file (what 'bdtx run' provisioned).")
    ] = SANDBOX_STATE_FILE,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from an empty site.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Simulate a site with this many PHP workers, each call costing the time "
            "real Moodle takes (and concurrent writes to one group or course colliding).",
        ),
    ] = None,
    cost_scale: Annotated[
        float,
        typer.Option(
            min=0.0, help="With --workers: multiply the recorded costs (0.1: 10x faster)."
        ),
    ] = 1.0,
) -> None:
    """Run the sandbox LMS as a local HTTP server; prints its URL and tokens.

    It serves the state the embedded sandbox keeps (so what 'bdtx run' provisioned can
    be looked at over the real protocol) and saves it again when stopped (Ctrl-C).
    """
    from sandbox.lms import ADHOC_TASK_PATH, SandboxLms
    from sandbox.options import SandboxOptions
    from sandbox.server import serve_forever, start_server
    from sandbox.throttle import RECORDED_COSTS, Throttle

    options = SandboxOptions(
        enrolled_users_include_groups=True, module_completed_activity=True, template_ready=True
    )
    throttle = None if workers is None else Throttle(workers, RECORDED_COSTS.scaled(cost_scale))
    sandbox = (
        SandboxLms(options, throttle=throttle)
        if fresh
        else SandboxLms.load_or_new(state, options, throttle=throttle)
    )
    kinds = {"syncbot": "service user", "limitedbot": "no capabilities"}
    for username, kind in zip(sample_participants(sandbox), ("student", "teacher"), strict=False):
        sandbox.issue_token(username)
        kinds[username] = kind
    server, url = start_server(sandbox, host, port)
    console.print(f"Sandbox LMS (not a real Moodle) at [bold]{url}[/bold]")
    if throttle is not None:
        console.print(f"  simulating {workers} PHP workers, recorded costs x {cost_scale:g}")
    for user, token in sorted(sandbox.tokens.items()):
        console.print(f"  token for {user} ({kinds.get(user, 'user')}): {token}")
    console.print(f"Use it: BDTX_LMS_URL={url} BDTX_LMS_TOKEN=<syncbot token> bdtx lms check")
    console.print(
        f"Moodle's cron (background tasks): POST {url}{ADHOC_TASK_PATH} wstoken=<syncbot token>"
    )
    signal.signal(signal.SIGTERM, _stop_on_term)  # a service manager's stop saves too
    try:
        serve_forever(server)
    finally:
        if not fresh:
            sandbox.save(state)


def _stop_on_term(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def sample_participants(sandbox: SandboxLms) -> list[str]:
    """One student and one non-editing teacher of the site, if any: tokens to try with."""
    site = sandbox.site
    found: dict[int, str] = {}
    for (level, _), holders in sorted(site.role_assignments.items()):
        if level != "course":
            continue
        for userid, roles in sorted(holders.items()):
            for role in (5, 4):
                if role in roles and role not in found:
                    found[role] = site.users[userid].username
        if len(found) == 2:
            break
    return [found[role] for role in (5, 4) if role in found]


# -- roster ------------------------------------------------------------------------------


@roster_app.command("import")
def roster_import(
    files: Annotated[
        list[Path],
        typer.Argument(help="Roster files (.xlsx, .csv): schools, learners, core staff."),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only validate and report.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write the Excel report here too.")] = None,
    accept: Annotated[
        bool, typer.Option("--accept", help="Store even if many people would leave.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate and store the school lists; every row ends imported, rejected or excluded."""
    from cli.roster_cmd import run_import

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        code = run_import(
            ctx, files, dry_run=dry_run, report=report, as_json=as_json, now=_now(), accept=accept
        )
        raise typer.Exit(code)


@roster_app.command("report")
def roster_report(
    out: Annotated[Path, typer.Option(help="Where to write the report.")] = Path(
        "bao-cao-nhap-danh-sach.xlsx"
    ),
    config: ConfigOption = None,
) -> None:
    """The Excel report of the latest import (one sheet per status, a summary sheet)."""
    from cli.roster_cmd import copy_latest_report

    with _context(config) as ctx:
        raise typer.Exit(copy_latest_report(ctx, out))


# -- classes -----------------------------------------------------------------------------


@classes_app.command("allocate")
def classes_allocate(
    run: RunsOption = None,
    accept: Annotated[
        bool, typer.Option("--accept", help="Save even if many learners change class.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sort the run's learners into classes, stably, and assign reporters."""
    from cli.classes_cmd import run_allocate

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(run_allocate(ctx, run or [], as_json=as_json, accept=accept))


@classes_app.command("show")
def classes_show(
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per class: size, schools, reporters; and the problems (classes without reporter)."""
    from cli.classes_cmd import show_classes

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(show_classes(ctx, run, as_json=as_json))


# -- sync --------------------------------------------------------------------------------


@sync_app.command("plan")
def sync_plan(
    out: Annotated[Path, typer.Option(help="Folder for plan.json and plan.xlsx.")] = Path(
        "var/plan"
    ),
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Preview: what the LMS needs, per action, with reasons; writes nothing to the LMS."""
    from cli.sync_cmd import run_plan

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(run_plan(ctx, out, as_json=as_json, now=_now()))


@sync_app.command("apply")
def sync_apply(
    accept: Annotated[
        bool, typer.Option("--accept", help="Go on past the safety thresholds.")
    ] = False,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="Apply only if this reviewed plan.json still holds."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make the LMS match the roster: journaled, resumable, never deletes."""
    from cli.sync_cmd import run_apply

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(run_apply(ctx, accept=accept, plan_file=plan, as_json=as_json, now=_now))


@sync_app.command("history")
def sync_history(
    run: Annotated[
        int | None, typer.Option("--run", help="Show this run's batches, one per request.")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The latest sync runs: who, when, what was done, unknown, pending; errors."""
    from cli.sync_cmd import show_history

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(show_history(ctx, run_id=run, as_json=as_json, now=_now()))


# -- grading -----------------------------------------------------------------------------


@grading_app.command("pull")
def grading_pull(
    run: RunsOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pull progress and grades from the LMS and decide each learner's completion."""
    from cli.grading_cmd import run_pull

    with _context(config, quiet=as_json) as ctx:
        raise typer.Exit(run_pull(ctx, run or [], as_json=as_json, now=_now))


@grading_app.command("deadlines")
def grading_deadlines(
    run: RunsOption = None,
    reporter: Annotated[
        str | None, typer.Option("--reporter", help="Only this reporter's classes (identity code).")
    ] = None,
    class_code: Annotated[str | None, typer.Option("--class", help="Only this class.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where the workbooks and calendars go (var/deadlines)."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reporters' grading deadlines: per class, what waits for a grade and the days left."""
    from cli.deadlines_cmd import show_deadlines

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(
            show_deadlines(
                ctx,
                run or [],
                reporter=reporter,
                class_code=class_code,
                out_dir=out,
                as_json=as_json,
                now=_now,
            )
        )


@grading_app.command("extend")
def grading_extend(
    class_code: Annotated[str, typer.Option("--class", help="The class (its id).")],
    until: Annotated[
        dt.datetime,
        typer.Option("--until", formats=["%Y-%m-%d"], help="The new last grading day."),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the Sở extends it.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Extend a class's grading deadline: recorded with who and when; moves its enrolments."""
    from cli.remind_cmd import run_extend

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(
            run_extend(ctx, class_code, until.date(), reason, as_json=as_json, now=_now)
        )


@grading_app.command("remind")
def grading_remind(
    run: RunsOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; send nothing.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remind assessors with ungraded work of their grading deadline (Moodle messages)."""
    from cli.remind_cmd import run_remind

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(run_remind(ctx, run or [], dry_run=dry_run, as_json=as_json, now=_now))


# -- completion lists --------------------------------------------------------------------

completion_app = typer.Typer(help="Completion lists of a run (Excel, CSV).", no_args_is_help=True)
app.add_typer(completion_app, name="completion")


@completion_app.command("list")
def completion_list(
    run: Annotated[str, typer.Option("--run", help="The run id.")],
    school: Annotated[
        str | None, typer.Option("--school", help="Only this school (its code).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv.")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder (default: var/lists); files go in <run>/.")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the run's completion lists from its latest pull: province, districts, schools."""
    from cli.completion_cmd import FORMATS, list_command

    if fmt not in FORMATS:
        err_console.print(f"[red]--format phải là một trong {', '.join(FORMATS)}.[/red]")
        raise typer.Exit(EXIT_SETTINGS)
    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(list_command(ctx, run, school=school, fmt=fmt, out=out, as_json=as_json))


@completion_app.command("close")
def completion_close(
    run: Annotated[str, typer.Option("--run", help="The run id.")],
    force: Annotated[
        bool, typer.Option("--force", help="Close before the grading window ends.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv.")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder (default: var/lists); files go in <run>/.")
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a run, once: last pull, write completion back to the LMS, the lists."""
    from cli.completion_cmd import FORMATS, close_command

    if fmt not in FORMATS:
        err_console.print(f"[red]--format phải là một trong {', '.join(FORMATS)}.[/red]")
        raise typer.Exit(EXIT_SETTINGS)
    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(
            close_command(ctx, run, force=force, fmt=fmt, out=out, as_json=as_json, now=_now())
        )


@completion_app.command("year")
def completion_year(
    year: Annotated[
        int | None, typer.Option("--year", help="The year (default: the latest run's).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv.")] = "xlsx",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder (default: var/lists); files go in nam-<year>/."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Year results per person: completed the year's BDTX plan, not, or exempt."""
    from cli.completion_cmd import FORMATS, year_command

    if fmt not in FORMATS:
        err_console.print(f"[red]--format phải là một trong {', '.join(FORMATS)}.[/red]")
        raise typer.Exit(EXIT_SETTINGS)
    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(year_command(ctx, year, fmt=fmt, out=out, as_json=as_json))


# -- the main job ------------------------------------------------------------------------


@app.command("run")
def run_main(
    config: ConfigOption = None,
    accept: Annotated[
        bool, typer.Option("--accept", help="Go on past the safety thresholds.")
    ] = False,
    simulate: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="Then run the daemon on simulated time through the first run, to its close.",
        ),
    ] = False,
) -> None:
    """The main job, once: check the LMS, import the roster, allocate classes, provision."""
    from cli.main_job import main_job, simulated_clock

    with _context(config) as ctx:
        # Simulated, the whole job runs on the first run's time, from its provisioning on.
        now = simulated_clock(ctx) if simulate else _now
        raise typer.Exit(main_job(ctx, accept=accept, now=now, simulate=simulate))


# -- the daemon --------------------------------------------------------------------------


@app.command("daemon")
def daemon_main(
    once: Annotated[
        bool, typer.Option("--once", help="Run the jobs due now, then exit (for cron).")
    ] = False,
    simulate: Annotated[
        str | None,
        typer.Option(
            "--simulate",
            help="Run on simulated time from this instant (site time, e.g. 2023-08-28T00:00).",
        ),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed", help="Simulated seconds per real second (0: jump to each due job)."
        ),
    ] = 0.0,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Stop at this instant (default with --simulate: closing + 1 day)."
        ),
    ] = None,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text or json (JSON lines on standard error).")
    ] = "text",
    config: ConfigOption = None,
) -> None:
    """Run every module run's jobs on time: inbox import, provisioning and daily re-sync,
    progress pulls; one daemon per state database; SIGTERM stops it after the current batch."""
    from cli.daemon_cmd import run_daemon

    if log_format not in ("text", "json"):
        err_console.print("[red]--log-format phải là text hoặc json.[/red]")
        raise typer.Exit(EXIT_SETTINGS)
    if speed < 0:
        err_console.print("[red]--speed phải >= 0.[/red]")
        raise typer.Exit(EXIT_SETTINGS)
    with _context(config) as ctx:
        raise typer.Exit(
            run_daemon(
                ctx, once=once, simulate=simulate, speed=speed, until=until, log_format=log_format
            )
        )


@app.command("status")
def status_main(
    at: Annotated[
        str | None,
        typer.Option("--at", help="As at this instant (site time; default: now)."),
    ] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each run's phase and next key date, the daemon's next jobs, their last results,
    LMS outages and errors."""
    from cli.daemon_cmd import show_status

    with _context(config, quiet=as_json, as_json=as_json) as ctx:
        raise typer.Exit(show_status(ctx, as_json=as_json, at=at))


__all__ = ["EXIT_LMS", "EXIT_NEEDS_ACCEPT", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_SETTINGS", "app"]


if __name__ == "__main__":
    app()
