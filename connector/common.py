"""Shared pieces of the per-area modules: response models, parsing, params, row batches.

Every area module (``users``, ``courses``, ``enrol``...) builds on three things here:

* :class:`MoodleModel`, the base of every typed answer (unknown keys are ignored, so a
  newer Moodle adding fields breaks nothing), and :class:`WsWarning`, Moodle's warning row;
* :func:`parse` / :func:`parse_list`, which turn a decoded answer into models and raise
  :class:`~connector.errors.LmsProtocolError` when its shape is not what the function
  promises;
* :func:`to_params`, which turns an input dataclass into the params mapping (fields left
  at ``None`` are not sent, so Moodle applies its own defaults), and :func:`send_rows`,
  the checked, batched, bisecting write of many rows, with the readers of its answers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from connector.batching import BatchOutcome, send_isolating, split_by_field_budget
from connector.client import MoodleClient
from connector.encoding import PROTOCOL_FIELDS, count_fields
from connector.errors import (
    LmsError,
    LmsInvalidParameter,
    LmsProtocolError,
    LmsTruncationError,
    LmsWsError,
)

log = logging.getLogger("bdtx.connector")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
R = TypeVar("R")


class MoodleModel(BaseModel):
    """Base of every typed answer: immutable, unknown keys ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class WsWarning(MoodleModel):
    """One entry of Moodle's ``warnings`` list: data about one item, not an exception."""

    item: str | None = None
    itemid: int | None = None
    warningcode: str = ""
    message: str = ""


class WarningsOnly(MoodleModel):
    """Answer of functions that return nothing but ``{"warnings": [...]}``."""

    warnings: tuple[WsWarning, ...] = ()


