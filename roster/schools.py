"""Matching the ``Đơn vị công tác`` typed by a school to the province's school list.

Pure: a ``SchoolIndex`` is built once from the list and answers ``match``. A name
matches regardless of case, spacing, punctuation, the leading word "Trường" and
composed/decomposed accents; a name typed without accents matches when that is
unambiguous; a school code (``BP0012``) matches its school. When two schools share a
name, the row's district decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from roster.model import School
from roster.text import clean_text, fold

__all__ = ["SchoolIndex", "SchoolMatch", "school_key"]

_PUNCT = re.compile(r"[\W_]+")
_SCHOOL_WORD = re.compile(r"^(truong|trường) ")
_DISTRICT_PREFIX = re.compile(r"^(thanh pho|thi xa|huyen|quan|tp|tx|h) ")


def school_key(name: str) -> str:
    """Lower case, accents kept (NFC), punctuation as spaces, no leading "Trường"."""
    key = _PUNCT.sub(" ", clean_text(name).lower()).strip()
    return _SCHOOL_WORD.sub("", key)


def _loose_key(name: str) -> str:
    return _SCHOOL_WORD.sub("", fold(name))


def _district_key(district: str) -> str:
    return _DISTRICT_PREFIX.sub("", fold(district))


@dataclass(frozen=True, slots=True)
class SchoolMatch:
    """The school found (``school``), or the candidates when the name is ambiguous.

    ``exact`` is True when the typed text equals the list's name after trimming.
    """

    school: School | None
    exact: bool = False
    candidates: tuple[School, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.school is None and len(self.candidates) > 1


class SchoolIndex:
    """Look-up of schools by code, by name key, and by accent-free name key."""

    def __init__(self, schools: Iterable[School]) -> None:
        self.schools: tuple[School, ...] = tuple(schools)
        self._memo: dict[tuple[str, str], SchoolMatch] = {}
        self._by_code = {s.code.upper(): s for s in self.schools}
        self._by_key: dict[str, list[School]] = {}
        self._by_loose: dict[str, list[School]] = {}
        for school in self.schools:
            self._by_key.setdefault(school_key(school.name), []).append(school)
            self._by_loose.setdefault(_loose_key(school.name), []).append(school)

    def __len__(self) -> int:
        return len(self.schools)

    def match(self, typed: str, district: str = "") -> SchoolMatch:
        """The school named ``typed``; ``district`` separates schools of the same name."""
        memo_key = (typed, district)
        if memo_key not in self._memo:
            self._memo[memo_key] = self._match(typed, district)
        return self._memo[memo_key]

    def _match(self, typed: str, district: str) -> SchoolMatch:
        text = clean_text(typed)
        if not text:
            return SchoolMatch(None)
        by_code = self._by_code.get(text.upper())
        if by_code is not None:
            return SchoolMatch(by_code, exact=True)
        found = self._by_key.get(school_key(text)) or self._by_loose.get(_loose_key(text), [])
        if len(found) > 1 and district:
            wanted = _district_key(district)
            found = [s for s in found if _district_key(s.district) == wanted] or found
        if len(found) == 1:
            return SchoolMatch(found[0], exact=found[0].name == text)
        return SchoolMatch(None, candidates=tuple(found))
