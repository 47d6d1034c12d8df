"""The sync decision: a pure function from (desired, actual, now) to a plan of actions.

Nothing here talks to the LMS or the database. Rules:

* People are keyed by identity code (Moodle ``idnumber``): a changed e-mail or name is an
  update of the same account, never a new one.
* Only *managed* accounts (created by this software, recorded in its state) are updated,
  suspended or reactivated. An account found by identity code but made by hand is
  enrolled where the roster says, its profile left alone, and reported.
* An e-mail already used by another account is a reported conflict, not an overwrite.
* Nothing is deleted. People who leave are unenrolled from the courses they no longer
  belong to, and suspended only when they are in no active run and the grace period
  since they left has passed.
* Courses are in separate groups, forced on every activity (``groupmode = 1``,
  ``groupmodeforce = 1``), so that a reporter sees only their classes; a copy of the
  template (in "no groups" mode) is corrected like any other course field.
* Only the software's groups are touched: in a managed course, the groups with an ID
  number (each class's group carries its class id, including classes since closed). A
  group made by hand, without an ID number, keeps its members.

Actions come out in the order they must be applied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sync.model import (
    SEPARATE_GROUPS,
    Action,
    ActionKind,
    ActualState,
    ActualUser,
    Conflict,
    DesiredState,
    DesiredUser,
    Plan,
)

DAY = 86_400
_GROUP_MODE_REASON = {
    SEPARATE_GROUPS: " (nhóm tách biệt, áp dụng cho mọi hoạt động: báo cáo viên chỉ thấy lớp mình)",
}


@dataclass(frozen=True)
class PlanOptions:
    """Knobs of the planner (from configuration)."""

    suspend_grace_days: int = 14
    # Profile fields the LMS site defines; others are never sent (Moodle drops them silently).
    site_customfields: frozenset[str] = frozenset()


def plan(
    desired: DesiredState, actual: ActualState, *, now: int, options: PlanOptions | None = None
) -> Plan:
    """What to do so that the LMS matches ``desired``; ``now`` in epoch seconds."""
    opts = options or PlanOptions()
    conflicts: list[Conflict] = []
    blocked: set[str] = set()  # identity codes whose account cannot be created or used
    actions: list[Action] = []
    actions += _categories(desired, actual)
    actions += _courses(desired, actual)
    actions += _groups(desired, actual)
    actions += _users(desired, actual, opts, conflicts, blocked)
    actions += _enrolments(desired, actual, blocked)
    actions += _departures(desired, actual, now, opts)
    return Plan(actions=tuple(actions), conflicts=tuple(conflicts))


def _categories(desired: DesiredState, actual: ActualState) -> Iterator[Action]:
    for category in desired.categories:
        if category.idnumber not in actual.categories:
            yield Action(
                ActionKind.CREATE_CATEGORY,
                category.idnumber,
                "danh mục chưa có trên LMS",
                {
                    "name": category.name,
                    "idnumber": category.idnumber,
                    "parent_idnumber": category.parent_idnumber,
                },
            )


def _courses(desired: DesiredState, actual: ActualState) -> Iterator[Action]:
    for idnumber in sorted(desired.courses):
        course = desired.courses[idnumber]
        found = actual.courses.get(idnumber)
        if found is None:
            yield Action(
                ActionKind.CREATE_COURSE,
                idnumber,
                f"khóa học chưa có: sao chép từ {course.template_shortname}",
                {
                    "template_shortname": course.template_shortname,
                    "fullname": course.fullname,
                    "shortname": course.shortname,
                    "idnumber": idnumber,
                    "category_idnumber": course.category_idnumber,
                    "startdate": course.startdate,
                    "enddate": course.enddate,
                    "groupmode": course.groupmode,
                    "groupmodeforce": course.groupmodeforce,
                },
            )
            continue
        changes: dict[str, object] = {}
        if found.idnumber != idnumber:
            changes["idnumber"] = idnumber
        if found.startdate != course.startdate:
            changes["startdate"] = course.startdate
        if found.enddate != course.enddate:
            changes["enddate"] = course.enddate
        if found.fullname != course.fullname:
            changes["fullname"] = course.fullname
        if found.groupmode != course.groupmode:
            changes["groupmode"] = course.groupmode
        if found.groupmodeforce != course.groupmodeforce:
            changes["groupmodeforce"] = course.groupmodeforce
        if changes:
            reason = "đổi " + ", ".join(sorted(changes))
            if {"groupmode", "groupmodeforce"} & set(changes):
                reason += _GROUP_MODE_REASON.get(course.groupmode, "")
            yield Action(ActionKind.UPDATE_COURSE, idnumber, reason, {"id": found.id, **changes})


def _groups(desired: DesiredState, actual: ActualState) -> Iterator[Action]:
    for key in sorted(desired.groups):
        group = desired.groups[key]
        if key not in actual.groups:
            yield Action(
                ActionKind.CREATE_GROUP,
                f"{group.course_idnumber}|{group.idnumber}",
                "lớp chưa có nhóm trên LMS",
                {
                    "course_idnumber": group.course_idnumber,
                    "idnumber": group.idnumber,
                    "name": group.name,
                },
            )


def _user_fields(user: DesiredUser, opts: PlanOptions) -> dict[str, object]:
    fields: dict[str, object] = {
        "firstname": user.firstname,
        "lastname": user.lastname,
        "email": user.email,
    }
    custom = {k: v for k, v in sorted(user.customfields.items()) if k in opts.site_customfields}
    if custom:
        fields["customfields"] = custom
    return fields


def _unique_username(preferred: str, taken: set[str]) -> str:
    candidate, suffix = preferred, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{preferred}{suffix}"
    taken.add(candidate)
    return candidate


def _email_owner(actual: ActualState, email: str) -> tuple[int, str] | None:
    return actual.emails_in_use.get(email.lower())


def _users(
    desired: DesiredState,
    actual: ActualState,
    opts: PlanOptions,
    conflicts: list[Conflict],
    blocked: set[str],
) -> Iterator[Action]:
    taken = set(actual.usernames_taken) | {u.username for u in actual.users.values()}
    for code in sorted(desired.users):
        user = desired.users[code]
        found = actual.users.get(code)
        owner = _email_owner(actual, user.email)
        email_taken = owner is not None and owner[1] != code
        if found is None:
            if email_taken:
                assert owner is not None
                conflicts.append(
                    Conflict(
                        code,
                        "email_in_use",
                        f"Email {user.email} đã dùng cho tài khoản khác trên LMS "
                        f"(id {owner[0]}, mã định danh {owner[1] or 'trống'}): không tạo tài khoản",
                    )
                )
                blocked.add(code)
                continue
            username = _unique_username(user.username, taken)
            reason = "người mới trong danh sách"
            if username != user.username:
                reason += f" (tên đăng nhập {user.username} đã có, dùng {username})"
            yield Action(
                ActionKind.CREATE_USER,
                code,
                reason,
                {"username": username, "idnumber": code, **_user_fields(user, opts)},
            )
            continue
        if code not in desired.managed:
            conflicts.append(
                Conflict(
                    code,
                    "unmanaged_account",
                    f"Tài khoản {found.username} (mã định danh {code}) không do phần mềm tạo: "
                    "chỉ ghi danh, không sửa hồ sơ",
                )
            )
            continue
        yield from _user_update(user, found, opts, email_taken, conflicts)
        if found.suspended:
            yield Action(
                ActionKind.REACTIVATE_USER,
                code,
                "có lại trong danh sách",
                {"id": found.id},
            )


def _user_update(
    user: DesiredUser,
    found: ActualUser,
    opts: PlanOptions,
    email_taken: bool,
    conflicts: list[Conflict],
) -> Iterator[Action]:
    wanted = _user_fields(user, opts)
    changes: dict[str, object] = {}
    for name in ("firstname", "lastname"):
        if getattr(found, name) != wanted[name]:
            changes[name] = wanted[name]
    if found.email.lower() != user.email.lower():
        if email_taken:
            conflicts.append(
                Conflict(
                    user.identity_code,
                    "email_in_use",
                    f"Email mới {user.email} đã dùng cho tài khoản khác trên LMS: giữ email cũ "
                    f"{found.email}",
                )
            )
        else:
            changes["email"] = user.email
    custom = wanted.get("customfields")
    if isinstance(custom, Mapping):
        changed_custom = {k: v for k, v in custom.items() if found.customfields.get(k) != v}
        if changed_custom:
            changes["customfields"] = changed_custom
    if changes:
        yield Action(
            ActionKind.UPDATE_USER,
            user.identity_code,
            "đổi " + ", ".join(sorted(changes)),
            {"id": found.id, **changes},
        )


def _enrolments(desired: DesiredState, actual: ActualState, blocked: set[str]) -> Iterator[Action]:
    roles: list[Action] = []
    members: list[Action] = []
    removals: list[Action] = []
    unenrols: list[Action] = []
    for course_id in sorted(desired.courses):
        enrolled = actual.enrolments.get(course_id, {})
        by_identity = {e.idnumber: e for e in enrolled.values() if e.idnumber}
        # Our groups carry an ID number (the class id); one made by hand has none.
        managed_groups = {
            g.id: g.idnumber for (c, _), g in actual.groups.items() if c == course_id and g.idnumber
        }
        known_group_ids = set(managed_groups)
        wanted = {code: e for (c, code), e in desired.enrolments.items() if c == course_id}
        for code in sorted(wanted):
            enrolment = wanted[code]
            if code in blocked:
                continue
            current = by_identity.get(code)
            key = f"{course_id}|{code}"
            if current is None:
                yield Action(
                    ActionKind.ENROL,
                    key,
                    "có trong danh sách lớp" if not enrolment.reference else "môn tham khảo",
                    {
                        "course_idnumber": course_id,
                        "identity_code": code,
                        "role": enrolment.role,
                        "timestart": enrolment.timestart,
                        "timeend": enrolment.timeend,
                    },
                )
            elif enrolment.role not in current.roles or len(current.roles) > 1:
                had = ", ".join(sorted(current.roles)) or "không có"
                roles.append(
                    Action(
                        ActionKind.CHANGE_ROLE,
                        key,
                        f"vai trò {had} → {enrolment.role}",
                        {
                            "course_idnumber": course_id,
                            "identity_code": code,
                            "add": enrolment.role if enrolment.role not in current.roles else None,
                            "remove": sorted(current.roles - {enrolment.role}),
                        },
                    )
                )
            current_groups = current.groupids & known_group_ids if current else frozenset()
            group_ids = {gnum: gid for gid, gnum in managed_groups.items()}
            for target in sorted(enrolment.groups):
                target_id = group_ids.get(target)
                if target_id is None or target_id not in current_groups:
                    members.append(
                        Action(
                            ActionKind.ADD_MEMBER,
                            f"{course_id}|{target}|{code}",
                            "xếp vào lớp",
                            {
                                "course_idnumber": course_id,
                                "group_idnumber": target,
                                "identity_code": code,
                            },
                        )
                    )
            wanted_ids = {group_ids[g] for g in enrolment.groups if g in group_ids}
            for gid in sorted(current_groups - wanted_ids):
                removals.append(
                    Action(
                        ActionKind.REMOVE_MEMBER,
                        f"{course_id}|{managed_groups[gid]}|{code}",
                        "chuyển lớp" if enrolment.groups else "không còn thuộc lớp nào",
                        {
                            "course_idnumber": course_id,
                            "group_idnumber": managed_groups[gid],
                            "identity_code": code,
                        },
                    )
                )
        for code in sorted(set(by_identity) - set(wanted)):
            if code in desired.managed:
                unenrols.append(
                    Action(
                        ActionKind.UNENROL,
                        f"{course_id}|{code}",
                        "không còn thuộc khóa học này",
                        {
                            "course_idnumber": course_id,
                            "identity_code": code,
                            "userid": by_identity[code].userid,
                        },
                    )
                )
    yield from roles
    yield from members
    yield from removals
    yield from unenrols


def _departures(
    desired: DesiredState, actual: ActualState, now: int, opts: PlanOptions
) -> Iterator[Action]:
    grace = opts.suspend_grace_days * DAY
    for code in sorted(desired.managed - set(desired.users) - desired.active):
        found = actual.users.get(code)
        if found is None or found.suspended:
            continue
        left = desired.left_at.get(code)
        if left is not None and now - left < grace:
            continue
        yield Action(
            ActionKind.SUSPEND_USER,
            code,
            "không còn trong danh sách và không thuộc đợt nào đang diễn ra",
            {"id": found.id},
        )
