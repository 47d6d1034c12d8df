"""Field-budget batching and bad-row isolation of atomic batch creates."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.batching import send_isolating, split_by_field_budget
from connector.encoding import PROTOCOL_FIELDS, count_fields, flatten_params
from connector.errors import LmsInvalidParameter, LmsInvalidToken


def test_flatten_matches_moodle_names() -> None:
    params = {
        "users": [
            {
                "username": "an.nv",
                "auth": "manual",
                "preferences": [{"type": "auth_forcepasswordchange", "value": True}],
                "suspended": None,
            }
        ],
        "field": "idnumber",
    }
    assert flatten_params(params) == [
        ("users[0][username]", "an.nv"),
        ("users[0][auth]", "manual"),
        ("users[0][preferences][0][type]", "auth_forcepasswordchange"),
        ("users[0][preferences][0][value]", "1"),
        ("field", "idnumber"),
    ]
    assert count_fields(params) == 5


def test_batches_respect_the_budget_like_the_province_baseline() -> None:
    # The recorded floor: 832 users x 6 fields + 3 protocol fields = 4995 <= 5000.
    users = list(range(5544))
    batches = split_by_field_budget(users, lambda _: 6, budget=5000, fixed=PROTOCOL_FIELDS)
    assert [len(b) for b in batches] == [832] * 6 + [552]
    assert [u for b in batches for u in b] == users


def test_batches_cap_items_and_reject_an_item_that_never_fits() -> None:
    assert [
        len(b) for b in split_by_field_budget(list(range(10)), lambda _: 1, 100, max_items=4)
    ] == [4, 4, 2]
    with pytest.raises(ValueError, match="more than"):
        split_by_field_budget([1], lambda _: 11, budget=10)
    assert split_by_field_budget([], lambda _: 1, budget=10) == []


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=40), max_size=300),
    budget=st.integers(min_value=43, max_value=500),
)
def test_batches_never_exceed_budget_and_keep_every_item_in_order(
    sizes: list[int], budget: int
) -> None:
    items = list(enumerate(sizes))
    batches = split_by_field_budget(items, lambda item: item[1], budget, fixed=PROTOCOL_FIELDS)
    assert [item for batch in batches for item in batch] == items
    assert all(sum(size for _, size in batch) + PROTOCOL_FIELDS <= budget for batch in batches)
    assert all(batch for batch in batches)


class AtomicServer:
    """Behaves like core_user_create_users: one bad row fails the whole request."""

    def __init__(self, bad: set[int]) -> None:
        self.bad = bad
        self.created: list[int] = []
        self.calls = 0

    def send(self, batch: list[int]) -> list[dict[str, int]]:
        self.calls += 1
        if any(row in self.bad for row in batch):
            raise LmsInvalidParameter(
                "Invalid parameter value detected", errorcode="invalidparameter"
            )
        self.created.extend(batch)
        return [{"id": 1000 + row, "row": row} for row in batch]


def test_batch_of_200_with_3_bad_rows_lands_197_and_names_the_3() -> None:
    server = AtomicServer(bad={17, 99, 180})
    outcome = send_isolating(list(range(200)), server.send)
    assert sorted(server.created) == sorted(set(range(200)) - {17, 99, 180})
    assert len(outcome.done) == 197
    assert all(result["row"] == row for row, result in outcome.done)
    assert sorted(row for row, _ in outcome.failed) == [17, 99, 180]
    assert all(isinstance(error, LmsInvalidParameter) for _, error in outcome.failed)
    assert outcome.calls == server.calls
    # Bisection: far fewer calls than one per row.
    assert server.calls <= 1 + 2 * 3 * math.ceil(math.log2(200 / 3)) + 3


def test_a_clean_batch_costs_one_call_and_keeps_order() -> None:
    server = AtomicServer(bad=set())
    outcome = send_isolating(list(range(50)), server.send)
    assert server.calls == 1
    assert [row for row, _ in outcome.done] == list(range(50))
    assert outcome.failed == []


def test_all_bad_rows_each_get_their_error() -> None:
    server = AtomicServer(bad=set(range(8)))
    outcome = send_isolating(list(range(8)), server.send)
    assert sorted(row for row, _ in outcome.failed) == list(range(8))
    assert outcome.done == []


def test_non_data_errors_are_not_isolated_but_raised() -> None:
    calls = 0

    def send(batch: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        raise LmsInvalidToken("Invalid token", errorcode="invalidtoken")

    with pytest.raises(LmsInvalidToken):
        send_isolating(list(range(64)), send)
    assert calls == 1


@given(
    n=st.integers(min_value=0, max_value=120),
    bad=st.sets(st.integers(min_value=0, max_value=119), max_size=10),
)
def test_isolation_lands_exactly_the_good_rows(n: int, bad: set[int]) -> None:
    bad_rows = {b for b in bad if b < n}
    server = AtomicServer(bad=bad_rows)
    outcome = send_isolating(list(range(n)), server.send)
    assert sorted(server.created) == sorted(set(range(n)) - bad_rows)
    assert len(server.created) == len(set(server.created))
    assert {row for row, _ in outcome.failed} == bad_rows
