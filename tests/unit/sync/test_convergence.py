"""Property: applying a plan brings the LMS to the desired state; the next plan is empty.

The LMS here is a small model of what each action does (ids handed out, enrolments,
group membership, suspension), enough to check that the planner's actions converge,
whatever mix of new, changed, moved, promoted and departed people the roster shows.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.model import (
    ActionKind,
    ActualEnrolment,
    ActualGroup,
    ActualState,
    ActualUser,
    DesiredState,
    Plan,
)
from sync.plan import DAY, PlanOptions, plan
from tests.unit.sync.states import COURSE, actual_matching, desired, person

NOW = 1_700_000_000
OPTIONS = PlanOptions(site_customfields=frozenset({"school"}), suspend_grace_days=0)
CODES = [f"70000000{i:02d}" for i in range(12)]
CLASSES = ["L01", "L02", "L03"]


def apply_model(state: ActualState, actions: Plan, desired_state: DesiredState) -> ActualState:
    """What the LMS would hold after ``actions`` (the writer's contract, in miniature)."""
    ids = count(1000)
    users = dict(state.users)
    groups = dict(state.groups)
    enrolled = {c: dict(by_user) for c, by_user in state.enrolments.items()}
    by_code = {u.idnumber: u.id for u in users.values()}
    group_id = {key[1]: g.id for key, g in groups.items()}
    for action in actions.actions:
        data = action.data
        if action.kind is ActionKind.CREATE_GROUP:
            new = ActualGroup(next(ids), 7, str(data["idnumber"]), str(data["name"]))
            groups[(COURSE, new.idnumber)] = new
            group_id[new.idnumber] = new.id
        elif action.kind is ActionKind.CREATE_USER:
            user = ActualUser(
                next(ids),
                str(data["username"]),
                action.key,
                str(data["firstname"]),
                str(data["lastname"]),
                str(data["email"]),
                False,
                dict(data.get("customfields") or {}),  # type: ignore[call-overload]
            )
            users[action.key] = user
            by_code[action.key] = user.id
        elif action.kind is ActionKind.UPDATE_USER:
            fields = {k: v for k, v in data.items() if k in ("firstname", "lastname", "email")}
            custom = {**users[action.key].customfields, **dict(data.get("customfields") or {})}  # type: ignore[call-overload]
            users[action.key] = replace(users[action.key], customfields=custom, **fields)  # type: ignore[arg-type]
        elif action.kind in (ActionKind.SUSPEND_USER, ActionKind.REACTIVATE_USER):
            users[action.key] = replace(
                users[action.key], suspended=action.kind is ActionKind.SUSPEND_USER
            )
        elif action.kind is ActionKind.ENROL:
            code = str(data["identity_code"])
            uid = by_code[code]
            enrolled.setdefault(COURSE, {})[uid] = ActualEnrolment(
                uid, code, frozenset({str(data["role"])}), frozenset()
            )
        elif action.kind is ActionKind.CHANGE_ROLE:
            uid = by_code[str(data["identity_code"])]
            current = enrolled[COURSE][uid]
            roles = (current.roles | ({str(data["add"])} if data["add"] else set())) - set(
                data["remove"]  # type: ignore[call-overload]
            )
            enrolled[COURSE][uid] = replace(current, roles=frozenset(roles))
        elif action.kind in (ActionKind.ADD_MEMBER, ActionKind.REMOVE_MEMBER):
            uid = by_code[str(data["identity_code"])]
            current = enrolled[COURSE][uid]
            gid = group_id[str(data["group_idnumber"])]
            change = {gid}
            new_groups = (
                current.groupids | change
                if action.kind is ActionKind.ADD_MEMBER
                else current.groupids - change
            )
            enrolled[COURSE][uid] = replace(current, groupids=frozenset(new_groups))
        elif action.kind is ActionKind.UNENROL:
            del enrolled[COURSE][int(str(data["userid"]))]
    emails = {u.email.lower(): (u.id, u.idnumber) for u in users.values()}
    return replace(state, users=users, groups=groups, enrolments=enrolled, emails_in_use=emails)


people_subsets = st.lists(st.sampled_from(CODES), unique=True, min_size=1, max_size=len(CODES))


@st.composite
def rosters(draw: st.DrawFn) -> tuple[DesiredState, DesiredState]:
    """(what was provisioned, what the roster says now) over the same identity codes."""
    before_codes = draw(people_subsets)
    after_codes = draw(people_subsets)
    renamed = draw(st.sets(st.sampled_from(CODES)))
    reemailed = draw(st.sets(st.sampled_from(CODES)))

    def state(codes: list[str], changed: bool) -> DesiredState:
        people = [
            person(
                c,
                email=f"new{c}@school.edu.vn" if changed and c in reemailed else None,
                first="Ân" if changed and c in renamed else "An",
            )
            for c in codes
        ]
        classes = {c: draw(st.sampled_from(CLASSES)) for c in codes}
        teachers = {c: draw(st.sampled_from(CLASSES)) for c in codes[:1]} if changed else {}
        return desired(
            people,
            {c: g for c, g in classes.items() if c not in teachers},
            teachers=teachers,
            managed=CODES,
            left_at={c: NOW - 30 * DAY for c in CODES if c not in codes},
        )

    return state(before_codes, False), state(after_codes, True)


@settings(max_examples=150, deadline=None)
@given(rosters())
def test_one_apply_reaches_the_desired_state(pair: tuple[DesiredState, DesiredState]) -> None:
    before, now = pair
    lms = actual_matching(before)
    first = plan(now, lms, now=NOW, options=OPTIONS)
    assert first.conflicts == ()
    after = apply_model(lms, first, now)
    second = plan(now, after, now=NOW, options=OPTIONS)
    assert second.actions == (), [a.id for a in second.actions]
    # Everyone the roster wants is enrolled with exactly the wanted role and classes.
    for (course, code), wanted in now.enrolments.items():
        enrolment = next(e for e in after.enrolments[course].values() if e.idnumber == code)
        assert enrolment.roles == {wanted.role}
        names = {g.idnumber for g in after.groups.values() if g.id in enrolment.groupids}
        assert names == set(wanted.groups)
    # Leavers are out of the course and suspended (grace period 0 here).
    for code in set(CODES) - set(now.users):
        if code in after.users:
            assert after.users[code].suspended
            assert all(e.idnumber != code for e in after.enrolments[COURSE].values())
