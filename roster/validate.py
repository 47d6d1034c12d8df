"""Validating one row at a time (pure): raw values -> a normalised record + reasons.

Nothing here looks at other rows; duplicates and shared e-mails are found in
``roster.crosscheck``. Every problem becomes a ``Reason`` (never an exception), so each
row can end in exactly one status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter
from typing import Any, TypeVar

from roster.headers import Field, HeaderMap
from roster.model import Audience, CellValue, CoreRole, Gender, Level, School, quick_init
from roster.normalize import (
    DateError,
    is_valid_email,
    is_valid_identity_code,
    normalize_email,
    normalize_full_name,
    normalize_identity_code,
    normalize_phone,
    parse_audience,
    parse_birth_date,
    parse_flag,
    parse_gender,
    parse_level,
    split_full_name,
)
from roster.readers import RawRow
from roster.reasons import Reason, ReasonCode, reason
from roster.schools import SchoolIndex, school_key
from roster.subjects import MANAGEMENT, SubjectCatalog
from roster.text import cell_text, clean_text, fold, hidden_characters

__all__ = [
    "MAX_LENGTHS",
    "ParsedRow",
    "PersonRecord",
    "RowContext",
    "ValidationRules",
    "validate_core_staff_row",
    "validate_learner_row",
]


MAX_LENGTHS = {
    "lastname": 100,  # Moodle's user.lastname
    "firstname": 100,  # Moodle's user.firstname
    "email": 100,  # Moodle's user.email
    "username": 100,  # Moodle's user.username
    "identity_code": 32,  # the state database's key (Moodle's user.idnumber allows 255)
    "position": 128,  # the state database's person.position
}
"""What the software sends or stores, at most (characters); longer values are rejected
at import, with the reason, rather than refused by Moodle or the database at apply."""
USERNAME_SUFFIX_ROOM = 3
"""A username taken on the site gets 2, 3, ... appended: keep room for it."""
_DEFAULT_USERNAME = "{email_local}"
_MOBILE = re.compile(r"^0[35789]\d{8}$")  # as roster.normalize's: taken as it is


@dataclass(frozen=True, slots=True)
class ValidationRules:
    """Configurable checks, with the Bình Phước 2023 defaults."""

    identity_code_digits: int = 10
    min_age: int = 18
    max_age: int = 70
    subject_aliases: Mapping[str, str] = field(default_factory=dict)
    """Extra subject spellings -> subject name (added to the built-in catalogue)."""
    username_pattern: str = _DEFAULT_USERNAME
    """``[provisioning] username_pattern``: the usernames made must fit Moodle's limit."""
    assume_modules_123: bool | None = None
    """What a learners' list without the ``Đã hoàn thành MĐ 1, 2, 3`` column means:
    ``True`` done, ``False`` not done, ``None`` the list is refused (a file error)."""


class _Memo:
    """Checks already made, by raw cell text (or ``None``), for the columns whose values
    repeat (gender, school, level, audience, position, subject, flags, note, birth date):
    what each gave (value, comparable text, reasons), replayed on the next equal value."""

    __slots__ = ("by_check", "last_plan", "plans")

    def __init__(self) -> None:
        self.by_check: dict[object, dict[Hashable, Any]] = {}
        self.plans: dict[int, tuple[HeaderMap, _LearnerPlan]] = {}
        self.last_plan: tuple[HeaderMap, _LearnerPlan] | None = None


_Entry = tuple[Any, str, tuple["Reason", ...]]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class RowContext:
    """What validating a row needs besides the row: schools, subjects, rules, today."""

    schools: SchoolIndex
    subjects: SubjectCatalog
    rules: ValidationRules
    today: dt.date
    memo: _Memo = field(default_factory=_Memo, init=False, repr=False, compare=False)
    """Results of the checks that depend on one repeated value and this context only."""


