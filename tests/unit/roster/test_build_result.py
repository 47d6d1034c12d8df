"""The pure import pipeline on in-memory rows: one status per row, the result model."""

from __future__ import annotations

import datetime as dt

from roster.importer import build_result
from roster.model import CoreRole, ExemptionKind, ImportResult, Level, Track
from roster.reasons import Effect, ReasonCode, Status
from roster.subjects import HDTNHN
from tests.unit.roster.builders import SCHOOLS, TODAY, core_row, learner_row


def run(learners: list, cores: list | None = None) -> ImportResult:  # type: ignore[type-arg]
    return build_result(learners, cores or [], SCHOOLS, today=TODAY)


def by_row(result: ImportResult) -> dict[int, Status]:
    return {o.source.row: o.status for o in result.outcomes}


def test_a_clean_learner_is_imported_with_everything_consumers_need() -> None:
    result = run([learner_row(4, hdtnhn_concurrent="x")])
    (learner,) = result.learners
    assert learner.identity_code == "7012345678"
    assert (learner.lastname, learner.firstname) == ("Nguyễn Thị", "Lan")
    assert learner.birth_date == dt.date(1985, 9, 26)
    assert (learner.school_code, learner.cluster) == ("BP0001", "Cụm Đồng Xoài 1")
    assert learner.district == "Thành phố Đồng Xoài"
    assert learner.track is Track.MAIN
    assert learner.reference_subjects == (HDTNHN,)
    assert learner.source.row == 4
    (outcome,) = result.outcomes
    assert outcome.status is Status.IMPORTED
    assert outcome.values[2] == "Nguyễn Thị Lan"
    assert outcome.columns[2] == "Họ và tên"


def test_every_row_ends_in_exactly_one_status() -> None:
    rows = [
        learner_row(4),
        learner_row(5, identity_code="7000000001", email=None),
        learner_row(6, identity_code="7000000002", email="c@gmail.com", subject="Tiếng Anh"),
        learner_row(7),  # exact duplicate of row 4
        learner_row(8, identity_code="7000000003", email="d@gmail.com", modules_123_done=None),
    ]
    result = run(rows)
    assert by_row(result) == {
        4: Status.IMPORTED,
        5: Status.REJECTED,
        6: Status.EXCLUDED,
        7: Status.EXCLUDED,
        8: Status.IMPORTED,
    }
    assert sum(result.status_counts().values()) == result.rows_read == 5
    assert [x.identity_code for x in result.learners] == ["7012345678", "7000000003"]
    assert result.learners[1].track is Track.PREREQUISITE
    assert result.reason_counts()[ReasonCode.DUPLICATE_MERGED] == 1


def test_rejection_wins_and_the_exclusion_is_still_shown() -> None:
    result = run([learner_row(4, email=None, subject="Tiếng Anh", hdtnhn_concurrent="x")])
    (outcome,) = result.outcomes
    assert outcome.status is Status.REJECTED
    assert [r.code for r in outcome.reasons] == [ReasonCode.MISSING_EMAIL, ReasonCode.SEPARATE_PLAN]
    assert [r.code for r in outcome.blocking_reasons] == [ReasonCode.MISSING_EMAIL]


def test_notes_come_after_blocking_reasons() -> None:
    result = run([learner_row(4, email=" LANNT@GMAIL.COM", note="Nghỉ hưu")])
    (outcome,) = result.outcomes
    assert outcome.status is Status.EXCLUDED
    assert [r.code.effect for r in outcome.reasons] == [Effect.EXCLUDE, Effect.NOTE]


def test_both_holders_of_a_shared_email_are_held_back() -> None:
    rows = [learner_row(4), learner_row(5, identity_code="7000000001", full_name="Lê Văn Nam")]
    result = run(rows)
    assert by_row(result) == {4: Status.REJECTED, 5: Status.REJECTED}
    assert result.learners == ()


