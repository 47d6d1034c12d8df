"""Applying a plan to the LMS: the only part of the sync that writes to it.

Actions run phase by phase in the plan's order, each phase in batches: one batch is one
request the connector sends (sized to the field budget), up to the concurrency level at
once (:class:`~sync.tuning.Concurrency`: ``[lms] max_concurrency``, fixed or tuned as it
goes). Two chains run side by side: categories, courses (copies), course settings and
groups; and accounts. The accounts are the critical path (accounts -> enrolments ->
group members) and always keep a slot; every later phase needs both chains. As soon as a
batch is answered, the outcome of each of its actions goes to the :class:`Journal` (one
transaction per batch), so a crash loses at most the batches in flight, and a stop leaves
each batch done, unknown (sent, answer lost) or pending (never sent). The next run reads
the LMS again and re-plans, doing only what is left.

* Concurrent writes never collide inside Moodle: no two enrolment batches in flight touch
  one course, no two membership batches one group (Moodle's database would deadlock and
  roll one back with ``dmlwriteexception``).
* A bad item fails alone (the connector isolates it); its reason is kept; the rest goes on.
* A configuration error (token, function, capability) stops the apply: nothing else would
  work either.
* A batch of accounts, enrolments or memberships whose answer was lost
  (:class:`~connector.errors.LmsOutcomeUnknown`) or that Moodle rolled back
  (:class:`~connector.errors.LmsWriteConflict`) is read back: what landed is done, the rest
  is sent again, never blindly; after a lost answer the call's batches shrink
  (:class:`~sync.tuning.BatchSizer`) and grow back, so a slow site converges in one apply.
* Any other lost answer, or an LMS that stays down, stops the apply with those actions
  marked ``unknown`` / ``pending``; the next run reads back what really happened.
  Accounts created in a lost batch are recognised by identity code and adopted then (see
  :func:`sync.read.adoptable`).
* Actions that depend on a failed one (an enrolment of an account that could not be
  created) are marked failed with that reason, not sent.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar, cast

from connector import courses, enrol, groups, roles, users
from connector.batching import BatchOutcome
from connector.courses import CourseUpdate, CreatedCategory, NewCategory
from connector.encoding import PROTOCOL_FIELDS, count_fields
from connector.enrol import Enrolment, Unenrolment
from connector.errors import (
    LmsConfigError,
    LmsError,
    LmsOutcomeUnknown,
    LmsOverloaded,
    LmsRetryableError,
    LmsTimeout,
    LmsWriteConflict,
)
from connector.groups import Group, GroupMember, NewGroup
from connector.lms import MoodleLms
from connector.roles import RoleAssignment
from connector.slots import Slots
from connector.users import CreatedUser, NewUser, ProfileFieldValue, UserPreference, UserUpdate
from sync import calendar_apply
from sync.model import Action, ActionKind, ActualState, Plan
from sync.tuning import CONFLICT, ERROR, OVERLOAD, TIMEOUT, BatchSizer, CallSample, Concurrency


class _Row(Protocol):
    def params(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=_Row)
R = TypeVar("R")

DONE = "done"
FAILED = "failed"
UNKNOWN = "unknown"
PENDING = "pending"

# Phases that need only categories and courses, and phases that need only accounts: the
# two chains run side by side; every later phase needs both.
COURSE_CHAIN = frozenset(
    {
        ActionKind.CREATE_CATEGORY,
        ActionKind.CREATE_COURSE,
        ActionKind.UPDATE_COURSE,
        ActionKind.CREATE_GROUP,
    }
)
ACCOUNT_CHAIN = frozenset(
    {ActionKind.CREATE_USER, ActionKind.UPDATE_USER, ActionKind.REACTIVATE_USER}
)
# After a read-back, an action is sent again at most this many times.
MAX_RESENDS = 3

# Which of a batch's actions the LMS holds (id(action) -> what a create would answer).
ReadBack = Callable[[list[Action]], Mapping[int, object]]


@dataclass(frozen=True)
class ActionOutcome:
    action: Action
    status: str  # done / failed / unknown / pending
    error: str = ""


@dataclass(frozen=True)
class Batch:
    """One request of a phase: its place in the apply, the call and how many actions."""

    seq: int  # 1, 2, ... in the order the batches were sent
    kind: ActionKind
    call: str  # the wsfunction
    size: int


@dataclass(frozen=True)
class Credential:
    """A generated first password, for the per-school account sheets (never logged)."""

    identity_code: str
    username: str
    password: str
    school_code: str


@dataclass(frozen=True)
class ApplyOptions:
    role_ids: Mapping[str, int] = field(default_factory=lambda: {"student": 5, "teacher": 4})
    credentials: str = "createpassword"  # or "generate"
    auth: str = "manual"
    schools: Mapping[str, str] = field(default_factory=dict)  # identity -> school code


class Journal(Protocol):
    """Where the applier records what it did, as it goes.

    ``sending`` is called just before a batch goes out, ``record`` once it was answered
    (or its answer lost), with that ``batch``; a batch sent but never recorded was in
    flight when the process died. ``record`` without a batch is for actions that were
    never sent (unresolvable, or left when the apply stopped). An action recorded twice
    keeps its last outcome.
    """

    def sending(self, batch: Batch, actions: Sequence[Action]) -> None: ...

    def record(self, outcomes: Sequence[ActionOutcome], batch: Batch | None = None) -> None: ...

    def account_created(self, identity_code: str, user_id: int, username: str) -> None: ...

    def suspension_set(self, identity_code: str, suspended: bool) -> None: ...


class StopRequested(Exception):
    """A stop was asked for (the daemon got SIGTERM): no new batch is sent."""


class ApplyStopped(Exception):
    """The apply stopped early; ``reason`` says why (Vietnamese) and ``cause`` the error."""

    def __init__(self, reason: str, cause: LmsError | StopRequested) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


@dataclass
class ApplyResult:
    credentials: list[Credential] = field(default_factory=list)
    stopped: str = ""
    batches: list[Batch] = field(default_factory=list)
    _latest: dict[int, ActionOutcome] = field(default_factory=dict, repr=False)

    @property
    def outcomes(self) -> list[ActionOutcome]:
        """The last outcome of each action recorded, in the order first recorded."""
        return list(self._latest.values())

    def settle(self, outcomes: Iterable[ActionOutcome]) -> None:
        for outcome in outcomes:
            self._latest[id(outcome.action)] = outcome

    def recorded(self, action: Action) -> bool:
        return id(action) in self._latest

    def count(self, status: str) -> int:
        return sum(1 for o in self._latest.values() if o.status == status)

    def failures(self) -> list[ActionOutcome]:
        return [o for o in self._latest.values() if o.status == FAILED]


Progress = Callable[[ActionKind, int, int], None]


class _Ids:
    """LMS ids of the objects the plan refers to by key, filled in as creates land."""

    def __init__(self, actual: ActualState) -> None:
        self.categories = dict(actual.categories)
        self.courses = {key: c.id for key, c in actual.courses.items()}
        self.groups = {key: g.id for key, g in actual.groups.items()}
        self.users = {code: u.id for code, u in actual.users.items()}


class Applier:
    """Applies one plan; build one per apply."""

    def __init__(
        self,
        lms: MoodleLms,
        journal: Journal,
        actual: ActualState,
        options: ApplyOptions | None = None,
        progress: Progress | None = None,
        *,
        concurrency: Concurrency | None = None,
        clock: Callable[[], float] = time.monotonic,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        """``should_stop`` is asked before each batch: when it says yes, the batches in
        flight land and are journaled, the rest is recorded pending and the apply stops."""
        self.lms = lms
        self.should_stop = should_stop
        self.journal = journal
        self.options = options or ApplyOptions()
        self.ids = _Ids(actual)
        self.progress = progress
        self.result = ApplyResult()
        # Fixed at the client's limit unless told otherwise ([lms] max_concurrency).
        self.concurrency = concurrency or Concurrency.fixed(lms.client.max_concurrency)
        self.clock = clock
        self.read_backs = 0  # lost or rolled-back batches read back instead of stopping
        self._templates: dict[str, int] = {}
        self._batch_seq = 0
        self._lock = threading.RLock()  # the journal, the result and the tuner
        self._local = threading.local()
        self._slots = Slots(self.concurrency.level)
        self._in_flight: list[int] = []  # the level each batch in flight was sent under
        self._sizers: dict[str, BatchSizer] = {}
        self._stop: LmsError | StopRequested | None = None

    def apply(self, plan: Plan) -> ApplyResult:
        phases: dict[ActionKind, list[Action]] = {}
        for action in plan.actions:
            phases.setdefault(action.kind, []).append(action)
        handlers: dict[ActionKind, Callable[[list[Action]], None]] = {
            ActionKind.CREATE_CATEGORY: self._create_categories,
            ActionKind.CREATE_COURSE: self._create_courses,
            ActionKind.UPDATE_COURSE: self._update_courses,
            ActionKind.CREATE_GROUP: self._create_groups,
            ActionKind.CREATE_USER: self._create_users,
            ActionKind.UPDATE_USER: self._update_users,
            ActionKind.REACTIVATE_USER: lambda a: self._set_suspended(a, False),
            ActionKind.ENROL: self._enrol,
            ActionKind.CHANGE_ROLE: self._change_roles,
            ActionKind.ADD_MEMBER: self._add_members,
            ActionKind.REMOVE_MEMBER: self._remove_members,
            ActionKind.UNENROL: self._unenrol,
            ActionKind.SUSPEND_USER: lambda a: self._set_suspended(a, True),
            # The run's schedule in the LMS calendar: after the courses and groups exist.
            ActionKind.MOVE_EVENT: partial(calendar_apply.move_events, self),
            ActionKind.CREATE_EVENT: partial(calendar_apply.create_events, self),
        }
        order = list(dict.fromkeys(a.kind for a in plan.actions))
        courses_chain = [k for k in order if k in COURSE_CHAIN]
        accounts_chain = [k for k in order if k in ACCOUNT_CHAIN]
        rest = [k for k in order if k not in COURSE_CHAIN and k not in ACCOUNT_CHAIN]

        def run(chain: list[ActionKind]) -> None:
            for kind in chain:
                if self._stop is not None:
                    return
                try:
                    self._check_stop()
                    handlers[kind](phases[kind])
                except (
                    LmsConfigError,
                    LmsOutcomeUnknown,
                    LmsRetryableError,
                    StopRequested,
                ) as error:
                    self._stopping(error)

        # Courses and accounts do not depend on each other: both chains run side by side,
        # the accounts (the critical path: accounts -> enrolments -> groups) first in line.
        side: list[BaseException] = []
        if courses_chain and accounts_chain:
            self._slots.critical_active = True
            thread = threading.Thread(
                target=_capture(lambda: self._chain(run, courses_chain, critical=False), side),
                name="apply-courses",
            )
            thread.start()
            try:
                run(accounts_chain)
            finally:
                self._slots.critical_active = False
                thread.join()
        else:
            run(courses_chain or accounts_chain)
        if side:
            raise side[0]
        run(rest)
        if self._stop is not None:
            left = [a for kind in order for a in phases[kind] if not self.result.recorded(a)]
            self._record([ActionOutcome(a, PENDING, "chưa chạy") for a in left])
            self.result.stopped = _stop_reason(self._stop)
            raise ApplyStopped(self.result.stopped, self._stop) from self._stop
        return self.result

    def _chain(
        self, run: Callable[[list[ActionKind]], None], chain: list[ActionKind], *, critical: bool
    ) -> None:
        self._local.critical = critical
        run(chain)

    def _stopping(self, error: LmsError | StopRequested) -> None:
        """Remember the first error that stops the apply; every chain stops sending."""
        with self._lock:
            if self._stop is None:
                self._stop = error

    # -- bookkeeping -------------------------------------------------------------------

    def _check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise StopRequested("stop requested")

    def _stop_asked(self) -> StopRequested | None:
        if self.should_stop is not None and self.should_stop():
            return StopRequested("stop requested")
        return None

    def _record(self, outcomes: list[ActionOutcome], batch: Batch | None = None) -> None:
        if not outcomes:
            return
        with self._lock:
            self.result.settle(outcomes)
            if batch is not None:
                self.result.batches.append(batch)
            self.journal.record(outcomes, batch)
            if self.progress is not None:
                kind = outcomes[0].action.kind
                self.progress(kind, len(outcomes), 0)

    def _open_batch(self, actions: Sequence[Action], call: str) -> Batch:
        """Number the batch and journal it as sent, before it goes out."""
        with self._lock:
            self._batch_seq += 1
            batch = Batch(self._batch_seq, actions[0].kind, call, len(actions))
            self.journal.sending(batch, actions)
            return batch

    def _settle(
        self,
        actions: Sequence[Action],
        call: str,
        send: Callable[[list[Action]], BatchOutcome[Action, object]],
        on_done: Callable[[Action, object], str | None] | None = None,
    ) -> None:
        """Send ``actions`` (already resolvable) as one batch, record each one's outcome."""
        if actions:
            self._send(list(actions), call, send, on_done, max_items=len(actions))

    def _sizer(self, call: str) -> BatchSizer:
        with self._lock:
            if call not in self._sizers:
                self._sizers[call] = BatchSizer(self.lms.client.field_budget)
            return self._sizers[call]

    def _send(
        self,
        actions: list[Action],
        call: str,
        send: Callable[[list[Action]], BatchOutcome[Action, object]],
        on_done: Callable[[Action, object], str | None] | None,
        *,
        fields_of: Callable[[Action], int] | None = None,
        key_of: Callable[[Action], object] | None = None,
        read_back: ReadBack | None = None,
        max_items: int | None = 1,
    ) -> None:
        """Send ``actions`` in batches, up to the concurrency level at once; journal each
        batch as it lands.

        Batches are cut as they go out: at most ``max_items`` actions, or (``fields_of``)
        the call's current form-field budget (:class:`BatchSizer`). With ``key_of`` (the
        group or course a row writes to), no two batches in flight share a key: Moodle
        would deadlock and roll one back. With ``read_back``, a batch whose answer was
        lost, or that Moodle rolled back (``dmlwriteexception``), is read back: what landed
        is done, the rest goes out again in smaller batches (never re-sent blindly).
        Without it, such a batch stops the apply: the batches in flight are awaited and
        recorded, the ones never sent are recorded pending, and the error is raised.
        """
        critical = bool(getattr(self._local, "critical", True))
        queue = list(actions)
        resent: Counter[int] = Counter()
        running: dict[Future[BatchOutcome[Action, object]], _Flight] = {}
        sizer = self._sizer(call) if fields_of is not None else None
        stop: BaseException | None = None
        with ThreadPoolExecutor(max_workers=self.concurrency.ceiling) as pool:
            while True:
                stop = stop or self._stop or self._stop_asked()
                while queue and stop is None:
                    if not self._slots.acquire(critical=critical, timeout=0 if running else 0.05):
                        break
                    busy = {key for flight in running.values() for key in flight.keys}
                    budget = sizer.budget if sizer is not None else 0
                    batch = _cut(queue, busy, budget, fields_of, key_of, max_items)
                    if not batch:
                        self._slots.release(critical=critical)
                        break
                    taken = {id(a) for a in batch}
                    queue = [a for a in queue if id(a) not in taken]
                    flight = self._launch(pool, batch, call, send, fields_of, key_of)
                    assert flight.future is not None
                    running[flight.future] = flight
                if not running:
                    if queue and stop is None:
                        continue  # no slot yet: the other chain holds them
                    break
                finished, _ = wait(
                    running, timeout=0.05 if queue else None, return_when=FIRST_COMPLETED
                )
                for future in sorted(finished, key=lambda f: running[f].info.seq):
                    flight = running.pop(future)
                    self._slots.release(critical=critical)
                    with self._lock:
                        self._in_flight.remove(flight.level)
                    error, again = self._land(flight, on_done, read_back, sizer, resent)
                    stop = stop or error
                    queue = again + queue
        if stop is not None:
            self._record([ActionOutcome(a, PENDING, "chưa gửi: đã dừng") for a in queue])
            raise stop

    def _launch(
        self,
        pool: ThreadPoolExecutor,
        batch: list[Action],
        call: str,
        send: Callable[[list[Action]], BatchOutcome[Action, object]],
        fields_of: Callable[[Action], int] | None,
        key_of: Callable[[Action], object] | None,
    ) -> _Flight:
        info = self._open_batch(batch, call)
        level = self.concurrency.level
        with self._lock:
            steady = len(self._in_flight) + 1 == level and all(
                other == level for other in self._in_flight
            )
            self._in_flight.append(level)
        fields = PROTOCOL_FIELDS + sum(fields_of(a) for a in batch) if fields_of else 1
        flight = _Flight(
            info,
            batch,
            frozenset(key_of(a) for a in batch) if key_of else frozenset(),
            level,
            steady,
            fields,
            rows=fields_of is not None,
        )
        clock = self.clock

        def timed(batch: list[Action] = batch) -> BatchOutcome[Action, object]:
            started = clock()
            try:
                return send(batch)
            finally:
                flight.seconds = clock() - started

        flight.future = pool.submit(timed)
        return flight

    def _observe(self, flight: _Flight, problem: str | None) -> None:
        if problem is None and not flight.rows:
            return  # one small call (a course copy): too noisy to measure a level by
        with self._lock:
            self.concurrency.observe(
                CallSample(
                    flight.info.call,
                    flight.level,
                    flight.fields,
                    flight.seconds,
                    problem,
                    flight.steady,
                )
            )
            level = self.concurrency.level
        if self._slots.limit != level:
            self._slots.set_limit(level)
            self.lms.client.max_concurrency = level  # its own reads follow the level too

    def _land(
        self,
        flight: _Flight,
        on_done: Callable[[Action, object], str | None] | None,
        read_back: ReadBack | None,
        sizer: BatchSizer | None,
        resent: Counter[int],
    ) -> tuple[BaseException | None, list[Action]]:
        """Record what became of one batch; return the error that must stop the apply
        and the actions to send again (read back: they did not land)."""
        batch, info = flight.actions, flight.info
        assert flight.future is not None
        try:
            outcome = flight.future.result()
        except (LmsWriteConflict, LmsOutcomeUnknown) as error:
            lost = isinstance(error, LmsOutcomeUnknown)
            self._observe(flight, _problem(error))
            self._record([ActionOutcome(a, UNKNOWN, str(error)) for a in batch], info)
            if read_back is None:
                return error, []
            if lost and sizer is not None:
                sizer.lost(flight.fields)
            return self._read_back(flight, error, on_done, read_back, resent)
        except (LmsConfigError, LmsRetryableError) as error:
            self._observe(flight, _problem(error))
            self._record([ActionOutcome(a, PENDING, str(error)) for a in batch], info)
            return error, []
        except Exception as error:  # recorded here, raised by the caller
            why = f"{type(error).__name__}: {error}"
            self._record([ActionOutcome(a, UNKNOWN, why) for a in batch], info)
            return error, []
        self._observe(flight, None)
        if sizer is not None:
            sizer.landed()
        outcomes = []
        for action, result in outcome.done:
            problem = on_done(action, result) if on_done else None
            outcomes.append(ActionOutcome(action, FAILED if problem else DONE, problem or ""))
        outcomes += [ActionOutcome(action, FAILED, str(error)) for action, error in outcome.failed]
        self._record(outcomes, info)
        return None, []

    def _read_back(
        self,
        flight: _Flight,
        error: LmsError,
        on_done: Callable[[Action, object], str | None] | None,
        read_back: ReadBack,
        resent: Counter[int],
    ) -> tuple[LmsError | None, list[Action]]:
        """Ask the LMS what a lost or rolled-back batch did; keep what landed."""
        try:
            found = read_back(flight.actions)
        except LmsError:
            return error, []  # the batch stays unknown: the next run reads back
        outcomes = []
        again = []
        for action in flight.actions:
            if id(action) in found:
                problem = on_done(action, found[id(action)]) if on_done else None
                outcomes.append(ActionOutcome(action, FAILED if problem else DONE, problem or ""))
            else:
                again.append(action)
        self._record(outcomes)
        with self._lock:
            self.read_backs += 1
        for action in again:
            resent[id(action)] += 1
        if any(resent[id(a)] > MAX_RESENDS for a in again):
            return error, []  # still not landing after several tries: stop, stay unknown
        return None, again

    def _unresolved(self, actions: Iterable[tuple[Action, str]]) -> None:
        self._record([ActionOutcome(a, FAILED, why) for a, why in actions])

    def _write_rows(
        self,
        actions: Sequence[Action],
        rows: Mapping[int, T],
        call: str,
        write: Callable[[list[T]], BatchOutcome[T, R]],
        on_done: Callable[[Action, object], str | None] | None = None,
        *,
        key_of: Callable[[T], object] | None = None,
        read_back: Callable[[list[T]], Mapping[T, object]] | None = None,
    ) -> None:
        """Send the connector rows of the ``actions`` that have one, in requests of
        ``call`` sized like the connector sizes them, each journaled as it lands.

        ``key_of`` a row: what two concurrent requests must not share (its group or
        course); ``read_back`` rows: those the LMS holds, with the answer a create gives.
        """

        def send(batch: list[Action]) -> BatchOutcome[Action, object]:
            return _remap(batch, rows, write([rows[id(a)] for a in batch]))

        ready = [a for a in actions if id(a) in rows]
        action_key = None if key_of is None else (lambda a: key_of(rows[id(a)]))
        if action_key is not None:
            ready.sort(key=lambda a: str(action_key(a)))  # whole groups/courses per batch
        check = None
        if read_back is not None:
            rows_read = read_back

            def check(batch: list[Action]) -> dict[int, object]:
                held = rows_read([rows[id(a)] for a in batch])
                return {id(a): held[rows[id(a)]] for a in batch if rows[id(a)] in held}

        self._send(
            ready,
            call,
            send,
            on_done,
            fields_of=lambda a: count_fields(rows[id(a)].params()),
            key_of=action_key,
            read_back=check,
            max_items=None,
        )

    # -- phases ------------------------------------------------------------------------

    def _create_categories(self, actions: list[Action]) -> None:
        pending = list(actions)
        while pending:
            ready = [
                a
                for a in pending
                if not a.data.get("parent_idnumber")
                or str(a.data["parent_idnumber"]) in self.ids.categories
            ]
            if not ready:
                self._unresolved((a, "danh mục cha chưa tạo được") for a in pending)
                return
            pending = [a for a in pending if a not in ready]
            rows = {
                id(a): NewCategory(
                    name=str(a.data["name"]),
                    parent=self.ids.categories.get(str(a.data.get("parent_idnumber") or ""), 0),
                    idnumber=str(a.data["idnumber"]),
                )
                for a in ready
            }

            def done(action: Action, answer: object) -> None:
                self.ids.categories[action.key] = cast(CreatedCategory, answer).id

            self._write_rows(
                ready, rows, courses.CREATE_CATEGORIES, self.lms.courses.create_categories, done
            )

    def _template_id(self, shortname: str) -> int | None:
        if shortname not in self._templates:
            found = self.lms.courses.get_courses_by_field("shortname", shortname).courses
            if not found:
                return None
            self._templates[shortname] = found[0].id
        return self._templates[shortname]

    def _create_courses(self, actions: list[Action]) -> None:
        made: list[tuple[Action, int]] = []
        sources: dict[int, tuple[int, int]] = {}  # id(action) -> (template, category)
        for action in actions:
            data = action.data
            template = self._template_id(str(data["template_shortname"]))
            category = self.ids.categories.get(str(data["category_idnumber"]))
            if template is None or category is None:
                why = (
                    "không tìm thấy khóa mẫu " + str(data["template_shortname"])
                    if template is None
                    else "danh mục chưa tạo được"
                )
                self._unresolved([(action, why)])
                continue
            sources[id(action)] = (template, category)

        def copy(batch: list[Action]) -> BatchOutcome[Action, object]:
            (action,) = batch
            return self._copy_course(action, *sources[id(action)])

        def copied(action: Action, course_id: object) -> None:
            self.ids.courses[action.key] = cast(int, course_id)
            made.append((action, cast(int, course_id)))

        # One copy per request; copies are independent, so up to max_concurrency go at
        # once, each journaled as it lands: a stop later in the phase keeps those made.
        ready = [a for a in actions if id(a) in sources]
        self._send(ready, courses.DUPLICATE_COURSE, copy, copied)
        # A copy keeps the template's settings: set idnumber, dates and group mode.
        updates = {
            id(a): CourseUpdate(
                id=course_id,
                idnumber=str(a.data["idnumber"]),
                startdate=int(str(a.data["startdate"])),
                enddate=int(str(a.data["enddate"])),
                groupmode=_opt_int(a.data, "groupmode"),
                groupmodeforce=_opt_bool(a.data, "groupmodeforce"),
            )
            for a, course_id in made
        }

        self._write_rows(
            [a for a, _ in made],
            updates,
            courses.UPDATE_COURSES,
            self.lms.courses.update_courses,
            _warnings_problem,
        )

    def _copy_course(
        self, action: Action, template: int, category: int
    ) -> BatchOutcome[Action, object]:
        data = action.data
        try:
            created = self.lms.courses.duplicate_course(
                template, str(data["fullname"]), str(data["shortname"]), category
            )
        except (LmsConfigError, LmsOutcomeUnknown, LmsRetryableError):
            raise
        except LmsError as error:
            return BatchOutcome(failed=[(action, error)], calls=1)
        return BatchOutcome(done=[(action, created.id)], calls=1)

    def _update_courses(self, actions: list[Action]) -> None:
        updates = {
            id(a): CourseUpdate(
                id=int(str(a.data["id"])),
                fullname=_opt_str(a.data, "fullname"),
                idnumber=_opt_str(a.data, "idnumber"),
                startdate=_opt_int(a.data, "startdate"),
                enddate=_opt_int(a.data, "enddate"),
                groupmode=_opt_int(a.data, "groupmode"),
                groupmodeforce=_opt_bool(a.data, "groupmodeforce"),
            )
            for a in actions
        }

        self._write_rows(
            actions,
            updates,
            courses.UPDATE_COURSES,
            self.lms.courses.update_courses,
            _warnings_problem,
        )

    def _create_groups(self, actions: list[Action]) -> None:
        ready: list[Action] = []
        missing: list[Action] = []
        for action in actions:
            course = self.ids.courses.get(str(action.data["course_idnumber"]))
            (ready if course else missing).append(action)
        self._unresolved((a, "khóa học chưa tạo được") for a in missing)
        rows = {
            id(a): NewGroup(
                courseid=self.ids.courses[str(a.data["course_idnumber"])],
                name=str(a.data["name"]),
                idnumber=str(a.data["idnumber"]),
            )
            for a in ready
        }

        def done(action: Action, answer: object) -> None:
            key = (str(action.data["course_idnumber"]), str(action.data["idnumber"]))
            self.ids.groups[key] = cast(Group, answer).id

        self._write_rows(ready, rows, groups.CREATE_GROUPS, self.lms.groups.create_groups, done)

    def _create_users(self, actions: list[Action]) -> None:
        generate = self.options.credentials == "generate"
        passwords = {a.key: _password() for a in actions} if generate else {}
        rows = {
            id(a): NewUser(
                username=str(a.data["username"]),
                firstname=str(a.data["firstname"]),
                lastname=str(a.data["lastname"]),
                email=str(a.data["email"]),
                idnumber=str(a.data["idnumber"]),
                auth=self.options.auth,
                password=passwords.get(a.key),
                createpassword=None if generate else True,
                preferences=(UserPreference("auth_forcepasswordchange", "1"),) if generate else (),
                customfields=_profile_fields(a.data.get("customfields")),
            )
            for a in actions
        }

        def done(action: Action, answer: object) -> None:
            created = cast(CreatedUser, answer)
            user_id, username = created.id, created.username
            self.ids.users[action.key] = user_id
            self.journal.account_created(action.key, user_id, username)
            if generate:
                self.result.credentials.append(
                    Credential(
                        action.key,
                        username,
                        passwords[action.key],
                        self.options.schools.get(action.key, ""),
                    )
                )

        def held(batch: list[NewUser]) -> dict[NewUser, object]:
            found = self.lms.users.get_users_by_field("idnumber", [u.idnumber or "" for u in batch])
            return {
                u: CreatedUser(id=found[u.idnumber].id, username=found[u.idnumber].username or "")
                for u in batch
                if u.idnumber in found
            }

        self._write_rows(
            actions, rows, users.CREATE_USERS, self.lms.users.create_users, done, read_back=held
        )

    def _update_users(self, actions: list[Action]) -> None:
        rows = {
            id(a): UserUpdate(
                id=int(str(a.data["id"])),
                firstname=_opt_str(a.data, "firstname"),
                lastname=_opt_str(a.data, "lastname"),
                email=_opt_str(a.data, "email"),
                customfields=_profile_fields(a.data.get("customfields")),
            )
            for a in actions
        }

        self._write_rows(
            actions, rows, users.UPDATE_USERS, self.lms.users.update_users, _warnings_problem
        )

    def _set_suspended(self, actions: list[Action], suspended: bool) -> None:
        rows = {id(a): UserUpdate(id=int(str(a.data["id"])), suspended=suspended) for a in actions}

        def done(action: Action, answer: object) -> str | None:
            problem = _warnings_problem(action, answer)
            if problem is None:
                self.journal.suspension_set(action.key, suspended)
            return problem

        self._write_rows(actions, rows, users.UPDATE_USERS, self.lms.users.update_users, done)

    def _user_course(self, action: Action) -> tuple[int, int] | str:
        user = self.ids.users.get(str(action.data["identity_code"]))
        course = self.ids.courses.get(str(action.data["course_idnumber"]))
        if user is None:
            return "tài khoản chưa tạo được"
        if course is None:
            return "khóa học chưa tạo được"
        return user, course

    def _enrol(self, actions: list[Action]) -> None:
        rows: dict[int, Enrolment] = {}
        unresolved = []
        for action in actions:
            resolved = self._user_course(action)
            if isinstance(resolved, str):
                unresolved.append((action, resolved))
                continue
            rows[id(action)] = Enrolment(
                roleid=self.options.role_ids[str(action.data["role"])],
                userid=resolved[0],
                courseid=resolved[1],
                timestart=_opt_int(action.data, "timestart"),
                timeend=_opt_int(action.data, "timeend"),
            )
        self._unresolved(unresolved)
        ready = [a for a in actions if id(a) in rows]

        self._write_rows(
            ready,
            rows,
            enrol.ENROL_USERS,
            self.lms.enrol.enrol_users,
            key_of=lambda row: row.courseid,
            read_back=lambda batch: {
                r: None for r in batch if self._enrolled(r.courseid, r.userid)
            },
        )

    def _change_roles(self, actions: list[Action]) -> None:
        for action in actions:
            resolved = self._user_course(action)
            if isinstance(resolved, str):
                self._unresolved([(action, resolved)])
                continue
            user, course = resolved
            add = action.data.get("add")
            remove = [
                str(r)
                for r in _as_list(action.data.get("remove"))
                if str(r) in self.options.role_ids
            ]

            def send(
                batch: list[Action],
                user: int = user,
                course: int = course,
                add: object = add,
                remove: list[str] = remove,
            ) -> BatchOutcome[Action, object]:
                if add:
                    self.lms.enrol.enrol_users(
                        [
                            Enrolment(
                                roleid=self.options.role_ids[str(add)], userid=user, courseid=course
                            )
                        ]
                    )
                if remove:
                    self.lms.roles.unassign_roles(
                        [
                            RoleAssignment(
                                roleid=self.options.role_ids[r],
                                userid=user,
                                contextlevel="course",
                                instanceid=course,
                            )
                            for r in remove
                        ]
                    )
                return BatchOutcome(done=[(a, None) for a in batch])

            self._settle([action], enrol.ENROL_USERS if add else roles.UNASSIGN_ROLES, send)

    def _members(self, actions: list[Action]) -> tuple[dict[int, GroupMember], list[Action]]:
        rows: dict[int, GroupMember] = {}
        unresolved = []
        for action in actions:
            user = self.ids.users.get(str(action.data["identity_code"]))
            group = self.ids.groups.get(
                (str(action.data["course_idnumber"]), str(action.data["group_idnumber"]))
            )
            if user is None or group is None:
                unresolved.append(
                    (action, "tài khoản chưa tạo được" if user is None else "lớp chưa tạo được")
                )
                continue
            rows[id(action)] = GroupMember(groupid=group, userid=user)
        self._unresolved(unresolved)
        return rows, [a for a in actions if id(a) in rows]

    def _add_members(self, actions: list[Action]) -> None:
        rows, ready = self._members(actions)

        self._write_rows(
            ready,
            rows,
            groups.ADD_GROUP_MEMBERS,
            self.lms.groups.add_group_members,
            key_of=lambda row: row.groupid,
            read_back=lambda batch: self._members_held(batch, present=True),
        )

    def _remove_members(self, actions: list[Action]) -> None:
        rows, ready = self._members(actions)

        self._write_rows(
            ready,
            rows,
            groups.DELETE_GROUP_MEMBERS,
            self.lms.groups.delete_group_members,
            key_of=lambda row: row.groupid,
            read_back=lambda batch: self._members_held(batch, present=False),
        )

    def _unenrol(self, actions: list[Action]) -> None:
        rows: dict[int, Unenrolment] = {}
        unresolved = []
        for action in actions:
            course = self.ids.courses.get(str(action.data["course_idnumber"]))
            if course is None:
                unresolved.append((action, "không tìm thấy khóa học"))
                continue
            rows[id(action)] = Unenrolment(userid=int(str(action.data["userid"])), courseid=course)
        self._unresolved(unresolved)
        ready = [a for a in actions if id(a) in rows]

        self._write_rows(
            ready,
            rows,
            enrol.UNENROL_USERS,
            self.lms.enrol.unenrol_users,
            key_of=lambda row: row.courseid,
            read_back=lambda batch: {
                r: None for r in batch if not self._enrolled(r.courseid, r.userid)
            },
        )

    # -- read-back of a lost or rolled-back batch ---------------------------------------

    def _enrolled(self, course: int, user: int) -> bool:
        participants = self.lms.enrol.get_enrolled_users(course, userfields=("id",))
        return any(p.id == user for p in participants)

    def _members_held(
        self, batch: list[GroupMember], *, present: bool
    ) -> dict[GroupMember, object]:
        """The rows whose membership is as the batch wanted it (in, or out)."""
        members = self.lms.groups.get_group_members({row.groupid for row in batch})
        return {
            row: None for row in batch if (row.userid in members.get(row.groupid, ())) is present
        }