@quick_init
@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A row's values, normalised; a value that could not be read is empty/``None``.

    ``identity_code`` and ``email`` keep their normalised text even when invalid (for
    duplicate detection and messages); ``identity_ok``/``email_ok`` say if they are valid.
    ``comparable`` is the whole record as text (field labels in ``comparable_labels``),
    used to tell exact duplicates apart from conflicting ones.
    """

    identity_code: str
    identity_ok: bool
    full_name: str
    lastname: str
    firstname: str
    birth_date: dt.date | None
    gender: Gender | None
    email: str
    email_ok: bool
    phone: str | None
    school: School | None
    level: Level | None
    audience: Audience | None
    position: str
    subject: str | None
    core_flag: bool
    modules_123_done: bool
    hdtnhn_concurrent: bool
    note: str
    core_role: CoreRole | None
    comparable: tuple[str, ...]
    comparable_labels: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A raw row, its normalised record and the reasons found on the row alone."""

    raw: RawRow
    record: PersonRecord
    reasons: tuple[Reason, ...]


# The fields compared, in the order the checks below compare them (every path of each
# check compares its field once): one labels tuple shared by all rows of a list.
_LEARNER_COMPARED = (
    Field.FULL_NAME,
    Field.BIRTH_DATE,
    Field.GENDER,
    Field.EMAIL,
    Field.PHONE,
    Field.SCHOOL,
    Field.LEVEL,
    Field.AUDIENCE,
    Field.POSITION,
    Field.SUBJECT,
    Field.CORE_STAFF,
    Field.MODULES_123_DONE,
    Field.HDTNHN_CONCURRENT,
    Field.NOTE,
)
_CORE_COMPARED = (
    Field.FULL_NAME,
    Field.EMAIL,
    Field.PHONE,
    Field.SCHOOL,
    Field.LEVEL,
    Field.SUBJECT,
    Field.CORE_ROLE,
    Field.NOTE,
)
_LEARNER_LABELS = tuple(f.label for f in _LEARNER_COMPARED)
_CORE_LABELS = tuple(f.label for f in _CORE_COMPARED)
_TEXT_CHECKS = {f: ("text", f) for f in Field}  # the memo of each check (see _Checker.remembered)
_FLAG_CHECKS = {f: ("flag", f) for f in Field}
_NO_KEY = object()  # a value not worth remembering checks by (not text, not empty)


def _odd_name(name: str) -> bool:
    """A digit, ``@``, ``_``, ``/`` or ``\\`` in a name (letters and spaces: at once)."""
    if name.replace(" ", "").isalpha():
        return False
    return any(c.isdigit() or c in "@_/\\" for c in name)


