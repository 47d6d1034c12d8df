"""Who is enrolled in what: each rule and each policy switch."""

from __future__ import annotations

from roster.eligibility import EligibilityPolicy, PrerequisitePolicy, ReducedPolicy, decide
from roster.model import ExemptionKind, Level, Track
from roster.reasons import ReasonCode
from roster.subjects import HDTNHN
from roster.validate import PersonRecord, validate_learner_row
from tests.unit.roster.builders import context, learner_row

DEFAULT = EligibilityPolicy()


def record(**values: object) -> PersonRecord:
    return validate_learner_row(learner_row(**values), context()).record  # type: ignore[arg-type]


def codes(values: dict[str, object], policy: EligibilityPolicy = DEFAULT) -> list[ReasonCode]:
    return [r.code for r in decide(record(**values), policy).reasons]


def test_ordinary_teacher_takes_the_main_track() -> None:
    decision = decide(record(), DEFAULT)
    assert decision.track is Track.MAIN
    assert decision.reasons == ()
    assert decision.reference_subjects == ()


def test_english_teachers_follow_a_separate_plan() -> None:
    decision = decide(record(subject="Tiếng Anh"), DEFAULT)
    assert decision.excluded
    assert [r.message for r in decision.reasons] == [
        "Giáo viên Tiếng Anh: bồi dưỡng theo kế hoạch riêng, không thuộc kế hoạch này"
    ]
    other_plan = EligibilityPolicy(separate_plan_subjects=frozenset({"Tin học"}))
    assert decide(record(subject="Tiếng Anh"), other_plan).track is Track.MAIN
    assert decide(record(subject="Tin học"), other_plan).excluded


def test_core_staff_by_column_or_by_reporters_list() -> None:
    by_column = decide(record(core_staff="x"), DEFAULT)
    assert by_column.excluded
    assert by_column.core_staff
    assert [r.code for r in by_column.reasons] == [ReasonCode.CORE_STAFF]
    assert by_column.reasons[0].message == (
        "Cốt cán môn Toán (THCS): không học đại trà, làm báo cáo viên/trợ giảng"
    )
    listed = {("7012345678", Level.LOWER_SECONDARY, "Toán")}
    assert decide(record(), DEFAULT, listed).excluded
    # core staff of another subject is a learner in this one
    other = {("7012345678", Level.LOWER_SECONDARY, "Ngữ văn")}
    assert decide(record(), DEFAULT, other).track is Track.MAIN


def test_core_staff_concurrent_learner_takes_only_the_reference_subject() -> None:
    decision = decide(record(core_staff="x", hdtnhn_concurrent="x"), DEFAULT)
    assert decision.track is Track.REFERENCE_ONLY
    assert decision.reference_subjects == (HDTNHN,)
    assert [r.code for r in decision.reasons] == [ReasonCode.CORE_REFERENCE_ONLY]
    no_reference = EligibilityPolicy(core_staff_take_reference=False)
    assert decide(record(core_staff="x", hdtnhn_concurrent="x"), no_reference).excluded


def test_exempt_people_are_excluded_with_the_schools_reason() -> None:
    decision = decide(record(note="Nghỉ hưu trong năm học"), DEFAULT)
    assert decision.excluded
    assert decision.exemption is ExemptionKind.RETIRING
    assert [r.message for r in decision.reasons] == ["Miễn bồi dưỡng: Nghỉ hưu trong năm học"]
    assert codes({"note": "Đi học tập trung dài hạn"}) == [ReasonCode.EXEMPT]


def test_reduced_people_are_enrolled_and_flagged_or_excluded() -> None:
    decision = decide(record(note="Nghỉ thai sản"), DEFAULT)
    assert decision.track is Track.MAIN
    assert decision.exemption is ExemptionKind.MATERNITY
    assert [r.message for r in decision.reasons] == ["Giảm bồi dưỡng, vẫn ghi danh: Nghỉ thai sản"]
    exclude = EligibilityPolicy(reduced=ReducedPolicy.EXCLUDE)
    assert codes({"note": "Nghỉ ốm dài ngày (có giấy xác nhận)"}, exclude) == [ReasonCode.REDUCED]


def test_without_modules_123_routed_or_excluded() -> None:
    decision = decide(record(modules_123_done=None, note="Mới tuyển dụng"), DEFAULT)
    assert decision.track is Track.PREREQUISITE
    assert [r.code for r in decision.reasons] == [ReasonCode.ROUTED_TO_PREREQUISITE]
    exclude = EligibilityPolicy(prerequisite=PrerequisitePolicy.EXCLUDE)
    assert codes({"modules_123_done": None}, exclude) == [ReasonCode.PREREQUISITE_MISSING]


def test_back_from_maternity_leave_is_not_reduced() -> None:
    decision = decide(record(modules_123_done=None, note="Nghỉ sản đi dạy lại"), DEFAULT)
    assert decision.track is Track.PREREQUISITE
    assert decision.exemption is None


def test_hdtnhn_concurrent_learner_gets_the_reference_subject() -> None:
    decision = decide(record(hdtnhn_concurrent="x"), DEFAULT)
    assert decision.track is Track.MAIN
    assert decision.reference_subjects == (HDTNHN,)
    assert [r.code for r in decision.reasons] == [ReasonCode.REFERENCE_SUBJECT_ADDED]


def test_hdtnhn_teacher_needs_no_reference_in_their_own_subject() -> None:
    decision = decide(record(subject=HDTNHN, hdtnhn_concurrent="x"), DEFAULT)
    assert decision.reference_subjects == ()


def test_reference_subject_waits_for_modules_123() -> None:
    decision = decide(record(hdtnhn_concurrent="x", modules_123_done=None), DEFAULT)
    assert decision.track is Track.PREREQUISITE
    assert decision.reference_subjects == ()
    assert ReasonCode.REFERENCE_SUBJECT_DROPPED in [r.code for r in decision.reasons]


def test_several_exclusions_are_all_listed() -> None:
    assert codes({"subject": "Tiếng Anh", "note": "Nghỉ hưu"}) == [
        ReasonCode.SEPARATE_PLAN,
        ReasonCode.EXEMPT,
    ]
    assert codes({"core_staff": "x", "note": "Nghỉ hưu"}) == [
        ReasonCode.EXEMPT,
        ReasonCode.CORE_STAFF,
    ]
