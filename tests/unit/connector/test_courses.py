"""``connector.courses`` against recorded answers and an atomic test server for course creation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connector.courses import (
    CREATE_CATEGORIES,
    CREATE_COURSES,
    DUPLICATE_COURSE,
    GET_CATEGORIES,
    GET_CONTENTS,
    GET_COURSE_MODULE,
    GET_COURSES_BY_FIELD,
    IMPORT_COURSE,
    UPDATE_COURSES,
    Courses,
    CourseUpdate,
    CreatedCategory,
    CreatedCourse,
    FormatOption,
    NewCategory,
    NewCourse,
)
from connector.errors import (
    LmsAlreadyExists,
    LmsInvalidParameter,
    LmsMissingCapability,
    LmsNotFound,
    LmsTruncationError,
)
from tests.contract import recorded

from .recorded_replies import (
    Form,
    RecordedReplies,
    answer,
    recorded_form,
    recorded_rows,
    serve,
    unflatten,
)

COURSES_CREATED = "core_course_create_courses__ok_batch"


def new_course(row: dict[str, Any]) -> NewCourse:
    fields = dict(row)
    options = tuple(FormatOption(**option) for option in fields.pop("courseformatoptions", []))
    for flag in ("showgrades", "visible", "enablecompletion"):
        if flag in fields:
            fields[flag] = bool(fields[flag])
    return NewCourse(**fields, courseformatoptions=options)


def recorded_courses(case: str) -> list[NewCourse]:
    return [new_course(row) for row in recorded(case)["params"]["courses"]]


# --- categories ---------------------------------------------------------------------


def test_create_categories_sends_the_recorded_form() -> None:
    case = "core_course_create_categories__ok_parent"
    replies, client = serve(case)
    category = NewCategory(
        name="Bình Phước 2026",
        parent=0,
        idnumber="BP2026",
        description="Chương trình 2026",
        descriptionformat=1,
    )

    outcome = Courses(client).create_categories([category])

    assert replies.sent(CREATE_CATEGORIES) == [recorded_form(case)]
    assert outcome.done == [(category, CreatedCategory(id=3, name="Bình Phước 2026"))]


def test_child_categories_are_created_in_one_call() -> None:
    case = "core_course_create_categories__ok_children_batch"
    replies, client = serve(case)
    children = [NewCategory(**row) for row in recorded(case)["params"]["categories"]]

    outcome = Courses(client).create_categories(children)

    assert replies.sent(CREATE_CATEGORIES) == [recorded_form(case)]
    assert [(row.idnumber, created.id) for row, created in outcome.done] == [
        ("BP2026-D1", 4),
        ("BP2026-D2", 5),
    ]


def test_a_taken_category_idnumber_fails_its_row() -> None:
    _, client = serve("core_course_create_categories__error_duplicate_idnumber")

    outcome = Courses(client).create_categories([NewCategory("Dup", idnumber="BP2026")])

    [(_, error)] = outcome.failed
    assert isinstance(error, LmsAlreadyExists)
    assert error.message == "categories[0] 'Dup': ID number is already used for another category"


def test_get_categories_sends_criteria_and_parses() -> None:
    case = "core_course_get_categories__ok_by_idnumber"
    replies, client = serve(case)

    [category] = Courses(client).get_categories({"idnumber": "BP2026-D1"}, addsubcategories=False)

    assert replies.sent(GET_CATEGORIES) == [recorded_form(case)]
    assert (category.id, category.parent, category.path) == (4, 3, "/3/4")


def test_get_categories_with_subcategories() -> None:
    _, client = serve("core_course_get_categories__ok_with_subcategories")
    categories = Courses(client).get_categories({"id": 3})
    assert [category.idnumber for category in categories] == ["BP2026", "BP2026-D1", "BP2026-D2"]


# --- courses ------------------------------------------------------------------------


def test_create_courses_sends_the_recorded_form() -> None:
    case = "core_course_create_courses__ok"
    replies, client = serve(case)
    courses = recorded_courses(case)

    outcome = Courses(client).create_courses(courses)

    assert replies.sent(CREATE_COURSES) == [recorded_form(case)]
    assert outcome.done == [(courses[0], CreatedCourse(id=3, shortname="K26-A"))]


def test_a_taken_shortname_fails_its_row_and_the_rest_is_created() -> None:
    case = "core_course_create_courses__error_batch_one_bad_row"
    created: list[str] = []

    def atomic_create(form: Form) -> httpx.Response:
        courses = unflatten(form)["courses"]
        if any(course["shortname"] == "K26-A" for course in courses):
            return answer(recorded(case)["response"])
        created.extend(course["shortname"] for course in courses)
        return recorded_rows(
            COURSES_CREATED,
            [{"id": 10 + n, "shortname": c["shortname"]} for n, c in enumerate(courses)],
        )

    replies = RecordedReplies({CREATE_COURSES: atomic_create})
    courses = recorded_courses(case)

    outcome = Courses(replies.client()).create_courses(courses)

    assert replies.sent(CREATE_COURSES)[0] == recorded_form(case)
    assert created == ["K26-OK1"]
    assert [row.shortname for row, _ in outcome.done] == ["K26-OK1"]
    [(row, error)] = outcome.failed
    assert row is courses[1]
    assert isinstance(error, LmsAlreadyExists)
    assert error.message == (
        "courses[1] 'K26-A': Short name is already used for another course (K26-A)"
    )
    assert outcome.calls == 3


def test_an_unknown_category_fails_its_row_as_not_found() -> None:
    case = "core_course_create_courses__error_nonexistent_category"
    _, client = serve(case)
    outcome = Courses(client).create_courses(recorded_courses(case))
    assert [type(error) for _, error in outcome.failed] == [LmsNotFound]


def test_duplicates_within_the_request_are_refused_before_sending() -> None:
    replies = RecordedReplies(
        {CREATE_COURSES: lambda form: recorded_rows(COURSES_CREATED, [{"id": 9, "shortname": "A"}])}
    )
    courses = [
        NewCourse("Course A", "A", categoryid=4, idnumber="X"),
        NewCourse("Course A again", "A", categoryid=4),
        NewCourse("Course B", "B", categoryid=4, idnumber="X"),
        NewCourse("", "C", categoryid=4),
    ]

    outcome = Courses(replies.client()).create_courses(courses)

    assert [row.shortname for row, _ in outcome.done] == ["A"]
    messages = [error.message for _, error in outcome.failed]
    assert messages == [
        "courses[1] 'A': shortname also in courses[0]",
        "courses[2] 'B': idnumber also in courses[0]",
        "courses[3] 'C': full name is empty",
    ]
    assert all(isinstance(error, LmsInvalidParameter) for _, error in outcome.failed)
    assert len(replies.requests) == 1


def test_update_courses_returns_warnings_per_row() -> None:
    case = "core_course_update_courses__mixed_batch_good_bad_good"
    replies, client = serve(case)
    updates = [
        CourseUpdate(id=4, summary="B cập nhật", summaryformat=1),
        CourseUpdate(id=999999, fullname="x"),
        CourseUpdate(id=5, fullname="K26 khóa rỗng (đã sửa)"),
    ]

    outcome = Courses(client).update_courses(updates)

    assert replies.sent(UPDATE_COURSES) == [recorded_form(case)]
    assert [[w.warningcode for w in warnings] for _, warnings in outcome.done] == [
        [],
        ["invalidrecord"],
        [],
    ]


def test_shifting_a_start_date_sends_only_that_field() -> None:
    case = "core_course_update_courses__ok_shift_startdate_by_7_days"
    replies, client = serve(case)
    outcome = Courses(client).update_courses([CourseUpdate(id=3, startdate=1797786000)])
    assert replies.sent(UPDATE_COURSES) == [recorded_form(case)]
    assert outcome.done[0][1] == ()


def test_courses_by_idnumber_are_parsed() -> None:
    case = "core_course_get_courses_by_field__ok_by_idnumber"
    replies, client = serve(case)

    [course] = Courses(client).get_courses_by_field("idnumber", "K26-A").courses

    assert replies.sent(GET_COURSES_BY_FIELD) == [recorded_form(case)]
    assert (course.id, course.shortname, course.categoryid) == (3, "K26-A", 4)
    assert (course.startdate, course.enddate) == (1797181200, 1800205200)
    assert course.visible is True
    assert course.enablecompletion is True
    assert course.enrollmentmethods == ("manual",)


def test_courses_by_ids_join_the_ids() -> None:
    case = "core_course_get_courses_by_field__ids_after_mixed_update"
    replies, client = serve(case)

    found = Courses(client).get_courses_by_field("ids", [4, 5])

    assert replies.sent(GET_COURSES_BY_FIELD) == [recorded_form(case)]
    assert [course.id for course in found.courses] == [4, 5]


def test_no_ids_no_call_and_unknown_values_give_nothing() -> None:
    replies = RecordedReplies(
        {GET_COURSES_BY_FIELD: "core_course_get_courses_by_field__ok_unknown_value"}
    )
    courses = Courses(replies.client())
    assert courses.get_courses_by_field("ids", []).courses == ()
    assert replies.requests == []
    assert courses.get_courses_by_field("shortname", "NO-SUCH").courses == ()


def test_duplicate_course_sends_the_recorded_form() -> None:
    case = "core_course_duplicate_course__ok"
    replies, client = serve(case)

    created = Courses(client).duplicate_course(
        2,
        "K26-DUP Kỹ năng số (bản sao)",
        "K26-DUP",
        4,
        options={"users": 0, "blocks": 1, "activities": 1},
    )

    assert replies.sent(DUPLICATE_COURSE) == [recorded_form(case)]
    assert created == CreatedCourse(id=7, shortname="K26-DUP")


def test_duplicating_onto_a_taken_shortname_raises() -> None:
    _, client = serve("core_course_duplicate_course__error_duplicate_shortname")
    with pytest.raises(LmsAlreadyExists):
        Courses(client).duplicate_course(2, "x", "K26-A", 4)


def test_import_course_sends_the_recorded_form() -> None:
    case = "core_course_import_course__ok"
    replies, client = serve(case)
    Courses(client).import_course(2, 3, options={"activities": 1, "blocks": 1, "filters": 1})
    assert replies.sent(IMPORT_COURSE) == [recorded_form(case)]


def test_contents_give_sections_modules_and_dates() -> None:
    case = "core_course_get_contents__ok_template"
    replies, client = serve(case)

    sections = Courses(client).get_contents(2)

    assert replies.sent(GET_CONTENTS) == [recorded_form(case)]
    assert [section.section for section in sections] == [
        section["section"] for section in recorded(case)["response"]
    ]
    modules = {module.modname: module for section in sections for module in section.modules}
    quiz = modules["quiz"]
    assert {date.dataid: date.timestamp for date in quiz.dates} == {
        "timeopen": 1795366800,
        "timeclose": 1795971600,
    }
    assert quiz.completiondata is not None
    assert quiz.completiondata.isautomatic is True


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("core_course_get_contents__error_nonexistent_course", LmsNotFound),
        ("core_course_get_contents__error_not_enrolled_no_capability", LmsMissingCapability),
    ],
)
def test_contents_errors_map_to_what_the_caller_does_next(
    case: str, error: type[Exception]
) -> None:
    _, client = serve(case)
    with pytest.raises(error):
        Courses(client).get_contents(recorded(case)["params"]["courseid"])


def test_course_module_gives_grade_and_pass_grade() -> None:
    case = "core_course_get_course_module__ok_assign"
    replies, client = serve(case)

    module = Courses(client).get_course_module(18)

    assert replies.sent(GET_COURSE_MODULE) == [recorded_form(case)]
    assert (module.modname, module.instance, module.course) == ("assign", 3, 3)
    assert (module.grade, module.gradepass) == (100.0, 50.0)
    assert module.idnumber == "FINAL"


def test_unknown_course_module_is_not_found() -> None:
    _, client = serve("core_course_get_course_module__error_nonexistent")
    with pytest.raises(LmsNotFound):
        Courses(client).get_course_module(999999)


def test_courses_dropped_by_max_input_vars_are_reported_not_created() -> None:
    def create(form: Form) -> httpx.Response:
        courses = unflatten(form)["courses"]
        return recorded_rows(
            COURSES_CREATED,
            [{"id": 10 + n, "shortname": c["shortname"]} for n, c in enumerate(courses)],
        )

    replies = RecordedReplies({CREATE_COURSES: create}, max_input_vars=10)  # 3 + 7 fields survive
    client = replies.client(field_budget=100)
    courses = [NewCourse(f"Course {n}", f"C{n}", categoryid=4) for n in range(4)]  # 3 fields

    outcome = Courses(client).create_courses(courses)

    assert [row.shortname for row, _ in outcome.done] == ["C0", "C1", "C2"]  # C2 cut short
    [(row, error)] = outcome.failed
    assert row.shortname == "C3"
    assert isinstance(error, LmsTruncationError)
    assert error.message.startswith("course 'C3': not created")
    assert client.field_budget == 3 + 2 * 3 + 1
