"""How hard to push the LMS: the number of concurrent calls, and the size of each call.

Both are pure decisions taken from what the applier observed, so tests feed them
observations (or a simulated site) and assert the levels they choose.

* :class:`Concurrency` holds the number of calls in flight. Fixed (``[lms]
  max_concurrency = N``) it never moves. ``"auto"`` starts at 1 and raises the level one
  step at a time while the work done per second (form fields per second of the same
  function: rows times fields per row) rises by more than :data:`GAIN`, and calls stay
  well under the timeout; when a step brings no gain it settles one level lower. An
  overload (HTTP 429/503), a timeout or a write conflict backs it off at once (halved) and
  it never climbs back above the level that failed, nor above ``ceiling``.
* :class:`BatchSizer` holds the form-field budget of a write function's next batch. A
  batch whose answer was lost (timeout) halves it and marks that size as too slow; every
  batch that lands grows it back (doubling) up to the configured budget, but never to a
  size that timed out. A slow site thus converges in one apply.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

# A step up must bring at least this much more work per second to be kept.
GAIN = 0.10
# Steady calls measured at a level before deciding on it.
WINDOW = 2
# Calls taking more than this share of the timeout stop the climb.
TIMEOUT_SHARE = 0.3
# Problems that make the level back off at once.
TIMEOUT, OVERLOAD, CONFLICT, ERROR = "timeout", "overload", "conflict", "error"
_PROBLEM_WORDS = {
    TIMEOUT: "một lệnh quá thời hạn chờ",
    OVERLOAD: "LMS báo quá tải",
    CONFLICT: "hai lệnh ghi đụng nhau trong CSDL của LMS",
    ERROR: "LMS trả lỗi đường truyền",
}


@dataclass(frozen=True)
class CallSample:
    """One call as the applier saw it: sent with ``level`` calls allowed in flight.

    ``steady``: when it was sent, ``level`` calls were in flight (itself included), all
    sent under that same level; only such calls show what the level does (right after a
    change, calls of the old level are still draining).
    """

    function: str
    level: int
    fields: int
    seconds: float
    problem: str | None = None
    steady: bool = True


@dataclass
class Concurrency:
    """The number of concurrent calls; ``auto`` tunes it from :class:`CallSample` s."""

    auto: bool
    level: int
    ceiling: int
    timeout_s: float = 180.0
    reason: str = ""
    settled: bool = False
    _cap: int = 0
    # (function, level) -> (fields, seconds) of the steady calls seen
    _calls: dict[tuple[str, int], list[tuple[int, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    steps: list[int] = field(default_factory=list)  # every level taken, in order

    @classmethod
    def fixed(cls, level: int) -> Concurrency:
        return cls(auto=False, level=level, ceiling=level, reason=f"cố định: {level} (cấu hình)")

    @classmethod
    def automatic(cls, ceiling: int, timeout_s: float) -> Concurrency:
        return cls(
            auto=True,
            level=1,
            ceiling=ceiling,
            timeout_s=timeout_s,
            reason="tự chọn: bắt đầu từ 1",
        )

    def __post_init__(self) -> None:
        self._cap = self.ceiling
        self.steps.append(self.level)

    def observe(self, sample: CallSample) -> None:
        """Take one call into account; may change :attr:`level` and :attr:`reason`."""
        if not self.auto:
            return
        if sample.problem is not None:
            self._back_off(sample.problem)
            return
        if not sample.steady or sample.seconds <= 0:
            return  # sent while a change of level took effect
        if sample.seconds > self.timeout_s * TIMEOUT_SHARE and not self.settled:
            self._settle(
                self.level,
                f"tự chọn {self.level}: một lệnh mất {sample.seconds:.0f} s, "
                f"gần thời hạn {self.timeout_s:.0f} s",
            )
            return
        calls = self._calls[(sample.function, sample.level)]
        calls.append((sample.fields, sample.seconds))
        if self.settled or sample.level != self.level or len(calls) < WINDOW:
            return
        here = _work_per_second(sample.level, calls)
        below = self._calls.get((sample.function, self.level - 1))
        if self.level > 1 and not below:
            return  # a function first seen at this level: nothing to compare, keep it
        before = _work_per_second(self.level - 1, below) if below else 0.0
        if self.level == 1 or here > before * (1 + GAIN):
            if self.level < self._cap:
                self._set(self.level + 1)
                self.reason = (
                    f"tự chọn: tăng lên {self.level} ({self.level - 1} luồng: {here:.0f} trường/s"
                    + (f", {self.level - 2} luồng: {before:.0f}" if before else "")
                    + ")"
                )
            else:
                self._settle(
                    self.level, f"tự chọn {self.level}: mức trần [lms] max_concurrency_ceiling"
                )
            return
        self._settle(
            self.level - 1,
            f"tự chọn {self.level - 1}: {self.level} luồng không nhanh hơn "
            f"({before:.0f} → {here:.0f} trường/s)",
        )

    def _back_off(self, problem: str) -> None:
        failed = self.level
        self._cap = max(1, min(self._cap, failed - 1))
        self._set(max(1, failed // 2))
        self.settled = True
        self.reason = (
            f"tự chọn {self.level}: giảm từ {failed} vì {_PROBLEM_WORDS.get(problem, problem)}"
        )

    def _settle(self, level: int, reason: str) -> None:
        self._set(max(1, level))
        self.settled = True
        self.reason = reason

    def _set(self, level: int) -> None:
        if level != self.level:
            self.level = level
            self.steps.append(level)

    def summary(self) -> dict[str, object]:
        """What the run stores and shows: mode, final level, why, the levels taken."""
        return {
            "mode": "auto" if self.auto else "fixed",
            "level": self.level,
            "ceiling": self.ceiling,
            "reason": self.reason,
            "steps": list(self.steps),
        }


def _work_per_second(level: int, calls: list[tuple[int, float]]) -> float:
    """Form fields per second the site did with ``level`` calls always in flight."""
    return level * sum(f for f, _ in calls) / sum(s for _, s in calls)


@dataclass
class BatchSizer:
    """The form-field budget of one write function's next batch."""

    full: int
    minimum: int = 50
    budget: int = 0
    too_slow: int | None = None  # the smallest batch (in fields) whose answer was lost
    shrinks: int = 0

    def __post_init__(self) -> None:
        self.minimum = min(self.minimum, self.full)
        self.budget = self.budget or self.full

    def lost(self, fields: int) -> None:
        """A batch of ``fields`` timed out: never that big again, next one half of it."""
        self.too_slow = fields if self.too_slow is None else min(self.too_slow, fields)
        self.budget = max(self.minimum, fields // 2)
        self.shrinks += 1

    def landed(self) -> None:
        """A batch landed: grow back, below any size that timed out."""
        limit = self.full if self.too_slow is None else max(self.minimum, self.too_slow * 3 // 4)
        self.budget = max(self.budget, min(limit, self.budget * 2))

    @property
    def at_minimum(self) -> bool:
        return self.budget <= self.minimum
