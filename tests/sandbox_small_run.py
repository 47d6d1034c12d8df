"""A small module run provisioned into a bare sandbox LMS, with the service account's calls.

Two courses copied from the template ``TPL-MODULE`` into the run's category
``BDTX-<run id>``; each with three classes (groups whose ID number is the class id) of
``learners_per_class`` learners and one reporter (non-editing teacher) each; in one course
a reporter also serves a second class. The run starts on the template's day 1, so the
copied activities' dates are the run's (nothing to move).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from config.settings import RunSettings
from sandbox.lms import SandboxLms
from sandbox.options import TEMPLATE_D0
from sandbox.state import Site
from scheduler.schedule import LOCAL_TZ

RUN_START = dt.datetime.fromtimestamp(TEMPLATE_D0, LOCAL_TZ).date()
RUN = RunSettings(id="M9-2026", module=9, start=RUN_START)
COURSES = ("BDTX-M9-2026-THCS-GV-TOAN", "BDTX-M9-2026-THPT-GV-VAN")
STUDENT, TEACHER = 5, 4


def local(day: int, hour: int = 8) -> dt.datetime:
    """``hour`` o'clock local time on run day ``day`` (day 1 is the run's start)."""
    return dt.datetime.combine(
        RUN_START + dt.timedelta(days=day - 1), dt.time(hour), tzinfo=LOCAL_TZ
    )


def _user(username: str, idnumber: str) -> dict[str, Any]:
    return {
        "username": username,
        "password": "Hv#2026abcd",
        "firstname": username.title(),
        "lastname": "Nguyễn",
        "email": f"{username}@example.edu.vn",
        "idnumber": idnumber,
        "timezone": "Asia/Ho_Chi_Minh",
    }


def small_run_site(
    run: RunSettings = RUN, learners_per_class: int = 12, clock: float | None = None
) -> SandboxLms:
    """The bare sandbox with ``run``'s two courses, six classes and their people."""
    moment = clock if clock is not None else float(TEMPLATE_D0 - 7 * 86400)
    lms = SandboxLms(clock=lambda: moment)
    site = lms.site
    [year] = lms.call(
        "core_course_create_categories",
        {"categories": [{"name": "BDTX 2026", "parent": 0, "idnumber": "BDTX-2026"}]},
    )
    [category] = lms.call(
        "core_course_create_categories",
        {
            "categories": [
                {"name": run.id, "parent": year["id"], "idnumber": f"BDTX-{run.id}"},
            ]
        },
    )
    template = site.course_by_idnumber["TPL-MODULE"]
    users: list[dict[str, Any]] = []
    plan: list[tuple[str, str, list[str], list[str]]] = []  # course, class, learners, staff
    for c, course in enumerate(COURSES):
        for k in range(1, 4):
            class_id = f"{run.id}/{course.rsplit('-', 1)[-1]}/{k:02d}"
            learners = [f"hv{c}{k}{n:02d}" for n in range(learners_per_class)]
            reporter = f"bcv{c}{k}"
            staff = [reporter]
            if c == 0 and k == 3:
                staff = ["bcv02"]  # the reporter of class 2 also serves class 3
            else:
                users.append(_user(reporter, f"GV{c}{k}"))
            users += [_user(name, f"ID{name[2:]}") for name in learners]
            plan.append((course, class_id, learners, staff))
    lms.call("core_user_create_users", {"users": users})
    for course in COURSES:
        copied = lms.call(
            "core_course_duplicate_course",
            {
                "courseid": template,
                "fullname": course,
                "shortname": course,
                "categoryid": category["id"],
                "visible": 1,
                "options": [{"name": "users", "value": 0}],
            },
        )
        lms.call(
            "core_course_update_courses",
            {"courses": [{"id": copied["id"], "idnumber": course}]},
        )
    _enrol_and_group(lms, site, plan)
    return lms


def _enrol_and_group(
    lms: SandboxLms, site: Site, plan: list[tuple[str, str, list[str], list[str]]]
) -> None:
    enrolments: list[dict[str, int]] = []
    groups: list[dict[str, Any]] = []
    for course, class_id, learners, staff in plan:
        course_id = site.course_by_idnumber[course]
        groups.append(
            {"courseid": course_id, "name": class_id, "description": "", "idnumber": class_id}
        )
        for name in learners:
            enrolments.append(
                {"roleid": STUDENT, "userid": site.user_by_username[name], "courseid": course_id}
            )
        for name in staff:
            enrolments.append(
                {"roleid": TEACHER, "userid": site.user_by_username[name], "courseid": course_id}
            )
    lms.call("enrol_manual_enrol_users", {"enrolments": enrolments})
    created = lms.call("core_group_create_groups", {"groups": groups})
    members = [
        {"groupid": group["id"], "userid": site.user_by_username[name]}
        for group, (_, _, learners, staff) in zip(created, plan, strict=True)
        for name in (*learners, *staff)
    ]
    lms.call("core_group_add_group_members", {"members": members})
