"""The result model of a roster import: plain, frozen, documented.

These are what the database store and the class allocation consume. Codes and enum
values are English (stable identifiers); labels shown to users are Vietnamese.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from roster.reasons import Effect, Reason, ReasonCode, Status

__all__ = [
    "Audience",
    "CellValue",
    "CoreRole",
    "CoreStaff",
    "Exemption",
    "ExemptionKind",
    "Gender",
    "ImportResult",
    "Learner",
    "Level",
    "RowOutcome",
    "RowSource",
    "School",
    "Track",
]

_Class = TypeVar("_Class", bound=type[Any])


def quick_init(cls: _Class) -> _Class:
    """Give a frozen, slotted dataclass an ``__init__`` that fills its slots directly.

    The one ``dataclass`` writes calls ``object.__setattr__`` once per field (frozen
    classes forbid plain assignment): 5 µs for a learner's 25 fields, a second on a
    province's roster. This one calls each slot's own setter instead, about twice as
    fast; the signature (names, order, defaults) and everything else stay the
    dataclass's. Only for classes without ``default_factory`` or ``__post_init__``.
    """
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(
        f.default_factory is not dataclasses.MISSING or not f.init for f in fields
    ):
        raise TypeError(f"quick_init cannot build {cls.__name__}")
    scope: dict[str, Any] = {}
    params, body = [], []
    for number, one in enumerate(fields):
        scope[f"_set{number}"] = getattr(cls, one.name).__set__
        if one.default is dataclasses.MISSING:
            params.append(one.name)
        else:
            scope[f"_default{number}"] = one.default
            params.append(f"{one.name}=_default{number}")
        body.append(f"    _set{number}(self, {one.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(source, scope)  # noqa: S102 - generated from field names, as dataclasses does
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init
    return cls


CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None
"""A value as read from a spreadsheet cell (or a CSV field, always ``str``)."""


class Level(StrEnum):
    """School level (cấp học)."""

    PRESCHOOL = "MN"  # Mầm non
    PRIMARY = "TH"  # Tiểu học
    LOWER_SECONDARY = "THCS"  # Trung học cơ sở
    UPPER_SECONDARY = "THPT"  # Trung học phổ thông


class Audience(StrEnum):
    """Learner audience (đối tượng): the module version they take."""

    MANAGER = "CBQL"  # cán bộ quản lí: takes the managers' version
    TEACHER = "GV"  # giáo viên: takes the version of their main subject


class Gender(StrEnum):
    MALE = "Nam"
    FEMALE = "Nữ"


class Track(StrEnum):
    """What an imported learner is enrolled in."""

    MAIN = "main"
    """The year's modules (4, 5, 9 in 2023) in their main subject or the managers' version."""
    PREREQUISITE = "modules_1_2_3"
    """Modules 1, 2, 3 first: they have not completed them yet."""
    REFERENCE_ONLY = "reference_only"
    """Core staff of their subject: only the reference (concurrent) subjects."""


class CoreRole(StrEnum):
    """Role of a core staff member towards a class."""

    REPORTER = "Báo cáo viên"
    ASSISTANT = "Trợ giảng"


class ExemptionKind(StrEnum):
    """Why someone is exempt (miễn) or has a reduced programme (giảm), from ``Ghi chú``."""

    RETIRING = "retiring"  # miễn: nghỉ hưu trong năm học
    STUDY_LEAVE = "study_leave"  # miễn: đi học tập trung dài hạn
    PROVINCIAL_CORE = "provincial_core"  # miễn: cốt cán cấp tỉnh tham gia bồi dưỡng
    MATERNITY = "maternity"  # giảm: nghỉ thai sản
    LONG_ILLNESS = "long_illness"  # giảm: ốm dài ngày (có giấy xác nhận)

    @property
    def is_exempt(self) -> bool:
        """True for miễn (not trained at all); False for giảm (reduced)."""
        return self in (self.RETIRING, self.STUDY_LEAVE, self.PROVINCIAL_CORE)

    @property
    def label(self) -> str:
        """Vietnamese label."""
        return _EXEMPTION_LABELS[self]


_EXEMPTION_LABELS = {
    ExemptionKind.RETIRING: "Miễn: nghỉ hưu trong năm học",
    ExemptionKind.STUDY_LEAVE: "Miễn: đi học tập trung dài hạn",
    ExemptionKind.PROVINCIAL_CORE: "Miễn: cốt cán cấp tỉnh",
    ExemptionKind.MATERNITY: "Giảm: nghỉ thai sản",
    ExemptionKind.LONG_ILLNESS: "Giảm: ốm dài ngày",
}


@dataclass(frozen=True, slots=True)
class School:
    """One school or centre of the province's list (``truong.xlsx``)."""

    code: str  # Mã trường, e.g. "BP0012"
    name: str  # Tên trường, NFC, as in the list
    kind: str  # Loại hình: "THCS", "TH&THCS", "THCS&THPT", "THPT", "GDNN-GDTX", ...
    district: str  # Huyện/Thị xã/Thành phố
    cluster: str  # Cụm trường: virtual-class meetings are held per cluster


