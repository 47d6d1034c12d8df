"""Every Excel file the software writes stores hostile text as text, never a formula.

Each kind of output is generated with values a school (or an attacker) could type, then
checked twice: re-opened with openpyxl (no cell of type ``f``) and unzipped (no ``<f>``
element in any sheet's XML).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from cli.sync_cmd import write_plan_files
from grading.lists import PersonRow, ResultRow, SchoolRow, build_lists
from reports.completion import ListHeading, write_workbook
from reports.xlsx import SafeWorkbook, is_formula_like
from roster.importer import import_roster
from roster.model import School
from roster.report import write_report
from sync.accounts_sheet import write_account_sheets
from sync.apply import Credential
from sync.model import Action, ActionKind, ActualState, Conflict, DesiredState, Plan
from sync.service import SyncPreview

HOSTILE = (
    "=1+1@gmail.com",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example","bấm vào")',
)


def assert_no_formula(path: Path) -> list[str]:
    """Fail if any cell of ``path`` is a formula; return every text cell's value."""
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = package.read(name).decode()
                assert not re.search(r"<f[ >]", xml), f"{path.name}: formula in {name}"
    texts: list[str] = []
    workbook = load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name} {sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    if is_formula_like(cell.value):
                        assert cell.quotePrefix, f"{sheet.title}!{cell.coordinate} not quoted"
    return texts


def test_the_writer_keeps_hostile_text_as_typed(tmp_path: Path) -> None:
    book = SafeWorkbook()
    sheet = book.sheet("T:[x]", widths=[10, 10], freeze="A2")
    sheet.title_block(["=1+1"])
    sheet.header(["@a", "b"])
    sheet.rows([[value, 1] for value in HOSTILE])
    texts = assert_no_formula(book.save(tmp_path / "t.xlsx"))
    assert set(HOSTILE) - {"\r=1+1"} <= set(texts)  # XML turns a lone CR into a newline
    assert load_workbook(tmp_path / "t.xlsx").sheetnames == ["T--x-"]


def test_ordinary_text_is_not_mistaken_for_a_formula() -> None:
    assert not is_formula_like("Nguyễn Văn An")
    assert not is_formula_like("an.nguyen@gmail.com")
    assert not is_formula_like("0912345678")
    assert is_formula_like("=1+1")
    assert is_formula_like("＝1+1")  # full-width equals sign, which Excel also accepts


def test_validation_report(tmp_path: Path) -> None:
    source = tmp_path / "hv.csv"
    lines = ["Mã định danh,Họ và tên,Email,Đơn vị công tác,Cấp học,Đối tượng,Môn,Ghi chú,"
             "Đã hoàn thành MĐ 1-2-3"]  # fmt: skip
    for number, value in enumerate(HOSTILE):
        quoted = '"' + value.replace('"', '""') + '"'
        lines.append(f"70123456{number:02d},{quoted},{quoted},THCS A,THCS,GV,Toán,{quoted},x")
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    schools = [School("BP1", "Trường THCS A", "THCS", "Huyện X", "Cụm X")]
    result = import_roster(source, schools=schools, today=dt.date(2023, 8, 1))
    texts = assert_no_formula(write_report(result, tmp_path / "r.xlsx"))
    assert "=1+1@gmail.com" in texts


def test_account_sheets(tmp_path: Path) -> None:
    credentials = [
        Credential(f"70000000{i:02d}", value, value, "BP1") for i, value in enumerate(HOSTILE)
    ]
    people = {c.identity_code: (c.username, c.username) for c in credentials}
    sheets = write_account_sheets(credentials, people, {"BP1": "=1+1"}, tmp_path / "acc")
    assert len(sheets) == 1
    texts = assert_no_formula(sheets[0])
    assert texts.count("=1+1@gmail.com") == 4  # name, username, password, e-mail


def test_plan_workbook(tmp_path: Path) -> None:
    actions = tuple(
        Action(ActionKind.CREATE_USER, value, value, {"email": value}) for value in HOSTILE
    )
    plan = Plan(actions, (Conflict("=1+1", "-x", "@y"),))
    desired = DesiredState(users={}, categories=(), courses={}, groups={}, enrolments={})
    actual = ActualState(users={}, categories={}, courses={}, groups={}, enrolments={})
    preview = SyncPreview(desired, actual, plan, violations=[])
    _, xlsx = write_plan_files(preview, tmp_path / "plan")
    texts = assert_no_formula(xlsx)
    assert "=1+1@gmail.com" in texts


def test_completion_lists(tmp_path: Path) -> None:
    people = {
        f"P{i}": PersonRow(f"P{i}", value, school_code="S1", subject=value, exemption_reason=value)
        for i, value in enumerate(HOSTILE)
    }
    outcomes = ("completed", "not_completed", "exempt", "reference")
    results = [
        ResultRow(code, f"C-{code}", outcomes[i % 4], explanation=HOSTILE[i])
        for i, code in enumerate(people)
    ]
    lists = build_lists(results, people, {"S1": SchoolRow("S1", "=1+1", "-x")}, module="@m")
    heading = ListHeading("=r", "+n", "@m", dt.date(2023, 9, 4), dt.date(2023, 9, 19),
                          dt.datetime(2023, 10, 1, tzinfo=dt.UTC), "=scope")  # fmt: skip
    texts = assert_no_formula(write_workbook(tmp_path / "tinh.xlsx", heading, lists))
    assert "=cmd|' /C calc'!A0" in texts
    assert "=1+1" in texts  # the school's name, in the lists and the summary