class _Checker:
    """Collects the reasons of one row while its fields are normalised."""

    def __init__(self, raw: RawRow, context: RowContext) -> None:
        self.raw = raw
        self.values = raw.values
        self.index = raw.header.index
        self.context = context
        self.reasons: list[Reason] = []
        self.comparable: list[str] = []
        self.memos = context.memo.by_check

    def get(self, field_: Field) -> CellValue:
        """``raw.get(field_)``, inlined (about 20 calls a row)."""
        index = self.index.get(field_)
        values = self.values
        return None if index is None or index >= len(values) else values[index]

    def add(self, code: ReasonCode, message: str | None = None) -> None:
        self.reasons.append(reason(code, message))

    def compare(self, field_: Field, value: object) -> None:
        """Note ``field_``'s value for telling duplicates apart (see ``_LEARNER_COMPARED``)."""
        self.comparable.append("" if value is None else str(value))

    def remembered(self, check: object, key: object, compute: Callable[[], _T]) -> _T:
        """``compute()``, a check that compares one field and depends on ``key`` alone,
        made once per key: its result, comparable text and reasons are replayed for every
        equal key. ``key`` must be text or ``None`` (a number, date or boolean could equal
        a value of another type: 1 == 1.0 == True), else the check is simply made."""
        if key is _NO_KEY:
            return compute()
        memo = self.memos.get(check)
        entry = None if memo is None else memo.get(key)
        if entry is None:
            entry = self._remember(check, key, compute)
        self.comparable.append(entry[1])
        if entry[2]:
            self.reasons.extend(entry[2])
        return entry[0]  # type: ignore[no-any-return]

    def remembered_field(self, check: object, field_: Field, compute: Callable[[], _T]) -> _T:
        """``remembered`` with ``field_``'s raw value as the key (the usual case, inlined)."""
        index = self.index.get(field_)
        values = self.values
        value = None if index is None or index >= len(values) else values[index]
        if type(value) is not str and value is not None:
            return compute()
        memo = self.memos.get(check)
        entry = None if memo is None else memo.get(value)
        if entry is None:
            entry = self._remember(check, value, compute)
        self.comparable.append(entry[1])
        if entry[2]:
            self.reasons.extend(entry[2])
        return entry[0]  # type: ignore[no-any-return]

    def _remember(self, check: object, key: Hashable, compute: Callable[[], object]) -> _Entry:
        """Make the check with reasons and comparable texts of its own, and keep them."""
        reasons, comparable = self.reasons, self.comparable
        self.reasons, self.comparable = [], []
        try:
            result = compute()
            (compared,) = self.comparable
            entry = (result, compared, tuple(self.reasons))
        finally:
            self.reasons, self.comparable = reasons, comparable
        self.memos.setdefault(check, {})[key] = entry
        return entry

    def categories(self, plan: _LearnerPlan) -> _Categories:
        """A learner's level, audience, position, subject, three flags and note: about
        400 combinations on a province's 120,000 rows, checked once each (their eight
        comparable texts and their reasons replayed)."""
        key = plan.key(self.values)
        memo = self.memos.get(plan.categories_check)
        entry = None if memo is None or key is None else memo.get(key)
        if entry is None:
            reasons, comparable = self.reasons, self.comparable
            self.reasons, self.comparable = [], []
            try:
                entry = (self._categories(), tuple(self.comparable), tuple(self.reasons))
            finally:
                self.reasons, self.comparable = reasons, comparable
            if key is not None and all(type(v) is str or v is None for v in key):
                self.memos.setdefault(plan.categories_check, {})[key] = entry
        self.comparable.extend(entry[1])
        if entry[2]:
            self.reasons.extend(entry[2])
        return entry[0]

    def _categories(self) -> _Categories:
        level = self.level()
        audience = self.audience()
        position = self.position()
        subject = self.subject(audience)
        assumed = self.context.rules.assume_modules_123 is not False
        return (
            level,
            audience,
            position,
            subject,
            self.flag(Field.CORE_STAFF, absent=False),
            self.flag(Field.MODULES_123_DONE, absent=assumed),
            self.flag(Field.HDTNHN_CONCURRENT, absent=False),
            clean_text(self.text(Field.NOTE)),
        )

    def key(self, field_: Field) -> object:
        """The memo key of ``field_``'s raw value (see ``remembered``)."""
        index = self.index.get(field_)
        values = self.values
        value = None if index is None or index >= len(values) else values[index]
        return value if type(value) is str or value is None else _NO_KEY

    def missing(self, field_: Field) -> None:
        self.add(ReasonCode.MISSING_FIELD, f"Thiếu {field_.label}")

    # -- fields ---------------------------------------------------------------------

    def hidden(self, field_: Field) -> bool:
        """Reject a value whose invisible or control characters would be removed: for an
        identity code or an e-mail, a silently changed value may be someone else's."""
        value = self.get(field_)
        found = hidden_characters(value) if isinstance(value, str) else []
        if found:
            self.add(
                ReasonCode.HIDDEN_CHARACTERS,
                f"{field_.label} có ký tự ẩn hoặc ký tự điều khiển ({', '.join(found)}): "
                "hãy gõ lại giá trị này",
            )
        return bool(found)

    def too_long(self, what: str, label: str, value: str, limit: int | None = None) -> bool:
        limit = limit if limit is not None else MAX_LENGTHS[what]
        if len(value) <= limit:
            return False
        self.add(
            ReasonCode.TOO_LONG,
            f"{label} quá dài: {len(value)} ký tự, tối đa {limit} ký tự ({value[:30]}…)",
        )
        return True

    def identity_code(self) -> tuple[str, bool]:
        value = self.get(Field.IDENTITY_CODE)
        if _plain_identity_code(value, self.context.rules):
            return value, True  # type: ignore[return-value]  # text, per the check
        return self._identity_code()

    def _identity_code(self) -> tuple[str, bool]:
        hidden = self.hidden(Field.IDENTITY_CODE)
        code = normalize_identity_code(self.get(Field.IDENTITY_CODE))
        digits = self.context.rules.identity_code_digits
        ok = is_valid_identity_code(code, digits) and not hidden
        if self.too_long("identity_code", Field.IDENTITY_CODE.label, code):
            return "", False  # not a code that can be stored or compared
        if not code:
            self.missing(Field.IDENTITY_CODE)
        elif hidden:
            pass
        elif not ok:
            self.add(
                ReasonCode.INVALID_IDENTITY_CODE,
                f"Mã định danh phải có {digits} chữ số: {code}",
            )
        return code, ok

    def full_name(self) -> tuple[str, str, str]:
        key = self.key(Field.FULL_NAME) if self.raw.has(Field.FULL_NAME) else _NO_KEY
        return self.remembered("full_name", key, self._full_name)

    def _full_name(self) -> tuple[str, str, str]:
        raw_name = self.get(Field.FULL_NAME)
        if not self.raw.has(Field.FULL_NAME):
            family = cell_text(self.get(Field.FAMILY_MIDDLE_NAME))
            raw_name = f"{family} {cell_text(self.get(Field.GIVEN_NAME))}"
        name = normalize_full_name(raw_name)
        self.compare(Field.FULL_NAME, name)
        if not name:
            self.missing(Field.FULL_NAME)
            return "", "", ""
        lastname, firstname = split_full_name(name)
        if not lastname or _odd_name(name):
            self.add(ReasonCode.INVALID_NAME, f"Họ và tên không hợp lệ (cần cả họ và tên): {name}")
        elif self.too_long("lastname", "Họ và tên đệm", lastname) | self.too_long(
            "firstname", "Tên", firstname
        ):
            pass
        elif isinstance(raw_name, str) and hidden_characters(raw_name):
            found = ", ".join(hidden_characters(raw_name))
            self.add(
                ReasonCode.NAME_NORMALISED,
                f"Họ và tên có ký tự ẩn hoặc ký tự điều khiển ({found}), đã bỏ: “{name}”",
            )
        elif isinstance(raw_name, str) and raw_name != name:
            self.add(ReasonCode.NAME_NORMALISED, f"Họ và tên đã chuẩn hoá: “{name}”")
        return name, lastname, firstname

    def birth_date(self) -> dt.date | None:
        value = self.get(Field.BIRTH_DATE)
        key = value if type(value) in (str, dt.datetime) or value is None else _NO_KEY
        return self.remembered("birth_date", key, self._birth_date)

    def _birth_date(self) -> dt.date | None:
        value = self.get(Field.BIRTH_DATE)
        parsed = parse_birth_date(value)
        shown = "" if parsed.value else cell_text(value)  # the text, for messages only
        self.compare(Field.BIRTH_DATE, parsed.value.isoformat() if parsed.value else shown)
        if parsed.error is DateError.MISSING:
            return None
        if parsed.error is DateError.IMPOSSIBLE:
            self.add(ReasonCode.IMPOSSIBLE_DATE, f"Ngày sinh không tồn tại: {shown}")
            return None
        if parsed.error is DateError.UNREADABLE or parsed.value is None:
            self.add(
                ReasonCode.UNREADABLE_DATE, f"Ngày sinh không đọc được (cần dd/mm/yyyy): {shown}"
            )
            return None
        born = parsed.value
        today = self.context.today
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        rules = self.context.rules
        if not rules.min_age <= age <= rules.max_age:
            self.add(
                ReasonCode.IMPLAUSIBLE_DATE,
                f"Ngày sinh không hợp lý ({age} tuổi): {born:%d/%m/%Y}",
            )
            return None
        if parsed.from_text:
            self.add(ReasonCode.DATE_FROM_TEXT, f"Ngày sinh nhập dạng chữ, đã đọc: {born:%d/%m/%Y}")
        return born

    def gender(self) -> Gender | None:
        return self.remembered_field("gender", Field.GENDER, self._gender)

    def _gender(self) -> Gender | None:
        value = self.get(Field.GENDER)
        gender = parse_gender(value)
        self.compare(Field.GENDER, gender or cell_text(value))
        if gender is None and cell_text(value):
            self.add(ReasonCode.UNKNOWN_GENDER, f"Giới tính không rõ, đã bỏ: {cell_text(value)}")
        return gender

    def email(self, identity_code: str) -> tuple[str, bool]:
        value = self.get(Field.EMAIL)
        if _plain_email(value, self.context.rules):
            self.comparable.append(value)  # type: ignore[arg-type]  # text, per the check
            return value, True  # type: ignore[return-value]
        return self._email(value, identity_code)

    def _email(self, value: CellValue, identity_code: str) -> tuple[str, bool]:
        email = normalize_email(value)
        self.compare(Field.EMAIL, email)
        if not email:
            self.add(ReasonCode.MISSING_EMAIL, "Thiếu email")
            return "", False
        if self.hidden(Field.EMAIL):
            return email, False
        if self.too_long("email", Field.EMAIL.label, email):
            return email, False
        if not is_valid_email(email):
            self.add(ReasonCode.INVALID_EMAIL, f"Email không hợp lệ: {email}")
            return email, False
        if self.username_too_long(email, identity_code):
            return email, False
        if value != email:
            self.add(ReasonCode.EMAIL_NORMALISED, f"Email đã chuẩn hoá: “{value}” → “{email}”")
        return email, True

    def username_too_long(self, email: str, identity_code: str) -> bool:
        """The username made from ``[provisioning] username_pattern`` must fit Moodle."""
        local = email.split("@", 1)[0]
        try:
            username = self.context.rules.username_pattern.format(
                email_local=local, identity=identity_code
            )
        except (KeyError, IndexError, ValueError):
            return False  # the setting itself is checked where it is loaded
        limit = MAX_LENGTHS["username"] - USERNAME_SUFFIX_ROOM
        return self.too_long("username", "Tên đăng nhập tạo từ email", username, limit)

    def phone(self) -> str | None:
        value = self.get(Field.PHONE)
        if _plain_phone(value):
            self.comparable.append(value)  # type: ignore[arg-type]  # text, per the check
            return value  # type: ignore[return-value]
        return self._phone(value)

    def _phone(self, value: CellValue) -> str | None:
        shown = cell_text(value)
        phone = normalize_phone(value) if shown else None
        self.compare(Field.PHONE, phone or shown)
        if shown and phone is None:
            self.add(ReasonCode.INVALID_PHONE, f"Số điện thoại không hợp lệ, đã bỏ: {shown}")
        elif phone is not None and value != phone:
            self.add(ReasonCode.PHONE_NORMALISED, f"Số điện thoại đã chuẩn hoá: {shown} → {phone}")
        return phone

    def school(self, *, required: bool) -> School | None:
        typed, district = self.key(Field.SCHOOL), self.key(Field.DISTRICT)
        key = _NO_KEY if typed is _NO_KEY or district is _NO_KEY else (typed, district)
        compute = self._required_school if required else self._optional_school
        return self.remembered(compute.__name__, key, compute)

    def required_school(self) -> School | None:
        return self.school(required=True)

    def _required_school(self) -> School | None:
        return self._school(required=True)

    def _optional_school(self) -> School | None:
        return self._school(required=False)

    def _school(self, *, required: bool) -> School | None:
        typed = cell_text(self.get(Field.SCHOOL))
        district = cell_text(self.get(Field.DISTRICT))
        if not typed:
            self.compare(Field.SCHOOL, "")
            if required:
                self.missing(Field.SCHOOL)
            return None
        found = self.context.schools.match(typed, district)
        self.compare(Field.SCHOOL, found.school.code if found.school else school_key(typed))
        if found.ambiguous:
            codes = ", ".join(s.code for s in found.candidates)
            self.add(
                ReasonCode.AMBIGUOUS_SCHOOL,
                f"Đơn vị công tác trùng tên nhiều trường ({codes}), cần ghi rõ: {typed}",
            )
        elif found.school is None:
            self.add(
                ReasonCode.UNKNOWN_SCHOOL,
                f"Không tìm thấy đơn vị công tác trong danh sách trường: {typed}",
            )
        elif not found.exact:
            school = found.school
            self.add(
                ReasonCode.SCHOOL_NAME_MATCHED,
                f"Đơn vị công tác “{typed}” được hiểu là “{school.name}” ({school.code})",
            )
        return found.school

    def level(self) -> Level | None:
        return self.remembered_field("level", Field.LEVEL, self._level)

    def _level(self) -> Level | None:
        value = cell_text(self.get(Field.LEVEL))
        level = parse_level(value)
        self.compare(Field.LEVEL, level or fold(value))
        if not value:
            self.missing(Field.LEVEL)
        elif level is None:
            self.add(ReasonCode.UNKNOWN_LEVEL, f"Cấp học không hợp lệ: {value}")
        return level

    def audience(self) -> Audience | None:
        return self.remembered_field("audience", Field.AUDIENCE, self._audience)

    def _audience(self) -> Audience | None:
        value = cell_text(self.get(Field.AUDIENCE))
        audience = parse_audience(value)
        self.compare(Field.AUDIENCE, audience or fold(value))
        if not value:
            self.missing(Field.AUDIENCE)
        elif audience is None:
            self.add(ReasonCode.UNKNOWN_AUDIENCE, f"Đối tượng không hợp lệ (CBQL hoặc GV): {value}")
        return audience

    def subject(self, audience: Audience | None) -> str | None:
        key = self.key(Field.SUBJECT)
        key = (key, audience) if key is not _NO_KEY else key
        return self.remembered("subject", key, lambda: self._subject(audience))

    def _subject(self, audience: Audience | None) -> str | None:
        value = cell_text(self.get(Field.SUBJECT))
        subject = self.context.subjects.canonical(value)
        if not value and audience is Audience.MANAGER:
            subject = MANAGEMENT
        self.compare(Field.SUBJECT, subject or fold(value))
        if subject is None and not value:
            self.missing(Field.SUBJECT)
        elif subject is None:
            self.add(ReasonCode.UNKNOWN_SUBJECT, f"Môn không có trong danh mục: {value}")
        return subject

    def core_role(self) -> CoreRole | None:
        return self.remembered_field("core_role", Field.CORE_ROLE, self._core_role)

    def _core_role(self) -> CoreRole | None:
        value = cell_text(self.get(Field.CORE_ROLE))
        role = {"bao cao vien": CoreRole.REPORTER, "tro giang": CoreRole.ASSISTANT}.get(fold(value))
        self.compare(Field.CORE_ROLE, role or fold(value))
        if not value:
            self.missing(Field.CORE_ROLE)
        elif role is None:
            self.add(
                ReasonCode.UNKNOWN_CORE_ROLE,
                f"Nhiệm vụ không hợp lệ (Báo cáo viên hoặc Trợ giảng): {value}",
            )
        return role

    def text(self, field_: Field) -> str:
        return self.remembered_field(_TEXT_CHECKS[field_], field_, lambda: self._text(field_))

    def _text(self, field_: Field) -> str:
        value = cell_text(self.get(field_))
        self.compare(field_, value)
        return value

    def position(self) -> str:
        return self.remembered_field("position", Field.POSITION, self._position)

    def _position(self) -> str:
        value = self._text(Field.POSITION)
        self.too_long("position", Field.POSITION.label, value)
        return value

    def flag(self, field_: Field, *, absent: bool) -> bool:
        """A yes/no column; ``absent`` is the value when the sheet lacks the column."""
        if not self.raw.has(field_):
            self.compare(field_, "x" if absent else "")
            return absent
        return self.remembered_field(_FLAG_CHECKS[field_], field_, lambda: self._flag(field_))

    def _flag(self, field_: Field) -> bool:
        flag = parse_flag(self.get(field_))
        self.compare(field_, "x" if flag else "")
        return flag


