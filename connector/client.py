"""The Moodle Web Services REST client: one POST per call, errors mapped in one place.

Every request is ``POST {base}/webservice/rest/server.php`` with a form body holding
``wstoken``, ``wsfunction``, ``moodlewsrestformat=json`` and the flattened params.
The token lives in a :class:`pydantic.SecretStr` and never reaches a log line, a repr,
an exception or a report.

Retries: reads are retried on any retryable failure. A write is retried only when the
request provably did not reach Moodle (connection refused, HTTP 429/503, maintenance);
any other failure of a write becomes :class:`~connector.errors.LmsOutcomeUnknown`, and
the caller must read back before deciding what to send again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from connector.encoding import PROTOCOL_FIELDS, flatten_params
from connector.errors import (
    LmsError,
    LmsOutcomeUnknown,
    LmsOverloaded,
    LmsProtocolError,
    LmsRetryableError,
    LmsTimeout,
    LmsTransportError,
    raise_for_payload,
    redact_error,
)
from connector.redact import Redactor
from connector.retry import RetryPolicy
from connector.slots import Slots

log = logging.getLogger("bdtx.connector")

REST_PATH = "/webservice/rest/server.php"
# PHP's default max_input_vars; the budget counts the protocol fields too.
DEFAULT_FIELD_BUDGET = 5000
# Real calls with ~5,000 fields take up to ~13 s on one PHP worker: allow far more.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=180.0, write=60.0, pool=300.0)

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class FunctionStats:
    """Counters for one wsfunction."""

    calls: int = 0
    errors: int = 0
    retries: int = 0
    fields: int = 0
    request_bytes: int = 0
    response_bytes: int = 0
    seconds: float = 0.0


@dataclass
class CallStats:
    """What the client did, per wsfunction; thread-safe."""

    by_function: dict[str, FunctionStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, wsfunction: str, **deltas: float) -> None:
        with self._lock:
            stats = self.by_function.setdefault(wsfunction, FunctionStats())
            for name, delta in deltas.items():
                setattr(stats, name, getattr(stats, name) + delta)

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.by_function.values())

    def snapshot(self) -> dict[str, FunctionStats]:
        with self._lock:
            return {name: FunctionStats(**vars(s)) for name, s in self.by_function.items()}


class RateLimiter:
    """At most ``per_second`` request starts per second (``None``: unlimited)."""

    def __init__(
        self,
        per_second: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            self._sleep(start - now)


def rest_endpoint(base_url: str) -> str:
    """The REST endpoint for a site URL (accepts the endpoint itself too)."""
    base = base_url.rstrip("/")
    return base if base.endswith(REST_PATH) else base + REST_PATH


class MoodleClient:
    """A typed-by-area Moodle REST client's transport core. Thread-safe."""

    def __init__(
        self,
        base_url: str,
        token: str | SecretStr,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        verify: bool = True,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        field_budget: int = DEFAULT_FIELD_BUDGET,
        max_concurrency: int = 1,
        rate_limit_per_s: float | None = None,
    ) -> None:
        if field_budget <= PROTOCOL_FIELDS:
            raise ValueError(f"field_budget must exceed {PROTOCOL_FIELDS}")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.endpoint = rest_endpoint(base_url)
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        self._redact = Redactor([self._token.get_secret_value()])
        self.field_budget = field_budget
        self.retry_policy = retry or RetryPolicy()
        self._sleep = sleep
        self._slots = Slots(max_concurrency)
        self._rate = RateLimiter(rate_limit_per_s, sleep=sleep)
        self.stats = CallStats()
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            verify=verify,
            headers={"Accept": "application/json", "User-Agent": "bdtx-sync/0.1"},
        )

    @property
    def max_concurrency(self) -> int:
        """Requests in flight at most; the sync's concurrency tuner may change it."""
        return self._slots.limit

    @max_concurrency.setter
    def max_concurrency(self, value: int) -> None:
        self._slots.set_limit(value)

    def __repr__(self) -> str:
        return f"MoodleClient(endpoint={self.endpoint!r}, token='**********')"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MoodleClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(
        self, wsfunction: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> Any:
        """Call ``wsfunction`` and return its decoded JSON (``None`` for void functions).

        Raises the :mod:`connector.errors` exception for what went wrong.
        """
        fields = flatten_params(params or {})
        if len(fields) + PROTOCOL_FIELDS > self.field_budget:
            # Sending it would make PHP drop the fields past max_input_vars without a word.
            raise LmsProtocolError(
                f"request of {len(fields) + PROTOCOL_FIELDS} form fields exceeds the budget of "
                f"{self.field_budget}; split it into batches",
                wsfunction=wsfunction,
            )
        body = urlencode(
            [
                ("wstoken", self._token.get_secret_value()),
                ("wsfunction", wsfunction),
                ("moodlewsrestformat", "json"),
                *fields,
            ]
        ).encode()
        retrying = self.retry_policy.retrying(sleep=self._sleep)
        attempts = 0

        def attempt() -> Any:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                self.stats.record(wsfunction, retries=1)
            try:
                return self._send_once(wsfunction, body, len(fields) + PROTOCOL_FIELDS)
            except LmsRetryableError as error:
                if write and not _safe_to_resend(error):
                    raise LmsOutcomeUnknown(
                        f"the answer to this write was lost ({error.message}); "
                        "read the state back before sending it again",
                        wsfunction=wsfunction,
                        cause=error,
                    ) from error
                log.warning("%s failed (attempt %d): %s", wsfunction, attempts, error.message)
                raise

        return retrying(attempt)

    def _send_once(self, wsfunction: str, body: bytes, field_count: int) -> Any:
        """One exchange; an error never carries the token, even when the server echoes it."""
        try:
            return self._exchange(wsfunction, body, field_count)
        except LmsError as error:
            redact_error(error, self._redact)
            raise

    def _exchange(self, wsfunction: str, body: bytes, field_count: int) -> Any:
        self._rate.acquire()
        started = time.perf_counter()
        try:
            with self._slots:
                response = self._http.post(
                    self.endpoint,
                    content=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
        except httpx.HTTPError as exc:
            self.stats.record(wsfunction, calls=1, errors=1, seconds=time.perf_counter() - started)
            raise _transport_error(wsfunction, exc) from None
        elapsed = time.perf_counter() - started
        self.stats.record(
            wsfunction,
            calls=1,
            fields=field_count,
            request_bytes=len(body),
            response_bytes=len(response.content),
            seconds=elapsed,
        )
        log.debug("%s: %d fields, %.0f ms", wsfunction, field_count, elapsed * 1000)
        try:
            return self._decode(wsfunction, response)
        except LmsError:
            self.stats.record(wsfunction, errors=1)
            raise

    @staticmethod
    def _decode(wsfunction: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status in (429, 503):
            raise LmsOverloaded(
                f"HTTP {status}", wsfunction=wsfunction, retry_after=_retry_after(response)
            )
        if status >= 500:
            raise LmsTransportError(f"HTTP {status}", wsfunction=wsfunction, status_code=status)
        if status != 200:
            raise LmsProtocolError(
                f"HTTP {status} from the REST endpoint (is the URL the Moodle site root?)",
                wsfunction=wsfunction,
            )
        try:
            payload = json.loads(response.content)
        except ValueError:
            snippet = response.text[:160].replace("\n", " ")
            raise LmsProtocolError(
                f"answer is not JSON (PHP notices on, or not a Moodle site?): {snippet!r}",
                wsfunction=wsfunction,
            ) from None
        return raise_for_payload(payload, wsfunction=wsfunction)

    def map_concurrent(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """Apply ``function`` to each item, up to ``max_concurrency`` at once, in order."""
        work = list(items)
        if self.max_concurrency == 1 or len(work) <= 1:
            return [function(item) for item in work]
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            return list(pool.map(function, work))


def _safe_to_resend(error: LmsRetryableError) -> bool:
    """A write may be re-sent only when Moodle cannot have acted on it."""
    if isinstance(error, LmsOverloaded):
        return True
    return isinstance(error, LmsTransportError) and not error.request_sent


def _transport_error(wsfunction: str, exc: httpx.HTTPError) -> LmsTransportError:
    """Map an httpx failure; only a failed connect proves the request never left."""
    name = type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return LmsTimeout(f"connect timeout ({name})", wsfunction=wsfunction, request_sent=False)
    if isinstance(exc, httpx.TimeoutException):
        return LmsTimeout(f"no answer in time ({name})", wsfunction=wsfunction)
    if isinstance(exc, httpx.ConnectError):
        return LmsTransportError(
            f"cannot connect: {_describe(exc)}", wsfunction=wsfunction, request_sent=False
        )
    return LmsTransportError(f"transport failure: {_describe(exc)}", wsfunction=wsfunction)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]
