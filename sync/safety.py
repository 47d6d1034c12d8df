"""The safety gates: a change that would take too much away stops and asks.

A roster file cut in half must not suspend half a province, nor rewrite its classes.
Three gates hold the same kind of threshold (a count and a share of what exists; beyond
either the change needs an explicit ``--accept``):

* the **import** gate: people the import would mark as leaving, against the active people
  (an import that would leave nobody active always stops);
* the **allocation** gate: learners an allocation would move from one class to another,
  against the learners already seated (a return to a learner's earlier class is not a move);
* the **sync** gate: suspensions, unenrolments, e-mail changes and group moves (out of one
  group and into another of the same course) a plan would make in the LMS.

A stopped import or allocation stores nothing; a stopped plan writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.model import ActionKind, ActualState, Plan


@dataclass(frozen=True)
class Thresholds:
    """Most a change may do without ``--accept``.

    A change stops when it goes over the count, or over the percentage once it touches more
    than ``percent_floor`` items (so one leaver of a ten-person test site does not stop it).
    """

    max_suspend: int = 50
    max_suspend_percent: float = 5.0
    max_unenrol: int = 100
    max_unenrol_percent: float = 5.0
    max_email_changes: int = 50
    max_email_changes_percent: float = 5.0
    max_group_moves: int = 100
    max_group_moves_percent: float = 5.0
    max_leavers: int = 50
    max_leavers_percent: float = 5.0
    max_class_moves: int = 50
    max_class_moves_percent: float = 5.0
    percent_floor: int = 10


@dataclass(frozen=True)
class Violation:
    what: str
    count: int
    base: int
    limit_count: int
    limit_percent: float
    subject: str = "Kế hoạch"  # what would do it: "Kế hoạch", "Lần nhập", "Phân lớp đợt M4-2023"

    @property
    def percent(self) -> float:
        return 100.0 * self.count / self.base if self.base else 100.0

    def message(self) -> str:
        """Vietnamese, for the Sở's IT team."""
        return (
            f"{self.subject} sẽ {self.what} {self.count} / {self.base} ({self.percent:.1f}%), "
            f"vượt ngưỡng {self.limit_count} hoặc {self.limit_percent:g}%. Kiểm tra lại danh "
            "sách; nếu đúng, chạy lại với --accept."
        )


class NeedsAccept(Exception):
    """A change goes over a safety threshold; it needs an explicit --accept."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message() for v in violations))
        self.violations = violations


def _over(
    what: str,
    count: int,
    base: int,
    max_count: int,
    max_percent: float,
    limits: Thresholds,
    subject: str = "Kế hoạch",
) -> Violation | None:
    if count == 0:
        return None
    percent = 100.0 * count / base if base else 100.0
    if count > max_count or (count > limits.percent_floor and percent > max_percent):
        return Violation(what, count, base, max_count, max_percent, subject)
    return None


def group_moves(plan: Plan) -> int:
    """Learners the plan takes out of one group and puts in another of the same course."""
    removed = {
        (a.data["course_idnumber"], a.data["identity_code"])
        for a in plan.of_kind(ActionKind.REMOVE_MEMBER)
    }
    added = {
        (a.data["course_idnumber"], a.data["identity_code"])
        for a in plan.of_kind(ActionKind.ADD_MEMBER)
    }
    return len(removed & added)


def check(plan: Plan, actual: ActualState, limits: Thresholds | None = None) -> list[Violation]:
    """The thresholds this plan breaks (empty: safe to apply without asking)."""
    limits = limits or Thresholds()
    users = len(actual.users)
    enrolments = sum(len(by_user) for by_user in actual.enrolments.values())
    memberships = sum(
        len(e.groupids) for by_user in actual.enrolments.values() for e in by_user.values()
    )
    suspend = len(plan.of_kind(ActionKind.SUSPEND_USER))
    unenrol = len(plan.of_kind(ActionKind.UNENROL))
    emails = sum(1 for a in plan.of_kind(ActionKind.UPDATE_USER) if "email" in a.data)
    checks = [
        ("tạm khóa tài khoản", suspend, users, limits.max_suspend, limits.max_suspend_percent),
        ("hủy ghi danh", unenrol, enrolments, limits.max_unenrol, limits.max_unenrol_percent),
        ("đổi email", emails, users, limits.max_email_changes, limits.max_email_changes_percent),
        (
            "chuyển nhóm (lớp)",
            group_moves(plan),
            memberships,
            limits.max_group_moves,
            limits.max_group_moves_percent,
        ),
    ]
    found = (_over(*args, limits) for args in checks)
    return [violation for violation in found if violation is not None]


def check_import(leaving: int, active: int, limits: Thresholds | None = None) -> list[Violation]:
    """The import gate: ``leaving`` of the ``active`` stored people would be marked as left.

    An import that would leave nobody active (an empty or header-only learner list) always
    stops, however small the site.
    """
    limits = limits or Thresholds()
    what = "đánh dấu rời danh sách"
    found = _over(
        what, leaving, active, limits.max_leavers, limits.max_leavers_percent, limits, "Lần nhập"
    )
    if found is None and active and leaving >= active:
        found = Violation(
            what, leaving, active, limits.max_leavers, limits.max_leavers_percent, "Lần nhập"
        )
    return [found] if found else []


def check_class_moves(
    run_id: str, moves: int, seated: int, limits: Thresholds | None = None
) -> list[Violation]:
    """The allocation gate: ``moves`` of the ``seated`` learners of a run would change class."""
    limits = limits or Thresholds()
    found = _over(
        "chuyển lớp",
        moves,
        seated,
        limits.max_class_moves,
        limits.max_class_moves_percent,
        limits,
        f"Phân lớp đợt {run_id}",
    )
    return [found] if found else []
