"""What the reader makes of a participant as Moodle lists it (recorded answer)."""

from __future__ import annotations

from dataclasses import replace

from connector.enrol import EnrolledUser
from sync.model import ActualUser
from sync.read import _user_from, participant_fields
from tests.contract import recorded
from tests.unit.sync.states import desired, person

# Recorded with userfields id,username,idnumber,fullname,email,roles,groups,customfields:
# no firstname/lastname and no suspended (hidden from the service user).
PARTICIPANT = recorded("core_enrol_get_enrolled_users__ok_userfields")["response"][0]


def test_a_recorded_participant_becomes_an_actual_user() -> None:
    user = _user_from(EnrolledUser.model_validate(PARTICIPANT), suspended_default=False)
    assert user == ActualUser(
        id=5,
        username="nhung.nth",
        idnumber="HV2026-0001",
        firstname="",
        lastname="",
        email="nhung.nth@example.edu.vn",
        suspended=False,
        customfields={"school": "THPT Đồng Xoài", "cccd": "070206000001", "classcode": "K26-A"},
    )


def test_suspension_hidden_by_moodle_comes_from_our_own_record() -> None:
    participant = EnrolledUser.model_validate(PARTICIPANT)
    assert _user_from(participant, suspended_default=True).suspended
    shown = EnrolledUser.model_validate({**PARTICIPANT, "suspended": False})
    assert not _user_from(shown, suspended_default=True).suspended


def test_participants_are_asked_only_the_fields_the_plan_compares() -> None:
    plain = replace(person("7012345678"), customfields={})
    fields = participant_fields(desired([plain], {"7012345678": "01"}))
    assert "customfields" not in fields  # Moodle's dearest part of the answer
    assert {"idnumber", "username", "email", "suspended", "groups"} <= set(fields)
    assert "enrolledcourses" not in fields
    assert "roles" not in fields  # a query per participant: the staff are asked apart
    with_profile_fields = desired([person("7012345678")], {"7012345678": "01"})
    assert participant_fields(with_profile_fields) == (*fields, "customfields")