@dataclass(eq=False)
class _Flight:
    """One batch in flight: its journal record, its actions and what the tuner needs."""

    info: Batch
    actions: list[Action]
    keys: frozenset[object]
    level: int
    steady: bool
    fields: int
    rows: bool = True  # a batch of rows cut by the field budget (what the tuner measures)
    seconds: float = 0.0
    future: Future[BatchOutcome[Action, object]] | None = None


def _cut(
    queue: list[Action],
    busy: set[object],
    budget: int,
    fields_of: Callable[[Action], int] | None,
    key_of: Callable[[Action], object] | None,
    max_items: int | None,
) -> list[Action]:
    """The next batch from ``queue``, in order, skipping actions whose key is ``busy``."""
    batch: list[Action] = []
    used = PROTOCOL_FIELDS
    for action in queue:
        if key_of is not None and key_of(action) in busy:
            continue
        size = fields_of(action) if fields_of is not None else 0
        if batch and (
            (fields_of is not None and used + size > budget)
            or (max_items is not None and len(batch) >= max_items)
        ):
            break
        batch.append(action)
        used += size
    return batch


def _capture(work: Callable[[], None], errors: list[BaseException]) -> Callable[[], None]:
    """Run ``work`` in a thread, keeping what it raised for the thread that waits."""

    def run() -> None:
        try:
            work()
        except BaseException as error:  # re-raised by the waiting thread
            errors.append(error)

    return run


