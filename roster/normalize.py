"""Pure normalisers of single roster values.

Each function takes a raw cell value (``str``, number, date or ``None``) and returns the
one canonical form, or ``None``/an error kind when the value cannot be read. None of
them guesses: an impossible date is an error, not the nearest valid date. All are
idempotent on their own output.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from roster.model import Audience, Gender, Level
from roster.text import cell_text, clean_text, fold

__all__ = [
    "DateError",
    "ParsedDate",
    "is_valid_email",
    "is_valid_identity_code",
    "normalize_email",
    "normalize_full_name",
    "normalize_identity_code",
    "normalize_phone",
    "parse_audience",
    "parse_birth_date",
    "parse_flag",
    "parse_gender",
    "parse_level",
    "split_full_name",
]

# -- e-mail -------------------------------------------------------------------------

_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$"
)


def normalize_email(value: object) -> str:
    """Trimmed, lower case, without a ``mailto:`` prefix; ``""`` when empty."""
    text = cell_text(value).lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :].strip()
    return text


def is_valid_email(email: str) -> bool:
    """A plain ASCII address ``local@domain.tld`` (no spaces, one ``@``)."""
    return len(email) <= 254 and _EMAIL.match(email) is not None


# -- phone --------------------------------------------------------------------------

_MOBILE = re.compile(r"^0[35789]\d{8}$")
_LANDLINE = re.compile(r"^02\d{9}$")


def normalize_phone(value: object) -> str | None:
    """A Vietnamese number as ``0xxxxxxxxx``; ``None`` when it is not one.

    Accepts ``+84``/``84``/``0084`` prefixes, spaces, dots, dashes, parentheses, and a
    number cell that lost its leading zero (``912345678``).
    """
    text = cell_text(value)
    digits = re.sub(r"[\s.\-()/]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif digits.isdigit() and not digits.startswith("0") and len(digits) in (9, 10):
        digits = "0" + digits
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    return None


# -- identity code ------------------------------------------------------------------


def normalize_identity_code(value: object) -> str:
    """The code as text: no spaces, no Excel text apostrophe, no ``.0`` of a number cell."""
    text = cell_text(value).lstrip("'")
    return re.sub(r"\s+", "", text)


def is_valid_identity_code(code: str, digits: int = 10) -> bool:
    """Exactly ``digits`` ASCII digits (the education database's Mã định danh)."""
    return len(code) == digits and code.isascii() and code.isdigit()


# -- dates --------------------------------------------------------------------------


class DateError(StrEnum):
    MISSING = "missing"
    UNREADABLE = "unreadable"  # not a date form we know
    IMPOSSIBLE = "impossible"  # a date form, but no such day (31/02/1980)


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """The outcome of reading a birth date: a date, or an error, and whether it was text."""

    value: dt.date | None
    error: DateError | None = None
    from_text: bool = False


_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})(?:\s+0{1,2}:00(?::00)?)?$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]0{1,2}:00(?::00)?)?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_birth_date(value: object) -> ParsedDate:
    """A date cell, an Excel serial number, or text ``dd/mm/yyyy`` (also ``-``/``.``, ISO)."""
    if isinstance(value, dt.datetime):
        return ParsedDate(value.date())
    if isinstance(value, dt.date):
        return ParsedDate(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel serial days (1900 date system)
            return ParsedDate(_EXCEL_EPOCH + dt.timedelta(days=int(value)))
        return ParsedDate(None, DateError.UNREADABLE)
    text = cell_text(value)
    if not text:
        return ParsedDate(None, DateError.MISSING)
    if match := _DMY.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _YMD.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        return ParsedDate(None, DateError.UNREADABLE, from_text=True)
    try:
        return ParsedDate(dt.date(year, month, day), from_text=True)
    except ValueError:
        return ParsedDate(None, DateError.IMPOSSIBLE, from_text=True)


# -- names --------------------------------------------------------------------------


def normalize_full_name(value: object) -> str:
    """NFC, single spaces; a name typed all upper or all lower case gets capitalised words."""
    name = cell_text(value)
    if name.isupper() or name.islower():
        name = " ".join(_capitalise(word) for word in name.split(" "))
    return name


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def split_full_name(full_name: str) -> tuple[str, str]:
    """``(lastname, firstname)``: family and middle names, then the given name (last word).

    ``"Nguyễn Thị Thu Hương"`` -> ``("Nguyễn Thị Thu", "Hương")``. A one-word name gives
    ``("", name)``; the caller decides whether that is acceptable.
    """
    words = clean_text(full_name).split(" ")
    return " ".join(words[:-1]), words[-1]


# -- categories ---------------------------------------------------------------------

_LEVELS: dict[str, Level] = {
    "mn": Level.PRESCHOOL,
    "mam non": Level.PRESCHOOL,
    "th": Level.PRIMARY,
    "tieu hoc": Level.PRIMARY,
    "cap 1": Level.PRIMARY,
    "cap i": Level.PRIMARY,
    "thcs": Level.LOWER_SECONDARY,
    "trung hoc co so": Level.LOWER_SECONDARY,
    "cap 2": Level.LOWER_SECONDARY,
    "cap ii": Level.LOWER_SECONDARY,
    "thpt": Level.UPPER_SECONDARY,
    "trung hoc pho thong": Level.UPPER_SECONDARY,
    "cap 3": Level.UPPER_SECONDARY,
    "cap iii": Level.UPPER_SECONDARY,
}
_AUDIENCES: dict[str, Audience] = {
    "cbql": Audience.MANAGER,
    "cb ql": Audience.MANAGER,
    "ql": Audience.MANAGER,
    "quan li": Audience.MANAGER,
    "quan ly": Audience.MANAGER,
    "can bo quan li": Audience.MANAGER,
    "can bo quan ly": Audience.MANAGER,
    "gv": Audience.TEACHER,
    "giao vien": Audience.TEACHER,
}
_GENDERS: dict[str, Gender] = {
    "nam": Gender.MALE,
    "male": Gender.MALE,
    "m": Gender.MALE,
    "nu": Gender.FEMALE,
    "female": Gender.FEMALE,
    "f": Gender.FEMALE,
}
_FALSE_FLAGS = {"", "0", "khong", "no", "false", "n", "chua"}
_DASHES = {"", "-", "–", "—", "."}


def parse_level(value: object) -> Level | None:
    """``THCS``, ``Trung học cơ sở``, ``cấp 2``... -> ``Level``; ``None`` if unknown."""
    return _LEVELS.get(fold(cell_text(value)))


def parse_audience(value: object) -> Audience | None:
    """``CBQL``, ``Cán bộ quản lý``, ``GV``, ``Giáo viên``... -> ``Audience``."""
    return _AUDIENCES.get(fold(cell_text(value)))


def parse_gender(value: object) -> Gender | None:
    return _GENDERS.get(fold(cell_text(value)))


def parse_flag(value: object) -> bool:
    """A yes/no column: ``x``, ``có``, ``1``, any other mark -> True; empty, ``không`` -> False."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = cell_text(value)
    if text in _DASHES:
        return False
    key = fold(text)
    return key not in _FALSE_FLAGS or (not key and bool(text))  # "✓" folds to ""
