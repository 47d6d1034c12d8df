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

A read costs what it answers: ``core_enrol_get_enrolled_users`` costs Moodle a time per
participant listed that grows with the ``userfields`` asked (:data:`PARTICIPANT_COSTS`):
``roles`` and ``customfields`` run queries per participant, ``groups`` more. The worker
is held for it once the answer is known (:meth:`Throttle.answered`).

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
    # Per participant listed by core_enrol_get_enrolled_users: "" (any record), then
    # each asked userfield; a field not named costs nothing more.
    participant_s: Mapping[str, float] = field(default_factory=dict)

    def of(self, wsfunction: str, rows: int) -> float:
        if wsfunction in self.fixed_s:
            return self.fixed_s[wsfunction]
        if wsfunction == PARTICIPANTS and self.participant_s:
            return self.call_s  # its rows are the participants answered: of_answer
        return self.call_s + rows * self.row_s.get(wsfunction, self.default_row_s)

    def scaled(self, factor: float) -> Costs:
        """The same site ``factor`` times as fast (< 1) or slow (> 1)."""
        return replace(
            self,
            call_s=self.call_s * factor,
            default_row_s=self.default_row_s * factor,
            row_s={name: cost * factor for name, cost in self.row_s.items()},
            fixed_s={name: cost * factor for name, cost in self.fixed_s.items()},
            participant_s={name: cost * factor for name, cost in self.participant_s.items()},
        )

    def of_answer(self, wsfunction: str, params: Mapping[str, Any], answer: object) -> float:
        """What producing ``answer`` cost beyond :meth:`of`: the participants listed."""
        if wsfunction != PARTICIPANTS or not isinstance(answer, list) or not self.participant_s:
            return 0.0
        per_record = self.participant_s.get("", 0.0) + sum(
            self.participant_s.get(name, 0.0) for name in asked_userfields(params)
        )
        return len(answer) * per_record


PARTICIPANTS = "core_enrol_get_enrolled_users"
# Moodle's record when ``userfields`` is not given (user_get_user_details' defaults).
_DEFAULT_USERFIELDS = ("customfields", "groups", "roles", "enrolledcourses", "preferences")

# Per participant listed, on one PHP worker: "" any record (userfields=id: recorded 2.3 s
# for 5,544 in 28 calls, 0.31 ms each); the leanest complete read (identity, names,
# e-mail, groups: recorded "C:min", 9.95 s, 1.69 ms each), so groups about 1.33 ms. Timed
# again on the real Moodle 4.5 of issue 10 (30 November 2026, one course of 3,000
# participants, best of 5 on the loaded machine): leanest 4.22 s, + suspended 4.31 s,
# + roles 5.07-5.26 s, + customfields (4 site fields) 5.26 s, userfields=id 0.94 s; the
# staff (withcapability mod/assign:grade, id and roles of 15) 35 ms.
PARTICIPANT_COSTS: Mapping[str, float] = {
    "": 0.0003,
    "username": 0.00001,
    "firstname": 0.00001,
    "lastname": 0.00001,
    "email": 0.00001,
    "idnumber": 0.00001,
    "suspended": 0.00002,
    "groups": 0.00133,
    "roles": 0.0003,
    "customfields": 0.00035,
    "enrolledcourses": 0.001,
    "preferences": 0.0001,
}

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
    participant_s=PARTICIPANT_COSTS,
)
READ_COSTS = Costs(call_s=RECORDED_COSTS.call_s, participant_s=PARTICIPANT_COSTS)
"""Every call its recorded 20 ms and the participants' reads their cost per participant;
rows written cost nothing more (the sync benchmark's re-sync against the leanest read,
``bench/sync_bench.py --read-costs``)."""


def asked_userfields(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``userfields`` option of a participants' read (decoded PHP form or plain)."""
    options = params.get("options") or []
    items = options.values() if isinstance(options, dict) else options
    for item in items:
        if isinstance(item, dict) and item.get("name") == "userfields":
            return tuple(f.strip() for f in str(item.get("value", "")).split(",") if f.strip())
    return ("username", "firstname", "lastname", "email", "idnumber", *_DEFAULT_USERFIELDS)


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

    def answered(
        self, slot: CallSlot, wsfunction: str, params: Mapping[str, Any], answer: object
    ) -> None:
        """Inside :meth:`call`: hold the worker for what the answer cost to produce."""
        extra = self.costs.of_answer(wsfunction, params, answer)
        if extra <= 0:
            return
        slot.cost_s += extra
        if self.timeout_s is not None and slot.cost_s > self.timeout_s:
            slot.timed_out = True
        self._sleep(extra)
