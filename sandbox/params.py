"""Parameter descriptions and validation, as Moodle's external API does them.

A function's parameters are a :class:`Single` structure of :class:`Value`,
:class:`Single` and :class:`Multiple` descriptions. :func:`validate` walks the decoded
PHP arrays the way ``external_api::validate_parameters`` does: a missing required key,
an unexpected key, a non-array where an array belongs, or a scalar that its PARAM type
would change when cleaned all raise ``invalid_parameter_exception`` with Moodle's
``debuginfo`` text (``courseid => Invalid parameter value detected: ...``).

Values arrive as strings (form fields); a valid one is returned converted to the Python
type of its PARAM type (``int``, ``float``, ``bool`` or ``str``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sandbox.errors import INVALID_PARAMETER_MESSAGE, InvalidParameter


class Param(Enum):
    """Moodle PARAM_* types; the value is the name Moodle prints in debug messages."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    RAW = "raw"
    RAW_TRIMMED = "raw_trimmed"
    TEXT = "text"
    NOTAGS = "notags"
    ALPHA = "alpha"
    ALPHANUM = "alphanum"
    ALPHANUMEXT = "alphanumext"
    ALPHAEXT = "alphaext"
    USERNAME = "username"
    EMAIL = "email"
    PLUGIN = "plugin"
    SAFEDIR = "safedir"
    TIMEZONE = "timezone"
    LANG = "lang"
    AREA = "area"
    COMPONENT = "component"
    URL = "url"


class Need(Enum):
    """VALUE_REQUIRED, VALUE_OPTIONAL or VALUE_DEFAULT."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    DEFAULT = "default"


@dataclass(frozen=True)
class Value:
    """``external_value``: one scalar."""

    type: Param
    need: Need = Need.REQUIRED
    default: Any = None


@dataclass(frozen=True)
class Multiple:
    """``external_multiple_structure``: a list of one kind of item."""

    item: Spec
    need: Need = Need.REQUIRED
    default: Any = None


@dataclass(frozen=True)
class Single:
    """``external_single_structure``: named keys."""

    keys: dict[str, Spec] = field(default_factory=dict)
    need: Need = Need.REQUIRED
    default: Any = None


Spec = Value | Multiple | Single


def optional(spec: Spec) -> Spec:
    """The same description as VALUE_OPTIONAL."""
    if isinstance(spec, Value):
        return Value(spec.type, Need.OPTIONAL)
    if isinstance(spec, Multiple):
        return Multiple(spec.item, Need.OPTIONAL)
    return Single(spec.keys, Need.OPTIONAL)


def default(spec: Value | Multiple, value: Any) -> Spec:
    """The same description as VALUE_DEFAULT with ``value``."""
    if isinstance(spec, Value):
        return Value(spec.type, Need.DEFAULT, value)
    return Multiple(spec.item, Need.DEFAULT, value)


_EMAIL_ATOM = r"[-!#$%&'*+\\/0-9=?A-Z^_`a-z{|}~]"
_EMAIL_RE = re.compile(
    rf"^{_EMAIL_ATOM}+(\.{_EMAIL_ATOM}+)*@{_EMAIL_ATOM}+\.[-!#$%&'*+\\./0-9=?A-Z^_`a-z{{|}}~]+$"
)
_USERNAME_DROP = re.compile(r"[^-.@_a-z0-9]")
_TAGS = re.compile(r"<[^>]*>")
_TIMEZONE_RE = re.compile(
    r"^(([+-]?(0?[0-9](\.[5|0])?|1[0-3](\.0)?|1[0-2]\.5))|(99)|[A-Za-z0-9]+(/?[A-Za-z_-])+)$"
)
_INT_RE = re.compile(r"^-?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?[0-9]*\.?[0-9]*(e[-+]?[0-9]+)?$", re.IGNORECASE)


def is_valid_email(address: str) -> bool:
    """Moodle's ``validate_email``: a permissive RFC-ish pattern, ASCII only."""
    return bool(_EMAIL_RE.match(address))


def clean_username(value: str) -> str:
    """PARAM_USERNAME cleaning with ``extendedusernamechars`` off."""
    lowered = value.strip().lower().replace(" ", "")
    return _USERNAME_DROP.sub("", lowered)


