"""The desired LMS state built from stored roster rows (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from config.settings import ProvisioningSettings, RunSettings
from store.models import ClassMember, ClassStaff, LmsAccount, Person, School, TrainingClass
from sync.desired import RosterSnapshot, build_desired, make_username, slug
from sync.model import SEPARATE_GROUPS, STUDENT_ROLE, TEACHER_ROLE

RUN = RunSettings(id="M4-2023", module=4, name="Mô đun 4", start=date(2023, 9, 4))
NOW = datetime(2023, 8, 20, tzinfo=UTC)
# 2023-09-04 00:00 +07:00; the grading window closes at the end of day 26 (2023-09-29).
DAY1 = 1693760400
GRADING_END = 1693760400 + 26 * 86400
# Enrolments end enrolment_grace_days (2) after it: the closing pull sees everyone.
ENROLMENT_END = GRADING_END + 2 * 86400


def person(code: str, email: str, **fields: object) -> Person:
    values: dict[str, object] = {
        "identity_code": code,
        "full_name": "Nguyễn Văn An",
        "lastname": "Nguyễn Văn",
        "firstname": "An",
        "email": email,
        "school_code": "BP0001",
        "level": "THCS",
        "audience": "GV",
        "subject": "Toán",
        "updated_at": NOW,
    }
    values.update(fields)
    return Person(**values)  # type: ignore[arg-type]


def klass(ordinal: int, subject: str = "Toán", **fields: object) -> TrainingClass:
    values: dict[str, object] = {
        "id": f"M4-2023/THCS/GV/{subject}/{ordinal:02d}",
        "run_id": "M4-2023",
        "level": "THCS",
        "audience": "GV",
        "subject": subject,
        "ordinal": ordinal,
        "name": f"Lớp {ordinal:02d} — {subject} THCS",
    }
    values.update(fields)
    return TrainingClass(**values)  # type: ignore[arg-type]


def snapshot(**overrides: object) -> RosterSnapshot:
    people = [
        person("7000000001", "an.nv@gmail.com"),
        person("7000000002", "binh.tt@gmail.com", concurrent_hdtnhn=True),
        person(
            "7000000003",
            "cuong@gmail.com",
            is_learner=False,
            is_core_staff=True,
            staff_role="reporter",
            staff_subject="Toán",
            staff_level="THCS",
        ),
        person("7000000004", "left@gmail.com", status="left", left_at=NOW),
    ]
    classes = [
        klass(1),
        klass(2),
        klass(
            1,
            "Hoạt động trải nghiệm, hướng nghiệp",
            id="M4-2023-KN/THCS/GV/HĐTNHN/01",
            kind="reference",
        ),
    ]
    values: dict[str, object] = {
        "people": {p.identity_code: p for p in people},
        "schools": {"BP0001": School(code="BP0001", name="Trường THCS Tiến Hưng", cluster="Cụm 1")},
        "classes": classes,
        "seats": [
            ClassMember(run_id="M4-2023", identity_code="7000000001", class_id=classes[0].id),
            ClassMember(run_id="M4-2023", identity_code="7000000002", class_id=classes[1].id),
            ClassMember(
                run_id="M4-2023",
                identity_code="7000000002",
                kind="reference",
                class_id=classes[2].id,
            ),
            ClassMember(run_id="M4-2023", identity_code="7000000004", class_id=classes[0].id),
        ],
        "staff": [
            ClassStaff(class_id=classes[0].id, identity_code="7000000003", role="reporter"),
            ClassStaff(class_id=classes[1].id, identity_code="7000000003", role="reporter"),
        ],
        "accounts": [
            LmsAccount(identity_code="7000000004", lms_user_id=9, username="left", created_at=NOW)
        ],
    }
    values.update(overrides)
    return RosterSnapshot(**values)  # type: ignore[arg-type]


def test_courses_groups_and_categories_follow_the_runs() -> None:
    state = build_desired(snapshot(), [RUN], ProvisioningSettings())
    assert [(c.idnumber, c.parent_idnumber) for c in state.categories] == [
        ("BDTX-2023", None),
        ("BDTX-M4-2023", "BDTX-2023"),
    ]
    assert sorted(state.courses) == [
        "BDTX-M4-2023-THCS-GV-HOAT-DONG-TRAI-NGHIEM-HUONG-NGHIEP",
        "BDTX-M4-2023-THCS-GV-TOAN",
    ]
    course = state.courses["BDTX-M4-2023-THCS-GV-TOAN"]
    assert (course.startdate, course.enddate) == (DAY1, DAY1 + 16 * 86400)
    assert course.fullname == "Mô đun 4 — Toán THCS"
    assert course.template_shortname == "TPL-MODULE"
    # Reporters are limited to their classes: separate groups, forced on every activity.
    assert (course.groupmode, course.groupmodeforce) == (SEPARATE_GROUPS, True)
    assert len(state.groups) == 3


def test_learners_reference_seats_and_assessors() -> None:
    state = build_desired(snapshot(), [RUN], ProvisioningSettings())
    toan = "BDTX-M4-2023-THCS-GV-TOAN"
    learner = state.enrolments[(toan, "7000000001")]
    assert (learner.role, learner.groups, learner.reference) == (
        STUDENT_ROLE,
        frozenset({"M4-2023/THCS/GV/Toán/01"}),
        False,
    )
    reference = state.enrolments[
        ("BDTX-M4-2023-THCS-GV-HOAT-DONG-TRAI-NGHIEM-HUONG-NGHIEP", "7000000002")
    ]
    assert reference.reference
    reporter = state.enrolments[(toan, "7000000003")]
    assert reporter.role == TEACHER_ROLE
    assert reporter.groups == frozenset({"M4-2023/THCS/GV/Toán/01", "M4-2023/THCS/GV/Toán/02"})
    # The leaver has a seat still stored but is not wanted any more.
    assert (toan, "7000000004") not in state.enrolments
    assert set(state.users) == {"7000000001", "7000000002", "7000000003"}
    assert state.managed == {"7000000004"}
    assert state.left_at == {"7000000004": int(NOW.timestamp())}
    assert "7000000004" not in state.active


def test_grading_extension_lengthens_that_class_only() -> None:
    extended = [klass(1, grading_extension_days=5), klass(2)]
    state = build_desired(snapshot(classes=extended), [RUN], ProvisioningSettings())
    toan = "BDTX-M4-2023-THCS-GV-TOAN"
    assert state.enrolments[(toan, "7000000001")].timeend == ENROLMENT_END + 5 * 86400
    assert state.enrolments[(toan, "7000000002")].timeend == ENROLMENT_END
    assert state.enrolments[(toan, "7000000003")].timeend == ENROLMENT_END + 5 * 86400


def test_enrolments_end_the_configured_grace_days_after_the_grading_deadline() -> None:
    run = RUN.model_copy(update={"enrolment_grace_days": 0})
    state = build_desired(snapshot(classes=[klass(1)]), [run], ProvisioningSettings())
    toan = "BDTX-M4-2023-THCS-GV-TOAN"
    assert state.enrolments[(toan, "7000000001")].timeend == GRADING_END


def test_a_recorded_extension_wins_over_the_class_row() -> None:
    """``bdtx grading extend`` records it; a class reopened by an allocation has lost its
    row's days but keeps its extension."""
    state = build_desired(
        snapshot(classes=[klass(1), klass(2)], extensions={"M4-2023/THCS/GV/Toán/02": 3}),
        [RUN],
        ProvisioningSettings(),
    )
    toan = "BDTX-M4-2023-THCS-GV-TOAN"
    assert state.enrolments[(toan, "7000000001")].timeend == ENROLMENT_END
    assert state.enrolments[(toan, "7000000002")].timeend == ENROLMENT_END + 3 * 86400


