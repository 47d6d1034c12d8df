"""Access to the responses recorded from a real Moodle 4.5 (../shared/moodle-contract/).

The recordings live beside the repository (``../shared/moodle-contract``); a checkout
elsewhere (e.g. a git worktree) names them with ``BDTX_CONTRACT_DIR``. A missing
directory is an error, never an empty set of cases: a replay of nothing cannot fail.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any


def _contract_dir() -> Path:
    configured = os.environ.get("BDTX_CONTRACT_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "shared" / "moodle-contract"


CONTRACT_DIR = _contract_dir()


@cache
def recorded(name: str) -> dict[str, Any]:
    """One recorded case by file stem, e.g. ``core_user_create_users__ok_batch_vietnamese``."""
    data: dict[str, Any] = json.loads((CONTRACT_DIR / f"{name}.json").read_text("utf-8"))
    return data


def recorded_cases() -> list[str]:
    """Every recorded case (file stems), metadata files excluded; never empty."""
    cases = sorted(p.stem for p in CONTRACT_DIR.glob("*.json") if not p.stem.startswith("_meta"))
    if not cases:
        raise FileNotFoundError(
            f"no recorded Moodle cases in {CONTRACT_DIR}; set BDTX_CONTRACT_DIR to the "
            "moodle-contract directory"
        )
    return cases


def recorded_of(function: str) -> list[str]:
    """The recorded cases of one web-service function (file stems)."""
    return [name for name in recorded_cases() if name.startswith(f"{function}__")]


def meta(name: str) -> dict[str, Any]:
    """A ``_meta__<name>.json`` file."""
    data: dict[str, Any] = json.loads((CONTRACT_DIR / f"_meta__{name}.json").read_text("utf-8"))
    return data


# ---- comparing a replayed answer with the recorded one ----------------------------------

_TRIMMED_LIST = re.compile(r"list of (\d+) items trimmed to first (\d+)")
_INDEX = re.compile(r"\[\d+\]")
_LINK = re.compile(r"https?://[^\s\"'<>]+")
_DIGITS = re.compile(r"\d+")
_SESSKEY = re.compile(r"sesskey=\w+")
# Times that say when something happened, not dates someone set: they follow the clock.
STAMP_KEYS = frozenset(
    {
        "timecreated",
        "timemodified",
        "timeadded",
        "timeaccess",
        "lastaccess",
        "firstaccess",
        "lastlogin",
        "currentlogin",
        "lastcourseaccess",
        "cacherev",
        "timecompleted",
        "timefinish",
        "timesubmitted",
        "timemarked",
        "gradednotificationsenttime",
        "timecheckstate",
        "timesent",
        "datesubmitted",
        "dategraded",
        "gradedategraded",
        "gradedatesubmitted",
        "timemodifiedoffline",
        "lastactiontime",
        "lastmodified",
        "added",
    }
)
# A quiz attempt's start is a stamp too (an event's ``timestart`` is a date someone set).
STAMP_PATHS = (".attempt.timestart", ".attempts[].timestart")
# A course module's ``section`` is its section's id (in a course's contents, the number).
ID_PATHS = (".cm.section",)
# Values that are random on every site (keys, secrets), or drawn from a row id (a course's
# generated image, Moodle's geopattern of the course id): compared like ids.
OPAQUE_KEYS = frozenset({"userprivateaccesskey", "courseimage"})


def value_class(key: str) -> str:
    """How a value under ``key`` is compared: ``"id"``, ``"stamp"`` or ``"literal"``.

    * ``id``: ``id``, ``*id``, ``*ids`` and the few other keys holding row ids
      (``instance``, ``coursemodule``, ``sortorder``, ``path``, ``gradecat``; a course
      module's ``section``, :data:`ID_PATHS`): ids depend on the site's
      history, so only their JSON type and their consistency are compared (a recorded id
      seen twice must be replayed as the same id; two different recorded ids as two
      different ids), and 0 / null stays 0 / null; random keys (:data:`OPAQUE_KEYS`) too.
    * ``stamp``: the times in :data:`STAMP_KEYS` (when a row was written; also
      :data:`STAMP_PATHS`): type, and 0 stays 0, non-zero stays non-zero.
    * ``literal``: everything else, dates someone set included (``startdate``,
      ``duedate``, ``timeopen``, an event's ``timestart``...): must be equal, except that
      inside links (``http://...`` anywhere in a string) numbers and session keys are
      blanked: they are ids, ports and theme revisions.
    """
    if key in STAMP_KEYS:
        return "stamp"
    if key in OPAQUE_KEYS or key in (
        "id",
        "instance",
        "coursemodule",
        "sortorder",
        "path",
        "gradecat",
    ):
        return "id"
    if key.endswith(("id", "ids")):
        return "id"
    return "literal"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


class _Comparison:
    """One walk over a recorded answer and a replayed one, collecting differences."""

    def __init__(self, trimmed: dict[str, str]) -> None:
        self.trimmed = trimmed
        self.problems: list[str] = []
        self.ids_forward: dict[tuple[str, Any], Any] = {}
        self.ids_backward: dict[tuple[str, Any], Any] = {}

    def walk(self, expected: Any, actual: Any, path: str, klass: str) -> None:
        if _kind(expected) != _kind(actual):
            shown = str(actual)[:80]
            self.problems.append(
                f"{path}: expected {_kind(expected)}, got {_kind(actual)} ({shown})"
            )
            return
        if isinstance(expected, dict):
            self._object(expected, actual, path)
        elif isinstance(expected, list):
            self._list(expected, actual, path, klass)
        else:
            self._scalar(expected, actual, path, klass)

    def _object(self, expected: dict[str, Any], actual: dict[str, Any], path: str) -> None:
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        if missing:
            self.problems.append(f"{path}: missing keys {missing}")
        if extra:
            self.problems.append(f"{path}: unexpected keys {extra}")
        for key in sorted(set(expected) & set(actual)):
            self.walk(expected[key], actual[key], f"{path}.{key}", value_class(key))

    def _list(self, expected: list[Any], actual: list[Any], path: str, klass: str) -> None:
        note = self.trimmed.get(path, "")
        trim = _TRIMMED_LIST.search(note)
        length = int(trim.group(1)) if trim else len(expected)
        if len(actual) != length:
            self.problems.append(f"{path}: expected {length} items, got {len(actual)}")
            return
        for index, item in enumerate(expected):
            self.walk(item, actual[index], f"{path}[{index}]", klass)

    def _scalar(self, expected: Any, actual: Any, path: str, klass: str) -> None:
        if path in self.trimmed and isinstance(expected, str):
            prefix = expected.split("...[trimmed]")[0]
            if not actual.startswith(prefix):
                self.problems.append(f"{path}: does not start like the recording")
            return
        if klass == "stamp" or _INDEX.sub("[]", path).endswith(STAMP_PATHS):
            if bool(expected) != bool(actual):
                self.problems.append(f"{path}: expected {expected!r}, got {actual!r}")
        elif klass == "id" or _INDEX.sub("[]", path).endswith(ID_PATHS):
            self._id(expected, actual, path)
        elif isinstance(expected, str) and "://" in expected:
            if _without_link_numbers(expected) != _without_link_numbers(actual):
                self.problems.append(f"{path}: expected like {expected!r}, got {actual!r}")
        elif expected != actual:
            self.problems.append(f"{path}: expected {expected!r}, got {actual!r}")

    def _id(self, expected: Any, actual: Any, path: str) -> None:
        if bool(expected) != bool(actual):
            self.problems.append(f"{path}: expected {expected!r}, got {actual!r}")
            return
        if not isinstance(expected, int | str) or isinstance(expected, bool):
            return
        # ``courseid`` means the same everywhere in an answer; a bare ``id`` only within
        # its place (``$.events[].id`` and ``$.events[].course.id`` are different tables).
        key = path.rsplit(".", 1)[-1].split("[")[0]
        namespace = _INDEX.sub("[]", path) if key == "id" else key
        forward = self.ids_forward.setdefault((namespace, expected), actual)
        backward = self.ids_backward.setdefault((namespace, actual), expected)
        if forward != actual or backward != expected:
            self.problems.append(
                f"{path}: id {actual!r} does not stand for recorded {expected!r} consistently"
            )


def _without_link_numbers(text: str) -> str:
    return _LINK.sub(lambda link: _DIGITS.sub("N", _SESSKEY.sub("sesskey=S", link[0])), text)


def value_mismatches(
    expected: Any, actual: Any, trimmed: dict[str, str] | None = None
) -> list[str]:
    """Every difference between a recorded answer and a replayed one that ids and times
    cannot explain.

    The same keys at every level, the same JSON types, the same list lengths (the recorded
    length for lists the recording trimmed) and items in the same order; each value
    compared as :func:`value_class` says. ``trimmed`` is the recording's
    ``trimmed.response`` (JSON path -> note).
    """
    comparison = _Comparison(trimmed or {})
    comparison.walk(expected, actual, "$", "literal")
    return comparison.problems