def parse(model: type[M], payload: Any, wsfunction: str) -> M:
    """Validate one answer object against ``model``."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise _shape_error(exc, wsfunction) from None


def parse_list(model: type[M], payload: Any, wsfunction: str) -> list[M]:
    """Validate an answer that is a JSON list of ``model`` objects."""
    try:
        return TypeAdapter(list[model]).validate_python(payload)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise _shape_error(exc, wsfunction) from None


def parse_warnings(payload: Any, wsfunction: str) -> tuple[WsWarning, ...]:
    """An answer that is a bare list of warnings (``[]`` or ``null``: none)."""
    return tuple(parse_list(WsWarning, payload or [], wsfunction))


def _shape_error(exc: ValidationError, wsfunction: str) -> LmsProtocolError:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(root)"
    return LmsProtocolError(
        f"answer does not have the promised shape at {where}: {first['msg']}",
        wsfunction=wsfunction,
    )


def to_params(value: Any) -> Any:
    """Turn an input dataclass (possibly nested, or a list of them) into plain params.

    Fields holding ``None`` are dropped, so Moodle applies its defaults; dataclass field
    order is kept, which is the order of the form fields.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params: dict[str, Any] = {}
        for spec in dataclasses.fields(value):
            item = getattr(value, spec.name)
            if item is None:
                continue
            params[spec.name] = to_params(item)
        return params
    if isinstance(value, Mapping):
        return {key: to_params(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [to_params(item) for item in value]
    return value


def refused(
    message: str, *, wsfunction: str, errorcode: str = "invalidparameter"
) -> LmsInvalidParameter:
    """A row refused *before* sending, because Moodle would reject or mangle it.

    ``exception`` stays empty: no Moodle exception was raised.
    """
    return LmsInvalidParameter(message, wsfunction=wsfunction, errorcode=errorcode)


def for_row(error: LmsError, row: str) -> LmsError:
    """The same error with the row it concerns named in front of its message."""
    if not isinstance(error, LmsWsError) or error.message.startswith(f"{row}: "):
        return error
    labelled = type(error)(
        f"{row}: {error.message}",
        wsfunction=error.wsfunction,
        errorcode=error.errorcode,
        exception=error.exception,
        debuginfo=error.debuginfo,
    )
    labelled.__cause__ = error
    return labelled


def batches_for(
    client: MoodleClient,
    rows: Sequence[T],
    row_params: Callable[[T], Mapping[str, Any]],
    *,
    fixed_fields: int = 0,
    budget: int | None = None,
) -> list[list[T]]:
    """Cut ``rows`` into requests that fit the client's form-field budget."""
    return split_by_field_budget(
        rows,
        lambda row: count_fields(row_params(row)),
        budget if budget is not None else client.field_budget,
        fixed=PROTOCOL_FIELDS + fixed_fields,
    )


@dataclass(frozen=True)
class Indexed(Generic[T]):
    """A caller's row with its position in the caller's list, so errors can name it."""

    index: int
    item: T


def send_rows(
    client: MoodleClient,
    wsfunction: str,
    key: str,
    rows: Sequence[T],
    *,
    row_params: Callable[[T], Mapping[str, Any]],
    describe: Callable[[int, T], str],
    read_answer: Callable[[Sequence[T], Any], list[R]],
    check: Callable[[int, T], list[str]] | None = None,
    extra_params: Mapping[str, Any] | None = None,
) -> BatchOutcome[T, R]:
    """Send many rows to a write function whose batches Moodle applies atomically.

    Each row is first ``check``-ed: a row with problems is refused before sending. The
    others go in batches that fit the client's field budget; a batch refused for its data
    is bisected by :func:`~connector.batching.send_isolating`, so that every good row lands
    and every bad row gets its own error, prefixed with ``describe(index, row)``.
    ``read_answer(batch, payload)`` turns an answer into one result per row sent.

    Errors that concern the whole request (configuration, transport, unknown outcome)
    propagate: the caller stops, or reads back and re-plans.
    """
    extra = dict(extra_params or {})
    outcome: BatchOutcome[Indexed[T], R] = BatchOutcome()
    ready: list[Indexed[T]] = []
    for index, row in enumerate(rows):
        problems = check(index, row) if check is not None else []
        if problems:
            message = f"{describe(index, row)}: {'; '.join(problems)}"
            outcome.failed.append((Indexed(index, row), refused(message, wsfunction=wsfunction)))
        else:
            ready.append(Indexed(index, row))

    def send(batch: list[Indexed[T]]) -> list[R]:
        items = [row.item for row in batch]
        params = {**extra, key: [row_params(item) for item in items]}
        return read_answer(items, client.call(wsfunction, params, write=True))

    batches = batches_for(
        client, ready, lambda row: row_params(row.item), fixed_fields=count_fields(extra)
    )
    # Batches are independent: with max_concurrency > 1 they go out side by side.
    for result in client.map_concurrent(lambda batch: send_isolating(batch, send), batches):
        outcome.extend(result)
    return BatchOutcome(
        done=[(row.item, result) for row, result in outcome.done],
        failed=[
            (row.item, for_row(error, describe(row.index, row.item)))
            for row, error in outcome.failed
        ],
        calls=outcome.calls,
    )


def no_answer(batch: Sequence[T], payload: Any) -> list[None]:
    """``read_answer`` of void functions (``enrol``, ``add members``...): answer ``null``.

    A row dropped by PHP ``max_input_vars`` cannot be noticed in such an answer, which
    is why no batch ever exceeds the budget.
    """
    del payload
    return [None] * len(batch)


def warnings_by_id(
    wsfunction: str, id_of: Callable[[T], int]
) -> Callable[[Sequence[T], Any], list[tuple[WsWarning, ...]]]:
    """``read_answer`` of functions answering ``{"warnings": [...]}`` about rows by id.

    Moodle applies such rows one by one and reports a refused row as a warning whose
    ``itemid`` is the row's id; each row gets its warnings (empty: applied).
    """

    def read(batch: Sequence[T], payload: Any) -> list[tuple[WsWarning, ...]]:
        answer = WarningsOnly() if payload is None else parse(WarningsOnly, payload, wsfunction)
        ids = [id_of(row) for row in batch]
        by_id: dict[int, list[WsWarning]] = {}
        for warning in answer.warnings:
            if warning.itemid not in ids:
                log.warning("%s: warning about no row sent: %s", wsfunction, warning.message)
                continue
            by_id.setdefault(warning.itemid, []).append(warning)
        return [tuple(by_id.get(row_id, ())) for row_id in ids]

    return read


def created_rows(
    client: MoodleClient,
    wsfunction: str,
    model: type[M],
    *,
    row_params: Callable[[T], Mapping[str, Any]],
    key_of_row: Callable[[T], str] | None = None,
    key_of_created: Callable[[M], str] | None = None,
) -> Callable[[Sequence[T], Any], list[M | None]]:
    """``read_answer`` of create functions answering one record per row created.

    Records are matched to rows by a unique key when one is given, else by position
    (Moodle answers in the order rows were sent). A row without its record was dropped
    by PHP ``max_input_vars`` and not created: its result is ``None`` (see
    :func:`settle_dropped`), and the client's field budget is lowered to what the server
    was seen to keep.
    """

    def read(batch: Sequence[T], payload: Any) -> list[M | None]:
        records = parse_list(model, payload, wsfunction)
        created: list[M | None]
        if key_of_row is not None and key_of_created is not None:
            created = match_created(
                batch,
                records,
                key_of_row=key_of_row,
                key_of_created=key_of_created,
                wsfunction=wsfunction,
            )
        elif len(records) > len(batch):
            raise LmsProtocolError(
                f"{len(records)} records created for {len(batch)} rows sent", wsfunction=wsfunction
            )
        else:
            created = [*records, *([None] * (len(batch) - len(records)))]
        kept = [row for row, record in zip(batch, created, strict=True) if record is not None]
        if len(kept) < len(batch) and kept:
            # The last row kept may have lost trailing fields: count one of its fields only.
            arrived = sum(count_fields(row_params(row)) for row in kept[:-1]) + 1
            lower_budget_after_truncation(
                client,
                wsfunction,
                kept_fields=PROTOCOL_FIELDS + arrived,
                rows_sent=len(batch),
                rows_kept=len(kept),
            )
        return created

    return read


def settle_dropped(
    outcome: BatchOutcome[T, M | None], wsfunction: str, describe: Callable[[T], str]
) -> BatchOutcome[T, M]:
    """Move rows the server dropped (result ``None``) to ``failed`` as truncation errors.

    They were not created; the caller reads back and plans them again.
    """
    settled: BatchOutcome[T, M] = BatchOutcome(failed=list(outcome.failed), calls=outcome.calls)
    for row, record in outcome.done:
        if record is None:
            settled.failed.append((row, truncation_error(wsfunction, describe(row))))
        else:
            settled.done.append((row, record))
    return settled


def match_created(
    batch: Sequence[T],
    created: Sequence[M],
    *,
    key_of_row: Callable[[T], str],
    key_of_created: Callable[[M], str],
    wsfunction: str,
) -> list[M | None]:
    """Line the created records up with the rows sent, by their unique key.

    A row with no created record was not created (PHP dropped it with the fields past
    ``max_input_vars``): its slot is ``None``. A record that matches no row sent, or two
    records for one row, break the protocol.
    """
    by_key: dict[str, M] = {}
    for record in created:
        record_key = key_of_created(record)
        if record_key in by_key:
            raise LmsProtocolError(f"{record_key!r} was created twice", wsfunction=wsfunction)
        by_key[record_key] = record
    sent = {key_of_row(row) for row in batch}
    unexpected = sorted(set(by_key) - sent)
    if unexpected:
        raise LmsProtocolError(
            f"the answer names records that were not sent: {unexpected[:5]}",
            wsfunction=wsfunction,
        )
    return [by_key.get(key_of_row(row)) for row in batch]


def lower_budget_after_truncation(
    client: MoodleClient, wsfunction: str, *, kept_fields: int, rows_sent: int, rows_kept: int
) -> None:
    """Lower the client's field budget to what the server was seen to keep.

    ``max_input_vars`` is one PHP setting for the whole site, so every later request,
    of any area, must stay under it; void writes (enrol, group members) could never
    notice a truncation themselves.
    """
    if kept_fields < client.field_budget:
        log.warning(
            "%s: Moodle acted on %d of %d rows sent in one request and reported no error: "
            "PHP max_input_vars is lower than field_budget=%d. Lowering field_budget to %d; "
            "set it in the configuration to silence this warning.",
            wsfunction,
            rows_kept,
            rows_sent,
            client.field_budget,
            kept_fields,
        )
        client.field_budget = kept_fields


def truncation_error(wsfunction: str, row: str) -> LmsTruncationError:
    """The error of a row that PHP dropped and that was not recovered."""
    return LmsTruncationError(
        f"{row}: not created: the server dropped it with the form fields past its "
        "max_input_vars; read back and re-plan",
        wsfunction=wsfunction,
    )