def _plain_identity_code(value: CellValue, rules: ValidationRules) -> bool:
    """A code that is already what ``_Checker.identity_code`` makes of it, without reason."""
    digits = rules.identity_code_digits
    return (
        type(value) is str
        and len(value) == digits <= MAX_LENGTHS["identity_code"]
        and value.isdigit()
        and value.isascii()
    )


def _plain_email(value: CellValue, rules: ValidationRules) -> bool:
    """An address that is already what ``_Checker.email`` makes of it, valid, no reason:
    plain ASCII, no space, lower case, short enough, with the default username."""
    return (
        type(value) is str
        and len(value) <= MAX_LENGTHS["email"]
        and value.isascii()
        and value.isprintable()
        and " " not in value
        and value.lower() == value
        and not value.startswith("mailto:")
        and is_valid_email(value)
        and rules.username_pattern == _DEFAULT_USERNAME
        and value.index("@") <= MAX_LENGTHS["username"] - USERNAME_SUFFIX_ROOM
    )


def _plain_phone(value: CellValue) -> bool:
    """A mobile number written as ``normalize_phone`` writes it (nothing to report)."""
    return (
        type(value) is str and len(value) == 10 and value.isascii() and bool(_MOBILE.match(value))
    )


_CATEGORY_FIELDS = (
    Field.LEVEL,
    Field.AUDIENCE,
    Field.POSITION,
    Field.SUBJECT,
    Field.CORE_STAFF,
    Field.MODULES_123_DONE,
    Field.HDTNHN_CONCURRENT,
    Field.NOTE,
)
_Categories = tuple[Level | None, Audience | None, str, str | None, bool, bool, bool, str]


