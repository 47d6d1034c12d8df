"""The ``bdtx`` command end to end, as an operator runs it (Typer's CliRunner).

Each test works in its own directory (``var/`` relative to it) with a config written
there: one run (M4-2023) and the sample roster of Bình Phước. The sample is provisioned
once per module (``bdtx run`` three times: it provisions, then pushes the activity dates
whose events Moodle's background task made meanwhile, then has nothing to do); tests
that need a provisioned province work on a copy of that state.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from cli.main import app
from sandbox.lms import SandboxLms
from sandbox.options import SandboxOptions
from sandbox.server import start_server
from sandbox.state import ProfileField
from tests.e2e.provisioning import DATA, LATER

SCHOOLS = DATA / "truong.xlsx"
LEARNERS = DATA / "hoc-vien.xlsx"
CORE_STAFF = DATA / "bao-cao-vien.xlsx"
SAMPLE = [SCHOOLS, LEARNERS, CORE_STAFF]
REPORT_SHEETS = ["Tổng hợp", "Đã nhập", "Bị từ chối", "Bị loại trừ"]
WIDE = "200"  # terminal columns for tests that read rich tables

RUNNER = CliRunner()


# -- helpers -----------------------------------------------------------------------------


def isolate(mp: pytest.MonkeyPatch, workdir: Path) -> None:
    """Work in ``workdir`` with no BDTX_* (or colour) settings from the outer shell.

    Commands given no ``--config`` read ``workdir/bdtx.toml`` (through BDTX_CONFIG).
    """
    for name in list(os.environ):
        if name.startswith("BDTX_") or name in {"FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE"}:
            mp.delenv(name)
    mp.setenv("BDTX_CONFIG", str(workdir / "bdtx.toml"))
    mp.setenv("COLUMNS", WIDE)
    mp.chdir(workdir)


def write_config(
    workdir: Path,
    *,
    url: str = "sandbox:",
    max_class_size: int = 50,
    files: Sequence[Path] = tuple(SAMPLE),
    extra_lms: str = "",
) -> Path:
    """A config like config/bdtx.toml with a single run, M4-2023."""
    roster_files = ", ".join(json.dumps(str(p)) for p in files)
    text = f"""\
max_class_size = {max_class_size}
timezone = "Asia/Ho_Chi_Minh"

[lms]
url = {json.dumps(url)}
verify_tls = true
timeout_s = 60
field_budget = 5000
max_concurrency = 1
retry_attempts = 1
{extra_lms}
[roster]
files = [{roster_files}]
without_modules_123 = "route"

[provisioning]
username_pattern = "{{email_local}}"
credentials = "createpassword"
suspend_grace_days = 14
max_suspend = 50
max_suspend_percent = 5.0
max_unenrol = 100
max_unenrol_percent = 5.0

[provisioning.profile_fields]
school = "school_name"
level = "level"
subject = "subject"

[database]
url = "sqlite:///var/bdtx.sqlite"

[[runs]]
id = "M4-2023"
module = 4
name = "Mô đun 4"
levels = ["THCS", "THPT"]
audiences = ["CBQL", "GV"]
start = 2023-09-04
template_course = "TPL-MODULE"
unit_lock_date = 2023-08-15
concurrent_subjects = ["Hoạt động trải nghiệm, hướng nghiệp"]
"""
    path = workdir / "bdtx.toml"
    path.write_text(text, "utf-8")
    return path


def bdtx(*args: str | Path) -> Result:
    """Run ``bdtx ARGS``; a crash (an exception other than an exit) fails the test."""
    result = RUNNER.invoke(app, [str(a) for a in args])
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        trace = "".join(traceback.format_exception(error))
        raise AssertionError(f"bdtx {' '.join(map(str, args))} crashed:\n{trace}")
    assert "Traceback" not in result.output
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def flat(text: str) -> str:
    """Text with rich's line wrapping undone (whitespace runs collapsed)."""
    return " ".join(text.split())


def table_value(output: str, label: str) -> int:
    """The number in the row of a rich table that starts with ``label``."""
    match = re.search(rf"{re.escape(label)}\s*│\s*(\d+)", output)
    assert match, f"no row {label!r} in:\n{output}"
    return int(match.group(1))


def run_outcome(output: str) -> dict[str, int]:
    match = re.search(r"done (\d+), failed (\d+), conflicts (\d+), LMS calls (\d+)", output)
    assert match, output
    done, failed, conflicts, calls = (int(g) for g in match.groups())
    return {"done": done, "failed": failed, "conflicts": conflicts, "calls": calls}


