"""Row statuses and reason codes, each with the Vietnamese text a school clerk reads.

A reason has an *effect*: a rejection (the row must be fixed and sent back), an
exclusion (a rule keeps the person out of this plan) or a note (the row is imported or
excluded anyway; the note says what was corrected or decided). A row's status follows
from its reasons: any rejection -> ``rejected``; else any exclusion -> ``excluded``;
else ``imported``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Effect", "Reason", "ReasonCode", "Status", "reason", "status_of"]


class Status(StrEnum):
    """The one status each input row ends in."""

    IMPORTED = "imported"
    REJECTED = "rejected"
    EXCLUDED = "excluded"

    @property
    def label(self) -> str:
        """Vietnamese label, also the report's sheet name."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.IMPORTED: "Đã nhập",
    Status.REJECTED: "Bị từ chối",
    Status.EXCLUDED: "Bị loại trừ",
}


class Effect(StrEnum):
    REJECT = "reject"
    EXCLUDE = "exclude"
    NOTE = "note"


class ReasonCode(StrEnum):
    """Why a row is rejected or excluded, or what was noted about it."""

    # -- rejections: the school must fix the row ------------------------------------
    MISSING_FIELD = "missing_field"
    MISSING_EMAIL = "missing_email"
    INVALID_EMAIL = "invalid_email"
    SHARED_EMAIL = "shared_email"
    INVALID_IDENTITY_CODE = "invalid_identity_code"
    CONFLICTING_DUPLICATE = "conflicting_duplicate"
    IMPOSSIBLE_DATE = "impossible_date"
    UNREADABLE_DATE = "unreadable_date"
    IMPLAUSIBLE_DATE = "implausible_date"
    INVALID_NAME = "invalid_name"
    UNKNOWN_SCHOOL = "unknown_school"
    AMBIGUOUS_SCHOOL = "ambiguous_school"
    UNKNOWN_LEVEL = "unknown_level"
    UNKNOWN_AUDIENCE = "unknown_audience"
    UNKNOWN_SUBJECT = "unknown_subject"
    UNKNOWN_CORE_ROLE = "unknown_core_role"
    TOO_LONG = "too_long"
    HIDDEN_CHARACTERS = "hidden_characters"
    IDENTITY_CONFLICT = "identity_conflict"
    # -- exclusions: a rule keeps the person out of this plan -----------------------
    SEPARATE_PLAN = "separate_plan"
    CORE_STAFF = "core_staff"
    EXEMPT = "exempt"
    REDUCED = "reduced"
    PREREQUISITE_MISSING = "prerequisite_missing"
    DUPLICATE_MERGED = "duplicate_merged"
    # -- notes: corrected or decided, not blocking ----------------------------------
    EMAIL_NORMALISED = "email_normalised"
    NAME_NORMALISED = "name_normalised"
    DATE_FROM_TEXT = "date_from_text"
    PHONE_NORMALISED = "phone_normalised"
    INVALID_PHONE = "invalid_phone"
    SCHOOL_NAME_MATCHED = "school_name_matched"
    UNKNOWN_GENDER = "unknown_gender"
    ROUTED_TO_PREREQUISITE = "routed_to_prerequisite"
    REDUCED_ENROLLED = "reduced_enrolled"
    REFERENCE_SUBJECT_ADDED = "reference_subject_added"
    REFERENCE_SUBJECT_DROPPED = "reference_subject_dropped"
    CORE_REFERENCE_ONLY = "core_reference_only"
    CORE_NOT_LISTED = "core_not_listed"

    @property
    def effect(self) -> Effect:
        return _EFFECTS.get(self, Effect.NOTE)

    @property
    def label(self) -> str:
        """Short Vietnamese label for summaries."""
        return _LABELS[self]


_REJECTIONS = {
    ReasonCode.MISSING_FIELD,
    ReasonCode.MISSING_EMAIL,
    ReasonCode.INVALID_EMAIL,
    ReasonCode.SHARED_EMAIL,
    ReasonCode.INVALID_IDENTITY_CODE,
    ReasonCode.CONFLICTING_DUPLICATE,
    ReasonCode.IMPOSSIBLE_DATE,
    ReasonCode.UNREADABLE_DATE,
    ReasonCode.IMPLAUSIBLE_DATE,
    ReasonCode.INVALID_NAME,
    ReasonCode.UNKNOWN_SCHOOL,
    ReasonCode.AMBIGUOUS_SCHOOL,
    ReasonCode.UNKNOWN_LEVEL,
    ReasonCode.UNKNOWN_AUDIENCE,
    ReasonCode.UNKNOWN_SUBJECT,
    ReasonCode.UNKNOWN_CORE_ROLE,
    ReasonCode.TOO_LONG,
    ReasonCode.HIDDEN_CHARACTERS,
    ReasonCode.IDENTITY_CONFLICT,
}
_EXCLUSIONS = {
    ReasonCode.SEPARATE_PLAN,
    ReasonCode.CORE_STAFF,
    ReasonCode.EXEMPT,
    ReasonCode.REDUCED,
    ReasonCode.PREREQUISITE_MISSING,
    ReasonCode.DUPLICATE_MERGED,
}
_EFFECTS = {code: Effect.REJECT for code in _REJECTIONS} | {
    code: Effect.EXCLUDE for code in _EXCLUSIONS
}

