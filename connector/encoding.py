"""Moodle's REST form encoding: nested parameters flattened PHP-style.

``{"users": [{"username": "an", "customfields": [{"type": "school", "value": "X"}]}]}``
becomes ``users[0][username]=an``, ``users[0][customfields][0][type]=school``, ...
PHP counts every such pair against ``max_input_vars``, so batch sizes are measured in
these fields, not in rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# wstoken, wsfunction and moodlewsrestformat ride in every request body.
PROTOCOL_FIELDS = 3


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _walk(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(f"{prefix}[{key}]", item)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            yield from _walk(f"{prefix}[{index}]", item)
    else:
        yield prefix, _scalar(value)


def flatten_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested params into form fields; ``None`` values are left out."""
    fields: list[tuple[str, str]] = []
    for name, value in params.items():
        fields.extend(_walk(name, value))
    return fields


def count_fields(value: Any) -> int:
    """How many form fields ``value`` produces (one leaf, one field)."""
    if value is None:
        return 0
    if isinstance(value, Mapping):
        return sum(count_fields(item) for item in value.values())
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return sum(count_fields(item) for item in value)
    return 1
