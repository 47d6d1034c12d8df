"""Batching for Moodle's write functions.

Two facts of a real Moodle shape this module:

* **max_input_vars**: PHP keeps the first ``max_input_vars`` form fields of a request and
  silently drops the rest; 1,000 users in one call created 833, with no error. Batches
  are therefore sized by the number of *form fields* they produce, not by rows.
* **Atomic creates**: one bad row fails the whole batch with ``invalidparameter``, and at
  Moodle's default debug level the message does not say which row. :func:`send_isolating`
  splits a failed batch in halves until every good row has landed and every bad row
  stands alone with its own error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from connector.errors import LmsDataError, LmsError

T = TypeVar("T")
R = TypeVar("R")


def split_by_field_budget(
    items: Sequence[T],
    fields_of: Callable[[T], int],
    budget: int,
    fixed: int = 0,
    max_items: int | None = None,
) -> list[list[T]]:
    """Cut ``items`` into consecutive batches of at most ``budget`` form fields each.

    ``fixed`` is what every request carries besides the items. An item that alone does
    not fit raises ``ValueError``: it can never be sent.
    """
    room = budget - fixed
    batches: list[list[T]] = []
    current: list[T] = []
    used = 0
    for item in items:
        size = fields_of(item)
        if size > room:
            raise ValueError(f"one item needs {size} form fields, more than the {room} available")
        if current and (
            used + size > room or (max_items is not None and len(current) >= max_items)
        ):
            batches.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        batches.append(current)
    return batches


@dataclass
class BatchOutcome(Generic[T, R]):
    """What became of each item sent: landed with its result, or failed with its error."""

    done: list[tuple[T, R]] = field(default_factory=list)
    failed: list[tuple[T, LmsError]] = field(default_factory=list)
    calls: int = 0

    def extend(self, other: BatchOutcome[T, R]) -> None:
        self.done.extend(other.done)
        self.failed.extend(other.failed)
        self.calls += other.calls


def send_isolating(items: Sequence[T], send: Callable[[list[T]], list[R]]) -> BatchOutcome[T, R]:
    """Send ``items`` as one atomic batch; on a data error, bisect to isolate the bad rows.

    ``send`` must return one result per item, in order (the caller checks that). Only
    :class:`~connector.errors.LmsDataError` is isolated: any other error (configuration,
    transport, unknown outcome) concerns the whole request and propagates, so the caller
    can stop or read back. A batch with k bad rows out of n costs about
    ``1 + 2·k·log2(n/k)`` calls.
    """
    outcome: BatchOutcome[T, R] = BatchOutcome()
    pending: list[list[T]] = [list(items)] if items else []
    while pending:
        batch = pending.pop()
        outcome.calls += 1
        try:
            results = send(batch)
        except LmsDataError as error:
            if len(batch) == 1:
                outcome.failed.append((batch[0], error))
                continue
            middle = len(batch) // 2
            # Push the second half first so the first half is sent first (keeps order).
            pending.append(batch[middle:])
            pending.append(batch[:middle])
            continue
        outcome.done.extend(zip(batch, results, strict=True))
    return outcome