def _problem(error: LmsError) -> str:
    """What an error says about the load the LMS takes (for the concurrency tuner)."""
    cause = error.cause if isinstance(error, LmsOutcomeUnknown) else error
    if isinstance(cause, LmsTimeout):
        return TIMEOUT
    if isinstance(cause, LmsOverloaded):
        return OVERLOAD
    if isinstance(cause, LmsWriteConflict):
        return CONFLICT
    return ERROR


def _remap(
    batch: list[Action], rows: Mapping[int, T], outcome: BatchOutcome[T, R]
) -> BatchOutcome[Action, object]:
    """Turn an outcome over connector rows back into one over the plan's actions.

    Rows are matched by value (they are frozen dataclasses), so the connector may hand
    back equal copies.
    """
    by_row = {rows[id(a)]: a for a in batch}
    done: list[tuple[Action, object]] = [(by_row[row], answer) for row, answer in outcome.done]
    failed = [(by_row[row], error) for row, error in outcome.failed]
    return BatchOutcome(done=done, failed=failed, calls=outcome.calls)


def _warnings_problem(action: Action, answer: object) -> str | None:
    """Per-row warnings of an update function mean that row was not applied."""
    if isinstance(answer, tuple) and answer:
        return "; ".join(str(getattr(w, "message", w)) for w in answer)
    return None


