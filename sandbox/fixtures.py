"""Ready-made sites: the base site with its template course, and the recorded site.

:func:`build_base_site` is what every :class:`~sandbox.lms.SandboxLms` starts from: the
guest, admin and the two service accounts (``syncbot`` with every capability,
``limitedbot`` with none), the default category and, unless switched off, a template
course ``TPL-MODULE`` built like the recorded one (days from its start ``D0``):

* section 1: page "Online lesson" (complete on view) and a checklist page (manual);
* section 2 (available from D0+7): quiz, grade 10, pass 5, open D0+7, close D0+14;
* section 3: assignment "Final product", grade 100, pass 50, submissions from D0,
  due D0+16, cut-off D0+20, grading due D0+26;
* section 4: feedback, open D0+21, close D0+28;
* course completion: all five activities; or, with the option
  ``module_completed_activity``, a hidden page "Hoàn thành mô-đun" (manual completion,
  ID number ``module_completed``) in section 4 that alone is the course's criterion.

:func:`seed_recording_site` adds, through the web-service functions themselves, the
site the contract was recorded on, with the same ids (see ``_meta__environment.json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TEMPLATE_D0", "add_template_course", "build_base_site", "seed_recording_site"]

from sandbox import building
from sandbox.options import TEMPLATE_D0, SandboxOptions
from sandbox.state import Activity, Category, Course, Site, User

if TYPE_CHECKING:
    from sandbox.lms import SandboxLms

DAY = 86400
TEMPLATE_SHORTNAME = "TPL-MODULE"
SECTION_NAMES = {
    1: "Tuần 1: Bài học",
    2: "Tuần 2: Kiểm tra",
    3: "Tuần 3: Sản phẩm cuối",
    4: "Tuần 4: Phản hồi",
}


def _base_users(site: Site, now: int) -> None:
    accounts = [
        ("guest", "Guest user", " ", "root@localhost", "manual"),
        ("admin", "Admin", "User", "admin@example.edu.vn", "manual"),
        ("syncbot", "Sync", "Bot", "syncbot@example.edu.vn", "webservice"),
        ("limitedbot", "Limited", "Bot", "limitedbot@example.edu.vn", "webservice"),
    ]
    for username, first, last, email, auth in accounts:
        site.add_user(
            User(
                id=site.ids.take("user"),
                username=username,
                firstname=first,
                lastname=last,
                email=email,
                auth=auth,
                timecreated=now,
                timemodified=now,
            )
        )


def build_base_site(options: SandboxOptions, *, now: int) -> Site:
    """A fresh site: base accounts, the front page course, categories and the template."""
    site = Site(profile_fields=list(options.profile_fields))
    _base_users(site, now)
    site.add_category(
        Category(
            id=site.ids.take("course_categories"), name="Category 1", sortorder=10000, path="/1"
        )
    )
    front = Course(
        id=site.ids.take("course"),
        category=0,
        fullname="Sandbox LMS",
        shortname="sandbox",
        newsitems=3,
        enablecompletion=0,
        manual_enrol=False,
        timecreated=now,
        timemodified=now,
    )
    building.new_course(site, front, 0, {})
    if options.with_template_course:
        template = add_template_course(
            site,
            now=now,
            d0=options.template_d0,
            module_completed=options.module_completed_activity,
        )
        if options.template_ready:
            make_template_ready(site, template)
    return site


def _activity(
    site: Site, course: Course, section: int, modname: str, name: str, **fields: Any
) -> Activity:
    now = int(fields.pop("now"))
    activity = Activity(
        cmid=site.ids.take("course_modules"),
        course=course.id,
        section=building.section_by_number(site, course, section).id,
        modname=modname,
        instance=site.ids.take(modname),
        name=name,
        added=now,
        timemodified=now,
        contextid=site.ids.take("context"),
        **fields,
    )
    building.number_items(site, activity)
    return site.add_activity(activity)


def add_template_course(
    site: Site, *, now: int, d0: int = TEMPLATE_D0, module_completed: bool = False
) -> Course:
    """The template course ``TPL-MODULE`` in a ``Templates`` category (see module doc)."""
    category = site.add_category(
        Category(
            id=site.ids.take("course_categories"),
            name="Templates",
            sortorder=20000,
            path="",
            timemodified=now,
        )
    )
    category.path = f"/{category.id}"
    course = Course(
        id=site.ids.take("course"),
        category=category.id,
        fullname="Module template: Kỹ năng số cơ bản",
        shortname=TEMPLATE_SHORTNAME,
        idnumber=TEMPLATE_SHORTNAME,
        summary="Template course used for contract tests",
        newsitems=0,
        startdate=d0,
        enddate=d0 + 35 * DAY,
        showactivitydates=False,
        timecreated=now,
        timemodified=now,
        cacherev=now,
    )
    building.new_course(site, course, 4, SECTION_NAMES)
    opens = d0 + 7 * DAY
    site.course_sections(course)[
        2
    ].availability = f'{{"op":"&","c":[{{"type":"date","d":">=","t":{opens}}}],"showc":[true]}}'
    _template_activities(site, course, d0, now)
    if module_completed:
        _module_completed_activity(site, course, now)
    for activity in site.course_activities(course):
        building.add_activity_events(site, activity, userid=2, now=now)
    # The recorded template has no grading-due event: its id (4) was used, the row is gone
    # (core_calendar_get_calendar_events__dates_template lists events 1-3, 5 and 6).
    for event in [e for e in site.events.values() if e.courseid == course.id]:
        if event.eventtype == "gradingdue":
            del site.events[event.id]
    return course


def make_template_ready(site: Site, template: Course) -> None:
    """What the IT team changes in the template so that every date can be moved: the
    assignment's cut-off and "allow submissions from" cleared, the date restriction of
    section 2 removed (the quiz's own opening date does that job)."""
    for activity in site.course_activities(template):
        if activity.modname == "assign":
            activity.settings["cutoffdate"] = 0
            activity.settings["allowsubmissionsfromdate"] = 0
    for section in site.course_sections(template):
        section.availability = None


def _template_activities(site: Site, course: Course, d0: int, now: int) -> None:
    _activity(
        site,
        course,
        1,
        "page",
        "Bài học trực tuyến (Online lesson)",
        intro="Online lesson",
        completion=2,
        completionview=True,
        now=now,
        settings={"content": "<p>Nội dung bài học</p>"},
    )
    _activity(
        site,
        course,
        1,
        "page",
        "Checklist: đã đọc tài liệu",
        intro="Checklist",
        completion=1,
        now=now,
        settings={"content": "<p>Checklist</p>"},
    )
    _activity(
        site,
        course,
        2,
        "quiz",
        "Bài kiểm tra nhanh (Quiz)",
        idnumber="quiz_auto",
        intro="Test quiz 1",
        completion=2,
        completionusegrade=True,
        completionpassgrade=True,
        now=now,
        settings={
            "timeopen": d0 + 7 * DAY,
            "timeclose": d0 + 14 * DAY,
            "grade": 10,
            "gradepass": 5,
            "sumgrades": 1,
            "attempts": 3,
            "questions": [{"slot": 1, "type": "truefalse", "answer": "1"}],
        },
    )
    _activity(
        site,
        course,
        3,
        "assign",
        "Final product",
        idnumber="final_product",
        intro="Nộp sản phẩm cuối khóa.",
        completion=2,
        completionsubmit=True,
        completionusegrade=True,
        now=now,
        settings={
            "allowsubmissionsfromdate": d0,
            "duedate": d0 + 16 * DAY,
            "cutoffdate": d0 + 20 * DAY,
            "gradingduedate": d0 + 26 * DAY,
            "grade": 100,
            "gradepass": 50,
        },
    )
    _activity(
        site,
        course,
        4,
        "feedback",
        "Phiếu phản hồi (Feedback)",
        idnumber="survey",
        intro="Test feedback 1",
        completion=2,
        completionsubmit=True,
        now=now,
        settings={
            "timeopen": d0 + 21 * DAY,
            "timeclose": d0 + 28 * DAY,
            "page_after_submit": "This is page after submit",
            "anonymous": 2,
            "items": [
                {
                    "name": "Mức độ hài lòng",
                    "label": "satisfaction",
                    "typ": "multichoice",
                    "presentation": "r>>>>>Rất hài lòng|Hài lòng|Bình thường|Không hài lòng",
                    "required": True,
                }
            ],
        },
    )


def _module_completed_activity(site: Site, course: Course, now: int) -> None:
    """What the write-back marks: hidden from learners, manual completion (nobody but a
    teacher's override completes it), the course's only completion criterion."""
    for activity in site.course_activities(course):
        activity.course_criterion = False
    _activity(
        site,
        course,
        4,
        "page",
        "Hoàn thành mô-đun",
        idnumber="module_completed",
        intro="Được đánh dấu khi học viên hoàn thành mô-đun (đạt tự động và đạt đánh giá).",
        completion=1,
        visible=0,
        now=now,
        settings={"content": "<p>Hoàn thành mô-đun</p>"},
    )


# ---- the recorded site ---------------------------------------------------------------------

STUDENTS = (
    ("nhung.nth", "Nhung", "Nguyễn Thị Hồng"),
    ("an.tv", "An", "Trần Văn"),
    ("binh.lt", "Bình", "Lê Thanh"),
    ("chau.pm", "Châu", "Phạm Minh"),
    ("dung.hq", "Dũng", "Hoàng Quốc"),
    ("giang.vth", "Giang", "Vũ Thị Hương"),
    ("hai.dd", "Hải", "Đặng Đức"),
    ("khanh.bn", "Khánh", "Bùi Ngọc"),
    ("linh.dtm", "Linh", "Đỗ Thị Mai"),
    ("minh.nq", "Minh", "Ngô Quang"),
    ("ngoc.ltb", "Ngọc", "Lý Thị Bích"),
    ("phuc.hv", "Phúc", "Hồ Văn"),
)
TEACHERS = (("thao.gv", "Thảo", "Nguyễn Phương"), ("tuan.gv", "Tuấn", "Trịnh Anh"))
PASSWORD = "Hv#2026abcd"


def _person(
    index: int, username: str, first: str, last: str, prefix: str, classcode: str
) -> dict[str, Any]:
    fields = [{"type": "school", "value": "THPT Đồng Xoài"}]
    if prefix == "HV":
        fields += [
            {"type": "cccd", "value": f"0702060000{index:02d}"},
            {"type": "classcode", "value": classcode},
        ]
    else:
        fields = [{"type": "school", "value": "Trung tâm GDTX Bình Phước"}]
    return {
        "username": username,
        "password": PASSWORD,
        "firstname": first,
        "lastname": last,
        "email": f"{username}@example.edu.vn",
        "idnumber": f"{prefix}2026-{index:04d}",
        "lang": "en",
        "timezone": "Asia/Ho_Chi_Minh",
        "city": "Đồng Xoài",
        "country": "VN",
        "customfields": fields,
    }


def student_rows() -> list[dict[str, Any]]:
    """The recorded ``core_user_create_users`` rows of the 12 students of K26-A."""
    return [_person(i, u, f, last, "HV", "K26-A") for i, (u, f, last) in enumerate(STUDENTS, 1)]


def _course(fullname: str, shortname: str, categoryid: int, start: int) -> dict[str, Any]:
    return {
        "fullname": fullname,
        "shortname": shortname,
        "categoryid": categoryid,
        "idnumber": shortname,
        "summary": f"Khóa học {fullname}",
        "summaryformat": 1,
        "format": "topics",
        "showgrades": 1,
        "startdate": start,
        "enddate": start + 35 * DAY,
        "visible": 1,
        "enablecompletion": 1,
        "courseformatoptions": [{"name": "numsections", "value": 4}],
    }


def _as_recorded_template(site: Site) -> None:
    """The recorded site's template predates the activity ID numbers and the survey
    question of today's TPL-MODULE (tools/real-moodle/template_course.php)."""
    template = site.courses[site.course_by_shortname[TEMPLATE_SHORTNAME]]
    old_idnumbers = {"quiz_auto": "QUIZ1", "final_product": "FINAL", "survey": ""}
    for activity in site.activities.values():
        if activity.course != template.id:
            continue
        activity.idnumber = old_idnumbers.get(activity.idnumber, activity.idnumber)
        if activity.modname == "feedback":
            activity.settings.pop("anonymous", None)
            for item in activity.settings["items"]:
                item.update(label="q1", presentation="r>>>>>Tốt|Trung bình|Kém", required=False)


def seed_recording_site(lms: SandboxLms) -> None:
    """Rebuild the recorded site on a fresh sandbox LMS, with the recorded ids.

    Categories 3 (BP2026), 4 (D1), 5 (D2); courses 3 (K26-A), 4 (K26-B), 5 (K26-EMPTY),
    7 (K26-DUP, a duplicate of the template); K26-A and K26-B got the template's
    activities by import (K26-B replacing its content); students 5..16, teachers 17
    (editing) and 18 (non-editing, plus the editing-teacher role) in K26-A; groups 1
    and 2 of K26-A with the students split between them (17 in group 1); cohort
    ``K2026-BP``; participant tokens for ``nhung.nth`` and ``thao.gv``.
    """
    _as_recorded_template(lms.site)
    d1 = TEMPLATE_D0 + 4 * 7 * DAY
    lms.call(
        "core_course_create_categories",
        {
            "categories": [
                {
                    "name": "Bình Phước 2026",
                    "parent": 0,
                    "idnumber": "BP2026",
                    "description": "Chương trình 2026",
                    "descriptionformat": 1,
                }
            ]
        },
    )
    lms.call(
        "core_course_create_categories",
        {
            "categories": [
                {"name": "Đợt 1", "parent": 3, "idnumber": "BP2026-D1"},
                {"name": "Đợt 2", "parent": 3, "idnumber": "BP2026-D2"},
            ]
        },
    )
    lms.call(
        "core_course_create_courses",
        {"courses": [_course("K26-A Kỹ năng số (Đợt 1)", "K26-A", 4, d1)]},
    )
    empty = _course("K26 khóa rỗng", "K26-EMPTY", 5, d1 + 5 * 7 * DAY)
    lms.call(
        "core_course_create_courses",
        {"courses": [_course("K26-B Kỹ năng số (Đợt 2)", "K26-B", 5, d1 + 5 * 7 * DAY), empty]},
    )
    site = lms.site
    site.ids.skip_to("course", 7)
    site.ids.skip_to("course_modules", 10)
    lms.call(
        "core_course_duplicate_course",
        {
            "courseid": 2,
            "fullname": "K26-DUP Kỹ năng số (bản sao)",
            "shortname": "K26-DUP",
            "categoryid": 4,
            "visible": 1,
            "options": [{"name": "users", "value": 0}, {"name": "activities", "value": 1}],
        },
    )
    lms.call("core_course_import_course", {"importfrom": 2, "importto": 3, "deletecontent": 0})
    lms.call("core_course_import_course", {"importfrom": 2, "importto": 4, "deletecontent": 1})
    lms.call("core_user_create_users", {"users": student_rows()})
    teachers = [_person(i, u, f, last, "GV", "") for i, (u, f, last) in enumerate(TEACHERS, 1)]
    lms.call("core_user_create_users", {"users": teachers})
    enrolments = [{"roleid": 5, "userid": uid, "courseid": 3} for uid in range(5, 17)]
    enrolments += [
        {"roleid": 3, "userid": 17, "courseid": 3},
        {"roleid": 4, "userid": 18, "courseid": 3},
    ]
    lms.call("enrol_manual_enrol_users", {"enrolments": enrolments})
    lms.call(
        "core_role_assign_roles",
        {"assignments": [{"roleid": 3, "userid": 18, "contextlevel": "course", "instanceid": 3}]},
    )
    lms.call(
        "core_group_create_groups",
        {
            "groups": [
                {
                    "courseid": 3,
                    "name": "Nhóm 1 - Sáng",
                    "description": "Lớp sáng",
                    "descriptionformat": 1,
                    "idnumber": "K26-A-G1",
                },
                {
                    "courseid": 3,
                    "name": "Nhóm 2 - Chiều",
                    "description": "",
                    "idnumber": "K26-A-G2",
                },
            ]
        },
    )
    members = [{"groupid": 1, "userid": uid} for uid in (*range(5, 11), 17)]
    members += [{"groupid": 2, "userid": uid} for uid in range(11, 17)]
    lms.call("core_group_add_group_members", {"members": members})
    lms.call(
        "core_cohort_create_cohorts",
        {
            "cohorts": [
                {
                    "categorytype": {"type": "system", "value": ""},
                    "name": "Khóa 2026 - Bình Phước",
                    "idnumber": "K2026-BP",
                    "description": "Cohort K2026",
                    "visible": 1,
                }
            ]
        },
    )
    lms.issue_token("nhung.nth")
    lms.issue_token("thao.gv")
