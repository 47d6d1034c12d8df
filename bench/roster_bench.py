"""Roster benchmark: read + validate, store, report and allocate one province's roster.

Times the steps ``bdtx run`` takes before it talks to the LMS, in its order
(``roster.service.import_files``, then ``store.classes_repo.allocate_run`` per run), on a
fresh SQLite state database in a temporary working directory:

    python bench/roster_bench.py [--data DIR] [--runs M4-2023 ...] [--profile N]

The default data is the sample roster ../shared/data/binhphuoc-2023 (about 6,000 rows).
A large one: ``python ../shared/tools/gen_roster.py /tmp/big --scale 20`` (about 110,000
learners; ``--data /tmp/big`` generates it when the folder is missing). Runs default to
the three of config/bdtx.toml. Peak memory is the process's resident high-water mark
(``ru_maxrss``), read after each step. ``--profile N`` runs everything under cProfile and
prints the N functions with the most own time and the N with the most cumulative time
(cProfile inflates the figures 2-3 times); ``--breakdown`` instead wraps the main inner
functions with plain timers (little overhead) and prints their inclusive seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cli.context import (
    AppContext,
    tune_gc,
)
from config.settings import DEFAULT_CONFIG_FILE, DatabaseSettings, RosterSettings, load_settings
from roster.report import write_report
from roster.service import REPORTS_DIR, read_roster
from store.classes_repo import RunAllocation, allocate_run
from store.db import session_scope
from store.roster_repo import save_import

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "binhphuoc-2023"
GENERATOR = ROOT.parent / "shared" / "tools" / "gen_roster.py"
FILES = ("truong.xlsx", "hoc-vien.xlsx", "bao-cao-vien.xlsx")
NOW = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)

T = TypeVar("T")


def rss_mb() -> float:
    """Resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Breakdown:
    """Inclusive wall seconds and calls of selected functions, by wrapping them."""

    # (module, attribute); "Class.method" patches a method. Nested entries overlap.
    TARGETS = (
        ("roster.service", "sort_files"),
        ("roster.readers", "_open_workbook"),
        ("roster.readers", "_sheet_rows"),
        ("roster.importer", "validate_learner_row"),
        ("roster.importer", "validate_core_staff_row"),
        ("roster.importer", "duplicate_reasons"),
        ("roster.importer", "shared_email_reasons"),
        ("roster.importer", "_ResultBuilder.add_learner"),
        ("store.roster_repo", "save_schools"),
        ("store.roster_repo", "desired_people"),
        ("store.roster_repo", "_write_people"),
        ("store.roster_repo", "_save_outcomes"),
        ("store.roster_repo", "plan_people"),
        ("store.classes_repo", "_clusters"),
        ("store.classes_repo", "run_people"),
        ("store.classes_repo", "main_learners"),
        ("store.classes_repo", "reference_learners"),
        ("store.classes_repo", "staff_pool"),
        ("store.classes_repo", "allocate_home_first"),
        ("store.classes_repo", "_save_homes"),
        ("store.classes_repo", "assign_staff"),
        ("store.classes_repo", "_save"),
        ("store.classes_repo", "_save_staff_homes"),
        ("store.roster_repo", "insert_rows"),
        ("store.classes_repo", "insert_rows"),
        ("roster.report", "_write_summary"),
        ("roster.report", "_write_status_sheet"),
        ("sqlalchemy.orm.session", "Session.flush"),
        ("sqlalchemy.orm.session", "Session.commit"),
    )

    step = ""  # the step running now (set by Steps.time)

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], float] = {}
        self.calls: dict[tuple[str, str], int] = {}

    def add(self, name: str, seconds: float, calls: int = 1) -> None:
        key = (Breakdown.step, name)
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds
        self.calls[key] = self.calls.get(key, 0) + calls

    def install(self) -> None:
        import importlib
        import inspect

        for module_name, attribute in self.TARGETS:
            owner: Any = importlib.import_module(module_name)
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part)
            original = getattr(owner, name)
            label = f"{module_name}.{attribute}"
            wrapper = (
                self._generator(label, original)
                if inspect.isgeneratorfunction(original)
                else self._function(label, original)
            )
            setattr(owner, name, wrapper)
        self._install_model_init()

    def _function(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - started)

        return timed

    def _generator(self, label: str, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            inner = original(*args, **kwargs)
            try:
                while True:
                    started = time.perf_counter()
                    try:
                        item = next(inner)
                    except StopIteration:
                        self.add(label, time.perf_counter() - started)
                        return
                    self.add(label, time.perf_counter() - started, calls=0)
                    yield item
            finally:
                inner.close()

        return timed

    def _install_model_init(self) -> None:
        """New SQLModel table objects (Person, RowOutcome, ClassMember...): their __init__."""
        import sqlmodel.main

        original = sqlmodel.main.sqlmodel_init

        def timed(*, self: Any, data: dict[str, Any]) -> None:
            started = time.perf_counter()
            try:
                original(self=self, data=data)
            finally:
                label = f"new {type(self).__name__}() (SQLModel __init__)"
                bench.add(label, time.perf_counter() - started)

        bench = self
        sqlmodel.main.sqlmodel_init = timed  # type: ignore[assignment]

    def print(self, steps: list[str]) -> None:
        print("\nbreakdown by step (inclusive wall seconds; nested entries overlap):")
        for step in steps:
            print(f"  {step}")
            ours = [(k, v) for k, v in self.seconds.items() if k[0] == step and v >= 0.005]
            for key, seconds in sorted(ours, key=lambda kv: -kv[1]):
                print(f"    {key[1]:<60}{self.calls[key]:>8} calls{seconds:>8.2f} s")


def ensure_data(folder: Path) -> None:
    if all((folder / name).exists() for name in FILES):
        return
    if folder == DEFAULT_DATA:
        raise SystemExit(f"sample roster missing in {folder}")
    print(f"generating a roster at scale 20 in {folder} ...", flush=True)
    subprocess.run([sys.executable, str(GENERATOR), str(folder), "--scale", "20"], check=True)


class Steps:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, float, float, float, float]] = []

    def time(self, name: str, work: Callable[[], T], count: Callable[[T], int]) -> T:
        Breakdown.step = name
        started, cpu_started = time.perf_counter(), time.process_time()
        value = work()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        self.rows.append((name, count(value), seconds, cpu, rss_mb(), peak_mb()))
        return value


