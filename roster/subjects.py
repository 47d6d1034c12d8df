"""Canonical subject names (GDPT 2018 and managers) and their usual spellings.

Matching folds diacritics, case and punctuation, and treats ``&``, ``-``, ``/`` as
``và``, so ``"Lịch sử & Địa lý"`` is ``"Lịch sử và Địa lí"``. The Ministry's spelling
with ``i`` (``Địa lí``, ``Quản lí``, ``Mĩ thuật``) is canonical.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from roster.text import cell_text, fold

__all__ = ["CANONICAL_SUBJECTS", "ENGLISH", "HDTNHN", "MANAGEMENT", "SubjectCatalog"]

ENGLISH = "Tiếng Anh"
HDTNHN = "Hoạt động trải nghiệm, hướng nghiệp"
MANAGEMENT = "Quản lí"

CANONICAL_SUBJECTS: tuple[str, ...] = (
    MANAGEMENT,
    "Toán",
    "Ngữ văn",
    "Tiếng Việt",
    ENGLISH,
    "Tiếng Pháp",
    "Tiếng Trung Quốc",
    "Tiếng Nga",
    "Tiếng Nhật",
    "Tiếng Hàn",
    "Tiếng Đức",
    "Tiếng dân tộc thiểu số",
    "Khoa học tự nhiên",
    "Lịch sử và Địa lí",
    "Lịch sử",
    "Địa lí",
    "Vật lí",
    "Hóa học",
    "Sinh học",
    "Giáo dục công dân",
    "Giáo dục kinh tế và pháp luật",
    "Tin học",
    "Công nghệ",
    "Tin học và Công nghệ",
    "Giáo dục thể chất",
    "Giáo dục quốc phòng và an ninh",
    "Âm nhạc",
    "Mĩ thuật",
    "Nghệ thuật",
    HDTNHN,
    "Hoạt động trải nghiệm",
    "Đạo đức",
    "Tự nhiên và Xã hội",
    "Khoa học",
    "Giáo dục mầm non",
)

_ALIASES: dict[str, str] = {
    "quan ly": MANAGEMENT,
    "cbql": MANAGEMENT,
    "can bo quan li": MANAGEMENT,
    "can bo quan ly": MANAGEMENT,
    "toan hoc": "Toán",
    "van": "Ngữ văn",
    "ngu van": "Ngữ văn",
    "anh": ENGLISH,
    "anh van": ENGLISH,
    "tieng anh": ENGLISH,
    "ngoai ngu tieng anh": ENGLISH,
    "ngoai ngu anh": ENGLISH,
    "ngoai ngu va tieng anh": ENGLISH,
    "ta": ENGLISH,
    "khtn": "Khoa học tự nhiên",
    "ls va dl": "Lịch sử và Địa lí",
    "lsdl": "Lịch sử và Địa lí",
    "lich su va dia ly": "Lịch sử và Địa lí",
    "lich su dia li": "Lịch sử và Địa lí",
    "lich su dia ly": "Lịch sử và Địa lí",
    "dia ly": "Địa lí",
    "vat ly": "Vật lí",
    "hoa": "Hóa học",
    "sinh": "Sinh học",
    "gdcd": "Giáo dục công dân",
    "gdktpl": "Giáo dục kinh tế và pháp luật",
    "gdkt va pl": "Giáo dục kinh tế và pháp luật",
    "giao duc kinh te phap luat": "Giáo dục kinh tế và pháp luật",
    "tin": "Tin học",
    "gdtc": "Giáo dục thể chất",
    "the duc": "Giáo dục thể chất",
    "gdqp": "Giáo dục quốc phòng và an ninh",
    "gdqp va an": "Giáo dục quốc phòng và an ninh",
    "gdqpan": "Giáo dục quốc phòng và an ninh",
    "giao duc quoc phong": "Giáo dục quốc phòng và an ninh",
    "giao duc quoc phong an ninh": "Giáo dục quốc phòng và an ninh",
    "nhac": "Âm nhạc",
    "my thuat": "Mĩ thuật",
    "hdtnhn": HDTNHN,
    "hdtn hn": HDTNHN,
    "hdtn va hn": HDTNHN,
    "hoat dong trai nghiem va huong nghiep": HDTNHN,
    "hdtn": "Hoạt động trải nghiệm",
    "tnxh": "Tự nhiên và Xã hội",
    "tu nhien xa hoi": "Tự nhiên và Xã hội",
    "mam non": "Giáo dục mầm non",
}

_AND = re.compile(r"\s*[&/+\-]\s*")


def subject_key(value: str) -> str:
    """The matching key of a subject name: folded, connectors read as ``và``."""
    return fold(_AND.sub(" và ", value))


class SubjectCatalog:
    """Canonical subjects plus aliases; ``extra_aliases`` (from config) map any spelling
    to a subject name, which becomes canonical if it is new."""

    def __init__(self, extra_aliases: Mapping[str, str] | None = None) -> None:
        self._memo: dict[str, str | None] = {}
        self._by_key: dict[str, str] = {subject_key(s): s for s in CANONICAL_SUBJECTS}
        self._by_key.update({subject_key(k): v for k, v in _ALIASES.items()})
        for spelling, subject in (extra_aliases or {}).items():
            canonical = cell_text(subject)
            self._by_key.setdefault(subject_key(canonical), canonical)
            self._by_key[subject_key(spelling)] = canonical

    def canonical(self, value: object) -> str | None:
        """The canonical name of a subject; ``None`` when it is not in the catalogue."""
        text = cell_text(value)
        if not text:
            return None
        if text not in self._memo:
            self._memo[text] = self._by_key.get(subject_key(text))
        return self._memo[text]
