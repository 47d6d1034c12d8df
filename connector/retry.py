"""The one retry policy of the connector, as data.

Only :class:`~connector.errors.LmsRetryableError` is retried, with exponential backoff
and jitter, bounded both by attempts and by total delay. A ``Retry-After`` the server
sends is honoured when it asks for longer than the backoff would wait. Tests pass
``sleep=waits.append`` and assert the waits; nothing sleeps for real in tests.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import tenacity

from connector.errors import LmsOverloaded, LmsRetryableError


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a retryable failure."""

    attempts: int = 5
    max_total_delay_s: float = 300.0
    initial_wait_s: float = 1.0
    max_wait_s: float = 60.0
    jitter_s: float = 1.0
    # Injected for determinism in tests; jitter in production.
    random_uniform: Callable[[float, float], float] = field(default=random.uniform, repr=False)

    def wait_for(self, attempt_number: int, error: BaseException | None) -> float:
        """Seconds to wait after failed attempt ``attempt_number`` (1-based)."""
        backoff = min(self.max_wait_s, self.initial_wait_s * 2.0 ** (attempt_number - 1))
        backoff += self.random_uniform(0.0, self.jitter_s) if self.jitter_s > 0 else 0.0
        if isinstance(error, LmsOverloaded) and error.retry_after is not None:
            backoff = max(backoff, min(error.retry_after, self.max_wait_s))
        return backoff

    def retrying(self, sleep: Callable[[float], None] = time.sleep) -> tenacity.Retrying:
        """A tenacity controller that applies this policy."""

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return self.wait_for(state.attempt_number, error)

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts)
            | tenacity.stop_after_delay(self.max_total_delay_s),
            wait=wait,
            retry=tenacity.retry_if_exception_type(LmsRetryableError),
            sleep=sleep,
            reraise=True,
        )


NO_RETRY = RetryPolicy(attempts=1, jitter_s=0.0)
