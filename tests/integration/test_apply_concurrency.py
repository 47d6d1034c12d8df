"""The applier at a real site's pace: partitioned concurrent writes, read-back of lost or
rolled-back batches, and batches that shrink on a slow site so one apply converges.

The throttled sandbox spends no real time here except where a test says so (20 ms per
call, only to make calls overlap); no assertion depends on how long anything took.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable

import httpx

from connector.client import MoodleClient
from connector.lms import MoodleLms
from connector.retry import NO_RETRY
from connector.users import UserRules
from sandbox.faults import FaultKind
from sandbox.lms import SandboxLms
from sandbox.protocol import encode_json
from sandbox.throttle import Costs, Throttle, write_conflict
from sync.apply import DONE, UNKNOWN, Applier, ApplyOptions, ApplyResult
from sync.model import ActionKind, DesiredUser
from sync.plan import PlanOptions, plan
from sync.read import read_actual
from sync.tuning import Concurrency
from tests.integration.test_apply_sandbox import ListJournal
from tests.unit.sync.states import desired, person

NOW = 1_693_000_000
PEOPLE = [person(f"71000000{n:02d}") for n in range(1, 41)]  # in 4 groups of 10


def lms_over(transport: httpx.BaseTransport, token: str, *, budget: int, level: int) -> MoodleLms:
    client = MoodleClient(
        "http://sandbox.invalid",
        token,
        transport=transport,
        field_budget=budget,
        max_concurrency=level,
        retry=NO_RETRY,
    )
    return MoodleLms(client, user_rules=UserRules(profile_fields=frozenset({"school"})))


def apply_all(
    sandbox: SandboxLms,
    lms: MoodleLms,
    *,
    concurrency: Concurrency | None = None,
    people: list[DesiredUser] = PEOPLE,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Applier, ApplyResult, ListJournal]:
    classes = {p.identity_code: f"L0{n % 4 + 1}" for n, p in enumerate(people)}
    wanted = desired(people, classes)
    actual = read_actual(lms, wanted)
    the_plan = plan(
        wanted, actual, now=NOW, options=PlanOptions(site_customfields=frozenset({"school"}))
    )
    journal = ListJournal()
    applier = Applier(lms, journal, actual, ApplyOptions(), concurrency=concurrency, clock=clock)
    return applier, applier.apply(the_plan), journal


def accounts(sandbox: SandboxLms) -> Counter[str]:
    return Counter(u.idnumber for u in sandbox.site.users.values() if u.idnumber)


def members(sandbox: SandboxLms) -> int:
    return sum(len(m) for m in sandbox.site.group_members.values())


def test_concurrent_member_and_enrolment_batches_never_share_a_group_or_course() -> None:
    # Two simulated PHP workers; each call holds one for 20 ms, so batches overlap.
    throttle = Throttle(2, Costs(call_s=0.02))
    sandbox = SandboxLms(throttle=throttle)
    lms = lms_over(sandbox.transport(), sandbox.token_for("syncbot"), budget=40, level=2)
    _, result, journal = apply_all(sandbox, lms)

    assert result.failures() == []
    assert throttle.collided == 0
    assert throttle.peak_running == 2
    member_batches = [b for b in journal.answered if b.kind is ActionKind.ADD_MEMBER]
    assert len(member_batches) >= 3
    assert members(sandbox) == len(PEOPLE)


def test_a_write_moodle_rolled_back_is_read_back_and_sent_again() -> None:
    sandbox = SandboxLms()
    rolled_back: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        if "wsfunction=core_group_add_group_members" in body and not rolled_back:
            rolled_back.append(body)  # the other side of a deadlock won: nothing applied
            payload = write_conflict().payload(debug=False)
            return httpx.Response(200, content=encode_json(payload))
        return sandbox.handle_httpx(request)

    lms = lms_over(httpx.MockTransport(handler), sandbox.token_for("syncbot"), budget=5000, level=1)
    applier, result, journal = apply_all(sandbox, lms)

    assert rolled_back
    assert result.failures() == []
    assert applier.read_backs == 1
    adds = [b for b in journal.answered if b.kind is ActionKind.ADD_MEMBER]
    assert len(adds) == 2  # the rolled-back batch, then the same rows sent again
    assert all(o.status == DONE for o in journal.outcomes)
    assert members(sandbox) == len(PEOPLE)


def test_a_lost_create_answer_is_read_back_and_the_apply_goes_on_without_duplicates() -> None:
    sandbox = SandboxLms()
    lms = lms_over(sandbox.transport(), sandbox.token_for("syncbot"), budget=200, level=1)
    sandbox.inject_fault("core_user_create_users", on_call=2, kind=FaultKind.DROP_RESPONSE)
    applier, result, journal = apply_all(sandbox, lms)

    assert applier.read_backs == 1
    assert result.count(UNKNOWN) == 0
    assert result.failures() == []
    assert accounts(sandbox) == Counter({p.identity_code: 1 for p in PEOPLE})
    # The accounts of the lost batch got their LMS ids from the read-back.
    assert set(journal.accounts) == {p.identity_code for p in PEOPLE}
    assert members(sandbox) == len(PEOPLE)


def test_a_site_whose_big_calls_exceed_the_timeout_converges_in_one_apply() -> None:
    # One account costs 1 s; the client gives up after 10 s. A full batch (~30 accounts
    # at 400 form fields) never answers in time; the apply shrinks its batches.
    throttle = Throttle(
        1, Costs(row_s={"core_user_create_users": 1.0}), sleep=lambda _: None, timeout_s=10.0
    )
    sandbox = SandboxLms(throttle=throttle, clock=lambda: NOW)
    lms = lms_over(sandbox.transport(), sandbox.token_for("syncbot"), budget=150, level=1)
    applier, result, journal = apply_all(sandbox, lms)

    creates = [b for b in journal.answered if b.kind is ActionKind.CREATE_USER]
    assert result.count(UNKNOWN) == 0
    assert result.count(DONE) == len(result.outcomes)
    assert accounts(sandbox) == Counter({p.identity_code: 1 for p in PEOPLE})
    # Each batch of more than 10 accounts lost its answer and was read back (the LMS had
    # made them all); the next batch was half as big, and none grew back to a lost size.
    lost = [b for b in creates if b.size > 10]
    assert applier.read_backs == len(lost) >= 2
    for before, after in itertools.pairwise(creates):
        if before.size > 10:
            assert after.size <= before.size // 2 + 1
    assert max(b.size for b in creates[1:]) < creates[0].size
    assert members(sandbox) == len(PEOPLE)


def test_auto_concurrency_climbs_from_one_within_the_ceiling_and_the_client_follows() -> None:
    # Each call's time is what the throttle charges it, on a clock of the calling thread:
    # the tuner sees every level do proportionally more work and climbs to the ceiling.
    elapsed = threading.local()

    def spend(seconds: float) -> None:
        elapsed.t = getattr(elapsed, "t", 0.0) + seconds

    def clock() -> float:
        return float(getattr(elapsed, "t", 0.0))

    throttle = Throttle(8, Costs(call_s=0.1, default_row_s=0.1), sleep=spend)
    sandbox = SandboxLms(throttle=throttle)
    lms = lms_over(sandbox.transport(), sandbox.token_for("syncbot"), budget=60, level=1)
    auto = Concurrency.automatic(ceiling=3, timeout_s=180)
    people = [person(f"72000{n:05d}") for n in range(1, 121)]
    _, result, _ = apply_all(sandbox, lms, concurrency=auto, people=people, clock=clock)

    assert result.failures() == []
    assert auto.steps == [1, 2, 3]
    assert auto.summary()["level"] == 3
    assert "max_concurrency_ceiling" in str(auto.summary()["reason"])
    assert lms.client.max_concurrency == 3
    assert throttle.collided == 0
