"""``bdtx lms check``: does the teacher role let reporters see every class?"""

from __future__ import annotations

from dataclasses import replace

from connector.check import NOT_CHECKED, OK, WARNING, check_lms
from connector.check_groups import ReporterProbe, add_reporter_check, check_reporter_groups
from connector.enrol import GET_ENROLLED_USERS
from sandbox.lms import SandboxLms
from sync.apply import Applier, ApplyOptions
from sync.plan import plan
from sync.read import read_actual
from tests.integration.test_apply_sandbox import NOW, ListJournal, lms_for
from tests.unit.sync.states import desired, person

PROBE = ReporterProbe(teacher_roleid=4, category_idnumbers=("BDTX-2023-M4",))
ACCESS_ALL_GROUPS = "moodle/site:accessallgroups"


def provisioned(*, with_reporter: bool = True) -> SandboxLms:
    """A course of the sync (category BDTX-2023-M4) with two classes and one reporter."""
    sandbox = SandboxLms()
    lms = lms_for(sandbox)
    people = [person("7000000001"), person("7000000002"), person("7000000009")]
    teachers = {"7000000009": "L01"} if with_reporter else {}
    learners = {"7000000001": "L01", "7000000002": "L02"}
    wanted = replace(desired(people, learners, teachers=teachers), managed=frozenset())
    actual = read_actual(lms, wanted)
    result = Applier(lms, ListJournal(), actual, ApplyOptions()).apply(
        plan(wanted, actual, now=NOW)
    )
    assert result.failures() == []
    return sandbox


def test_stock_teacher_role_is_limited_to_its_groups() -> None:
    sandbox = provisioned()
    line = check_reporter_groups(lms_for(sandbox), PROBE)
    assert line.status == OK, line.detail
    assert ACCESS_ALL_GROUPS in line.name


def test_teacher_role_holding_access_all_groups_is_a_warning() -> None:
    sandbox = provisioned()
    sandbox.site.role_changes[4] = {ACCESS_ALL_GROUPS: True}
    lms = lms_for(sandbox)
    report = check_lms(lms)
    add_reporter_check(report, lms, PROBE)
    assert [(w.kind, w.status) for w in report.warnings] == [("role", WARNING)]
    assert "M4-2023-THCS-GV-TOAN" in report.warnings[0].detail
    # A warning, not a missing requirement: the software still runs.
    assert report.ok


def test_before_any_reporter_is_enrolled_nothing_can_be_observed() -> None:
    sandbox = provisioned(with_reporter=False)
    sandbox.site.role_changes[4] = {ACCESS_ALL_GROUPS: True}
    line = check_reporter_groups(lms_for(sandbox), PROBE)
    assert line.status == NOT_CHECKED
    assert "after provisioning" in line.detail
    # Nor in categories that are not the sync's.
    other = replace(PROBE, category_idnumbers=("SOMETHING-ELSE",))
    assert check_reporter_groups(lms_for(provisioned()), other).status == NOT_CHECKED


def test_without_the_participants_function_it_is_not_checked() -> None:
    line = check_reporter_groups(lms_for(provisioned()), PROBE, [GET_ENROLLED_USERS])
    assert (line.status, line.detail) == (NOT_CHECKED, f"needs {GET_ENROLLED_USERS}")


def test_probe_only_reads() -> None:
    sandbox = provisioned()
    before = sandbox.site.ids.snapshot(), len(sandbox.site.role_assignments)
    check_reporter_groups(lms_for(sandbox), PROBE)
    assert (sandbox.site.ids.snapshot(), len(sandbox.site.role_assignments)) == before