SITE_FIELDS = {"school": "school_name", "level": "level", "subject": "subject"}


def test_user_fields_and_profile_fields() -> None:
    state = build_desired(snapshot(), [RUN], ProvisioningSettings(profile_fields=SITE_FIELDS))
    user = state.users["7000000001"]
    assert (user.firstname, user.lastname, user.email, user.username) == (
        "An",
        "Nguyễn Văn",
        "an.nv@gmail.com",
        "an.nv",
    )
    assert dict(user.customfields) == {
        "level": "THCS",
        "school": "Trường THCS Tiến Hưng",
        "subject": "Toán",
    }


def test_no_profile_fields_unless_the_site_has_them() -> None:
    state = build_desired(snapshot(), [RUN], ProvisioningSettings())
    assert all(not user.customfields for user in state.users.values())


def test_runs_not_configured_are_left_out() -> None:
    other = RunSettings(id="M5-2023", module=5, start=date(2023, 10, 2))
    state = build_desired(snapshot(), [other], ProvisioningSettings())
    assert state.courses == {}
    assert state.users == {}


def test_username_and_slug_are_ascii() -> None:
    assert slug("Khoa học tự nhiên") == "KHOA-HOC-TU-NHIEN"
    assert slug("Đạo đức") == "DAO-DUC"
    p = person("7000000009", "Đức.Trần+x@gmail.com")
    assert make_username("{email_local}", p) == "duc.tranx"
    assert make_username("gv{identity}", p) == "gv7000000009"
