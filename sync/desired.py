"""The desired LMS state, built from the stored roster, classes and runs.

Mapping (the defaults):

* one **course** per module run x level x audience x subject, copied from the run's
  template, ``idnumber``/shortname ``BDTX-M4-2023-THCS-GV-TOAN``, in a category per school
  year (``BDTX-2023``) and one per run (``BDTX-M4-2023``); course dates from the run's
  schedule: day 1 to day 16;
* one **group** per class, ``idnumber`` = the class id, named as the Sở names classes;
* learners enrolled as students from day 1 to the end of their class's grading window
  (module end + 10 days, or the class's extension);
  reference (concurrent-subject) seats too, marked as such; reporters and assistants as
  non-editing teachers, in their classes' groups only;
* one **account** per person with an enrolment, ``idnumber`` = identity code.

:func:`build_desired` is pure; :func:`load_desired` reads its inputs from the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from config.settings import ProvisioningSettings, RunSettings
from scheduler.timeline import run_timeline
from store.extensions_repo import extension_days
from store.models import ClassMember, ClassStaff, LmsAccount, Person, School, TrainingClass
from sync.model import (
    STUDENT_ROLE,
    TEACHER_ROLE,
    DesiredCategory,
    DesiredCourse,
    DesiredEnrolment,
    DesiredGroup,
    DesiredState,
    DesiredUser,
)


def ascii_fold(text: str) -> str:
    """Vietnamese text without diacritics (đ -> d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def slug(text: str) -> str:
    """``Khoa học tự nhiên`` -> ``KHOA-HOC-TU-NHIEN``."""
    return re.sub(r"[^A-Z0-9]+", "-", ascii_fold(text).upper()).strip("-")


def make_username(pattern: str, person: Person) -> str:
    """A Moodle-valid username from the pattern (lower-case ASCII, ``a-z0-9._-@``)."""
    local = person.email.split("@", 1)[0] if person.email else person.identity_code
    raw = pattern.format(email_local=local, identity=person.identity_code)
    cleaned = re.sub(r"[^a-z0-9._@-]+", "", ascii_fold(raw).lower())
    return cleaned or person.identity_code


@dataclass(frozen=True)
class CourseKey:
    run_id: str
    level: str
    audience: str
    subject: str


def run_category_idnumber(prefix: str, run_id: str) -> str:
    """The category of a run's courses, ``BDTX-M4-2023``."""
    return f"{prefix}-{run_id}"


def course_idnumber(prefix: str, key: CourseKey) -> str:
    return f"{prefix}-{key.run_id}-{key.level}-{key.audience}-{slug(key.subject)}"


def course_fullname(run: RunSettings, key: CourseKey) -> str:
    module = run.name or f"Mô đun {run.module}"
    who = " (CBQL)" if key.audience == "CBQL" else ""
    return unicodedata.normalize("NFC", f"{module} — {key.subject} {key.level}{who}")


@dataclass(frozen=True)
class RosterSnapshot:
    """What the desired state is built from (rows of the state database)."""

    people: Mapping[str, Person]
    schools: Mapping[str, School]
    classes: Iterable[TrainingClass]
    seats: Iterable[ClassMember]
    staff: Iterable[ClassStaff]
    accounts: Iterable[LmsAccount]
    # class id -> extra grading days granted (``bdtx grading extend``); a class not in it
    # has its row's own ``grading_extension_days``
    extensions: Mapping[str, int] = field(default_factory=dict)


def build_desired(
    snapshot: RosterSnapshot,
    runs: Iterable[RunSettings],
    options: ProvisioningSettings,
) -> DesiredState:
    """The LMS state the roster asks for (pure)."""
    runs_by_id = {run.id: run for run in runs}
    classes = {c.id: c for c in snapshot.classes if c.run_id in runs_by_id}
    prefix = options.category_prefix
    categories: dict[str, DesiredCategory] = {}
    courses: dict[str, DesiredCourse] = {}
    groups: dict[tuple[str, str], DesiredGroup] = {}
    course_of_class: dict[str, str] = {}
    class_end: dict[str, tuple[int, int]] = {}
    for class_id in sorted(classes):
        klass = classes[class_id]
        run = runs_by_id[klass.run_id]
        year = f"{prefix}-{run.start.year}"
        categories.setdefault(year, DesiredCategory(year, f"BDTX năm {run.start.year}"))
        run_category = run_category_idnumber(prefix, run.id)
        categories.setdefault(
            run_category,
            DesiredCategory(run_category, run.name or f"Mô đun {run.module}", year),
        )
        key = CourseKey(run.id, klass.level, klass.audience, klass.subject)
        idnumber = course_idnumber(prefix, key)
        extension = snapshot.extensions.get(class_id, klass.grading_extension_days)
        timeline = run_timeline(run, extensions={class_id: extension})
        start = int(timeline.start.timestamp())
        courses.setdefault(
            idnumber,
            DesiredCourse(
                idnumber=idnumber,
                shortname=idnumber,
                fullname=course_fullname(run, key),
                category_idnumber=run_category,
                template_shortname=run.template_course,
                startdate=start,
                # The course runs day 1 to day 16; enrolments stay open through grading.
                enddate=int(timeline.submission_due.timestamp()),
                run_id=run.id,
            ),
        )
        groups[(idnumber, class_id)] = DesiredGroup(idnumber, class_id, klass.name)
        course_of_class[class_id] = idnumber
        class_end[class_id] = (start, int(timeline.enrolment_end(class_id).timestamp()))
    enrolments = _enrolments(snapshot, classes, course_of_class, class_end)
    enrolled = {code for _, code in enrolments}
    users = {
        code: _user(snapshot.people[code], snapshot.schools, options)
        for code in sorted(enrolled)
        if code in snapshot.people
    }
    people = snapshot.people.values()
    return DesiredState(
        users=users,
        categories=tuple(
            sorted(categories.values(), key=lambda c: (c.parent_idnumber is not None, c.idnumber))
        ),
        courses=courses,
        groups=groups,
        enrolments=enrolments,
        managed=frozenset(a.identity_code for a in snapshot.accounts),
        active=frozenset(p.identity_code for p in people if p.status == "active"),
        left_at={
            p.identity_code: int(p.left_at.timestamp())
            for p in people
            if p.status != "active" and p.left_at is not None
        },
    )


def _enrolments(
    snapshot: RosterSnapshot,
    classes: Mapping[str, TrainingClass],
    course_of_class: Mapping[str, str],
    class_end: Mapping[str, tuple[int, int]],
) -> dict[tuple[str, str], DesiredEnrolment]:
    enrolments: dict[tuple[str, str], DesiredEnrolment] = {}
    active = {code for code, p in snapshot.people.items() if p.status == "active"}
    for seat in snapshot.seats:
        if seat.class_id not in classes or seat.identity_code not in active:
            continue
        course = course_of_class[seat.class_id]
        start, end = class_end[seat.class_id]
        enrolments[(course, seat.identity_code)] = DesiredEnrolment(
            course_idnumber=course,
            identity_code=seat.identity_code,
            role=STUDENT_ROLE,
            timestart=start,
            timeend=end,
            groups=frozenset({seat.class_id}),
            reference=seat.kind == "reference",
        )
    for member in sorted(snapshot.staff, key=lambda s: (s.class_id, s.identity_code)):
        if member.class_id not in classes or member.identity_code not in active:
            continue
        course = course_of_class[member.class_id]
        start, end = class_end[member.class_id]
        key = (course, member.identity_code)
        previous = enrolments.get(key)
        if previous is not None and previous.role == TEACHER_ROLE:
            enrolments[key] = DesiredEnrolment(
                course,
                member.identity_code,
                TEACHER_ROLE,
                min(previous.timestart, start),
                max(previous.timeend, end),
                previous.groups | {member.class_id},
            )
        else:
            # An assessor of a course is its teacher, even if also seated as a learner there.
            enrolments[key] = DesiredEnrolment(
                course, member.identity_code, TEACHER_ROLE, start, end, frozenset({member.class_id})
            )
    return dict(sorted(enrolments.items()))


def _user(
    person: Person, schools: Mapping[str, School], options: ProvisioningSettings
) -> DesiredUser:
    school = schools.get(person.school_code)
    sources = {
        "school_name": school.name if school else person.school_code,
        "school_code": person.school_code,
        "district": person.district,
        "level": person.staff_level if not person.is_learner else person.level,
        "subject": person.subject or person.staff_subject,
        "identity": person.identity_code,
    }
    customfields = {
        field: sources[source]
        for field, source in sorted(options.profile_fields.items())
        if sources.get(source)
    }
    return DesiredUser(
        identity_code=person.identity_code,
        firstname=person.firstname,
        lastname=person.lastname,
        email=person.email,
        username=make_username(options.username_pattern, person),
        customfields=customfields,
    )


def load_snapshot(session: Session) -> RosterSnapshot:
    """Read the rows :func:`build_desired` needs."""
    classes = list(session.exec(select(TrainingClass).order_by(col(TrainingClass.id))))
    return RosterSnapshot(
        people={p.identity_code: p for p in session.exec(select(Person))},
        schools={s.code: s for s in session.exec(select(School))},
        classes=classes,
        seats=list(session.exec(select(ClassMember))),
        staff=list(session.exec(select(ClassStaff))),
        accounts=list(session.exec(select(LmsAccount))),
        extensions=extension_days(session, classes),
    )


def load_desired(
    session: Session, runs: Iterable[RunSettings], options: ProvisioningSettings
) -> DesiredState:
    return build_desired(load_snapshot(session), runs, options)
