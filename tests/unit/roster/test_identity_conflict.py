"""One identity code, two people across the learners' and the reporters' lists
(issue 7, item 4): a conflict with a reason, never a silent merge."""

from __future__ import annotations

from roster.importer import build_result
from roster.model import ImportResult
from roster.reasons import ReasonCode, Status
from tests.unit.roster.builders import SCHOOLS, TODAY, core_row, learner_row


def run(learners: list, cores: list) -> ImportResult:  # type: ignore[type-arg]
    return build_result(learners, cores, SCHOOLS, today=TODAY)


def test_a_literature_teacher_does_not_become_someone_elses_reporter() -> None:
    # The reporters' list gives the Ngữ văn teacher's code to a manager's reporter.
    teacher = learner_row(4, identity_code="7099999999", full_name="Lê Thị Mai",
                          email="mailt@gmail.com", subject="Ngữ văn")  # fmt: skip
    reporter = core_row(2, full_name="Trần Văn Hùng", subject="Quản lý", level="THCS")
    result = run([teacher], [reporter])
    statuses = {(o.source.file, o.source.row): o.status for o in result.outcomes}
    assert statuses == {
        ("hoc-vien.xlsx", 4): Status.REJECTED,
        ("bao-cao-vien.xlsx", 2): Status.REJECTED,
    }
    messages = {
        o.source.file: next(r.message for r in o.reasons if r.code is ReasonCode.IDENTITY_CONFLICT)
        for o in result.outcomes
    }
    assert messages["hoc-vien.xlsx"] == (
        "Mã định danh 7099999999 cũng được dùng cho người khác "
        "(Trần Văn Hùng, bao-cao-vien.xlsx dòng 2): cần xác định đúng người"
    )
    assert "(Lê Thị Mai, hoc-vien.xlsx dòng 4)" in messages["bao-cao-vien.xlsx"]
    assert result.learners == ()
    assert result.core_staff == ()  # not a reporter, not even derived from the learner row


def test_the_same_person_in_both_lists_stays_legitimate() -> None:
    # Core staff of Toán who also learns as a teacher: the name differs only in case.
    learner = learner_row(4, identity_code="7099999999", full_name="TRẦN VĂN HÙNG",
                          email="hungtv@gmail.com", core_staff="x")  # fmt: skip
    result = run([learner], [core_row(2)])
    codes = {r.code for o in result.outcomes for r in o.reasons}
    assert ReasonCode.IDENTITY_CONFLICT not in codes
    assert {o.status for o in result.outcomes} == {Status.IMPORTED, Status.EXCLUDED}
    assert [c.identity_code for c in result.core_staff] == ["7099999999"]


def test_codes_that_do_not_meet_are_not_compared() -> None:
    result = run([learner_row(4)], [core_row(2)])
    assert {o.status for o in result.outcomes} == {Status.IMPORTED}
