"""The run's schedule pushed into the sandbox LMS through the sync (plan / apply / journal).

A small province is stored (two schools in two clusters, three classes in two courses);
the sandbox's template is the one README "The schedule in Moodle" asks for, unless a test
says otherwise. Run on SQLite and PostgreSQL (the journal says what the sync set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.context import AppContext
from config.settings import (
    DatabaseSettings,
    LmsSettings,
    ProvisioningSettings,
    RunSettings,
    Settings,
    VirtualClassSlot,
)
from sandbox.lms import SandboxLms
from sandbox.options import SandboxOptions
from sandbox.state import Activity, Event
from scheduler.schedule import LOCAL_TZ
from scheduler.timeline import run_timeline
from store.db import session_scope
from store.models import ClassMember, ClassStaff, Person, School, TrainingClass
from sync import service
from sync.calendar import DRIFT_KEPT, WAIT_TIMEOUT, WAITING
from sync.model import ActionKind

DAY = 86_400
START = dt.date(2023, 9, 4)
CLOCK = dt.datetime(2023, 8, 28, 1, 0, tzinfo=dt.UTC)
RUN = RunSettings(
    id="M4-2023",
    module=4,
    levels=["THCS"],
    audiences=["GV"],
    start=START,
    virtual_class=[
        VirtualClassSlot(
            start=dt.datetime(2023, 9, 11, 7, 30), meeting_url="https://meet.example/all"
        ),
        VirtualClassSlot(
            start=dt.datetime(2023, 9, 12, 13, 30),
            duration_minutes=180,
            meeting_url="https://meet.example/cum-b",
            clusters=["Cụm B"],
        ),
    ],
)
COURSES = ("BDTX-M4-2023-THCS-GV-TOAN", "BDTX-M4-2023-THCS-GV-VAN")
CLASSES = {
    "M4-2023/THCS/GV/Toán/01": ("Toán", "S1", 10),
    "M4-2023/THCS/GV/Toán/02": ("Toán", "S2", 20),
    "M4-2023/THCS/GV/Văn/01": ("Văn", "S1", 30),
}


def _store_province(ctx: AppContext) -> None:
    now = CLOCK
    with session_scope(ctx.engine()) as session:
        session.add(School(code="S1", name="THCS Tân Phú", cluster="Cụm A"))
        session.add(School(code="S2", name="THCS An Lộc", cluster="Cụm B"))
        for class_id, (subject, school, first) in CLASSES.items():
            session.add(
                TrainingClass(
                    id=class_id,
                    run_id=RUN.id,
                    level="THCS",
                    audience="GV",
                    subject=subject,
                    ordinal=int(class_id[-2:]),
                    name=f"Lớp {class_id[-2:]} — {subject} THCS",
                    grading_extension_days=3 if class_id.endswith("Toán/02") else 0,
                )
            )
            for number in range(first, first + 3):
                code = f"70000000{number}"
                session.add(
                    Person(
                        identity_code=code,
                        full_name=f"Nguyễn Văn {number}",
                        lastname="Nguyễn Văn",
                        firstname=str(number),
                        email=f"gv{number}@example.edu.vn",
                        school_code=school,
                        level="THCS",
                        audience="GV",
                        subject=subject,
                        updated_at=now,
                    )
                )
                session.flush()
                session.add(ClassMember(run_id=RUN.id, identity_code=code, class_id=class_id))
            reporter = f"80000000{first}"
            session.add(
                Person(
                    identity_code=reporter,
                    full_name=f"Trần Thị {first}",
                    lastname="Trần Thị",
                    firstname=str(first),
                    email=f"bcv{first}@example.edu.vn",
                    school_code=school,
                    is_learner=False,
                    is_core_staff=True,
                    staff_role="reporter",
                    updated_at=now,
                )
            )
            session.flush()
            session.add(ClassStaff(class_id=class_id, identity_code=reporter, role="reporter"))


class Province:
    def __init__(self, database_url: str, folder: Path, **provisioning: object) -> None:
        settings = Settings(
            lms=LmsSettings(url="sandbox:", retry_attempts=1),
            database=DatabaseSettings(url=database_url),
            runs=[RUN],
            provisioning=ProvisioningSettings(**provisioning),  # type: ignore[arg-type]
        )
        self.ctx = AppContext(settings=settings)
        self.ctx.sandbox_state_file = folder / "sandbox.json"
        self.ctx.sandbox_options = SandboxOptions(
            enrolled_users_include_groups=True, template_ready=True
        )
        self.clock = CLOCK

    @property
    def sandbox(self) -> SandboxLms:
        return self.ctx.sandbox()

    def preview(self) -> service.SyncPreview:
        return service.preview(
            self.ctx.engine(),
            self.ctx.lms(),
            self.ctx.settings,
            now=self.clock,
            site_customfields=frozenset(),
        )

    def apply(self) -> service.SyncReport:
        return service.apply(
            self.ctx.engine(),
            self.ctx.lms(),
            self.ctx.settings,
            now=self.clock,
            clock=lambda: self.clock,
            user="test",
            site_customfields=frozenset(),
        )

    def course_activities(self, idnumber: str) -> list[Activity]:
        site = self.sandbox.site
        course = next(c for c in site.courses.values() if c.idnumber == idnumber)
        return [a for a in site.course_activities(course) if a.modname != "forum"]

    def group_events(self, idnumber: str) -> list[Event]:
        site = self.sandbox.site
        course = next(c for c in site.courses.values() if c.idnumber == idnumber)
        return [e for e in site.events.values() if e.courseid == course.id and e.groupid]


@pytest.fixture
def province(database_url: str, tmp_path: Path) -> Iterator[Province]:
    place = Province(database_url, tmp_path)
    _store_province(place.ctx)
    yield place
    place.ctx.close()


def _template_dates(sandbox: SandboxLms) -> dict[tuple[str, str], int]:
    site = sandbox.site
    template = site.courses[site.course_by_shortname["TPL-MODULE"]]
    return {
        (a.modname, setting): a.settings[setting]
        for a in site.course_activities(template)
        for setting in ("timeopen", "timeclose", "duedate", "gradingduedate")
        if a.settings.get(setting)
    }


def _local_days(moment: int) -> dt.date:
    return dt.datetime.fromtimestamp(moment, LOCAL_TZ).date()


def test_first_apply_waits_for_moodle_then_moves_every_date(province: Province) -> None:
    first = province.apply()
    assert first.status == "done", first.result.failures()[:3]
    # Courses copied by this apply: their activity events come with Moodle's cron.
    assert set(first.preview.calendar.waiting) == set(COURSES)
    assert "chờ Moodle" in service.calendar_status(first.preview.calendar)
    assert not first.preview.plan.of_kind(ActionKind.MOVE_EVENT)

    # The virtual class: one group event per class and meeting, in the class's group.
    site = province.sandbox.site
    groups = {g.id: g.idnumber for g in site.groups.values()}
    toan = province.group_events(COURSES[0])
    meetings = sorted((groups[e.groupid], e.timestart, e.timeduration) for e in toan)
    slot_all = int(dt.datetime(2023, 9, 11, 7, 30, tzinfo=LOCAL_TZ).timestamp())
    slot_b = int(dt.datetime(2023, 9, 12, 13, 30, tzinfo=LOCAL_TZ).timestamp())
    assert meetings == [
        ("M4-2023/THCS/GV/Toán/01", slot_all, 240 * 60),
        ("M4-2023/THCS/GV/Toán/02", slot_b, 180 * 60),  # its school is in Cụm B
    ]
    assert all("https://meet.example/" in e.description for e in toan)
    assert len(province.group_events(COURSES[1])) == 1

    # Moodle's cron makes the copies' due and closing events; the next sync moves them.
    province.sandbox.run_background_tasks()
    second = province.apply()
    assert second.status == "done", second.result.failures()[:3]
    assert second.preview.calendar.waiting == ()
    moves = second.preview.plan.of_kind(ActionKind.MOVE_EVENT)
    # Assignment due, quiz and survey open and close: Moodle shows nobody the grading-due
    # event while nothing awaits grading (seen on the real Moodle 4.5).
    assert len(moves) == 2 * 5
    assert province.preview().plan.writes == 0

    # A learner of each course submits: the grading-due events appear, the next sync
    # moves them to the run's grading deadline.
    for course_learner in ("gv10", "gv30"):
        _submit(province, course_learner)
    third = province.apply()
    assert third.status == "done", third.result.failures()[:3]
    graded = third.preview.plan.of_kind(ActionKind.MOVE_EVENT)
    assert sorted(str(a.data["name"]) for a in graded) == ["Final product is due to be graded"] * 2

    template = _template_dates(province.sandbox)
    template_d0 = site.courses[site.course_by_shortname["TPL-MODULE"]].startdate
    offset = (START - _local_days(template_d0)).days
    grading_due = int(run_timeline(RUN).grading_due().timestamp())
    for course in COURSES:
        for activity in province.course_activities(course):
            for setting in ("timeopen", "timeclose", "duedate", "gradingduedate"):
                if (activity.modname, setting) not in template:
                    continue
                moved = activity.settings[setting]
                if setting == "gradingduedate":
                    assert moved == grading_due, (course, activity.name)
                else:
                    wanted = template[(activity.modname, setting)] + offset * DAY
                    assert moved == wanted, (course, activity.name, setting)
    # The assignment is due at 00:00 of day 17, as the run's timeline says.
    dues = [
        a.settings["duedate"]
        for a in province.course_activities(COURSES[0])
        if a.modname == "assign"
    ]
    assert dues == [int(run_timeline(RUN).submission_due.timestamp())]

    # Re-pushing changes nothing.
    again = province.preview()
    assert again.plan.writes == 0, [a.id for a in again.plan.actions][:5]
    # The extension of Toán/02 cannot move the course-wide assignment: said, not done.
    notes = [c for c in again.plan.conflicts if c.code == "calendar_extension"]
    assert [n.key for n in notes] == [COURSES[0]]
    assert "Lớp 02 — Toán THCS (+3 ngày)" in notes[0].message


def _submit(province: Province, username: str) -> None:
    from tests.sandbox_acting import act_as

    site = province.sandbox.site
    user = next(u for u in site.users.values() if u.username == username)
    course = next(
        c
        for c in site.courses.values()
        if user.id in site.enrolments.get(c.id, {}) and c.idnumber.startswith("BDTX-")
    )
    (assign,) = [a for a in site.course_activities(course) if a.modname == "assign"]
    text = {"text": "<p>Sản phẩm cuối</p>", "format": 1, "itemid": 0}
    province.sandbox.issue_token(username)
    act_as(
        province.sandbox,
        username,
        "mod_assign_save_submission",
        {"assignmentid": assign.instance, "plugindata": {"onlinetext_editor": text}},
    )


def _quiz_open_event(province: Province, course: str) -> Event:
    site = province.sandbox.site
    (quiz,) = [a for a in province.course_activities(course) if a.modname == "quiz"]
    return next(
        e
        for e in site.events.values()
        if e.modulename == "quiz" and e.instance == quiz.instance and e.eventtype == "open"
    )


def _pushed(province: Province) -> None:
    province.apply()
    province.sandbox.run_background_tasks()
    assert province.apply().status == "done"


def _move_by_hand(province: Province, event: Event, days: int) -> int:
    """What a teacher's drag and drop in Moodle's calendar does."""
    province.sandbox.call(
        "core_calendar_update_event_start_day",
        {"eventid": event.id, "daytimestamp": event.timestart + days * DAY},
    )
    return event.timestart


def test_the_events_groups_are_the_ones_the_apply_just_made_not_read_back(
    province: Province,
) -> None:
    first = province.apply()
    assert first.status == "done", first.result.failures()[:3]
    created = first.preview.plan.of_kind(ActionKind.CREATE_EVENT)
    assert len(created) == 3
    assert first.result.count("done") == len(first.preview.plan.actions)
    # Every event is in the group this apply created for its class, and no course's
    # groups were read back for it (84 calls for a province's first apply).
    site = province.sandbox.site
    groups = {g.id: g.idnumber for g in site.groups.values()}
    made = sorted(groups[e.groupid] for c in COURSES for e in province.group_events(c))
    assert made == sorted(str(a.data["group_idnumber"]) for a in created)
    assert "core_group_get_course_groups" not in province.ctx.lms().client.stats.snapshot()


def test_a_date_moved_by_hand_is_restored(province: Province) -> None:
    _pushed(province)
    event = _quiz_open_event(province, COURSES[1])
    pushed = event.timestart
    assert _move_by_hand(province, event, 2) == pushed + 2 * DAY

    seen = province.preview()
    (restore,) = seen.plan.actions
    assert restore.kind is ActionKind.MOVE_EVENT
    assert "sửa tay" in restore.reason
    assert len(seen.calendar.drifted) == 1
    report = province.apply()
    assert report.status == "done"
    assert _quiz_open_event(province, COURSES[1]).timestart == pushed
    assert province.preview().plan.writes == 0


def test_a_date_moved_by_hand_is_kept_when_configured(database_url: str, tmp_path: Path) -> None:
    province = Province(database_url, tmp_path, calendar_drift="keep")
    _store_province(province.ctx)
    try:
        _pushed(province)
        event = _quiz_open_event(province, COURSES[1])
        moved = _move_by_hand(province, event, -1)
        seen = province.preview()
        assert seen.plan.writes == 0
        (kept,) = [c for c in seen.plan.conflicts if c.code == DRIFT_KEPT]
        assert "giữ nguyên" in kept.message
        assert "Lịch: 1 ngày bị sửa tay" in service.calendar_status(seen.calendar)
        province.apply()
        assert _quiz_open_event(province, COURSES[1]).timestart == moved
    finally:
        province.ctx.close()


def test_waiting_for_moodle_turns_into_an_error_after_the_timeout(province: Province) -> None:
    province.apply()
    province.clock = CLOCK + dt.timedelta(minutes=30)
    waiting = province.apply()
    assert waiting.status == "done"
    codes = {c.key: c.code for c in waiting.preview.plan.conflicts if c.key in COURSES}
    assert codes == dict.fromkeys(COURSES, WAITING)

    province.clock = CLOCK + dt.timedelta(minutes=61)
    late = province.apply()
    assert late.status == "done_with_errors"
    assert set(late.preview.calendar.timed_out) == set(COURSES)
    (timeout, *_) = [c for c in late.preview.plan.conflicts if c.code == WAIT_TIMEOUT]
    assert "cron" in timeout.message
    with session_scope(province.ctx.engine()) as session:
        from store.models import SyncRun

        run = session.get(SyncRun, late.run_id)
        assert run is not None
        assert "cron của Moodle phải chạy" in run.message
        assert any(e["reason"] == WAIT_TIMEOUT for e in run.errors)

    # Once the cron has run, the push goes through.
    province.sandbox.run_background_tasks()
    assert province.apply().status == "done"
    assert province.preview().plan.writes == 0


def test_a_move_the_template_forbids_is_reported(database_url: str, tmp_path: Path) -> None:
    province = Province(database_url, tmp_path)
    province.ctx.sandbox_options = SandboxOptions(enrolled_users_include_groups=True)
    _store_province(province.ctx)
    try:
        province.apply()
        province.sandbox.run_background_tasks()
        report = province.apply()
        failures = {o.action.data["name"]: o.error for o in report.result.failures()}
        # The recorded template lets submissions in from its own start (2026): the due date
        # cannot go back to 2023 through the web services (as on the real Moodle 4.5).
        assert set(failures) == {"Final product is due"}
        assert "allow submissions from date" in failures["Final product is due"]
        assert "bdtx lms check" in failures["Final product is due"]
        assert report.status == "done_with_errors"
        # Every other date moved.
        moved = {o.action.data["name"] for o in report.result.outcomes if o.status == "done"}
        assert "Bài kiểm tra nhanh (Quiz) opens" in moved
        assert "Phiếu phản hồi (Feedback) closes" in moved
    finally:
        province.ctx.close()


def test_a_meeting_moved_to_another_day_moves_its_event_a_new_link_asks_a_person(
    province: Province,
) -> None:
    _pushed(province)
    (before,) = [
        e for e in province.group_events(COURSES[1]) if "meet.example/all" in e.description
    ]
    first_start = before.timestart
    # The run's default meeting moves from day 8 to day 9, same time.
    slot = RUN.virtual_class[0].model_copy(update={"start": dt.datetime(2023, 9, 12, 7, 30)})
    moved_run = RUN.model_copy(update={"virtual_class": [slot, RUN.virtual_class[1]]})
    province.ctx.settings = province.ctx.settings.model_copy(update={"runs": [moved_run]})
    seen = province.preview()
    moves = seen.plan.of_kind(ActionKind.MOVE_EVENT)
    assert {a.key.split("|vc|")[1] for a in moves} == {
        "M4-2023/THCS/GV/Toán/01|1",
        "M4-2023/THCS/GV/Văn/01|1",
    }
    assert province.apply().status == "done"
    (after,) = [e for e in province.group_events(COURSES[1]) if e.id == before.id]
    assert after.timestart == first_start + DAY  # the same event, a day later
    assert province.preview().plan.writes == 0

    # A new link cannot be written into the event: a person deletes it, the sync never does.
    relinked = slot.model_copy(update={"meeting_url": "https://meet.example/new"})
    province.ctx.settings = province.ctx.settings.model_copy(
        update={
            "runs": [RUN.model_copy(update={"virtual_class": [relinked, RUN.virtual_class[1]]})]
        }
    )
    seen = province.preview()
    assert seen.plan.writes == 0
    changed = [c for c in seen.plan.conflicts if c.code == "calendar_slot_changed"]
    assert len(changed) == 2
    assert all("https://meet.example/new" in c.message for c in changed)
    events_before = len(province.sandbox.site.events)
    province.apply()
    assert len(province.sandbox.site.events) == events_before