class _LearnerPlan:
    """Where a learners' sheet holds each field: read once per header, used per row."""

    __slots__ = (
        "birth_date",
        "categories",
        "categories_check",
        "district",
        "email",
        "full_name",
        "gender",
        "identity_code",
        "phone",
        "school",
        "usable",
        "width",
    )

    def __init__(self, header: HeaderMap) -> None:
        index = header.index
        self.width = len(header.columns)
        self.identity_code = index.get(Field.IDENTITY_CODE)
        self.full_name = index.get(Field.FULL_NAME)
        self.birth_date = index.get(Field.BIRTH_DATE)
        self.gender = index.get(Field.GENDER)
        self.email = index.get(Field.EMAIL)
        self.phone = index.get(Field.PHONE)
        self.school = index.get(Field.SCHOOL)
        self.district = index.get(Field.DISTRICT)
        present = tuple(f for f in _CATEGORY_FIELDS if f in index)
        # The memo of the categories depends on which flag columns the sheet has.
        self.categories_check = ("categories", present)
        at = [index[f] for f in present]
        self.categories: Callable[[tuple[CellValue, ...]], tuple[CellValue, ...]] = (
            itemgetter(*at) if len(at) > 1 else lambda values: tuple(values[i] for i in at)
        )
        self.usable = all(
            position is not None
            for position in (self.identity_code, self.full_name, self.email, self.school)
        )

    def key(self, values: tuple[CellValue, ...]) -> tuple[CellValue, ...] | None:
        """The categories' raw values, ``None`` for a row shorter than the header."""
        if len(values) != self.width:
            return None
        return self.categories(values)