def _clean(kind: Param, value: str) -> str:
    """What Moodle's ``clean_param`` would make of ``value`` (as a string)."""
    if kind is Param.INT:
        match = re.match(r"^\s*[+-]?\d+", value)
        return str(int(match.group(0))) if match else "0"
    if kind in (Param.RAW,):
        return value
    if kind is Param.RAW_TRIMMED:
        return value.strip()
    if kind in (Param.TEXT, Param.NOTAGS):
        return _TAGS.sub("", value) if kind is Param.NOTAGS else value
    if kind is Param.ALPHA:
        return re.sub(r"[^a-zA-Z]", "", value)
    if kind is Param.ALPHANUM:
        return re.sub(r"[^A-Za-z0-9]", "", value)
    if kind is Param.ALPHANUMEXT:
        return re.sub(r"[^a-zA-Z0-9_-]", "", value)
    if kind is Param.ALPHAEXT:
        return re.sub(r"[^a-zA-Z_/-]", "", value)
    if kind is Param.USERNAME:
        return clean_username(value)
    if kind is Param.EMAIL:
        return value if is_valid_email(value) else ""
    if kind is Param.TIMEZONE:
        return value if _TIMEZONE_RE.match(value) else ""
    if kind in (Param.PLUGIN, Param.SAFEDIR, Param.AREA, Param.COMPONENT, Param.LANG):
        return re.sub(r"[^a-zA-Z0-9_-]", "", value)
    return value


def _bad_value(value: Any, kind: Param) -> InvalidParameter:
    return InvalidParameter(
        f'Invalid external api parameter: the value is "{value}", '
        f'the server was expecting "{kind.value}" type'
    )


def _validate_value(spec: Value, value: Any) -> Any:
    if isinstance(value, dict | list):
        raise InvalidParameter("Scalar type expected, array or object received.")
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    kind = spec.type
    if kind is Param.BOOL:
        if text in ("0", "1"):
            return text == "1"
        raise _bad_value(text, kind)
    if kind is Param.FLOAT:
        if isinstance(value, int | float):
            return float(value)
        if not text or not _FLOAT_RE.match(text) or text in (".", "+", "-"):
            raise _bad_value(text, kind)
        return float(text)
    if kind is Param.INT:
        if not _INT_RE.match(text):
            raise _bad_value(text, kind)
        if _clean(kind, text) != text:
            raise _bad_value(text, kind)
        return int(text)
    if _clean(kind, text) != text:
        raise _bad_value(text, kind)
    return text


def _as_items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return None


def _only_arrays(value: Any) -> InvalidParameter:
    return InvalidParameter(f"Only arrays accepted. The bad value is: '{value}'")


def validate(spec: Spec, value: Any) -> Any:
    """Validate ``value`` against ``spec`` and return it cleaned and typed."""
    if isinstance(spec, Value):
        return _validate_value(spec, value)
    if isinstance(spec, Multiple):
        items = _as_items(value)
        if items is None:
            raise _only_arrays(value)
        return [validate(spec.item, item) for item in items]
    if not isinstance(value, dict):
        raise _only_arrays(value)
    remaining = dict(value)
    result: dict[str, Any] = {}
    for key, sub in spec.keys.items():
        if key not in remaining:
            if sub.need is Need.REQUIRED:
                raise InvalidParameter(f"Missing required key in single structure: {key}")
            if sub.need is Need.DEFAULT:
                result[key] = sub.default
            continue
        raw = remaining.pop(key)
        try:
            result[key] = validate(sub, raw)
        except InvalidParameter as error:
            raise InvalidParameter(
                f"{key} => {INVALID_PARAMETER_MESSAGE}: {error.debuginfo}"
            ) from None
    if remaining:
        raise InvalidParameter(
            f"Unexpected keys ({', '.join(remaining)}) detected in parameter array."
        )
    return result


def validate_call(spec: Single, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a function's top-level parameters."""
    result: dict[str, Any] = validate(spec, params)
    return result


def S(**keys: Spec) -> Single:  # noqa: N802 - mirrors Moodle's constructor names
    """Shorthand for a required single structure."""
    return Single(dict(keys))


def M(item: Spec) -> Multiple:  # noqa: N802
    """Shorthand for a required multiple structure."""
    return Multiple(item)


def V(kind: Param) -> Value:  # noqa: N802
    """Shorthand for a required value."""
    return Value(kind)
