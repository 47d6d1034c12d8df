"""The clock: the one object that knows what time it is.

Everything below the composition root takes ``now`` (a datetime) or a clock; nothing calls
``datetime.now()`` itself. The same code runs on the system clock in production and on a
simulated clock in tests and in the accelerated demo, where a module run's 26 days pass
in minutes. A clock is also callable (``clock()`` is ``clock.now()``), so it fits every
``Callable[[], datetime]`` parameter of the use cases.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, time-zone aware (UTC)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time (returns early if woken)."""
        ...

    def wake(self) -> None:
        """End a current ``sleep`` at once (a stop request)."""
        ...

    def __call__(self) -> dt.datetime: ...


class SystemClock:
    """The real time."""

    def __init__(self) -> None:
        self._woken = threading.Event()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._woken.wait(seconds)
        self._woken.clear()

    def wake(self) -> None:
        self._woken.set()

    def __call__(self) -> dt.datetime:
        return self.now()


class SimulatedClock:
    """Time that starts at ``start`` and runs ``speed`` times faster than the real one.

    ``speed = 0`` stops it: time then moves only by ``advance`` and ``sleep`` (a sleep
    jumps ahead at once), which is what unit tests want. With ``speed > 0`` a sleep of
    ``s`` simulated seconds waits ``s / speed`` real seconds (the accelerated demo).
    """

    def __init__(
        self,
        start: dt.datetime,
        *,
        speed: float = 0.0,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("a clock's start must be time-zone aware")
        if speed < 0:
            raise ValueError("speed must be 0 (manual) or positive")
        self._lock = threading.Lock()
        self._base = start.astimezone(dt.UTC)
        self._real_base = time.monotonic()
        self._offset = dt.timedelta(0)
        self.speed = speed
        self._woken = threading.Event()

    def now(self) -> dt.datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._real_base) * self.speed
            return self._base + self._offset + dt.timedelta(seconds=elapsed)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        if delta < dt.timedelta(0):
            raise ValueError("time does not go back")
        with self._lock:
            self._offset += delta
        return self.now()

    def advance_to(self, moment: dt.datetime) -> dt.datetime:
        current = self.now()
        if moment > current:
            self.advance(moment - current)
        return self.now()

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.speed == 0:
            self.advance(dt.timedelta(seconds=seconds))
            return
        target = self.now() + dt.timedelta(seconds=seconds)
        if self._woken.wait(seconds / self.speed):
            self._woken.clear()
            return
        self.advance_to(target)  # a late real wake-up never loses simulated time

    def wake(self) -> None:
        self._woken.set()

    def __call__(self) -> dt.datetime:
        return self.now()
