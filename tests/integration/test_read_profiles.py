"""Profile fields read only where the plan can find them changed.

Moodle loads every custom field of every participant for ``customfields``. A managed
account holding the values an apply last wrote (the journal) is trusted, once the account
written longest ago shows the site kept them; accounts whose roster values changed are
read by id; a site that dropped the writes gets the full read, as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connector.lms import MoodleLms
from sandbox.lms import SandboxLms
from sync.apply import Applier, ApplyOptions
from sync.model import ActionKind, DesiredState
from sync.plan import PlanOptions, plan
from sync.read import WrittenCustomfields, read_actual
from tests.integration.test_apply_sandbox import NOW, ListJournal, lms_for
from tests.unit.sync.states import desired, person

CODES = ("7000000001", "7000000002", "7000000003")
SITE = frozenset({"school"})
OPTIONS = PlanOptions(site_customfields=SITE)


def _calls(lms: MoodleLms) -> list[tuple[str, dict[str, Any]]]:
    """Record every call the client sends."""
    calls: list[tuple[str, dict[str, Any]]] = []
    call = lms.client.call

    def recording(wsfunction: str, params: Any = None, *, write: bool = False) -> Any:
        calls.append((wsfunction, dict(params or {})))
        return call(wsfunction, params, write=write)

    lms.client.call = recording  # type: ignore[method-assign]
    return calls


def _asked_customfields(calls: list[tuple[str, dict[str, Any]]]) -> bool:
    return any(
        "customfields" in str(o["value"]).split(",")
        for name, params in calls
        if name == "core_enrol_get_enrolled_users"
        for o in params["options"]
        if o["name"] == "userfields"
    )


def _provisioned() -> tuple[SandboxLms, MoodleLms, DesiredState, WrittenCustomfields]:
    """Three managed learners created with their school; what the apply wrote."""
    sandbox = SandboxLms()
    lms = lms_for(sandbox)
    people = [person(code) for code in CODES]
    wanted = replace(desired(people, dict.fromkeys(CODES, "L01")), managed=frozenset(CODES))
    actual = read_actual(lms, wanted)
    result = Applier(lms, ListJournal(), actual, ApplyOptions()).apply(
        plan(wanted, actual, now=NOW, options=OPTIONS)
    )
    assert result.failures() == []
    written = {code: {"school": ("BP0001", 1)} for code in CODES}
    return sandbox, lms, wanted, written


def test_a_no_change_read_asks_no_participant_for_profile_fields() -> None:
    _, lms, wanted, written = _provisioned()
    calls = _calls(lms)
    actual = read_actual(lms, wanted, written_customfields=written, site_customfields=SITE)
    assert not _asked_customfields(calls)
    # One look-up of the account written longest ago shows the site kept the writes.
    lookups = [p for name, p in calls if name == "core_user_get_users_by_field"]
    assert lookups[0] == {"field": "idnumber", "values": ["7000000001"]}
    assert all(u.customfields == {"school": "BP0001"} for u in actual.users.values())
    assert plan(wanted, actual, now=NOW, options=OPTIONS).actions == ()


def test_a_changed_roster_value_is_read_by_id_and_planned() -> None:
    _, lms, wanted, written = _provisioned()
    people = dict(wanted.users)
    people["7000000002"] = replace(people["7000000002"], customfields={"school": "BP0002"})
    moved = replace(wanted, users=people)
    calls = _calls(lms)
    actual = read_actual(lms, moved, written_customfields=written, site_customfields=SITE)
    assert not _asked_customfields(calls)
    by_id = [
        p for name, p in calls if name == "core_user_get_users_by_field" and p["field"] == "id"
    ]
    assert by_id == [{"field": "id", "values": [actual.users["7000000002"].id]}]
    assert actual.users["7000000002"].customfields == {"school": "BP0001"}  # as on the LMS
    updates = plan(moved, actual, now=NOW, options=OPTIONS).of_kind(ActionKind.UPDATE_USER)
    assert [(a.key, a.data["customfields"]) for a in updates] == [
        ("7000000002", {"school": "BP0002"})
    ]


def test_writes_the_site_did_not_keep_send_every_participant_read_back() -> None:
    sandbox, lms, wanted, written = _provisioned()
    for user in sandbox.site.users.values():
        user.customfields.pop("school", None)  # the field's values gone (field recreated)
    calls = _calls(lms)
    actual = read_actual(lms, wanted, written_customfields=written, site_customfields=SITE)
    assert _asked_customfields(calls)
    assert all(actual.users[code].customfields == {} for code in CODES)
    updates = plan(wanted, actual, now=NOW, options=OPTIONS).of_kind(ActionKind.UPDATE_USER)
    assert {a.key for a in updates} == set(CODES)


def test_never_written_values_are_read() -> None:
    _, lms, wanted, _ = _provisioned()
    calls = _calls(lms)
    actual = read_actual(lms, wanted, written_customfields={}, site_customfields=SITE)
    # Nothing known of any account: one pass with the participants.
    assert _asked_customfields(calls)
    assert plan(wanted, actual, now=NOW, options=OPTIONS).actions == ()
