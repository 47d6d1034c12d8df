"""The safety gate: a plan that would take too much away stops and asks.

A roster file cut in half must not suspend half a province. Suspensions, unenrolments
and e-mail changes are each held against a count and a share of what exists; beyond
either the plan needs an explicit ``--accept``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.model import ActionKind, ActualState, Plan


@dataclass(frozen=True)
class Thresholds:
    """Most a plan may do without ``--accept``.

    A plan stops when it goes over the count, or over the percentage once it touches more
    than ``percent_floor`` items (so one leaver of a ten-person test site does not stop it).
    """

    max_suspend: int = 50
    max_suspend_percent: float = 5.0
    max_unenrol: int = 100
    max_unenrol_percent: float = 5.0
    max_email_changes: int = 50
    max_email_changes_percent: float = 5.0
    percent_floor: int = 10


@dataclass(frozen=True)
class Violation:
    what: str
    count: int
    base: int
    limit_count: int
    limit_percent: float

    @property
    def percent(self) -> float:
        return 100.0 * self.count / self.base if self.base else 100.0

    def message(self) -> str:
        """Vietnamese, for the Sở's IT team."""
        return (
            f"Kế hoạch sẽ {self.what} {self.count} / {self.base} ({self.percent:.1f}%), vượt "
            f"ngưỡng {self.limit_count} hoặc {self.limit_percent:g}%. Kiểm tra lại danh sách; "
            "nếu đúng, chạy lại với --accept."
        )


def check(plan: Plan, actual: ActualState, limits: Thresholds | None = None) -> list[Violation]:
    """The thresholds this plan breaks (empty: safe to apply without asking)."""
    limits = limits or Thresholds()
    users = len(actual.users)
    enrolments = sum(len(by_user) for by_user in actual.enrolments.values())
    suspend = len(plan.of_kind(ActionKind.SUSPEND_USER))
    unenrol = len(plan.of_kind(ActionKind.UNENROL))
    emails = sum(1 for a in plan.of_kind(ActionKind.UPDATE_USER) if "email" in a.data)
    checks = [
        ("tạm khóa tài khoản", suspend, users, limits.max_suspend, limits.max_suspend_percent),
        ("hủy ghi danh", unenrol, enrolments, limits.max_unenrol, limits.max_unenrol_percent),
        ("đổi email", emails, users, limits.max_email_changes, limits.max_email_changes_percent),
    ]
    violations = []
    for what, count, base, max_count, max_percent in checks:
        if count == 0:
            continue
        percent = 100.0 * count / base if base else 100.0
        if count > max_count or (count > limits.percent_floor and percent > max_percent):
            violations.append(Violation(what, count, base, max_count, max_percent))
    return violations
