"""Fault injection: make the N-th call of a function fail like a real network would.

The sync tests use it to kill an apply halfway: refuse the connection (nothing applied),
answer HTTP 503 (nothing applied) or apply the call and then drop the response, so the
client cannot know whether its write happened.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from enum import Enum

ANY_FUNCTION = "*"


class FaultKind(Enum):
    """What goes wrong."""

    CONNECTION_ERROR = "connection_error"
    HTTP_503 = "http_503"
    DROP_RESPONSE = "drop_response"


@dataclass(frozen=True)
class Fault:
    """Fire ``kind`` on the ``on_call``-th call (1-based) of ``wsfunction`` (or ``"*"``)."""

    wsfunction: str
    on_call: int
    kind: FaultKind


class FaultPlan:
    """Counts calls per function and fires each planned fault once; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._calls: Counter[str] = Counter()

    def add(self, fault: Fault) -> None:
        """Plan one more fault."""
        if fault.on_call < 1:
            raise ValueError("on_call counts from 1")
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Forget planned faults and call counts."""
        with self._lock:
            self._faults.clear()
            self._calls.clear()

    def calls(self, wsfunction: str = ANY_FUNCTION) -> int:
        """How many calls of ``wsfunction`` (or of all functions) arrived so far."""
        with self._lock:
            return self._calls[wsfunction]

    def next_fault(self, wsfunction: str) -> FaultKind | None:
        """Count one call of ``wsfunction`` and return the fault to fire, if any."""
        with self._lock:
            self._calls[wsfunction] += 1
            self._calls[ANY_FUNCTION] += 1
            for fault in self._faults:
                if fault.wsfunction == ANY_FUNCTION:
                    hit = self._calls[ANY_FUNCTION] == fault.on_call
                else:
                    hit = (
                        fault.wsfunction == wsfunction and self._calls[wsfunction] == fault.on_call
                    )
                if hit:
                    self._faults.remove(fault)
                    return fault.kind
            return None
