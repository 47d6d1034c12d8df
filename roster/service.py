"""The roster use cases: import school lists, allocate classes.

What ``bdtx roster import``, ``bdtx classes allocate``, ``bdtx run`` and the daemon's
jobs call; each takes the application (``app/root.py``) and ``now``, and returns data
(the CLI draws the tables).
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from app.root import App
from config.settings import RosterSettings, RunSettings
from roster.eligibility import EligibilityPolicy, PrerequisitePolicy
from roster.errors import RosterFormatError
from roster.headers import RosterKind
from roster.importer import ImportOptions, build_result, read_schools
from roster.model import ImportResult, School
from roster.readers import RawRow, read_any
from roster.report import write_report
from roster.validate import ValidationRules
from store.classes_repo import RunAllocation, allocate_run
from store.db import session_scope
from store.models import School as StoredSchool
from store.roster_repo import ImportChanges, save_import
from sync import service

REPORTS_DIR = Path("var/reports")


@dataclass
class RosterFiles:
    """The files of one import, sorted by what they hold."""

    schools: Path | None = None
    learners: list[Path] = field(default_factory=list)
    core_staff: list[Path] = field(default_factory=list)
    rows: dict[Path, Iterator[RawRow]] = field(default_factory=dict)
    """The learners' and core staff's rows, read as their kind was recognised."""


KINDS = (RosterKind.SCHOOLS, RosterKind.CORE_STAFF, RosterKind.LEARNERS)
"""The order in which a file's header is tried (a school list's columns are the fewest)."""


def sort_files(paths: Iterable[Path], options: ImportOptions) -> RosterFiles:
    files = RosterFiles()
    for path in paths:
        kind, rows = read_any(path, KINDS, header_overrides=options.header_overrides)
        if kind is RosterKind.SCHOOLS:
            if files.schools is not None:
                raise RosterFormatError(
                    "chỉ được có một danh sách trường trong một lần nhập.", file=path.name
                )
            files.schools = path  # small: read again as the school list
            continue
        files.rows[path] = rows
        if kind is RosterKind.CORE_STAFF:
            files.core_staff.append(path)
        else:
            files.learners.append(path)
    if not files.learners:
        raise RosterFormatError(
            "không có danh sách học viên "
            "(cần cột Mã định danh, Họ và tên, Email, Đơn vị công tác...).",
            file=", ".join(p.name for p in paths) or "(không có tệp)",
        )
    return files


def import_options(settings: RosterSettings, username_pattern: str) -> ImportOptions:
    prerequisite = (
        PrerequisitePolicy.ROUTE
        if settings.without_modules_123 == "route"
        else PrerequisitePolicy.EXCLUDE
    )
    assume = {"done": True, "not_done": False}.get(settings.assume_modules_123 or "")
    return ImportOptions(
        header_overrides=settings.header_overrides,
        rules=ValidationRules(username_pattern=username_pattern, assume_modules_123=assume),
        policy=EligibilityPolicy(prerequisite=prerequisite),
    )


def _rows(files: RosterFiles, paths: Sequence[Path]) -> Iterable[RawRow]:
    return itertools.chain.from_iterable(files.rows[p] for p in paths)


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: an import makes millions of objects (rows,
    records, outcomes) and none refers back to itself, so each collection of young
    objects only walks them: about 0.3 s of a province's 4.5 s. Reference counting
    still frees everything; the collector is enabled again afterwards if it was (a
    cycle made meanwhile waits for its next run)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_roster(app: App, paths: Sequence[Path], *, today: dt.date) -> ImportResult:
    """Validate the files (schools from the file, else from the last import)."""
    with _cycle_collection_paused():
        return _read_roster(app, paths, today=today)


def _read_roster(app: App, paths: Sequence[Path], *, today: dt.date) -> ImportResult:
    options = import_options(app.settings.roster, app.settings.provisioning.username_pattern)
    files = sort_files(paths, options)
    if files.schools is not None:
        schools: Sequence[School] = read_schools(
            files.schools, header_overrides=options.header_overrides
        )
    else:
        with session_scope(app.engine()) as session:
            stored = list(session.exec(select(StoredSchool)))
        if not stored:
            raise RosterFormatError(
                "chưa có danh sách trường: "
                "nhập kèm tệp danh sách trường (Mã trường, Tên trường...).",
                file=", ".join(p.name for p in paths),
            )
        schools = [School(s.code, s.name, s.kind, s.district, s.cluster) for s in stored]
    return build_result(
        _rows(files, files.learners),
        _rows(files, files.core_staff),
        schools,
        today=today,
        rules=options.rules,
        policy=options.policy,
    )


def locked_school_changes(
    changes: ImportChanges, runs: Sequence[RunSettings], today: dt.date
) -> dict[str, list[str]]:
    """Per run past its unit lock date: who changed school (kept in their class)."""
    moved = sorted(code for code, fields in changes.changed.items() if "school_code" in fields)
    return {
        run.id: moved
        for run in runs
        if moved and run.unit_lock_date is not None and today > run.unit_lock_date
    }


def import_warnings(
    app: App, result: ImportResult, changes: ImportChanges | None, today: dt.date
) -> list[str]:
    """What an import warns about, the same for the tables and for ``--json``: the files'
    notices (unknown columns, assumed values), then school changes after a lock date."""
    warnings = list(result.notices)
    if changes is None:
        return warnings
    for run_id, codes in locked_school_changes(changes, app.settings.runs, today).items():
        lock = app.settings.run(run_id).unit_lock_date
        assert lock is not None
        warnings.append(
            f"Đợt {run_id}: {len(codes)} người đổi đơn vị sau ngày khóa "
            f"{lock:%d/%m/%Y} — giữ nguyên lớp của đợt: {', '.join(codes[:20])}"
            f"{' …' if len(codes) > 20 else ''}"
        )
    return warnings


def import_files(
    app: App,
    paths: Sequence[Path],
    *,
    now: dt.datetime,
    dry_run: bool = False,
    accept: bool = False,
    reports_dir: Path = REPORTS_DIR,
) -> tuple[ImportResult, ImportChanges | None, Path]:
    """Validate, store (unless dry run) and write the report; the use case behind the CLI.

    Raises NeedsAccept, having stored nothing, when the import would mark more people as
    left than ``[roster] max_leavers`` allows and ``accept`` is not given.
    """
    result = read_roster(app, paths, today=now.date())
    changes = None
    reports_dir.mkdir(parents=True, exist_ok=True)
    report_path = reports_dir / "roster-dry-run.xlsx"
    if not dry_run:
        limits = None if accept else service.thresholds(app.settings)
        with session_scope(app.engine()) as session:
            record, changes = save_import(
                session, result, files=[str(p) for p in paths], now=now, limits=limits
            )
        report_path = reports_dir / f"roster-import-{record.id}.xlsx"
    write_report(result, report_path)
    return result, changes, report_path


def allocate_runs(
    app: App, runs: Sequence[RunSettings], *, accept: bool = False
) -> list[RunAllocation]:
    """Allocate each run from the stored roster and save it (one transaction).

    Raises NeedsAccept, having stored nothing, when a run would move more learners between
    classes than ``[classes] max_moves`` allows and ``accept`` is not given.
    """
    limits = None if accept else service.thresholds(app.settings)
    size = app.settings.max_class_size
    with session_scope(app.engine()) as session:
        return [allocate_run(session, run, max_class_size=size, limits=limits) for run in runs]
