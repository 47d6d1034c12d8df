"""An adjustable limit on requests in flight, with room kept for a critical chain of work.

Like a semaphore whose size can change while it is in use (the concurrency tuner moves
it). A non-critical holder (e.g. course copies while accounts are being created) gets a
slot only when the critical chain is idle or a slot would still be left for it.
"""

from __future__ import annotations

import threading


class Slots:
    """At most :attr:`limit` holders at once; thread-safe."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self._cond = threading.Condition()
        self._limit = limit
        self._in_use = 0
        self._side = 0  # slots held by non-critical holders
        self.critical_active = False

    @property
    def limit(self) -> int:
        return self._limit

    def set_limit(self, limit: int) -> None:
        """Change the limit; holders above a lowered limit finish, no new one starts."""
        with self._cond:
            self._limit = max(1, limit)
            self._cond.notify_all()

    def _free(self, critical: bool) -> bool:
        if self._in_use >= self._limit:
            return False
        if critical or not self.critical_active:
            return True
        # Leave the critical chain at least one slot.
        return self._side < self._limit - 1

    def acquire(self, *, critical: bool = True, timeout: float | None = None) -> bool:
        """Take a slot; ``timeout`` 0 only tries. True when taken."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._free(critical), timeout=timeout):
                return False
            self._in_use += 1
            self._side += not critical
            return True

    def release(self, *, critical: bool = True) -> None:
        with self._cond:
            self._in_use -= 1
            self._side -= not critical
            self._cond.notify_all()

    def __enter__(self) -> Slots:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