def test_email_shared_with_a_reporter_of_another_identity() -> None:
    result = run([learner_row(4)], [core_row(2, email="lannt@gmail.com")])
    messages = [r.message for o in result.outcomes for r in o.reasons]
    assert "Email trùng với người khác (bao-cao-vien.xlsx dòng 2)" in messages
    assert "Email trùng với người khác (hoc-vien.xlsx dòng 4)" in messages


def test_core_staff_from_the_reporters_file_and_their_learner_row() -> None:
    learners = [
        learner_row(4, identity_code="7099999999", full_name="Trần Văn Hùng",
                    email="hungtv@gmail.com", core_staff="x"),
        learner_row(5, identity_code="7088888888", full_name="Lê Thị Mai",
                    email="mailt@gmail.com", core_staff="x", subject="Ngữ văn"),
    ]  # fmt: skip
    result = run(learners, [core_row(2)])
    assert by_row(result)[4] is Status.EXCLUDED
    reporters = {(c.identity_code, c.role) for c in result.core_staff}
    assert reporters == {("7099999999", CoreRole.REPORTER), ("7088888888", None)}
    reporter = next(c for c in result.core_staff if c.role is CoreRole.REPORTER)
    assert (reporter.level, reporter.subject, reporter.cluster) == (
        Level.LOWER_SECONDARY,
        "Toán",
        "Cụm Đồng Xoài 1",
    )
    unlisted = next(o for o in result.outcomes if o.source.row == 5)
    assert ReasonCode.CORE_NOT_LISTED in [r.code for r in unlisted.reasons]


def test_listed_core_staff_is_excluded_even_without_the_column_mark() -> None:
    learners = [learner_row(4, identity_code="7099999999", email="hungtv@gmail.com",
                            full_name="Trần Văn Hùng")]  # fmt: skip
    result = run(learners, [core_row(2)])
    assert by_row(result)[4] is Status.EXCLUDED


def test_core_staff_listed_for_two_subjects_is_not_a_duplicate() -> None:
    result = run([], [core_row(2), core_row(3, subject="Tin học", core_role="Trợ giảng")])
    assert {o.status for o in result.outcomes} == {Status.IMPORTED}
    assert len(result.core_staff) == 2


def test_exemptions_are_kept_with_their_reason() -> None:
    rows = [
        learner_row(4, note="Nghỉ hưu trong năm học"),
        learner_row(5, identity_code="7000000001", email="b@gmail.com", note="Nghỉ thai sản"),
    ]
    result = run(rows)
    kinds = {(e.identity_code, e.kind, e.note) for e in result.exemptions}
    assert kinds == {
        ("7012345678", ExemptionKind.RETIRING, "Nghỉ hưu trong năm học"),
        ("7000000001", ExemptionKind.MATERNITY, "Nghỉ thai sản"),
    }
    (reduced,) = result.learners
    assert reduced.reduction is ExemptionKind.MATERNITY


def test_counts_per_status_and_reason() -> None:
    rows = [learner_row(4, email=None), learner_row(5, identity_code="7000000001", email=None)]
    result = run(rows)
    assert result.status_counts() == {Status.IMPORTED: 0, Status.REJECTED: 2, Status.EXCLUDED: 0}
    assert result.reason_counts() == {ReasonCode.MISSING_EMAIL: 2}
    assert result.reason_counts_by_status() == {(Status.REJECTED, ReasonCode.MISSING_EMAIL): 2}


def test_people_alike_but_for_being_listed_core_staff_are_decided_apart() -> None:
    """Decisions are made once per combination of what decides them: being listed in the
    reporters' file (by identity code) is part of it, whoever comes first."""
    listed = dict(identity_code="7099999999", email="hungtv@gmail.com", full_name="Trần Văn Hùng")
    for order in ((4, 5), (5, 4)):
        rows = [
            learner_row(order[0], identity_code="7000000001", email="b@gmail.com"),
            learner_row(order[1], **listed),  # type: ignore[arg-type]
        ]
        result = run(rows, [core_row(2)])
        statuses = by_row(result)
        assert (statuses[order[0]], statuses[order[1]]) == (Status.IMPORTED, Status.EXCLUDED)
        assert [x.identity_code for x in result.learners] == ["7000000001"]
