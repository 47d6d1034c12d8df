"""quick_init: the same frozen dataclass, built by filling its slots directly."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from roster.model import RowOutcome, RowSource, quick_init
from roster.reasons import Status


@dataclasses.dataclass(frozen=True, slots=True)
class _Plain:
    name: str
    count: int = 3


@quick_init
@dataclasses.dataclass(frozen=True, slots=True)
class _Quick:
    name: str
    count: int = 3


def test_same_signature_defaults_equality_and_hash_as_the_dataclass() -> None:
    assert str(inspect.signature(_Quick.__init__)) == str(inspect.signature(_Plain.__init__))
    assert (_Quick("a").name, _Quick("a").count) == ("a", 3)
    assert _Quick("a", count=4) == _Quick(name="a", count=4) != _Quick("a")
    assert hash(_Quick("a")) == hash(_Quick("a"))
    assert dataclasses.replace(_Quick("a"), count=5).count == 5


def test_still_frozen() -> None:
    source = RowSource("hoc-vien.xlsx", "Danh sách", 4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.row = 5  # type: ignore[misc]
    outcome = RowOutcome(source, Status.IMPORTED, (), ("A",), ("x",))
    assert outcome.identity_code is None  # the default, as the dataclass gave it


def test_refuses_what_it_cannot_build() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Listed:
        items: list[str] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError):
        quick_init(Listed)
