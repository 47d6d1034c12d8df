"""Sync benchmark: provision the sample roster into the sandbox LMS, then re-sync.

Two scenarios on ../shared/data/binhphuoc-2023: module 4 only (the settings of
tests/e2e/provisioning.py) and the three runs of config/bdtx.toml. Each is run twice:

* ``in-process``: ``[lms] url = "sandbox:"``; the sandbox LMS runs inside this process, so
  the CPU time includes the LMS's own work;
* ``http``: the sandbox LMS is served over HTTP by a separate process (as in
  bench/connector_bench.py), so the CPU time is the client's own (planning, batching,
  JSON, form encoding, HTTP).

Per mode: the first apply (LMS calls, writes, seconds, CPU per learner) and a second,
no-change apply (must write nothing; its read calls are the cost of a daily run).
Roster import and allocation are set-up, not timed here (see bench/roster_bench.py).

    python bench/sync_bench.py [--scenario m4|all ...] [--mode in-process|http ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
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

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cli.context import (
    AppContext,
    tune_gc,
)
from cli.roster_cmd import import_files
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
from sandbox.lms import SandboxLms
from sandbox.options import SandboxOptions
from sandbox.server import serve
from store.classes_repo import allocate_run
from store.db import session_scope
from sync import service

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


def _serve(port: int) -> None:
    serve("127.0.0.1", port, SandboxLms(SandboxOptions(enrolled_users_include_groups=True)))


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

    @property
    def total_calls(self) -> int:
        return sum(s.calls for s in self.calls.values())


@dataclass
class Outcome:
    scenario: str
    mode: str
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


def _track_writes(client: MoodleClient, written: set[str]) -> None:
    """Remember which functions the client calls with ``write=True``."""
    call = client.call

    def tracking(wsfunction: str, params: Any = None, *, write: bool = False) -> Any:
        if write:
            written.add(wsfunction)
        return call(wsfunction, params, write=write)

    client.call = tracking  # type: ignore[method-assign]


def measure(scenario: str, mode: str) -> Outcome:
    work_dir = Path(tempfile.mkdtemp(prefix=f"sync-bench-{scenario}-{mode}-"))
    home = Path.cwd()
    os.chdir(work_dir)
    server: multiprocessing.Process | None = None
    if mode == "http":
        port = _free_port()
        server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
        server.start()
        _wait_for(port)
        token = SandboxLms().token_for("syncbot")
        lms_settings = LmsSettings(
            url=f"http://127.0.0.1:{port}", token=SecretStr(token), retry_attempts=1
        )
    else:
        lms_settings = LmsSettings(url="sandbox:", retry_attempts=1)
    settings = scenario_settings(scenario, f"sqlite:///{work_dir / 'state.sqlite'}", lms_settings)
    ctx = AppContext(settings=settings)
    ctx.sandbox_state_file = work_dir / "sandbox.json"
    outcome = Outcome(scenario, mode)
    try:
        import_files(ctx, SAMPLE, now=NOW)
        with session_scope(ctx.engine()) as session:
            for run in settings.runs:
                allocate_run(session, run, max_class_size=settings.max_class_size)
        lms = ctx.lms()
        written: set[str] = set()
        _track_writes(lms.client, written)

        def phase(name: str, work: Callable[[], service.SyncReport]) -> service.SyncReport:
            before = lms.client.stats.snapshot()
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
        desired = first.preview.desired
        outcome.users = len(desired.users)
        outcome.courses = len(desired.courses)
        outcome.learners = len(
            {code for (_, code), e in desired.enrolments.items() if e.role == "student"}
        )
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
                f"{o.scenario:<9}{o.mode:<12}{name:<13}{p.total_calls:>6}{p.writes:>7}"
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


def main() -> None:
    tune_gc()  # as the bdtx command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", choices=["m4", "all"], default=["m4", "all"])
    parser.add_argument(
        "--mode", nargs="+", choices=["in-process", "http"], default=["in-process", "http"]
    )
    args = parser.parse_args()
    outcomes = [measure(s, m) for s in args.scenario for m in args.mode]
    print(
        "sync benchmark: sample roster -> sandbox LMS "
        "(m4 = module 4 only; all = the 3 runs of config/bdtx.toml)"
    )
    print_outcomes(outcomes)


if __name__ == "__main__":
    main()