def run(data: Path, run_ids: list[str] | None) -> tuple[Steps, dict[str, int]]:
    settings = load_settings(DEFAULT_CONFIG_FILE)
    runs = [r for r in settings.runs if run_ids is None or r.id in run_ids]
    if run_ids is not None and len(runs) != len(run_ids):
        known = ", ".join(r.id for r in settings.runs)
        raise SystemExit(f"unknown run in {run_ids} (known: {known})")
    work_dir = Path(tempfile.mkdtemp(prefix="roster-bench-"))
    home = Path.cwd()
    os.chdir(work_dir)
    files = [data / name for name in FILES]
    settings = settings.model_copy(
        update={
            "database": DatabaseSettings(url=f"sqlite:///{work_dir / 'state.sqlite'}"),
            "roster": RosterSettings(files=files),
            "runs": runs,
        }
    )
    ctx = AppContext(settings=settings)
    started = time.perf_counter()
    ctx.engine()  # creates the schema: shown apart, not in the total
    migrate_s = time.perf_counter() - started
    steps = Steps()
    sizes: dict[str, int] = {}
    print(f"(schema migration: {migrate_s:.2f} s, not counted)")
    try:
        result = steps.time(
            "read + validate",
            lambda: read_roster(ctx, files, today=NOW.date()),
            lambda r: r.rows_read,
        )
        sizes["rows"] = result.rows_read
        sizes["learners"] = len(result.learners)
        sizes["core staff"] = len(result.core_staff)

        def save() -> int:
            with session_scope(ctx.engine()) as session:
                record, _ = save_import(session, result, files=[str(p) for p in files], now=NOW)
            assert record.id is not None
            return record.id

        import_id = steps.time("save to state DB", save, lambda _: result.rows_read)
        REPORTS_DIR.mkdir(parents=True, exist_ok=True)
        report = REPORTS_DIR / f"roster-import-{import_id}.xlsx"
        steps.time("write report", lambda: write_report(result, report), lambda _: result.rows_read)
        with session_scope(ctx.engine()) as session:
            for one in runs:
                allocation: RunAllocation = steps.time(
                    f"allocate {one.id}",
                    partial(allocate_run, session, one, max_class_size=settings.max_class_size),
                    lambda a: len(a.main.class_of) + len(a.reference.class_of),
                )
                sizes[f"{one.id} classes"] = len(allocation.classes)
            Breakdown.step = "allocation commit"
            started, cpu_started = time.perf_counter(), time.process_time()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        steps.rows.append(("allocation commit", 0, seconds, cpu, rss_mb(), peak_mb()))
    finally:
        ctx.close()
        os.chdir(home)
        shutil.rmtree(work_dir, ignore_errors=True)
    return steps, sizes


def main() -> None:
    tune_gc()  # as the bdtx command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", nargs="+", default=None, help="run ids (default: all)")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--breakdown", action="store_true")
    args = parser.parse_args()
    data = args.data.resolve()
    ensure_data(data)
    start_peak = peak_mb()

    breakdown = Breakdown() if args.breakdown else None
    if breakdown is not None:
        breakdown.install()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    steps, sizes = run(data, args.runs)
    if profiler is not None:
        profiler.disable()
    total = sum(row[2] for row in steps.rows)
    total_cpu = sum(row[3] for row in steps.rows)

    print(f"roster benchmark: {data} ({', '.join(f'{k} {v}' for k, v in sizes.items())})")
    if profiler is not None:
        print("(under cProfile: times are inflated)")
    print(
        f"{'step':<22}{'rows':>9}{'seconds':>9}{'CPU s':>8}{'rows/s':>10}"
        f"{'RSS MB':>9}{'peak MB':>9}"
    )
    for name, rows, seconds, cpu, rss, peak in steps.rows:
        rate = f"{rows / seconds:>10.0f}" if rows and seconds else f"{'':>10}"
        print(f"{name:<22}{rows:>9}{seconds:>9.2f}{cpu:>8.2f}{rate}{rss:>9.0f}{peak:>9.0f}")
    others = [row for row in steps.rows if row[0] != "write report"]
    without_report, without_report_cpu = sum(r[2] for r in others), sum(r[3] for r in others)
    print(f"{'total':<22}{'':>9}{total:>9.2f}{total_cpu:>8.2f}")
    print(f"{'  without the report':<22}{'':>9}{without_report:>9.2f}{without_report_cpu:>8.2f}")
    print(f"peak memory (ru_maxrss): {peak_mb():.0f} MB (after imports: {start_peak:.0f} MB)")

    if breakdown is not None:
        breakdown.print([row[0] for row in steps.rows])
    if profiler is not None:
        stats = pstats.Stats(profiler)
        for key in ("tottime", "cumulative"):
            print(f"\n--- top {args.profile} by {key} ---")
            stats.sort_stats(key).print_stats(args.profile)


if __name__ == "__main__":
    main()