def _plan(context: RowContext, header: HeaderMap) -> _LearnerPlan:
    memo = context.memo
    found = memo.last_plan  # rows of one sheet share their header
    if found is None or found[0] is not header:
        found = memo.plans.get(id(header))
        if found is None or found[0] is not header:
            found = memo.plans[id(header)] = (header, _LearnerPlan(header))
        memo.last_plan = found
    return found[1]


def _quick_learner(raw: RawRow, context: RowContext, plan: _LearnerPlan) -> ParsedRow | None:
    """The row validated from what earlier rows taught (every repeated value's checks
    already made, the rest plain), or ``None`` when a check must really be made."""
    values = raw.values
    if not plan.usable or len(values) != plan.width:
        return None
    rules = context.rules
    code = values[plan.identity_code]  # type: ignore[index]
    email = values[plan.email]  # type: ignore[index]
    if not _plain_identity_code(code, rules) or not _plain_email(email, rules):
        return None
    phone = None if plan.phone is None else values[plan.phone]
    if phone is not None and not _plain_phone(phone):
        return None
    memos = context.memo.by_check
    name_key = values[plan.full_name]  # type: ignore[index]
    born_key = None if plan.birth_date is None else values[plan.birth_date]
    gender_key = None if plan.gender is None else values[plan.gender]
    school_key = (values[plan.school], None if plan.district is None else values[plan.district])  # type: ignore[index]
    categories_key = plan.categories(values)
    for first_time in (True, False):
        try:
            name = memos["full_name"][name_key]
            born = memos["birth_date"][born_key]
            gender = memos["gender"][gender_key]
            school = memos["_required_school"][school_key]
            categories = memos[plan.categories_check][categories_key]
            break
        except KeyError:  # values not seen yet: their checks made (and remembered) now
            if not first_time:
                return None  # a value that is not remembered (not text)
            check = _Checker(raw, context)
            for memo, key, make in (
                ("full_name", name_key, check.full_name),
                ("birth_date", born_key, check.birth_date),
                ("gender", gender_key, check.gender),
                ("_required_school", school_key, check.required_school),
                (plan.categories_check, categories_key, partial(check.categories, plan)),
            ):
                if key not in memos.get(memo, ()):
                    make()
    full_name, lastname, firstname = name[0]
    level, audience, position, subject, core, modules_123, hdtnhn, note = categories[0]
    record = PersonRecord(
        code,  # type: ignore[arg-type]  # text, per _plain_identity_code
        True,
        full_name,
        lastname,
        firstname,
        born[0],
        gender[0],
        email,  # type: ignore[arg-type]
        True,
        phone,  # type: ignore[arg-type]
        school[0],
        level,
        audience,
        position,
        subject,
        core,
        modules_123,
        hdtnhn,
        note,
        None,
        (name[1], born[1], gender[1], email, "" if phone is None else phone, school[1])
        + categories[1],
        _LEARNER_LABELS,
    )
    return ParsedRow(raw, record, name[2] + born[2] + gender[2] + school[2] + categories[2])


