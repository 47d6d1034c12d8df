"""What an import wants stored for each person, field by field (pure).

Every field of a learner is given a value no other field has, so a value landing in the
wrong field (the fields are planned as tuples in ``COMPARED_FIELDS`` order) shows here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from roster.model import (
    Audience,
    CoreRole,
    CoreStaff,
    ExemptionKind,
    Gender,
    ImportResult,
    Learner,
    Level,
    RowSource,
    Track,
)
from store.roster_repo import COMPARED_FIELDS, desired_people

SOURCE = RowSource(file="hoc-vien.xlsx", sheet="Danh sách", row=7)


LEARNER = Learner(
    identity_code="7017859333",
    full_name="Trần Quốc Minh",
    lastname="Trần Quốc",
    firstname="Minh",
    birth_date=dt.date(1980, 12, 23),
    gender=Gender.MALE,
    email="minhtq80@gmail.com",
    phone="0988021879",
    school_code="BP-0101",
    school_name="Trường THCS Tân Phú",
    district="Huyện Bù Gia Mập",
    cluster="Cụm 3",
    level=Level.LOWER_SECONDARY,
    audience=Audience.TEACHER,
    position="Giáo viên",
    subject="Ngữ văn",
    track=Track.PREREQUISITE,
    core_staff=False,
    modules_123_done=False,
    hdtnhn_concurrent=True,
    reduction=ExemptionKind.MATERNITY,
    note="nghỉ thai sản",
    reference_subjects=(),
    source=SOURCE,
)


def _learner(code: str, **changes: object) -> Learner:
    return replace(LEARNER, identity_code=code, **changes)


def _result(learners: tuple[Learner, ...], staff: tuple[CoreStaff, ...] = ()) -> ImportResult:
    return ImportResult(outcomes=(), learners=learners, core_staff=staff, exemptions=())


def test_a_learner_is_stored_with_each_value_in_its_own_field() -> None:
    wanted = desired_people(_result((_learner("7017859333"),)))
    assert wanted == {
        "7017859333": {
            "full_name": "Trần Quốc Minh",
            "lastname": "Trần Quốc",
            "firstname": "Minh",
            "birth_date": dt.date(1980, 12, 23),
            "gender": "Nam",
            "email": "minhtq80@gmail.com",
            "phone": "0988021879",
            "school_code": "BP-0101",
            "district": "Huyện Bù Gia Mập",
            "level": "THCS",
            "audience": "GV",
            "position": "Giáo viên",
            "subject": "Ngữ văn",
            "is_learner": True,
            "is_core_staff": False,
            "staff_role": "",
            "staff_subject": "",
            "staff_level": "",
            "track": "modules_1_2_3",
            "exemption": "reduced",
            "exemption_reason": "Giảm: nghỉ thai sản",
            "concurrent_hdtnhn": True,
            "status": "active",
        }
    }
    assert list(wanted["7017859333"]) == list(COMPARED_FIELDS)


def test_a_learner_who_is_also_core_staff_keeps_the_learner_fields() -> None:
    reporter = CoreStaff(
        identity_code="7017859333",
        full_name="Trần Quốc Minh",
        lastname="Trần Quốc",
        firstname="Minh",
        email=None,
        phone=None,
        school_code=None,
        cluster=None,
        level=Level.UPPER_SECONDARY,
        subject="Toán",
        role=CoreRole.ASSISTANT,
        source=SOURCE,
    )
    plain = _learner("7017859334", gender=None, phone=None, reduction=None, core_staff=True)
    wanted = desired_people(_result((_learner("7017859333"), plain), (reporter,)))
    assert wanted["7017859333"]["email"] == "minhtq80@gmail.com"
    assert wanted["7017859333"]["level"] == "THCS"
    assert (
        wanted["7017859333"]["is_core_staff"],
        wanted["7017859333"]["staff_role"],
        wanted["7017859333"]["staff_subject"],
        wanted["7017859333"]["staff_level"],
    ) == (True, "assistant", "Toán", "THPT")
    assert {name: wanted["7017859334"][name] for name in ("gender", "phone", "exemption")} == {
        "gender": "",
        "phone": "",
        "exemption": "",
    }
    assert wanted["7017859334"]["exemption_reason"] == ""
    assert wanted["7017859334"]["is_core_staff"] is True