def _profile_fields(value: object) -> tuple[ProfileFieldValue, ...]:
    if not isinstance(value, Mapping):
        return ()
    return tuple(ProfileFieldValue(str(k), str(v)) for k, v in sorted(value.items()))


def _opt_str(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _opt_int(data: Mapping[str, object], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else int(str(value))


def _opt_bool(data: Mapping[str, object], key: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true")


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _password(length: int = 12) -> str:
    """A password meeting Moodle's default policy: lower, upper, digit, symbol."""
    alphabet = string.ascii_letters + string.digits
    while True:
        core = [secrets.choice(alphabet) for _ in range(length - 1)]
        word = "".join(core) + secrets.choice("#*-+!")
        if (
            any(c.islower() for c in word)
            and any(c.isupper() for c in word)
            and any(c.isdigit() for c in word)
        ):
            return word


def _stop_reason(error: LmsError | StopRequested) -> str:
    if isinstance(error, StopRequested):
        return (
            "Dừng theo yêu cầu (tắt dịch vụ): các lô đã gửi đã được ghi nhật ký; lần sau tiếp tục."
        )
    if isinstance(error, LmsConfigError):
        return f"Dừng: LMS từ chối vì cấu hình dịch vụ web ({error}). Chạy 'bdtx lms check'."
    if isinstance(error, LmsOutcomeUnknown):
        return f"Dừng: không rõ kết quả một lệnh ghi ({error}). Chạy lại: phần mềm sẽ đọc lại LMS."
    return (
        f"Dừng: LMS không trả lời ({error}). Chạy lại khi LMS hoạt động: sẽ tiếp tục từ chỗ dừng."
    )
