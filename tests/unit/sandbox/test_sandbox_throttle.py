"""The throttled sandbox: N workers, costs per call and row, and Moodle's write collision.

No test waits for real time: costs are spent by an injected ``sleep`` (a list, or a
barrier that holds two calls in flight together).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlencode

import pytest

from sandbox import SandboxLms
from sandbox.protocol import flatten_params
from sandbox.throttle import (
    PARTICIPANTS,
    RECORDED_COSTS,
    Costs,
    Throttle,
    asked_userfields,
    collision_keys,
    rows_of,
)

STUDENT = 5


def _site(throttle: Throttle) -> tuple[SandboxLms, int, list[int], list[int]]:
    """A course with two groups and four enrolled learners."""
    lms = SandboxLms(throttle=throttle)
    site = lms.site
    template = site.course_by_shortname["TPL-MODULE"]
    course = lms.call(
        "core_course_duplicate_course",
        {"courseid": template, "fullname": "K", "shortname": "K", "categoryid": 1},
    )["id"]
    users = [
        u["id"]
        for u in lms.call(
            "core_user_create_users",
            {
                "users": [
                    {
                        "username": f"l{n}",
                        "firstname": "A",
                        "lastname": "B",
                        "email": f"l{n}@example.edu.vn",
                        "createpassword": 1,
                    }
                    for n in range(4)
                ]
            },
        )
    ]
    lms.call(
        "enrol_manual_enrol_users",
        {"enrolments": [{"roleid": STUDENT, "userid": u, "courseid": course} for u in users]},
    )
    groups = [
        g["id"]
        for g in lms.call(
            "core_group_create_groups",
            {"groups": [{"courseid": course, "name": n, "description": ""} for n in ("G1", "G2")]},
        )
    ]
    return lms, course, users, groups


def _body(lms: SandboxLms, function: str, params: dict[str, Any]) -> str:
    fields = [
        ("wstoken", lms.token_for("syncbot")),
        ("wsfunction", function),
        ("moodlewsrestformat", "json"),
    ]
    return urlencode(fields + flatten_params(params))


def _two_in_flight(lms: SandboxLms, bodies: list[str]) -> list[bytes]:
    answers: list[bytes] = [b"", b""]

    def run(index: int) -> None:
        answers[index] = lms.handle("", bodies[index]).body

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def _held_together() -> Throttle:
    """Two workers; each call waits at a barrier until the other is in flight too."""
    barrier = threading.Barrier(2)
    return Throttle(2, Costs(call_s=1.0), sleep=lambda _: barrier.wait(timeout=20))


def test_two_member_writes_in_flight_on_one_group_collide_and_one_is_rolled_back() -> None:
    lms, _, users, (g1, _) = _site(_held_together())
    bodies = [
        _body(lms, "core_group_add_group_members", {"members": [{"groupid": g1, "userid": u}]})
        for u in users[:2]
    ]
    answers = _two_in_flight(lms, bodies)

    failed = [a for a in answers if b"dmlwriteexception" in a]
    assert len(failed) == 1
    assert b'"message":"Error writing to database"' in failed[0]
    assert b'"exception":"dml_write_exception"' in failed[0]
    # The rolled-back call added nobody; the other call's member is there.
    assert len(lms.site.group_members[g1]) == 1
    assert lms.throttle is not None
    assert lms.throttle.collided == 1


def test_member_writes_on_different_groups_in_flight_together_both_land() -> None:
    lms, _, users, (g1, g2) = _site(_held_together())
    bodies = [
        _body(lms, "core_group_add_group_members", {"members": [{"groupid": g, "userid": u}]})
        for g, u in ((g1, users[0]), (g2, users[1]))
    ]
    answers = _two_in_flight(lms, bodies)

    assert answers == [b"null", b"null"]
    assert len(lms.site.group_members[g1]) == len(lms.site.group_members[g2]) == 1


def test_enrolments_in_flight_into_one_course_collide() -> None:
    lms, course, users, _ = _site(_held_together())
    bodies = [
        _body(
            lms,
            "enrol_manual_enrol_users",
            {"enrolments": [{"roleid": 4, "userid": u, "courseid": course}]},
        )
        for u in users[:2]
    ]
    answers = _two_in_flight(lms, bodies)
    assert sum(b"dmlwriteexception" in a for a in answers) == 1


def test_each_call_holds_a_worker_for_its_cost_by_rows() -> None:
    waits: list[float] = []
    costs = Costs(call_s=0.5, default_row_s=0.1, row_s={"core_user_create_users": 1.0})
    lms, _, users, (g1, _) = _site(Throttle(1, costs, sleep=waits.append))
    waits.clear()
    members = [{"groupid": g1, "userid": u} for u in users]
    lms.handle("", _body(lms, "core_group_add_group_members", {"members": members}))
    lms.handle("", _body(lms, "core_webservice_get_site_info", {}))
    assert waits == [pytest.approx(0.5 + 4 * 0.1), pytest.approx(0.5 + 0.1)]
    assert len(lms.site.group_members[g1]) == 4


def test_a_participants_read_costs_per_participant_and_per_field_asked() -> None:
    waits: list[float] = []
    costs = Costs(call_s=0.5, participant_s={"": 0.01, "groups": 0.02, "roles": 0.04})
    lms, course, _, _ = _site(Throttle(1, costs, sleep=waits.append))

    def read(**options: str) -> None:
        waits.clear()
        named = [{"name": name, "value": value} for name, value in options.items()]
        lms.handle("", _body(lms, PARTICIPANTS, {"courseid": course, "options": named}))

    read(userfields="id,username,groups")
    assert waits == [0.5, pytest.approx(4 * (0.01 + 0.02))]  # 4 learners listed
    read(userfields="id,username,groups,roles")
    assert waits == [0.5, pytest.approx(4 * (0.01 + 0.02 + 0.04))]
    # Only the staff asked their roles: nobody here holds the grading capability.
    read(userfields="id,roles", withcapability="mod/assign:grade")
    assert waits == [0.5]
    assert asked_userfields({"options": {"0": {"name": "userfields", "value": "id,roles"}}}) == (
        "id",
        "roles",
    )
    assert "roles" in asked_userfields({"courseid": "3"})  # Moodle's default record


def test_a_call_costing_more_than_the_timeout_is_applied_and_its_answer_lost() -> None:
    lms, _, users, (g1, _) = _site(Throttle(1, Costs(default_row_s=1.0), sleep=lambda _: None))
    assert lms.throttle is not None
    lms.throttle.timeout_s = 2.5
    members = [{"groupid": g1, "userid": u} for u in users]
    two = lms.handle("", _body(lms, "core_group_add_group_members", {"members": members[:2]}))
    three = lms.handle("", _body(lms, "core_group_add_group_members", {"members": members[1:]}))
    assert (two.timed_out, three.timed_out) == (False, True)  # 2 s and 3 s against 2.5 s
    assert len(lms.site.group_members[g1]) == 4


def test_rows_and_collision_keys_read_from_decoded_php_arrays() -> None:
    params = {"members": {"0": {"groupid": "7", "userid": "1"}, "1": {"groupid": "8"}}}
    assert rows_of(params) == 2
    assert rows_of({"courseid": "3"}) == 1
    assert collision_keys("core_group_add_group_members", params) == {
        ("group", "7"),
        ("group", "8"),
    }
    assert collision_keys("core_user_create_users", params) == frozenset()
    assert RECORDED_COSTS.of("core_course_duplicate_course", 1) == 0.8
    assert RECORDED_COSTS.scaled(0.5).of("core_user_create_users", 100) == pytest.approx(
        0.5 * (0.02 + 100 * 0.015)
    )
