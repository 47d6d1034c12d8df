"""Moodle's REST wire format: PHP form decoding in, JSON out.

Requests are ``POST /webservice/rest/server.php`` with an
``application/x-www-form-urlencoded`` body. PHP turns ``users[0][username]=an`` into
nested arrays and keeps only the first ``max_input_vars + 1`` fields of a body, silently
dropping the rest (the recorded site kept 5,001 of 6,003 fields with
``max_input_vars=5000``). Moodle's REST server then merges the query string and the body,
takes ``wstoken``, ``wsfunction`` and ``moodlewsrestformat`` out and hands the rest to the
function as its parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import unquote_plus

REST_PATH = "/webservice/rest/server.php"
CONTROL_FIELDS = ("wstoken", "wsfunction", "moodlewsrestformat")

PhpArray = dict[str, Any]


@dataclass(frozen=True)
class RestRequest:
    """One decoded call: the control fields and the nested parameters."""

    token: str | None
    wsfunction: str | None
    restformat: str | None
    params: PhpArray
    field_count: int


def split_form(body: str, max_input_vars: int | None) -> list[tuple[str, str]]:
    """Decode a urlencoded string into (name, value) pairs, PHP-style.

    Empty pieces are skipped; a piece without ``=`` has an empty value. With a limit,
    only the first ``max_input_vars + 1`` fields are kept, as the recorded PHP did.
    """
    fields: list[tuple[str, str]] = []
    limit = None if max_input_vars is None else max_input_vars + 1
    for piece in body.split("&"):
        if not piece:
            continue
        if limit is not None and len(fields) >= limit:
            break
        name, _, value = piece.partition("=")
        fields.append((unquote_plus(name), unquote_plus(value)))
    return fields


def _split_name(name: str) -> tuple[str, list[str]] | None:
    """``users[0][username]`` -> (``users``, [``0``, ``username``]); None if unusable."""
    bracket = name.find("[")
    if bracket <= 0:
        base, rest = name, ""
    else:
        base, rest = name[:bracket], name[bracket:]
    # PHP replaces spaces and dots in the top-level name with underscores.
    base = base.replace(" ", "_").replace(".", "_")
    if not base:
        return None
    segments: list[str] = []
    while rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            break
        segments.append(rest[1:close])
        rest = rest[close + 1 :]
    return base, segments


def _next_index(array: PhpArray) -> str:
    numeric = [int(key) for key in array if key.lstrip("-").isdigit()]
    return str(max(numeric) + 1 if numeric else 0)


def nest_fields(fields: list[tuple[str, str]]) -> PhpArray:
    """Build PHP's nested arrays from flat fields; later duplicates overwrite earlier ones."""
    root: PhpArray = {}
    for name, value in fields:
        parsed = _split_name(name)
        if parsed is None:
            continue
        base, segments = parsed
        keys = [base, *segments]
        node = root
        for depth, key in enumerate(keys):
            if key == "" and depth > 0:
                key = _next_index(node)
            if depth == len(keys) - 1:
                node[key] = value
                break
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
    return root


def decode_request(query: str, body: str, max_input_vars: int | None) -> RestRequest:
    """Merge the query string and the body (the body wins) and split off the control fields.

    PHP applies ``max_input_vars`` to the query string and to the body separately.
    """
    query_fields = split_form(query, max_input_vars)
    body_fields = split_form(body, max_input_vars)
    merged = nest_fields(query_fields)
    merged.update(nest_fields(body_fields))
    control: dict[str, str | None] = {}
    for name in CONTROL_FIELDS:
        raw = merged.pop(name, None)
        control[name] = raw if isinstance(raw, str) else None
    return RestRequest(
        token=control["wstoken"],
        wsfunction=control["wsfunction"],
        restformat=control["moodlewsrestformat"],
        params=merged,
        field_count=len(body_fields),
    )


def encode_json(value: Any) -> bytes:
    """Moodle's JSON body: PHP ``json_encode`` escapes non-ASCII characters too."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _walk(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(f"{prefix}[{key}]", item, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(f"{prefix}[{index}]", item, out)
    else:
        out.append((prefix, _scalar(value)))


def flatten_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested parameters PHP-style: ``users[0][username]``; booleans as 1/0."""
    out: list[tuple[str, str]] = []
    for name, value in params.items():
        _walk(name, value, out)
    return out


def _xml_value(value: Any) -> str:
    if value is None:
        return '<VALUE null="null"/>'
    if isinstance(value, dict):
        keys = "".join(
            f'<KEY name="{escape(str(k))}">{_xml_value(v)}\n</KEY>\n' for k, v in value.items()
        )
        return f"\n<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "\n<MULTIPLE>\n" + "".join(_xml_value(item) for item in value) + "</MULTIPLE>\n"
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return f"<VALUE>{escape(text)}</VALUE>"


def encode_xml(value: Any) -> bytes:
    """Moodle's default REST format (no ``moodlewsrestformat=json``)."""
    body = "" if value is None else _xml_value(value)
    return f'<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n{body}</RESPONSE>\n'.encode()


def encode_xml_error(payload: dict[str, Any]) -> bytes:
    """An error in Moodle's XML format."""
    parts = [f'<EXCEPTION class="{escape(str(payload["exception"]))}">']
    parts.append(f"<ERRORCODE>{escape(str(payload['errorcode']))}</ERRORCODE>")
    parts.append(f"<MESSAGE>{escape(str(payload['message']))}</MESSAGE>")
    if "debuginfo" in payload:
        parts.append(f"<DEBUGINFO>{escape(str(payload['debuginfo']))}</DEBUGINFO>")
    parts.append("</EXCEPTION>")
    return ('<?xml version="1.0" encoding="UTF-8" ?>\n' + "\n".join(parts) + "\n").encode()