_LABELS = {
    ReasonCode.MISSING_FIELD: "Thiếu thông tin bắt buộc",
    ReasonCode.MISSING_EMAIL: "Thiếu email",
    ReasonCode.INVALID_EMAIL: "Email không hợp lệ",
    ReasonCode.SHARED_EMAIL: "Email trùng với người khác",
    ReasonCode.INVALID_IDENTITY_CODE: "Mã định danh không hợp lệ",
    ReasonCode.CONFLICTING_DUPLICATE: "Mã định danh trùng, thông tin khác nhau",
    ReasonCode.IMPOSSIBLE_DATE: "Ngày sinh không tồn tại",
    ReasonCode.UNREADABLE_DATE: "Ngày sinh không đọc được",
    ReasonCode.IMPLAUSIBLE_DATE: "Ngày sinh không hợp lý",
    ReasonCode.INVALID_NAME: "Họ và tên không hợp lệ",
    ReasonCode.UNKNOWN_SCHOOL: "Không tìm thấy đơn vị công tác",
    ReasonCode.AMBIGUOUS_SCHOOL: "Đơn vị công tác trùng tên nhiều trường",
    ReasonCode.UNKNOWN_LEVEL: "Cấp học không hợp lệ",
    ReasonCode.UNKNOWN_AUDIENCE: "Đối tượng không hợp lệ",
    ReasonCode.UNKNOWN_SUBJECT: "Môn không có trong danh mục",
    ReasonCode.UNKNOWN_CORE_ROLE: "Nhiệm vụ không hợp lệ",
    ReasonCode.TOO_LONG: "Thông tin quá dài",
    ReasonCode.HIDDEN_CHARACTERS: "Có ký tự ẩn hoặc ký tự điều khiển",
    ReasonCode.IDENTITY_CONFLICT: "Mã định danh trùng với người khác ở danh sách kia",
    ReasonCode.SEPARATE_PLAN: "Môn bồi dưỡng theo kế hoạch riêng (Tiếng Anh)",
    ReasonCode.CORE_STAFF: "Cốt cán của môn (báo cáo viên, trợ giảng)",
    ReasonCode.EXEMPT: "Miễn bồi dưỡng",
    ReasonCode.REDUCED: "Giảm bồi dưỡng (không ghi danh)",
    ReasonCode.PREREQUISITE_MISSING: "Chưa hoàn thành MĐ 1, 2, 3 (không ghi danh)",
    ReasonCode.DUPLICATE_MERGED: "Dòng trùng lặp, đã gộp",
    ReasonCode.EMAIL_NORMALISED: "Email đã chuẩn hoá",
    ReasonCode.NAME_NORMALISED: "Họ và tên đã chuẩn hoá",
    ReasonCode.DATE_FROM_TEXT: "Ngày sinh nhập dạng chữ, đã đọc",
    ReasonCode.PHONE_NORMALISED: "Số điện thoại đã chuẩn hoá",
    ReasonCode.INVALID_PHONE: "Số điện thoại không hợp lệ, đã bỏ",
    ReasonCode.SCHOOL_NAME_MATCHED: "Tên đơn vị ghi khác, đã khớp",
    ReasonCode.UNKNOWN_GENDER: "Giới tính không rõ, đã bỏ",
    ReasonCode.ROUTED_TO_PREREQUISITE: "Học MĐ 1, 2, 3 trước",
    ReasonCode.REDUCED_ENROLLED: "Giảm bồi dưỡng (vẫn ghi danh)",
    ReasonCode.REFERENCE_SUBJECT_ADDED: "Thêm môn tham khảo (kiêm nhiệm)",
    ReasonCode.REFERENCE_SUBJECT_DROPPED: "Môn tham khảo chưa xếp",
    ReasonCode.CORE_REFERENCE_ONLY: "Cốt cán: chỉ học môn tham khảo",
    ReasonCode.CORE_NOT_LISTED: "Cốt cán chưa có trong danh sách báo cáo viên",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code and the full Vietnamese message for this row."""

    code: ReasonCode
    message: str

    def __str__(self) -> str:
        return self.message


def reason(code: ReasonCode, message: str | None = None) -> Reason:
    """A reason with its message; the code's label when no specific message is given."""
    return Reason(code, message if message is not None else code.label)


def status_of(reasons: Iterable[Reason]) -> Status:
    """Any rejection -> rejected; else any exclusion -> excluded; else imported."""
    status = Status.IMPORTED
    for item in reasons:  # twice per row: no set built, stops at the first rejection
        effect = item.code.effect
        if effect is Effect.REJECT:
            return Status.REJECTED
        if effect is Effect.EXCLUDE:
            status = Status.EXCLUDED
    return status
