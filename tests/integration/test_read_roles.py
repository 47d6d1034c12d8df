"""Roles without a query per participant: the staff of a course are asked theirs apart.

Moodle answers ``roles`` in ``core_enrol_get_enrolled_users`` with a query per participant.
The reader asks the participants without it, then the participants holding a grading
capability (a course's few assessors) with it; every other participant is a learner.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connector.lms import MoodleLms
from sandbox.lms import SandboxLms
from sandbox.state import CONTEXT_COURSE
from sync.apply import Applier, ApplyOptions
from sync.model import ActionKind, DesiredState
from sync.plan import plan
from sync.read import STAFF_CAPABILITY, read_actual
from tests.integration.test_apply_sandbox import NOW, ListJournal, lms_for
from tests.unit.sync.states import COURSE, desired, person

EDITING_TEACHER, TEACHER, STUDENT = 3, 4, 5
LEARNERS = {"7000000001": "L01", "7000000002": "L01"}
ASSESSOR = "7000000003"


def _participant_reads(lms: MoodleLms) -> list[dict[str, str]]:
    """Record the options of every participants' read the client sends."""
    reads: list[dict[str, str]] = []
    call = lms.client.call

    def recording(wsfunction: str, params: Any = None, *, write: bool = False) -> Any:
        if wsfunction == "core_enrol_get_enrolled_users":
            reads.append({o["name"]: str(o["value"]) for o in params["options"]})
        return call(wsfunction, params, write=write)

    lms.client.call = recording  # type: ignore[method-assign]
    return reads


def _provisioned() -> tuple[SandboxLms, MoodleLms, DesiredState]:
    sandbox = SandboxLms()
    lms = lms_for(sandbox)
    people = [person(code) for code in (*LEARNERS, ASSESSOR)]
    wanted = replace(
        desired(people, LEARNERS, teachers={ASSESSOR: "L01"}),
        managed=frozenset(p.identity_code for p in people),
    )
    actual = read_actual(lms, wanted)
    result = Applier(lms, ListJournal(), actual, ApplyOptions()).apply(
        plan(wanted, actual, now=NOW)
    )
    assert result.failures() == []
    return sandbox, lms, wanted


def test_participants_are_read_without_roles_and_the_staff_with_theirs() -> None:
    _, lms, wanted = _provisioned()
    reads = _participant_reads(lms)
    actual = read_actual(lms, wanted)
    assert len(reads) == 2  # one course: its participants, then its staff
    participants, staff = reads
    assert "withcapability" not in participants
    assert "roles" not in participants["userfields"].split(",")
    assert staff == {"userfields": "id,roles", "withcapability": STAFF_CAPABILITY}
    roles = {e.idnumber: e.roles for e in actual.enrolments[COURSE].values()}
    assert roles == {
        "7000000001": {"student"},
        "7000000002": {"student"},
        ASSESSOR: {"teacher"},
    }
    assert plan(wanted, actual, now=NOW).actions == ()


def test_roles_changed_by_hand_are_still_found_and_corrected() -> None:
    sandbox, lms, wanted = _provisioned()
    site = sandbox.site
    course = site.course_by_idnumber[COURSE]
    ids = {u.idnumber: u.id for u in site.users.values()}
    # A learner also made teacher; another one's student role swapped for the non-editing
    # teacher's; the assessor demoted to learner.
    site.assign_role(CONTEXT_COURSE, course, ids["7000000001"], TEACHER)
    site.unassign_role(CONTEXT_COURSE, course, ids["7000000002"], STUDENT)
    site.assign_role(CONTEXT_COURSE, course, ids["7000000002"], TEACHER)
    site.unassign_role(CONTEXT_COURSE, course, ids[ASSESSOR], TEACHER)
    site.assign_role(CONTEXT_COURSE, course, ids[ASSESSOR], STUDENT)

    actual = read_actual(lms, wanted)
    fix = plan(wanted, actual, now=NOW)
    changes = {a.data["identity_code"]: a for a in fix.of_kind(ActionKind.CHANGE_ROLE)}
    assert {code: (a.data["add"], a.data["remove"]) for code, a in changes.items()} == {
        "7000000001": (None, ["teacher"]),
        "7000000002": ("student", ["teacher"]),
        ASSESSOR: ("teacher", ["student"]),
    }
    result = Applier(lms, ListJournal(), actual, ApplyOptions()).apply(fix)
    assert result.failures() == []
    assert plan(wanted, read_actual(lms, wanted), now=NOW).actions == ()
    assert site.roles_in(CONTEXT_COURSE, course, ids[ASSESSOR]) == [TEACHER]

    # A learner made editing teacher by hand holds the grading capability too: found.
    site.assign_role(CONTEXT_COURSE, course, ids["7000000002"], EDITING_TEACHER)
    found = read_actual(lms, wanted).enrolments[COURSE]
    assert found[ids["7000000002"]].roles == {"student", "editingteacher"}
