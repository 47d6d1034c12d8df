"""A command that used the in-process sandbox LMS leaves Moodle's background tasks done."""

from __future__ import annotations

from pathlib import Path

from cli.context import AppContext
from config.settings import DatabaseSettings, LmsSettings, Settings
from sandbox import SandboxLms


def test_closing_the_context_runs_the_sandbox_cron_then_saves(tmp_path: Path) -> None:
    state = tmp_path / "sandbox-lms.json"
    settings = Settings(
        lms=LmsSettings(url="sandbox:"),
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'state.sqlite'}"),
    )
    ctx = AppContext(settings=settings, sandbox_state_file=state)
    ctx.sandbox().call(
        "core_course_duplicate_course",
        {"courseid": 2, "fullname": "Copy", "shortname": "COPY", "categoryid": 1},
    )
    assert len(ctx.sandbox().site.background_tasks) == 1
    ctx.close()
    saved = SandboxLms.load_or_new(state)
    assert saved.site.background_tasks == []
    copy = saved.site.course_by_shortname["COPY"]
    kinds = sorted(e.eventtype for e in saved.site.events.values() if e.courseid == copy)
    assert kinds == ["close", "close", "due", "gradingdue", "open", "open"]
