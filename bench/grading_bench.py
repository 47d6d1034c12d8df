"""Grading pull benchmark: the sample's module 4 provisioned into the sandbox LMS, then pulled.

The sandbox LMS is served over HTTP by a separate process whose clock stands in the
run's grading window (so the enrolments are active, as when the daemon pulls), and the
pull runs as ``bdtx grading pull`` does (grading/service.py). Printed: LMS calls by
function, seconds, the client's CPU time, peak memory. No learner activity is simulated:
the calls do not depend on it (only the answers' sizes do).

    python bench/grading_bench.py
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr
from sync_bench import M4, NOW, SAMPLE, SITE_FIELDS, _free_port, _wait_for

from cli.context import AppContext, tune_gc
from config.settings import (
    DatabaseSettings,
    LmsSettings,
    ProvisioningSettings,
    RosterSettings,
    Settings,
)
from grading import service as grading
from roster.service import import_files
from sandbox.lms import SandboxLms
from sandbox.options import SandboxOptions
from sandbox.server import serve
from store.classes_repo import allocate_run
from store.db import session_scope
from sync import service

IN_THE_GRADING_WINDOW = dt.datetime(2023, 9, 25, 8, 0, tzinfo=dt.UTC)


def _serve_at(port: int, epoch: float) -> None:
    options = SandboxOptions(enrolled_users_include_groups=True, template_ready=True)
    serve("127.0.0.1", port, SandboxLms(options, clock=lambda: epoch))


def main() -> None:
    tune_gc()
    work_dir = Path(tempfile.mkdtemp(prefix="grading-bench-"))
    home = Path.cwd()
    os.chdir(work_dir)
    port = _free_port()
    server = multiprocessing.Process(
        target=_serve_at, args=(port, IN_THE_GRADING_WINDOW.timestamp()), daemon=True
    )
    server.start()
    _wait_for(port)
    token = SandboxLms().token_for("syncbot")
    settings = Settings(
        lms=LmsSettings(url=f"http://127.0.0.1:{port}", token=SecretStr(token), retry_attempts=1),
        database=DatabaseSettings(url=f"sqlite:///{work_dir / 'state.sqlite'}"),
        runs=[M4],
        roster=RosterSettings(files=SAMPLE),
        provisioning=ProvisioningSettings(profile_fields=SITE_FIELDS),
    )
    ctx = AppContext(settings=settings)
    try:
        import_files(ctx, SAMPLE, now=NOW)
        with session_scope(ctx.engine()) as session:
            allocate_run(session, M4, max_class_size=settings.max_class_size)
        report = service.apply(
            ctx.engine(),
            ctx.lms(),
            settings,
            now=NOW,
            clock=lambda: NOW,
            user="bench",
            site_customfields=ctx.site_profile_fields,
        )
        assert report.status == "done", report.result.failures()[:5]
        wall, cpu = time.perf_counter(), time.process_time()
        pulled = grading.pull(ctx.engine(), ctx.lms(), settings, M4.id, now=NOW)
        seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        ctx.close()
        server.terminate()
        server.join(5)
        os.chdir(home)
        shutil.rmtree(work_dir, ignore_errors=True)
    seats = len(pulled.results)
    print(f"grading pull, module 4 of the sample: {seats} seats, sandbox LMS over HTTP")
    print(f"  {'function':<42}{'calls':>6}")
    for function, calls in pulled.calls.items():
        print(f"  {function:<42}{calls:>6}")
    print(f"  {'total':<42}{sum(pulled.calls.values()):>6}")
    print(f"seconds {seconds:.2f}, client CPU {cpu:.2f} s ({cpu / seats * 1e3:.2f} ms per seat)")
    print(f"peak memory of this process (ru_maxrss): {peak:.0f} MB")
    for problem in pulled.problems:
        print(f"note: {problem}")


if __name__ == "__main__":
    main()
