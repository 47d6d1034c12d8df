"""Reading a roster pauses the cyclic garbage collector, and gives it back as it was."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from roster.service import _cycle_collection_paused


@pytest.fixture
def collector_state() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
def test_paused_inside_and_enabled_again_after_even_on_error() -> None:
    gc.enable()
    with _cycle_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), _cycle_collection_paused():
        raise RuntimeError("a file error")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()
    with _cycle_collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
