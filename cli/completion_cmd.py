"""``bdtx completion list``: the completion lists of a run, as Excel workbooks or CSV files."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from cli.context import EXIT_OK, EXIT_PROBLEMS, AppContext, print_json_error
from grading.publish import FORMATS, LISTS_DIR, NoResults, write_lists

__all__ = ["FORMATS", "list_command"]


def list_command(
    ctx: AppContext,
    run_id: str,
    *,
    school: str | None,
    fmt: str,
    out: Path | None,
    as_json: bool,
) -> int:
    run = ctx.settings.run(run_id)
    folder = (out or LISTS_DIR) / run.id
    try:
        written = write_lists(
            ctx.engine(), run, folder, school=school, fmt=fmt, tz=ctx.settings.site_zone()
        )
    except NoResults as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        if as_json:
            print_json_error(str(error), EXIT_PROBLEMS, "no_results")
        return EXIT_PROBLEMS
    if as_json:
        print(
            json.dumps(
                {"ok": True, "files": [str(p) for p in written.files], "counts": written.counts},
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    ctx.console.print(f"Đã ghi {len(written.files)} tệp vào {folder}:")
    for path in written.files:
        ctx.console.print(f"  {path}")
    return EXIT_OK
