"""Sync benchmark: provision the sample roster into the sandbox LMS, then re-sync.

Two scenarios on ../shared/data/binhphuoc-2023: module 4 only (the settings of
tests/e2e/provisioning.py) and the three runs of config/bdtx.toml. Each is run twice:

* ``in-process``: ``[lms] url = "sandbox:"``; the sandbox LMS runs inside this process, so
  the CPU time includes the LMS's own work;
* ``http``: the sandbox LMS is served over HTTP by a separate process (as in
  bench/connector_bench.py), so the CPU time is the client's own (planning, batching,
  JSON, form encoding, HTTP).

Per mode: the first apply (LMS calls, writes, seconds, CPU per learner); then, once
Moodle's background task has made the copies' activity events, the dates push (the
second apply moves them to the run's dates); and a third, no-change apply (must write
nothing; its read calls are the cost of a daily run).
Roster import and allocation are set-up, not timed here (see bench/roster_bench.py).

    python bench/sync_bench.py [--scenario m4|all ...] [--mode in-process|http ...]

With ``--workers N`` the served sandbox simulates a site of N PHP workers, each call
costing real Moodle's recorded time (``sandbox.throttle``, times ``--cost-scale``), and
``--concurrency 1 2 auto ...`` runs the first apply once per level. Each run then prints,
per step (wsfunction), its calls, rows, rows/s and when it ran, and the critical path:
the account -> enrolment -> membership chain, the copies beside it, the gaps between.

With ``--read-costs`` (http) only the participants' reads cost time, real Moodle's per
participant and per field asked (``sandbox.throttle.READ_COSTS``): the no-change re-sync
then compares with the leanest complete read as it would on Moodle, where the server's
read time dominates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import multiprocessing
import os
import resource
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cli.context import (
    AppContext,
    tune_gc,
)
from config.settings import (
    DEFAULT_CONFIG_FILE,
    DatabaseSettings,
    LmsSettings,
    ProvisioningSettings,
    RosterSettings,
    RunSettings,
    Settings,
    load_settings,
)
from connector.client import FunctionStats, MoodleClient
from roster.service import import_files
from sandbox.lms import ADHOC_TASK_PATH, SandboxLms
from sandbox.options import SandboxOptions
from sandbox.server import serve
from sandbox.throttle import READ_COSTS, RECORDED_COSTS, Throttle, rows_of
from store.classes_repo import allocate_run
from store.db import session_scope
from sync import service

READ_WORKERS = 4  # --read-costs: the PHP workers of issue 10's site
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "binhphuoc-2023"
SAMPLE = [DATA / "truong.xlsx", DATA / "hoc-vien.xlsx", DATA / "bao-cao-vien.xlsx"]
NOW = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)
M4 = RunSettings(
    id="M4-2023",
    module=4,
    name="Mô đun 4",
    start=dt.date(2023, 9, 4),
    unit_lock_date=dt.date(2023, 8, 15),
    concurrent_subjects=["Hoạt động trải nghiệm, hướng nghiệp"],
)
SITE_FIELDS = {"school": "school_name", "level": "level", "subject": "subject"}


# -- the sandbox LMS in a separate process ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(
    port: int, workers: int | None = None, cost_scale: float = 1.0, read_costs: bool = False
) -> None:
    throttle = None
    if workers is not None:
        throttle = Throttle(workers, RECORDED_COSTS.scaled(cost_scale))
    elif read_costs:
        throttle = Throttle(READ_WORKERS, READ_COSTS.scaled(cost_scale), collisions=False)
    options = SandboxOptions(enrolled_users_include_groups=True, template_ready=True)
    serve("127.0.0.1", port, SandboxLms(options, throttle=throttle))


def _wait_for(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the sandbox LMS server did not start")


# -- settings ----------------------------------------------------------------------------


def scenario_settings(scenario: str, database_url: str, lms: LmsSettings) -> Settings:
    if scenario == "m4":
        return Settings(
            lms=lms,
            database=DatabaseSettings(url=database_url),
            runs=[M4],
            roster=RosterSettings(files=SAMPLE),
            provisioning=ProvisioningSettings(profile_fields=SITE_FIELDS),
        )
    config = load_settings(DEFAULT_CONFIG_FILE)
    return config.model_copy(
        update={
            "lms": lms,
            "database": DatabaseSettings(url=database_url),
            "roster": RosterSettings(files=SAMPLE),
        }
    )


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Phase:
    seconds: float
    cpu: float
    calls: dict[str, FunctionStats]
    writes: int
    actions: int
    status: str
    log: list[Call] = field(default_factory=list)
    concurrency: dict[str, object] = field(default_factory=dict)

    @property
    def total_calls(self) -> int:
        return sum(s.calls for s in self.calls.values())


@dataclass
class Outcome:
    scenario: str
    mode: str
    concurrency: str = ""
    learners: int = 0
    users: int = 0
    courses: int = 0
    phases: dict[str, Phase] = field(default_factory=dict)
    leanest: Phase | None = None
    peak_mb: float = 0.0


LEANEST_FIELDS = ("id", "username", "firstname", "lastname", "email", "idnumber", "groups")
"""The cheapest complete read recorded on real Moodle (``_meta__provisioning_baseline``
"C:min"): one participant list per course with these fields, nothing else."""


def leanest_read(lms: Any, desired: Any) -> None:
    """Categories, the runs' course lists, then each course's participants, leanest."""
    categories = {c.idnumber: c.id for c in lms.courses.get_categories() if c.idnumber}
    wanted = {c.category_idnumber for c in desired.courses.values()}
    for category_id in sorted(categories[i] for i in wanted if i in categories):
        for course in lms.courses.get_courses_by_field("category", category_id).courses:
            if course.idnumber in desired.courses:
                lms.enrol.get_enrolled_users(course.id, userfields=LEANEST_FIELDS)


def _delta(
    after: dict[str, FunctionStats], before: dict[str, FunctionStats]
) -> dict[str, FunctionStats]:
    out = {}
    for name, stats in after.items():
        old = before.get(name, FunctionStats())
        calls = stats.calls - old.calls
        if calls:
            out[name] = FunctionStats(
                calls=calls,
                errors=stats.errors - old.errors,
                retries=stats.retries - old.retries,
                fields=stats.fields - old.fields,
                seconds=stats.seconds - old.seconds,
            )
    return out


@dataclass(frozen=True)
class Call:
    function: str
    rows: int
    start: float
    end: float


def _track_writes(client: MoodleClient, written: set[str], log: list[Call]) -> None:
    """Remember which functions the client calls with ``write=True``, and every call's
    rows and time span."""
    call = client.call

    def tracking(wsfunction: str, params: Any = None, *, write: bool = False) -> Any:
        if write:
            written.add(wsfunction)
        start = time.perf_counter()
        try:
            return call(wsfunction, params, write=write)
        finally:
            rows = max(1, rows_of(params)) if isinstance(params, dict) else 1
            log.append(Call(wsfunction, rows, start, time.perf_counter()))

    client.call = tracking  # type: ignore[method-assign]


def measure(
    scenario: str,
    mode: str,
    *,
    workers: int | None = None,
    cost_scale: float = 1.0,
    concurrency: str = "1",
    resync: bool = True,
    read_costs: bool = False,
) -> Outcome:
    work_dir = Path(tempfile.mkdtemp(prefix=f"sync-bench-{scenario}-{mode}-"))
    home = Path.cwd()
    os.chdir(work_dir)
    server: multiprocessing.Process | None = None
    level: int | str = "auto" if concurrency == "auto" else int(concurrency)
    port = 0
    if mode == "http":
        port = _free_port()
        server = multiprocessing.Process(
            target=_serve, args=(port, workers, cost_scale, read_costs), daemon=True
        )
        server.start()
        _wait_for(port)
        token = SandboxLms().token_for("syncbot")
        lms_settings = LmsSettings(
            url=f"http://127.0.0.1:{port}",
            token=SecretStr(token),
            retry_attempts=1,
            max_concurrency=level,
        )
    else:
        lms_settings = LmsSettings(url="sandbox:", retry_attempts=1, max_concurrency=level)
    settings = scenario_settings(scenario, f"sqlite:///{work_dir / 'state.sqlite'}", lms_settings)
    ctx = AppContext(settings=settings)
    ctx.sandbox_state_file = work_dir / "sandbox.json"
    outcome = Outcome(scenario, mode, concurrency)
    try:
        import_files(ctx, SAMPLE, now=NOW)
        with session_scope(ctx.engine()) as session:
            for run in settings.runs:
                allocate_run(session, run, max_class_size=settings.max_class_size)
        lms = ctx.lms()
        written: set[str] = set()
        log: list[Call] = []
        _track_writes(lms.client, written, log)

        def phase(name: str, work: Callable[[], service.SyncReport]) -> service.SyncReport:
            before = lms.client.stats.snapshot()
            log.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            report = work()
            seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
            calls = _delta(lms.client.stats.snapshot(), before)
            outcome.phases[name] = Phase(
                seconds=seconds,
                cpu=cpu,
                calls=calls,
                writes=sum(s.calls for f, s in calls.items() if f in written),
                actions=len(report.preview.plan.actions),
                status=report.status,
                log=list(log),
                concurrency=report.concurrency,
            )
            return report

        def apply() -> service.SyncReport:
            return service.apply(
                ctx.engine(),
                lms,
                settings,
                now=NOW,
                clock=lambda: NOW,
                user="bench",
                site_customfields=ctx.site_profile_fields,
            )

        first = phase("first apply", apply)
        assert first.status == "done", first.result.failures()[:5]
        # Moodle's cron: the copies' due and closing events appear.
        if mode == "http":
            httpx.post(
                f"http://127.0.0.1:{port}{ADHOC_TASK_PATH}",
                data={"wstoken": SandboxLms().token_for("syncbot")},
                timeout=60,
            ).raise_for_status()
        else:
            ctx.sandbox().run_background_tasks()
        pushed = phase("dates push", apply)
        assert pushed.status == "done", pushed.result.failures()[:5]
        desired = first.preview.desired
        outcome.users = len(desired.users)
        outcome.courses = len(desired.courses)
        outcome.learners = len(
            {code for (_, code), e in desired.enrolments.items() if e.role == "student"}
        )
        if resync:
            again = phase("re-sync", apply)
            assert again.preview.plan.actions == (), again.preview.plan.actions[:5]
            before = lms.client.stats.snapshot()
            wall, cpu = time.perf_counter(), time.process_time()
            leanest_read(lms, desired)
            seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
            calls = _delta(lms.client.stats.snapshot(), before)
            outcome.leanest = Phase(seconds, cpu, calls, writes=0, actions=0, status="read")
        outcome.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        ctx.close()
        if server is not None:
            server.terminate()
            server.join(5)
        os.chdir(home)
        shutil.rmtree(work_dir, ignore_errors=True)
    return outcome


# -- output ------------------------------------------------------------------------------


def print_outcomes(outcomes: list[Outcome]) -> None:
    print(
        f"{'scenario':<9}{'mode':<12}{'phase':<13}{'calls':>6}{'writes':>7}{'actions':>8}"
        f"{'seconds':>9}{'CPU s':>7}{'CPU ms/learner':>15}"
    )
    for o in outcomes:
        for name, p in o.phases.items():
            print(
                f"{o.scenario:<9}{o.mode + ' c=' + o.concurrency:<12}{name:<13}"
                f"{p.total_calls:>6}{p.writes:>7}"
                f"{p.actions:>8}{p.seconds:>9.2f}{p.cpu:>7.2f}{p.cpu / o.learners * 1e3:>15.3f}"
            )
    print("\nno-change re-sync against the leanest complete read of the same state:")
    for o in outcomes:
        if o.leanest is None:
            continue
        resync = o.phases["re-sync"]
        print(
            f"  {o.scenario:<5}{o.mode:<12}re-sync {resync.total_calls} calls "
            f"{resync.seconds:.2f} s; leanest read {o.leanest.total_calls} calls "
            f"{o.leanest.seconds:.2f} s; ratio {resync.seconds / o.leanest.seconds:.2f}"
        )
    for scenario in dict.fromkeys(o.scenario for o in outcomes):
        ours = [o for o in outcomes if o.scenario == scenario]
        o = ours[0]
        print(
            f"\n{scenario}: {o.learners} learners, {o.users} accounts, {o.courses} courses; "
            "LMS calls by function (calls / form fields):"
        )
        names = sorted({f for o in ours for p in o.phases.values() for f in p.calls})
        heads = [(o.mode, name) for o in ours for name in o.phases]
        print(f"  {'function':<40}" + "".join(f"{m + ' ' + n:>24}" for m, n in heads))
        for function in names:
            cells = []
            for o in ours:
                for p in o.phases.values():
                    s = p.calls.get(function)
                    cells.append(f"{s.calls} / {s.fields}" if s else "-")
            print(f"  {function:<40}" + "".join(f"{c:>24}" for c in cells))
    peak = max(o.peak_mb for o in outcomes)
    print(f"\npeak memory of this process (ru_maxrss): {peak:.0f} MB")


CRITICAL_PATH = (
    "core_user_create_users",
    "enrol_manual_enrol_users",
    "core_group_add_group_members",
)
BESIDE = ("core_course_duplicate_course", "core_course_update_courses", "core_group_create_groups")


def print_steps(outcome: Outcome, name: str = "first apply") -> None:
    """Per step: calls, rows, rows/s, when it ran (seconds from the first call); then the
    critical path with the gaps between its steps, and what ran beside it."""
    phase = outcome.phases[name]
    if not phase.log:
        return
    origin = min(c.start for c in phase.log)
    steps: dict[str, list[Call]] = {}
    for call in sorted(phase.log, key=lambda c: c.start):
        steps.setdefault(call.function, []).append(call)
    print(
        f"\n{outcome.scenario} {outcome.mode} concurrency {outcome.concurrency}: {name}, "
        f"{phase.seconds:.1f} s; chosen: {phase.concurrency.get('level')} "
        f"({phase.concurrency.get('reason')})"
    )
    print(
        f"  {'step (wsfunction)':<40}{'calls':>6}{'rows':>7}{'rows/s':>9}{'from s':>8}{'to s':>8}"
    )
    for function, calls in steps.items():
        start = min(c.start for c in calls) - origin
        end = max(c.end for c in calls) - origin
        rows = sum(c.rows for c in calls)
        rate = rows / (end - start) if end > start else 0.0
        print(f"  {function:<40}{len(calls):>6}{rows:>7}{rate:>9.0f}{start:>8.2f}{end:>8.2f}")
    chain = [f for f in CRITICAL_PATH if f in steps]
    spans = [
        (f, min(c.start for c in steps[f]) - origin, max(c.end for c in steps[f]) - origin)
        for f in chain
    ]
    if spans:
        gaps = [later[1] - earlier[2] for earlier, later in itertools.pairwise(spans)]
        print(
            "  critical path: "
            + " -> ".join(f"{f.split('_', 2)[-1]} {s:.1f}-{e:.1f} s" for f, s, e in spans)
            + "; gaps between steps: "
            + ", ".join(f"{g * 1000:.0f} ms" for g in gaps)
        )
    copies = steps.get("core_course_duplicate_course", [])
    if copies and spans:
        first_write = spans[0]
        beside = sum(1 for c in copies if c.start - origin < first_write[2])
        peak = max(sum(1 for o in copies if o.start <= c.start < o.end) for c in copies)
        print(
            f"  course copies: {len(copies)}, {beside} of them while accounts were being "
            f"created, at most {peak} at once"
        )


def main() -> None:
    tune_gc()  # as the bdtx command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", choices=["m4", "all"], default=["m4", "all"])
    parser.add_argument(
        "--mode", nargs="+", choices=["in-process", "http"], default=["in-process", "http"]
    )
    parser.add_argument(
        "--workers", type=int, help="served sandbox: simulate N PHP workers (implies http)"
    )
    parser.add_argument("--cost-scale", type=float, default=1.0, help="x the recorded costs")
    parser.add_argument(
        "--concurrency", nargs="+", default=["1"], help="levels to run: numbers and/or auto"
    )
    parser.add_argument(
        "--read-costs",
        action="store_true",
        help="served sandbox: participant reads cost real Moodle's time per participant and "
        "field asked (writes stay instant), so the re-sync compares with the leanest read "
        "as on Moodle",
    )
    args = parser.parse_args()
    modes = ["http"] if args.workers or args.read_costs else args.mode
    outcomes = [
        measure(
            s,
            m,
            workers=args.workers,
            cost_scale=args.cost_scale,
            concurrency=c,
            resync=args.workers is None,
            read_costs=args.read_costs,
        )
        for s in args.scenario
        for m in modes
        for c in args.concurrency
    ]
    print(
        "sync benchmark: sample roster -> sandbox LMS "
        "(m4 = module 4 only; all = the 3 runs of config/bdtx.toml)"
        + (
            f"; served sandbox simulating {args.workers} PHP workers, costs x {args.cost_scale:g}"
            if args.workers
            else "; served sandbox reading participants at real Moodle's cost"
            if args.read_costs
            else ""
        )
    )
    print_outcomes(outcomes)
    for outcome in outcomes:
        print_steps(outcome)
    if args.workers and len(outcomes) > 1:
        print("\nfirst apply by concurrency:")
        for o in outcomes:
            p = o.phases["first apply"]
            print(
                f"  {o.scenario} {o.concurrency:>5}: {p.seconds:6.1f} s, level "
                f"{p.concurrency.get('level')}, steps {p.concurrency.get('steps')}"
            )


if __name__ == "__main__":
    main()
