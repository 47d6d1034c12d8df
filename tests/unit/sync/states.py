"""Small desired/actual states for planner tests, built from plain lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sync.model import (
    SEPARATE_GROUPS,
    STUDENT_ROLE,
    TEACHER_ROLE,
    ActualCourse,
    ActualEnrolment,
    ActualGroup,
    ActualState,
    ActualUser,
    DesiredCategory,
    DesiredCourse,
    DesiredEnrolment,
    DesiredGroup,
    DesiredState,
    DesiredUser,
)

COURSE = "M4-2023-THCS-GV-TOAN"
START, END = 1_693_760_400, 1_696_179_600


def person(
    code: str, *, email: str | None = None, first: str = "An", last: str = "Nguyễn Văn"
) -> DesiredUser:
    return DesiredUser(
        identity_code=code,
        firstname=first,
        lastname=last,
        email=email or f"u{code}@school.edu.vn",
        username=f"u{code}",
        customfields={"school": "BP0001"},
    )


def desired(
    people: Iterable[DesiredUser],
    classes: dict[str, str],
    *,
    teachers: dict[str, str] | None = None,
    managed: Iterable[str] = (),
    active: Iterable[str] = (),
    left_at: dict[str, int] | None = None,
) -> DesiredState:
    """``classes``: identity code -> class (group idnumber) of learners in COURSE."""
    users = {p.identity_code: p for p in people}
    groups = {
        (COURSE, g): DesiredGroup(COURSE, g, f"Lớp {g}")
        for g in sorted(set(classes.values()) | set((teachers or {}).values()))
    }
    enrolments = {
        (COURSE, code): DesiredEnrolment(COURSE, code, STUDENT_ROLE, START, END, frozenset({group}))
        for code, group in classes.items()
    }
    for code, group in (teachers or {}).items():
        enrolments[(COURSE, code)] = DesiredEnrolment(
            COURSE, code, TEACHER_ROLE, START, END, frozenset({group})
        )
    return DesiredState(
        users=users,
        categories=(
            DesiredCategory("BDTX-2023", "BDTX 2023"),
            DesiredCategory("BDTX-2023-M4", "Mô đun 4", "BDTX-2023"),
        ),
        courses={
            COURSE: DesiredCourse(
                COURSE,
                COURSE,
                "Mô đun 4 — Toán THCS",
                "BDTX-2023-M4",
                "TPL-MODULE",
                START,
                END,
                "M4-2023",
            )
        },
        groups=groups,
        enrolments=enrolments,
        managed=frozenset(managed),
        active=frozenset(active),
        left_at=left_at or {},
    )


def actual_matching(state: DesiredState) -> ActualState:
    """The LMS exactly as ``state`` wants it (ids invented)."""
    users = {
        code: ActualUser(
            100 + i, u.username, code, u.firstname, u.lastname, u.email, False, dict(u.customfields)
        )
        for i, (code, u) in enumerate(sorted(state.users.items()))
    }
    groups = {
        key: ActualGroup(10 + i, 7, g.idnumber, g.name)
        for i, (key, g) in enumerate(sorted(state.groups.items()))
    }
    enrolled = {
        users[code].id: ActualEnrolment(
            users[code].id,
            code,
            frozenset({e.role}),
            frozenset(groups[(COURSE, g)].id for g in e.groups),
        )
        for (_, code), e in state.enrolments.items()
    }
    return ActualState(
        users=users,
        categories={c.idnumber: i + 1 for i, c in enumerate(state.categories)},
        courses={
            COURSE: ActualCourse(
                7, COURSE, COURSE, "Mô đun 4 — Toán THCS", 2, START, END, SEPARATE_GROUPS, True
            )
        },
        groups=groups,
        enrolments={COURSE: enrolled},
        emails_in_use={u.email.lower(): (u.id, code) for code, u in users.items()},
    )


def with_user(state: ActualState, code: str, **changes: object) -> ActualState:
    users = dict(state.users)
    users[code] = replace(users[code], **changes)  # type: ignore[arg-type]
    return replace(state, users=users)


EMPTY = ActualState(users={}, categories={}, courses={}, groups={}, enrolments={})