def validate_learner_row(raw: RawRow, context: RowContext) -> ParsedRow:
    """Normalise and check one row of the learners' list."""
    plan = _plan(context, raw.header)
    quick = _quick_learner(raw, context, plan)
    if quick is not None:
        return quick
    check = _Checker(raw, context)
    code, code_ok = check.identity_code()
    full_name, lastname, firstname = check.full_name()
    birth_date = check.birth_date()
    gender = check.gender()
    email, email_ok = check.email(code)
    phone = check.phone()
    school = check.school(required=True)
    level, audience, position, subject, core, modules_123, hdtnhn, note = check.categories(plan)
    record = PersonRecord(
        identity_code=code,
        identity_ok=code_ok,
        full_name=full_name,
        lastname=lastname,
        firstname=firstname,
        birth_date=birth_date,
        gender=gender,
        email=email,
        email_ok=email_ok,
        phone=phone,
        school=school,
        level=level,
        audience=audience,
        position=position,
        subject=subject,
        core_flag=core,
        modules_123_done=modules_123,
        hdtnhn_concurrent=hdtnhn,
        note=note,
        core_role=None,
        comparable=tuple(check.comparable),
        comparable_labels=_LEARNER_LABELS,
    )
    return ParsedRow(raw, record, tuple(check.reasons))


def validate_core_staff_row(raw: RawRow, context: RowContext) -> ParsedRow:
    """Normalise and check one row of the reporters' and assistants' list."""
    check = _Checker(raw, context)
    code, code_ok = check.identity_code()
    full_name, lastname, firstname = check.full_name()
    email, email_ok = check.email(code)
    phone = check.phone()
    school = check.school(required=False)
    level = check.level()
    subject = check.subject(None)
    role = check.core_role()
    record = PersonRecord(
        identity_code=code,
        identity_ok=code_ok,
        full_name=full_name,
        lastname=lastname,
        firstname=firstname,
        birth_date=None,
        gender=None,
        email=email,
        email_ok=email_ok,
        phone=phone,
        school=school,
        level=level,
        audience=None,
        position="",
        subject=subject,
        core_flag=True,
        modules_123_done=True,
        hdtnhn_concurrent=False,
        note=check.text(Field.NOTE),
        core_role=role,
        comparable=tuple(check.comparable),
        comparable_labels=_CORE_LABELS,
    )
    return ParsedRow(raw, record, tuple(check.reasons))
