"""The applier journals each batch as it lands: an outage mid-phase keeps what was done."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import replace
from urllib.parse import parse_qsl

import httpx
import pytest

from connector.client import MoodleClient
from connector.lms import MoodleLms
from connector.retry import NO_RETRY
from connector.users import UserRules
from sandbox.faults import FaultKind
from sandbox.lms import SandboxLms
from sync.apply import DONE, PENDING, UNKNOWN, Applier, ApplyOptions, ApplyStopped
from sync.model import ActionKind
from sync.plan import PlanOptions, plan
from sync.read import read_actual
from tests.integration.test_apply_sandbox import ListJournal
from tests.unit.sync.states import desired, person

NOW = 1_693_000_000
PEOPLE = [person(f"70000000{n:02d}") for n in range(1, 41)]
CLASSES = {p.identity_code: ("L01" if n % 2 else "L02") for n, p in enumerate(PEOPLE)}


def lms_for(sandbox: SandboxLms, *, concurrency: int = 1) -> MoodleLms:
    client = MoodleClient(
        "http://sandbox.invalid",
        sandbox.token_for("syncbot"),
        transport=sandbox.transport(),
        field_budget=120,  # a few accounts per request: many batches per phase
        max_concurrency=concurrency,
        retry=NO_RETRY,
    )
    return MoodleLms(client, user_rules=UserRules(profile_fields=frozenset({"school"})))


def cut_apply(
    sandbox: SandboxLms, *, concurrency: int, wsfunction: str, on_call: int
) -> tuple[ListJournal, ApplyStopped]:
    """Lose the answer of one write, and the read-back that would say what it did."""
    lms = lms_for(sandbox, concurrency=concurrency)
    wanted = desired(PEOPLE, CLASSES)
    actual = read_actual(lms, wanted)
    the_plan = plan(
        wanted, actual, now=NOW, options=PlanOptions(site_customfields=frozenset({"school"}))
    )
    sandbox.inject_fault(wsfunction, on_call=on_call, kind=FaultKind.DROP_RESPONSE)
    lookups = sandbox.faults.calls("core_user_get_users_by_field")
    sandbox.inject_fault(
        "core_user_get_users_by_field", on_call=lookups + 1, kind=FaultKind.CONNECTION_ERROR
    )
    journal = ListJournal()
    with pytest.raises(ApplyStopped) as stop:
        Applier(lms, journal, actual, ApplyOptions()).apply(the_plan)
    return journal, stop.value


def statuses(journal: ListJournal, kind: ActionKind) -> dict[str, str]:
    return {o.action.key: o.status for o in journal.outcomes if o.action.kind is kind}


def accounts_in(sandbox: SandboxLms) -> set[str]:
    return {u.idnumber for u in sandbox.site.users.values() if u.idnumber}


def test_a_lost_answer_that_cannot_be_read_back_leaves_earlier_batches_done_and_later_pending() -> (
    None
):
    sandbox = SandboxLms()
    journal, _ = cut_apply(sandbox, concurrency=1, wsfunction="core_user_create_users", on_call=3)

    batches = [b for b in journal.answered if b.kind is ActionKind.CREATE_USER]
    assert len(batches) == 3
    got = statuses(journal, ActionKind.CREATE_USER)
    done = {k for k, s in got.items() if s == DONE}
    unknown = {k for k, s in got.items() if s == UNKNOWN}
    pending = {k for k, s in got.items() if s == PENDING}
    assert len(done) == batches[0].size + batches[1].size
    assert len(unknown) == batches[2].size
    assert len(pending) == len(PEOPLE) - len(done) - len(unknown) > 0
    # The journal says what the LMS holds: the lost batch was applied, the rest not sent.
    assert accounts_in(sandbox) == done | unknown
    assert all(s == PENDING for s in statuses(journal, ActionKind.ENROL).values())


def test_with_concurrent_batches_every_answered_batch_is_recorded_done_when_stopped() -> None:
    sandbox = SandboxLms()
    journal, stop = cut_apply(
        sandbox, concurrency=2, wsfunction="core_user_create_users", on_call=3
    )
    assert "không rõ kết quả" in stop.reason
    got = statuses(journal, ActionKind.CREATE_USER)
    done = {k for k, s in got.items() if s == DONE}
    unknown = {k for k, s in got.items() if s == UNKNOWN}
    user_batches = sorted(
        (b for b in journal.answered if b.kind is ActionKind.CREATE_USER), key=lambda b: b.seq
    )
    assert len(user_batches) >= 3
    # The third request to reach the LMS lost its answer: with two in flight that is the
    # third or the fourth batch sent, and exactly its actions are unknown.
    lost = [b for b in user_batches if journal.keys_of[b.seq] == unknown]
    assert len(lost) == 1
    assert lost[0].seq in {b.seq for b in user_batches[2:4]}
    assert len(done) == sum(b.size for b in user_batches) - len(unknown)
    # No account the LMS made is recorded as never sent; nothing sent after the stop.
    assert accounts_in(sandbox) == done | unknown
    assert journal.sent == sorted(journal.answered, key=lambda b: b.seq)


def test_with_max_concurrency_batches_and_course_copies_go_out_side_by_side() -> None:
    sandbox = SandboxLms()
    lock = threading.Lock()
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()

    def handler(request: httpx.Request) -> httpx.Response:
        fields = parse_qsl(request.url.query.decode()) + parse_qsl(request.content.decode())
        wsfunction = dict(fields).get("wsfunction", "")
        with lock:
            in_flight[wsfunction] += 1
            peak[wsfunction] = max(peak[wsfunction], in_flight[wsfunction])
        try:
            time.sleep(0.02)
            return sandbox.handle_httpx(request)
        finally:
            with lock:
                in_flight[wsfunction] -= 1

    client = MoodleClient(
        "http://sandbox.invalid",
        sandbox.token_for("syncbot"),
        transport=httpx.MockTransport(handler),
        field_budget=120,
        max_concurrency=2,
    )
    lms = MoodleLms(client, user_rules=UserRules(profile_fields=frozenset({"school"})))
    wanted = desired(PEOPLE, CLASSES)
    (course,) = wanted.courses.values()
    extra = {f"{course.idnumber}-{n}": course for n in range(1, 4)}
    courses = {
        key: replace(course, idnumber=key, shortname=key) for key in [course.idnumber, *extra]
    }
    wanted = replace(wanted, courses=courses)
    actual = read_actual(lms, wanted)
    the_plan = plan(
        wanted, actual, now=NOW, options=PlanOptions(site_customfields=frozenset({"school"}))
    )
    journal = ListJournal()
    result = Applier(lms, journal, actual, ApplyOptions()).apply(the_plan)

    assert result.failures() == []
    assert peak["core_user_create_users"] == 2
    assert peak["core_course_duplicate_course"] == 2
    # Every batch sent was journaled once, whatever order the answers came in.
    assert sorted(b.seq for b in journal.answered) == [b.seq for b in journal.sent]
    copies = [b for b in journal.answered if b.call == "core_course_duplicate_course"]
    assert len(copies) == len(courses)
    assert {c.shortname for c in sandbox.site.courses.values()} >= set(courses)


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_stop_request_lets_the_batch_in_flight_land_and_sends_no_more(concurrency: int) -> None:
    """What the daemon does on SIGTERM: the batches sent are journaled, the rest pending."""
    sandbox = SandboxLms()
    lms = lms_for(sandbox, concurrency=concurrency)
    wanted = desired(PEOPLE, CLASSES)
    actual = read_actual(lms, wanted)
    the_plan = plan(
        wanted, actual, now=NOW, options=PlanOptions(site_customfields=frozenset({"school"}))
    )
    journal = ListJournal()
    asked = threading.Event()

    def should_stop() -> bool:
        sent = sum(1 for b in journal.answered if b.kind is ActionKind.CREATE_USER)
        if sent >= 2:
            asked.set()
        return asked.is_set()

    with pytest.raises(ApplyStopped) as stop:
        Applier(lms, journal, actual, ApplyOptions(), should_stop=should_stop).apply(the_plan)
    assert "theo yêu cầu" in stop.value.reason
    got = statuses(journal, ActionKind.CREATE_USER)
    done = {k for k, s in got.items() if s == DONE}
    pending = {k for k, s in got.items() if s == PENDING}
    answered = [b for b in journal.answered if b.kind is ActionKind.CREATE_USER]
    # Every batch sent landed (those in flight when asked too); none was sent after.
    assert {b.seq for b in journal.sent} == {b.seq for b in journal.answered}
    assert 2 <= len(answered) <= 1 + concurrency
    assert len(done) == sum(b.size for b in answered)
    assert len(pending) == len(PEOPLE) - len(done) > 0
    assert accounts_in(sandbox) == done
    assert set(statuses(journal, ActionKind.ENROL).values()) == {PENDING}
