"""Simulated learners' activity benchmark: the sample's module 4, provisioned in-process into
the sandbox LMS (the run starting on the template's day 1), then lived through by its
learners and reporters (sandbox/activity.py): once up to two days after the grading
deadline, and again on a fresh copy day by day, as the demo's daemon does. Printed:
actions, web-service calls by function, seconds.

    python bench/activity_bench.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

from cli.context import AppContext, tune_gc
from sandbox.activity import simulate_until
from sandbox.lms import SandboxLms
from sandbox.options import TEMPLATE_D0
from scheduler.schedule import LOCAL_TZ
from tests.e2e.provisioning import M4, SAMPLE, Province, province_settings

START = dt.datetime.fromtimestamp(TEMPLATE_D0, LOCAL_TZ).date()
RUN = M4.model_copy(update={"start": START})


def _day(n: int) -> dt.datetime:
    return dt.datetime.combine(START + dt.timedelta(days=n - 1), dt.time(8), tzinfo=LOCAL_TZ)


def main() -> None:
    tune_gc()
    folder = Path(tempfile.mkdtemp(prefix="activity-bench-"))
    try:
        settings = province_settings(f"sqlite:///{folder / 'state.sqlite'}")
        ctx = AppContext(settings=settings.model_copy(update={"runs": [RUN]}))
        ctx.sandbox_state_file = folder / "sandbox.json"
        began = time.perf_counter()
        province = Province(ctx, _day(-9))
        province.import_roster(SAMPLE)
        assert province.apply().status == "done"
        print(f"provisioned module 4 in-process: {time.perf_counter() - began:.1f} s")
        lms = ctx.sandbox()
        lms.save(folder / "provisioned.json")

        began = time.perf_counter()
        [summary] = simulate_until(lms, [RUN], _day(29))
        seconds = time.perf_counter() - began
        seats = len(summary.expected)
        print(f"one call up to day 29: {seats} seats, {sum(summary.done.values())} actions")
        print(f"  {summary.done}")
        for function, count in summary.calls.items():
            print(f"  {function:45s} {count:6d}")
        print(f"  {sum(summary.calls.values())} calls in {seconds:.1f} s")
        print(f"  expected: {summary.counts()}")

        daily = SandboxLms.load_or_new(folder / "provisioned.json")
        began = time.perf_counter()
        slowest = 0.0
        actions = 0
        for day in range(-2, 30):
            start = time.perf_counter()
            [summary] = simulate_until(daily, [RUN], _day(day))
            slowest = max(slowest, time.perf_counter() - start)
            actions += sum(summary.done.values())
        total = time.perf_counter() - began
        print(
            f"day by day, 32 calls: {actions} actions in {total:.1f} s "
            f"(slowest day {slowest:.1f} s)"
        )
        ctx.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