def sheets(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's rows (closing the workbook: warnings are errors)."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets}
    finally:
        workbook.close()


def history_ids() -> list[int]:
    result = bdtx("sync", "history", "--json")
    assert result.exit_code == 0, result.output
    return [int(run["id"]) for run in as_json(result)["runs"]]


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    isolate(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture
def config(workdir: Path) -> Path:
    return write_config(workdir)


@dataclass(frozen=True)
class TwoRuns:
    workdir: Path
    first: Result
    push: Result  # the second run: the activity dates, once Moodle made their events
    second: Result  # the third run: nothing left to do


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """``bdtx run`` three times on the sample (the one full provisioning of this module)."""
    workdir = tmp_path_factory.mktemp("province")
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, workdir)
        config = write_config(workdir)
        first = bdtx("run", "--config", config)
        push = bdtx("run", "--config", config)
        second = bdtx("run", "--config", config)
    return TwoRuns(workdir, first, push, second)


@pytest.fixture
def provisioned(two_runs: TwoRuns, workdir: Path) -> Path:
    """A copy of the provisioned province in this test's directory; returns its config."""
    shutil.copytree(two_runs.workdir / "var", workdir / "var")
    return write_config(workdir)


@pytest.fixture
def http_sandbox() -> Iterator[tuple[SandboxLms, str]]:
    """The sandbox LMS served over real HTTP on a free port."""
    sandbox = SandboxLms()
    server, url = start_server(sandbox, "127.0.0.1", 0)
    try:
        yield sandbox, url
    finally:
        server.shutdown()
        server.server_close()


# -- bdtx run ----------------------------------------------------------------------------


def test_run_provisions_the_sample_then_the_third_run_writes_nothing(two_runs: TwoRuns) -> None:
    first, push, second = two_runs.first, two_runs.push, two_runs.second
    # The sample has rejected rows: the work is done but exits 1 ("problems found").
    assert first.exit_code == 1, first.output
    assert push.exit_code == 1, push.output
    assert second.exit_code == 1, second.output
    # The first run copied the courses: their activity events wait for Moodle's cron.
    assert "Lịch: chờ Moodle tạo sự kiện ở 28 khóa học" in flat(first.output)
    # The second moves every dated activity of the 28 courses: 5 events each (the
    # grading-due events appear only once a submission awaits grading).
    pushed = run_outcome(push.output)
    assert pushed["failed"] == 0
    assert table_value(push.output, "Dời ngày (lịch Moodle)") == 28 * 5 == pushed["done"]
    for result in (first, push, second):
        assert "Bị từ chối" in result.output
        assert "BDTX Sandbox LMS" in result.output

    done = run_outcome(first.output)
    assert done["failed"] == 0
    assert done["conflicts"] == 0
    assert done["done"] > 5000  # accounts, enrolments and group members of ~5,700 people
    assert table_value(first.output, "Tổng số lệnh ghi") == done["done"]
    assert table_value(first.output, "Tạo tài khoản") > 5000

    again = run_outcome(second.output)
    assert again == {**again, "done": 0, "failed": 0, "conflicts": 0}
    assert table_value(second.output, "Tổng số lệnh ghi") == 0
    # Reading the LMS only: far fewer calls than the first run's writes needed.
    assert again["calls"] < done["calls"]


def test_run_writes_the_import_report_in_vietnamese(two_runs: TwoRuns) -> None:
    reports = two_runs.workdir / "var" / "reports"
    names = sorted(p.name for p in reports.glob("roster-import-*.xlsx"))
    assert names == ["roster-import-1.xlsx", "roster-import-2.xlsx", "roster-import-3.xlsx"]
    assert "var/reports/roster-import-1.xlsx" in two_runs.first.output
    assert "var/reports/roster-import-3.xlsx" in two_runs.second.output

    workbook = sheets(reports / "roster-import-3.xlsx")
    assert list(workbook) == REPORT_SHEETS
    # The summary opens with the count per status, then the total.
    head = workbook["Tổng hợp"][:5]
    assert head[0][0] == "Trạng thái"
    summary = {row[0]: row[2] for row in head[1:4]}
    assert head[4][0] == "Tổng số dòng đã đọc"
    assert head[4][2] == sum(summary.values())
    for status in REPORT_SHEETS[1:]:
        header, *rows = workbook[status]
        assert "Trạng thái" in header
        assert "Lý do" in header
        assert len(rows) == summary[status], status
        state = header.index("Trạng thái")
        assert {row[state] for row in rows} <= {status}
    assert summary["Bị từ chối"] > 0
    reason = workbook["Bị từ chối"][0].index("Lý do")
    assert all(row[reason] for row in workbook["Bị từ chối"][1:])


def test_run_classes_table_puts_moves_and_problems_in_their_columns(two_runs: TwoRuns) -> None:
    """The roster did not change between the two runs: nobody changed class."""
    header = next(line for line in two_runs.second.output.splitlines() if "Chuyển lớp" in line)
    columns = [cell.strip() for cell in header.strip("┃ ").split("┃")]
    assert columns == [
        "Đợt",
        "Lớp",
        "Học viên",
        "Chỗ tham khảo",
        "Mới xếp",
        "Chuyển lớp",
        "Thiếu BCV",
    ]
    row = next(line for line in two_runs.second.output.splitlines() if "│ M4-2023" in line)
    cells = dict(zip(columns, (cell.strip() for cell in row.split("│")[1:-1]), strict=True))
    assert cells["Mới xếp"] == "0"
    assert cells["Chuyển lớp"] == "0", f"the second run reports class moves: {cells}"
    assert cells["Thiếu BCV"].isdigit(), f"classes without a reporter not counted: {cells}"


def test_sync_history_lists_the_runs(two_runs: TwoRuns, provisioned: Path) -> None:
    result = bdtx("sync", "history", "--json", "--config", provisioned)
    assert result.exit_code == 0, result.output
    runs = as_json(result)["runs"]
    assert [r["id"] for r in runs] == [3, 2, 1]  # newest first
    assert {r["mode"] for r in runs} == {"apply"}
    assert {r["status"] for r in runs} == {"done"}
    assert all(r["user"] and r["started_at"] and r["finished_at"] for r in runs)
    newest, pushed, oldest = runs
    assert newest["counts"] == {}
    assert pushed["counts"] == {"move_event:done": 28 * 5}
    assert "chờ Moodle" in oldest["message"]
    assert sum(oldest["counts"].values()) == run_outcome(two_runs.first.output)["done"]
    assert all(key.endswith(":done") for key in oldest["counts"])
    # The concurrency each apply used, and why, is kept with the run.
    assert oldest["tuning"] == {
        "mode": "fixed",
        "level": 1,
        "ceiling": 1,
        "reason": "cố định: 1 (cấu hình)",
        "steps": [1],
    }

    table = bdtx("sync", "history", "--config", provisioned)
    assert table.exit_code == 0
    assert "Lịch sử đồng bộ" in table.output
    assert "Đồng thời" in table.output
    detail = bdtx("sync", "history", "--run", "1", "--config", provisioned)
    assert "số lệnh gửi đồng thời cố định: 1 (cấu hình)" in flat(detail.output)
    assert str(sum(oldest["counts"].values())) in table.output


# -- bdtx roster import / report ---------------------------------------------------------


def test_roster_import_counts_add_up_in_any_file_order(config: Path, workdir: Path) -> None:
    result = bdtx("roster", "import", LEARNERS, CORE_STAFF, SCHOOLS, "--json", "-c", config)
    assert result.exit_code == 1, result.output  # the sample has rejected rows
    counts = as_json(result)
    assert counts["rows_read"] == counts["imported"] + counts["rejected"] + counts["excluded"]
    assert counts["rejected"] > 0
    assert counts["imported"] > 5000
    changes = counts["changes"]
    assert len(changes["new"]) >= counts["learners"] + counts["core_staff"]
    assert (changes["changed"], changes["left"], changes["unchanged"]) == ({}, [], 0)

    # Another order, validated only: the same outcome.
    other = bdtx("roster", "import", CORE_STAFF, SCHOOLS, LEARNERS, "--dry-run", "--json")
    assert other.exit_code == 1, other.output
    assert {**as_json(other), "changes": None} == {**counts, "changes": None}

    # The stored import's report, copied out, is the Vietnamese workbook.
    out = workdir / "bao-cao.xlsx"
    report = bdtx("roster", "report", "--out", out, "-c", config)
    assert report.exit_code == 0, report.output
    workbook = sheets(out)
    assert list(workbook) == REPORT_SHEETS
    assert len(workbook["Bị từ chối"]) - 1 == counts["rejected"]
    assert len(workbook["Đã nhập"]) - 1 == counts["imported"]
    assert len(workbook["Bị loại trừ"]) - 1 == counts["excluded"]


def test_roster_import_dry_run_stores_nothing(config: Path, workdir: Path) -> None:
    copy = workdir / "kiem-tra.xlsx"
    result = bdtx(
        "roster", "import", SCHOOLS, CORE_STAFF, LEARNERS, "--dry-run", "--report", copy, "--json"
    )
    assert result.exit_code == 1, result.output
    counts = as_json(result)
    assert counts["rows_read"] == counts["imported"] + counts["rejected"] + counts["excluded"]
    assert counts["changes"] is None
    assert list(sheets(copy)) == REPORT_SHEETS
    assert list((workdir / "var" / "reports").glob("roster-import-*.xlsx")) == []

    report = bdtx("roster", "report", "--out", workdir / "r.xlsx")
    assert report.exit_code == 1
    assert "Chưa có lần nhập danh sách nào" in flat(report.output)
    assert not (workdir / "r.xlsx").exists()
    # Nobody to sort into classes either.
    allocation = bdtx("classes", "allocate", "--json")
    assert as_json(allocation)["runs"][0]["learners"] == 0


NOT_ROSTERS: dict[str, bytes] = {
    "hong.xlsx": random.Random(7).randbytes(4096),
    "rong.xlsx": b"",
    "rong.csv": b"",
    "khong-tieu-de.csv": (
        "7012345678,Nguyễn Văn An,an.nv@example.edu.vn,Trường THCS Tân Phú,THCS,GV,Toán\n"
        "7012345679,Trần Thị Bình,binh.tt@example.edu.vn,Trường THCS Tân Phú,THCS,GV,Ngữ văn\n"
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(NOT_ROSTERS))
def test_a_file_that_is_not_a_roster_exits_5_with_one_line(
    name: str, config: Path, workdir: Path
) -> None:
    bad = workdir / name
    bad.write_bytes(NOT_ROSTERS[name])

    result = bdtx("roster", "import", bad)
    assert result.exit_code == 5, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Tệp “{name}”:"), lines[0]

    as_data = bdtx("roster", "import", bad, "--json")
    assert as_data.exit_code == 5
    assert as_data.stdout.count("\n") == 1
    assert as_json(as_data)["error"] == lines[0]


def test_a_bad_file_among_good_ones_stores_nothing(config: Path, workdir: Path) -> None:
    bad = workdir / "hong.xlsx"
    bad.write_bytes(NOT_ROSTERS["hong.xlsx"])
    result = bdtx("roster", "import", SCHOOLS, bad, LEARNERS, CORE_STAFF)
    assert result.exit_code == 5, result.output
    assert "hong.xlsx" in result.output
    assert bdtx("roster", "report", "--out", workdir / "r.xlsx").exit_code == 1


# -- bdtx classes ------------------------------------------------------------------------


def test_classes_respect_the_size_limit_and_reallocating_moves_nobody(workdir: Path) -> None:
    write_config(workdir, max_class_size=30)
    assert bdtx("roster", "import", *SAMPLE, "--json").exit_code == 1

    allocated = bdtx("classes", "allocate", "--json")
    (run,) = as_json(allocated)["runs"]
    assert run["run"] == "M4-2023"
    assert allocated.exit_code == (1 if run["problems"] else 0)
    assert run["learners"] > 5000
    assert run["moves"] == run["learners"] + run["reference_seats"]

    shown = bdtx("classes", "show", "--json")
    classes = as_json(shown)["classes"]
    assert shown.exit_code == (1 if any(not c["reporters"] for c in classes) else 0)
    assert len(classes) == run["classes"]
    sizes = [c["size"] for c in classes]
    assert max(sizes) <= 30
    assert min(sizes) > 0
    assert sum(c["size"] for c in classes if c["kind"] == "main") == run["learners"]
    assert sum(c["size"] for c in classes if c["kind"] == "reference") == run["reference_seats"]
    assert len({c["id"] for c in classes}) == len(classes)

    again = bdtx("classes", "allocate", "--run", "M4-2023", "--json")
    (rerun,) = as_json(again)["runs"]
    assert rerun["moves"] == 0
    assert set(rerun["written"].values()) == {0}
    assert rerun["classes"] == run["classes"]
    assert as_json(bdtx("classes", "show", "--run", "M4-2023", "--json"))["classes"] == classes


@pytest.mark.parametrize("command", ["allocate", "show"])
def test_classes_with_an_unknown_run_is_a_settings_error(command: str, config: Path) -> None:
    result = bdtx("classes", command, "--run", "M7-2099", "--json")
    assert result.exit_code == 2, result.output
    assert "M7-2099" in result.output


def test_json_outputs_carry_the_warnings_the_tables_show(provisioned: Path, workdir: Path) -> None:
    """The lock-date warning of a re-import (people changing school after the unit lock
    date keep their class) is in ``--json`` too, word for word."""
    database = workdir / "var" / "bdtx.sqlite"
    before = database.read_bytes()
    data = as_json(bdtx("roster", "import", *LATER, "--json"))
    locked = [w for w in data["warnings"] if "sau ngày khóa 15/08/2023" in w]
    assert len(locked) == 1, data["warnings"]
    assert locked[0].startswith("Đợt M4-2023: ")

    database.write_bytes(before)  # the same import again, as a person reads it
    shown = bdtx("roster", "import", *LATER)
    assert flat(locked[0]) in flat(shown.output)

    imported = database.read_bytes()
    (run,) = as_json(bdtx("classes", "allocate", "--json"))["runs"]
    assert any("Không còn trong danh sách học viên" in w for w in run["warnings"])
    assert run["warnings"][len(run["warnings"]) - len(run["problems"]) :] == run["problems"]
    database.write_bytes(imported)  # the same allocation again, as a person reads it
    table = flat(bdtx("classes", "allocate").output)
    for warning in run["warnings"][:20]:
        assert flat(warning) in table


# -- bdtx sync ---------------------------------------------------------------------------


def reimport_later() -> None:
    assert bdtx("roster", "import", *LATER, "--json").exit_code == 1
    assert bdtx("classes", "allocate", "--json").exit_code in (0, 1)


def test_reviewed_plan_applies_then_no_longer_holds(provisioned: Path, workdir: Path) -> None:
    reimport_later()
    planned = bdtx("sync", "plan", "--out", workdir / "plan", "--json")
    assert planned.exit_code == 0, planned.output
    summary = as_json(planned)
    assert summary["violations"] == []
    assert summary["writes"] > 0
    assert summary["counts"]["update_user"] > 0  # e-mails, names, schools changed

    plan = json.loads((workdir / "plan" / "plan.json").read_text("utf-8"))
    assert plan["digest"] == summary["digest"]
    assert plan["counts"] == summary["counts"]
    assert len(plan["actions"]) == summary["writes"] == sum(summary["counts"].values())
    assert all(action["reason"] for action in plan["actions"])
    workbook = sheets(workdir / "plan" / "plan.xlsx")
    assert "Tổng hợp" in workbook
    assert sum(len(rows) - 1 for title, rows in workbook.items() if title != "Tổng hợp") == len(
        plan["actions"]
    )

    before = history_ids()
    applied = bdtx("sync", "apply", "--plan", workdir / "plan" / "plan.json", "--json")
    assert applied.exit_code == 0, applied.output
    outcome = as_json(applied)
    assert outcome["status"] == "done"
    assert outcome["done"] == summary["writes"]
    assert outcome["failed"] == 0
    assert history_ids() == [outcome["run"], *before]

    # The same reviewed plan, once applied, no longer matches what the state asks for.
    stale = bdtx("sync", "apply", "--plan", workdir / "plan" / "plan.json")
    assert stale.exit_code == 4, stale.output
    assert "bdtx sync plan" in flat(stale.output)
    assert history_ids() == [outcome["run"], *before]
    assert as_json(bdtx("sync", "plan", "--out", workdir / "p2", "--json"))["writes"] == 0


def test_old_plan_is_refused_after_the_roster_changed(provisioned: Path, workdir: Path) -> None:
    planned = bdtx("sync", "plan", "--out", workdir / "plan", "--json")
    assert planned.exit_code == 0, planned.output
    assert as_json(planned)["writes"] == 0
    assert list(sheets(workdir / "plan" / "plan.xlsx")) == ["Tổng hợp"]

    reimport_later()
    before = history_ids()
    refused = bdtx("sync", "apply", "--plan", workdir / "plan" / "plan.json")
    assert refused.exit_code == 4, refused.output
    assert "Kế hoạch đã xem không còn khớp" in flat(refused.output)
    assert history_ids() == before  # refused before any write


@pytest.mark.parametrize("options", [[], ["--json"]], ids=["human", "json"])
def test_a_refused_plan_says_why(options: list[str], config: Path, workdir: Path) -> None:
    """A plan reviewed against another state is refused, and the operator is told why."""
    stale = workdir / "plan.json"
    stale.write_text(json.dumps({"digest": "0" * 64, "actions": []}), "utf-8")
    result = bdtx("sync", "apply", "--plan", stale, *options)
    assert result.exit_code == 4, result.output
    assert history_ids() == []
    assert "Kế hoạch đã xem không còn khớp" in flat(result.output), "refused in silence"


@pytest.mark.parametrize(
    "content", [None, '{"not": "a plan"}', "không phải JSON"], ids=["missing", "other", "text"]
)
def test_apply_with_an_unusable_plan_file_is_an_error_not_a_crash(
    content: str | None, config: Path, workdir: Path
) -> None:
    plan = workdir / "plan.json"
    if content is not None:
        plan.write_text(content, "utf-8")
    result = bdtx("sync", "apply", "--plan", plan)
    assert result.exit_code == 2, result.output
    assert "plan.json" in result.output


# -- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["lms", "check"], ["run"], ["sync", "plan", "--json"], ["roster", "report"]]
)
def test_a_wrong_lms_url_is_named(command: list[str], workdir: Path) -> None:
    config = write_config(workdir, url="ftp://x")
    result = bdtx(*command, "--config", config)
    assert result.exit_code == 2, result.output
    assert flat(result.stderr).startswith("Setting lms.url (BDTX_LMS_URL):")
    assert len(result.stderr.strip().splitlines()) == 1
    if "--json" in command:  # and the same, as one JSON object, on standard output
        error = as_json(result)
        assert (error["exit_code"], error["error_kind"]) == (2, "settings")
        assert error["error"] == result.stderr.strip()
    else:
        assert result.stdout == ""
    assert not (workdir / "var").exists()


def test_a_wrong_lms_url_in_the_environment_is_named(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BDTX_LMS_URL", "ftp://x")
    result = bdtx("lms", "check", "--config", config)
    assert result.exit_code == 2, result.output
    assert "lms.url (BDTX_LMS_URL)" in result.output


def test_a_real_lms_without_a_token_names_the_token_setting(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # x.invalid never resolves: reaching for it would exit 3, not 2.
    monkeypatch.setenv("BDTX_LMS_URL", "https://x.invalid")
    for command in (["lms", "check"], ["run"]):
        result = bdtx(*command, "--config", config)
        assert result.exit_code == 2, result.output
        assert "BDTX_LMS_TOKEN" in result.output
        assert "lms.token" in result.output


def test_a_token_in_the_config_file_is_refused_and_not_echoed(workdir: Path) -> None:
    secret = "5f4dcc3b5aa765d61d8327deb882cf99"
    config = write_config(workdir, extra_lms=f'token = "{secret}"\n')
    result = bdtx("lms", "check", "--config", config)
    assert result.exit_code == 2, result.output
    assert "lms.token" in result.output
    assert secret not in result.output


def test_an_unreadable_token_file_is_named(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BDTX_LMS_URL", "https://x.invalid")
    monkeypatch.setenv("BDTX_LMS_TOKEN_FILE", "/nonexistent/token")
    result = bdtx("lms", "check", "--config", config)
    assert result.exit_code == 2, result.output
    assert "BDTX_LMS_TOKEN_FILE" in result.output


# -- bdtx lms check ----------------------------------------------------------------------


def test_lms_check_on_the_embedded_sandbox_is_ready(config: Path) -> None:
    result = bdtx("lms", "check", "--config", config)
    assert result.exit_code == 0, result.output
    assert "ready" in result.output
    assert "user syncbot" in result.output

    data = as_json(bdtx("lms", "check", "--json", "--config", config))
    assert data["ok"] is True
    assert data["problems"] == []
    assert data["user"] == "syncbot"


def test_lms_check_warns_when_reporters_would_see_every_class(
    provisioned: Path, workdir: Path
) -> None:
    data = as_json(bdtx("lms", "check", "--json", "--config", provisioned))
    assert (data["ok"], data["warnings"]) == (True, [])

    # The site's administrator gives the non-editing teacher access to all groups.
    state = workdir / "var" / "sandbox-lms.json"
    sandbox = SandboxLms.load_or_new(state)
    sandbox.site.role_changes[4] = {"moodle/site:accessallgroups": True}
    sandbox.save(state)

    result = bdtx("lms", "check", "--json", "--config", provisioned)
    assert result.exit_code == 0, result.output  # a warning, not a missing requirement
    data = as_json(result)
    assert data["ok"] is True
    assert [(w["kind"], w["status"]) for w in data["warnings"]] == [("role", "warning")]
    assert "moodle/site:accessallgroups" in data["warnings"][0]["name"]
    text = bdtx("lms", "check", "--config", provisioned)
    assert text.exit_code == 0
    assert "1 warning(s)" in flat(text.output)


def serve_env(monkeypatch: pytest.MonkeyPatch, url: str, token: str) -> None:
    monkeypatch.setenv("BDTX_LMS_URL", url)
    monkeypatch.setenv("BDTX_LMS_TOKEN", token)


LIMITED_MISSING = {"moodle/user:create", "moodle/user:update", "moodle/course:create"}


def test_lms_check_lists_what_a_limited_service_user_lacks(
    config: Path, http_sandbox: tuple[SandboxLms, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox, url = http_sandbox
    token = sandbox.token_for("limitedbot")
    serve_env(monkeypatch, url, token)

    data_result = bdtx("lms", "check", "--json", "--config", config)
    assert data_result.exit_code == 1, data_result.output
    data = as_json(data_result)
    assert data["ok"] is False
    assert data["user"] == "limitedbot"
    missing = {p["name"] for p in data["problems"]}
    assert missing >= LIMITED_MISSING
    assert {p["status"] for p in data["problems"]} == {"missing"}

    result = bdtx("lms", "check", "--config", config)
    assert result.exit_code == 1, result.output
    assert f"{len(missing)} missing" in result.output
    for name in missing:
        assert name in result.output
    for output in (result.output, data_result.output):
        assert token not in output


def test_lms_check_names_every_missing_capability_in_full_on_80_columns(
    config: Path, http_sandbox: tuple[SandboxLms, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output of a cron job or an SSH session is 80 columns: names must not be cut."""
    sandbox, url = http_sandbox
    serve_env(monkeypatch, url, sandbox.token_for("limitedbot"))
    missing = {p["name"] for p in as_json(bdtx("lms", "check", "--json"))["problems"]}
    monkeypatch.setenv("COLUMNS", "80")
    result = bdtx("lms", "check", "--config", config)
    assert result.exit_code == 1
    # A name may wrap onto several lines of its cell, but each of its words must be there.
    cut = sorted(name for name in missing if any(w not in result.output for w in name.split()))
    assert cut == [], f"names cut in the table:\n{result.output}"


@pytest.mark.parametrize("command", [["lms", "check"], ["lms", "check", "--json"], ["run"]])
def test_a_wrong_token_is_refused_with_exit_3(
    command: list[str],
    config: Path,
    http_sandbox: tuple[SandboxLms, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = http_sandbox
    token = "0123456789abcdef0123456789abcdef"
    serve_env(monkeypatch, url, token)
    result = bdtx(*command, "--config", config)
    assert result.exit_code == 3, result.output
    assert "LMS từ chối" in result.output
    assert "Invalid token" in result.output
    assert token not in result.output


def test_an_unreachable_lms_exits_3(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "fedcba9876543210fedcba9876543210"
    serve_env(monkeypatch, f"http://127.0.0.1:{port}", token)
    result = bdtx("lms", "check", "--config", config)
    assert result.exit_code == 3, result.output
    assert "Không làm việc được với LMS" in flat(result.output)
    assert token not in result.output


# -- safety gates of the import and the allocation -----------------------------------------


def cut_learners(workdir: Path, *, keep: float) -> Path:
    """The sample learner file with only the first ``keep`` share of its rows."""
    workbook = openpyxl.load_workbook(LEARNERS)
    sheet = workbook.worksheets[0]
    last = 3 + int((sheet.max_row - 3) * keep)
    sheet.delete_rows(last + 1, sheet.max_row - last)
    target = workdir / f"hoc-vien-{keep}.xlsx"
    workbook.save(target)
    return target


def test_a_header_only_learner_file_is_refused_with_exit_4_and_stores_nothing(
    provisioned: Path, workdir: Path
) -> None:
    header_only = cut_learners(workdir, keep=0)
    before = as_json(bdtx("classes", "show", "--json"))["classes"]
    refused = bdtx("roster", "import", SCHOOLS, header_only, CORE_STAFF)
    assert refused.exit_code == 4, refused.output
    assert "Lần nhập sẽ đánh dấu rời danh sách" in flat(refused.output)
    assert "--accept" in flat(refused.output)
    assert "Chưa lưu gì" in flat(refused.output)
    assert as_json(bdtx("classes", "show", "--json"))["classes"] == before
    assert as_json(bdtx("classes", "allocate", "--json"))["runs"][0]["class_moves"] == 0
    accepted = bdtx("roster", "import", SCHOOLS, header_only, CORE_STAFF, "--accept", "--json")
    assert accepted.exit_code == 0, accepted.output
    assert len(as_json(accepted)["changes"]["left"]) > 5000


def test_run_stops_at_each_gate_and_the_full_roster_puts_every_class_back(
    provisioned: Path, workdir: Path
) -> None:
    half = write_config(workdir, files=[SCHOOLS, cut_learners(workdir, keep=0.5), CORE_STAFF])
    before = as_json(bdtx("classes", "show", "--json"))["classes"]
    at_import = bdtx("run", "--config", half)
    assert at_import.exit_code == 4, at_import.output
    assert "Lần nhập sẽ đánh dấu rời danh sách" in flat(at_import.output)
    # The import accepted on its own: the next run stops at the allocation.
    refused = bdtx("roster", "import", SCHOOLS, workdir / "hoc-vien-0.5.xlsx", CORE_STAFF)
    assert refused.exit_code == 4
    accepted = bdtx(
        "roster", "import", SCHOOLS, workdir / "hoc-vien-0.5.xlsx", CORE_STAFF, "--accept"
    )
    assert accepted.exit_code == 1, accepted.output  # stored; some rows rejected
    at_allocation = bdtx("run", "--config", half)
    assert at_allocation.exit_code == 4, at_allocation.output
    assert "Phân lớp đợt M4-2023 sẽ chuyển lớp" in flat(at_allocation.output)
    assert as_json(bdtx("classes", "show", "--json"))["classes"] == before
    # Allocation accepted too: the plan counts the group moves and stops.
    allocated = bdtx("classes", "allocate", "--accept", "--json")
    assert as_json(allocated)["runs"][0]["class_moves"] > 0
    plan = bdtx("sync", "plan", "--json")
    assert plan.exit_code == 4
    assert any("chuyển nhóm (lớp)" in v for v in as_json(plan)["violations"])
    # The full roster again, through the main job: every class as it was, none moved.
    full = write_config(workdir)
    again = bdtx("run", "--config", full)
    assert again.exit_code == 1, again.output  # the sample's rejected rows
    assert "Rút khỏi lớp" not in again.output  # nobody taken out of a group
    after = {line["id"]: line for line in as_json(bdtx("classes", "show", "--json"))["classes"]}
    assert set(after) == {line["id"] for line in before}
    for line in before:
        assert after[line["id"]]["reporters"] == line["reporters"]
        assert after[line["id"]]["size"] - line["size"] in (0, 1)  # the half file's newcomer
    final = bdtx("sync", "plan", "--json")
    assert final.exit_code == 0
    assert as_json(final)["writes"] == 0


@pytest.mark.parametrize("command", [["lms", "check"], ["sync", "plan"], ["sync", "apply"]])
def test_an_unreachable_lms_with_json_prints_one_json_error(
    command: list[str], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "fedcba9876543210fedcba9876543210"
    serve_env(monkeypatch, f"http://127.0.0.1:{port}", token)
    result = bdtx(*command, "--json", "--config", config)
    assert result.exit_code == 3, result.output
    assert result.stdout.count("\n") == 1, result.stdout
    error = as_json(result)
    assert error["ok"] is False
    assert error["exit_code"] == 3
    assert error["error_kind"] == "lms"
    assert "Không làm việc được với LMS" in error["error"]
    assert token not in result.stdout


def test_a_settings_error_with_json_prints_one_json_error(config: Path) -> None:
    result = bdtx("classes", "show", "--run", "M7-2099", "--json", "--config", config)
    assert result.exit_code == 2, result.output
    error = as_json(result)
    assert (error["ok"], error["exit_code"], error["error_kind"]) == (False, 2, "settings")
    assert "M7-2099" in error["error"]


def test_lms_check_names_the_configured_profile_fields_the_site_lacks(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config maps school, level, subject; this site defines school only."""
    sandbox = SandboxLms(SandboxOptions(profile_fields=(ProfileField("school", "Trường"),)))
    server, url = start_server(sandbox, "127.0.0.1", 0)
    try:
        serve_env(monkeypatch, url, sandbox.token_for("syncbot"))
        data_result = bdtx("lms", "check", "--json", "--config", config)
        result = bdtx("lms", "check", "--config", config)
    finally:
        server.shutdown()
        server.server_close()
    assert data_result.exit_code == 1, data_result.output
    problems = as_json(data_result)["problems"]
    assert {(p["kind"], p["name"]) for p in problems} == {
        ("profile field", "level"),
        ("profile field", "subject"),
    }
    assert "level" in result.output
    assert "subject" in result.output
    # Nobody's account but the software's own probe account holds a value.
    with_values = [u.username for u in sandbox.site.users.values() if u.customfields]
    assert with_values == ["bdtx-profile-probe"]
