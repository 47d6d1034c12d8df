"""A sandbox LMS as slow as a small real site: N PHP workers, each call costing time.

A Moodle behind PHP's built-in server (``PHP_CLI_SERVER_WORKERS=N``) or PHP-FPM with N
children serves N requests at once and queues the others; each takes a time that grows
with the rows it writes. :class:`Throttle` models exactly that: a pool of ``workers``
slots, and a cost per call and per row (:data:`RECORDED_COSTS`: the per-row costs measured
on the real Moodle 4.5 of ``../shared/moodle-contract/_meta__provisioning_baseline.json``
and issue 10). With it, the concurrency that gives the most rows per second is known:
``workers``; above it calls only queue longer.

It also models the collision recorded on that Moodle: two ``core_group_add_group_members``
(or ``_delete_``) calls in flight that touch the same group deadlock in PostgreSQL
(``UPDATE mdl_groups SET timemodified``); Moodle rolls one back and answers HTTP 200 with
``dmlwriteexception`` "Error writing to database". Enrolments into the same course
(``enrol_manual_enrol_users`` / ``_unenrol_``, one ``mdl_enrol`` row) collide the same way.
The call that starts second while the other still runs is the one rolled back: it costs
its time, then nothing of it is applied.

Costs are spent with an injected ``sleep``: real time when served for a benchmark, none
(or a barrier) in tests. ``timeout_s`` stands in for a client that stops waiting, where no
real time passes (in-process): a call costing more is applied and its answer lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sandbox.errors import MoodleError

# Write functions whose concurrent calls collide on a shared row, and the parameter
# naming it: (list parameter, key of each item, what the key names).
COLLIDING: Mapping[str, tuple[str, str, str]] = {
    "core_group_add_group_members": ("members", "groupid", "group"),
    "core_group_delete_group_members": ("members", "groupid", "group"),
    "enrol_manual_enrol_users": ("enrolments", "courseid", "course"),
    "enrol_manual_unenrol_users": ("enrolments", "courseid", "course"),
}


def write_conflict() -> MoodleError:
    """What Moodle answers for a write rolled back by a database deadlock."""
    return MoodleError("dml_write_exception", "dmlwriteexception", "Error writing to database")


@dataclass(frozen=True)
class Costs:
    """Seconds one call takes on one worker: ``call_s`` plus its rows times a row cost.

    ``row_s`` by function (``default_row_s`` for the others); ``fixed_s`` replaces the
    whole cost of a function (a course copy costs the same whatever it carries).
    """

    call_s: float = 0.0
    default_row_s: float = 0.0
    row_s: Mapping[str, float] = field(default_factory=dict)
    fixed_s: Mapping[str, float] = field(default_factory=dict)

    def of(self, wsfunction: str, rows: int) -> float:
        if wsfunction in self.fixed_s:
            return self.fixed_s[wsfunction]
        return self.call_s + rows * self.row_s.get(wsfunction, self.default_row_s)

    def scaled(self, factor: float) -> Costs:
        """The same site ``factor`` times as fast (< 1) or slow (> 1)."""
        return replace(
            self,
            call_s=self.call_s * factor,
            default_row_s=self.default_row_s * factor,
            row_s={name: cost * factor for name, cost in self.row_s.items()},
            fixed_s={name: cost * factor for name, cost in self.fixed_s.items()},
        )


# Real Moodle 4.5 on one PHP worker (issue 10; _meta__provisioning_baseline.json).
RECORDED_COSTS = Costs(
    call_s=0.02,
    default_row_s=0.002,
    row_s={
        "core_user_create_users": 0.015,
        "core_user_update_users": 0.005,
        "enrol_manual_enrol_users": 0.007,
        "core_group_add_group_members": 0.0085,
        "core_group_create_groups": 0.01,
    },
    fixed_s={"core_course_duplicate_course": 0.8},
)


def rows_of(params: Mapping[str, Any]) -> int:
    """How many rows a call carries: the items of its first list parameter (PHP arrays
    decode to dicts keyed "0", "1", ...); 1 for a call without one."""
    for value in params.values():
        if isinstance(value, dict) and value and all(k.isdigit() for k in value):
            return len(value)
        if isinstance(value, list):
            return len(value)
    return 1


def collision_keys(wsfunction: str, params: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """The shared rows a write locks: ("group", id) or ("course", id)."""
    where = COLLIDING.get(wsfunction)
    if where is None:
        return frozenset()
    name, key, what = where
    items = params.get(name)
    values = items.values() if isinstance(items, dict) else items if isinstance(items, list) else []
    return frozenset(
        (what, str(item[key])) for item in values if isinstance(item, dict) and key in item
    )


@dataclass
class CallSlot:
    """One call on a worker: ``collided`` when Moodle would roll it back."""

    cost_s: float
    collided: bool = False
    timed_out: bool = False


class Throttle:
    """``workers`` PHP workers; a call waits for one, holds it for its cost. Thread-safe."""

    def __init__(
        self,
        workers: int,
        costs: Costs = RECORDED_COSTS,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float | None = None,
        collisions: bool = True,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.costs = costs
        self.timeout_s = timeout_s
        self.collisions = collisions
        self._sleep = sleep
        self._pool = threading.Semaphore(workers)
        self._lock = threading.Lock()
        self._running: dict[int, frozenset[tuple[str, str]]] = {}
        self._next_id = 0
        self.collided = 0  # calls rolled back so far
        self.peak_running = 0

    @contextmanager
    def call(self, wsfunction: str, params: Mapping[str, Any]) -> Iterator[CallSlot]:
        """Hold a worker for the call's cost; the caller runs the call (or not) inside."""
        keys = collision_keys(wsfunction, params) if self.collisions else frozenset()
        slot = CallSlot(self.costs.of(wsfunction, rows_of(params)))
        if self.timeout_s is not None and slot.cost_s > self.timeout_s:
            slot.timed_out = True
        with self._pool:
            with self._lock:
                self._next_id += 1
                me = self._next_id
                slot.collided = any(keys & other for other in self._running.values())
                self.collided += slot.collided
                self._running[me] = keys
                self.peak_running = max(self.peak_running, len(self._running))
            try:
                if slot.cost_s > 0:
                    self._sleep(slot.cost_s)
                yield slot
            finally:
                with self._lock:
                    del self._running[me]