@quick_init
@dataclass(frozen=True, slots=True)
class RowSource:
    """Where a row came from: file name, sheet (``None`` for CSV) and 1-based row number."""

    file: str
    sheet: str | None
    row: int

    def __str__(self) -> str:
        where = f"{self.file}" + (f" [{self.sheet}]" if self.sheet else "")
        return f"{where} dòng {self.row}"


@quick_init
@dataclass(frozen=True, slots=True)
class Exemption:
    """A person exempt (miễn) or reduced (giảm), kept with the school's reason."""

    identity_code: str
    full_name: str
    school_code: str | None
    level: Level | None
    audience: Audience | None
    subject: str | None
    kind: ExemptionKind
    note: str  # the school's own words (Ghi chú), NFC
    source: RowSource


@quick_init
@dataclass(frozen=True, slots=True)
class Learner:
    """One person to enrol, normalised.

    ``lastname`` holds family and middle names (họ và tên đệm), ``firstname`` the given
    name (tên), as Moodle wants them. ``subject`` is the canonical main subject ("Quản lí"
    for managers). ``reference_subjects`` are extra, uncertified enrolments (môn tham khảo),
    e.g. HĐTNHN for module 4.
    """

    identity_code: str  # Mã định danh, 10 digits
    full_name: str
    lastname: str
    firstname: str
    birth_date: dt.date | None
    gender: Gender | None
    email: str  # trimmed, lower case, unique among learners
    phone: str | None  # 0xxxxxxxxx
    school_code: str
    school_name: str
    district: str
    cluster: str
    level: Level
    audience: Audience
    position: str  # Chức vụ, e.g. "Hiệu trưởng", "Giáo viên"
    subject: str
    track: Track
    core_staff: bool  # marked core (Cốt cán) or listed in the reporters' file
    modules_123_done: bool
    hdtnhn_concurrent: bool  # Kiêm nhiệm HĐTNHN (MĐ 4)
    reduction: ExemptionKind | None  # giảm: maternity / long illness, still enrolled
    note: str  # Ghi chú, NFC
    reference_subjects: tuple[str, ...]
    source: RowSource


@quick_init
@dataclass(frozen=True, slots=True)
class CoreStaff:
    """A core staff member (cốt cán): reporter or assistant of classes of their subject.

    ``role`` is ``None`` for someone marked ``Cốt cán`` in the learners' list but missing
    from the reporters' file (role not assigned yet).
    """

    identity_code: str
    full_name: str
    lastname: str
    firstname: str
    email: str | None
    phone: str | None
    school_code: str | None
    cluster: str | None  # the school's cluster, to keep reporters near their classes
    level: Level
    subject: str  # canonical; "Quản lí" for managers' classes
    role: CoreRole | None
    source: RowSource


@quick_init
@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What became of one input row: exactly one status, its reasons, its original values.

    ``columns`` are the original header texts (shared by all rows of a sheet) and
    ``values`` the row's original cell values, aligned with them, so a report can give
    the school its own row back.
    """

    source: RowSource
    status: Status
    reasons: tuple[Reason, ...]
    columns: tuple[str, ...]
    values: tuple[CellValue, ...]
    identity_code: str | None = None  # normalised, when it could be read

    @property
    def blocking_reasons(self) -> tuple[Reason, ...]:
        """The reasons that decided the status (rejections, else exclusions)."""
        effect = {Status.REJECTED: Effect.REJECT, Status.EXCLUDED: Effect.EXCLUDE}.get(self.status)
        return tuple(r for r in self.reasons if r.code.effect is effect)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """All rows of one import, each in exactly one status, and what was imported."""

    outcomes: tuple[RowOutcome, ...]
    learners: tuple[Learner, ...]
    core_staff: tuple[CoreStaff, ...]
    exemptions: tuple[Exemption, ...]
    schools: tuple[School, ...] = field(default=())
    notices: tuple[str, ...] = field(default=())
    """File-level remarks in Vietnamese (unknown columns, assumed values): shown with the
    summary, in the report and in ``--json`` output; they block nothing."""

    @property
    def rows_read(self) -> int:
        return len(self.outcomes)

    def status_counts(self) -> dict[Status, int]:
        """Rows per status; every status present, the sum is ``rows_read``."""
        counts = Counter(o.status for o in self.outcomes)
        return {status: counts.get(status, 0) for status in Status}

    def reason_counts(self) -> dict[ReasonCode, int]:
        """Rows carrying each reason code (a row counts once per code)."""
        counts: Counter[ReasonCode] = Counter()
        for outcome in self.outcomes:
            counts.update({r.code for r in outcome.reasons})
        return dict(counts)

    def reason_counts_by_status(self) -> dict[tuple[Status, ReasonCode], int]:
        """Rows per (status, reason code)."""
        counts: Counter[tuple[Status, ReasonCode]] = Counter()
        for outcome in self.outcomes:
            counts.update({(outcome.status, r.code) for r in outcome.reasons})
        return dict(counts)

    def learner_counts(self) -> dict[tuple[Level, Audience, Track], int]:
        """Imported learners per (level, audience, track)."""
        return dict(Counter((x.level, x.audience, x.track) for x in self.learners))
