"""Course categories, courses and their contents: ``core_course_*``.

Creating courses is atomic per request in Moodle (one taken shortname fails the batch
and creates nothing, as recorded); :meth:`Courses.create_courses` bisects such a batch so
each bad row gets its own error. Updating courses is not atomic: each row is applied on
its own and a refused row comes back as a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connector.batching import BatchOutcome
from connector.client import MoodleClient
from connector.common import (
    MoodleModel,
    WsWarning,
    created_rows,
    parse,
    parse_list,
    refused,
    send_rows,
    settle_dropped,
    to_params,
    warnings_by_id,
)
from connector.errors import LmsInvalidParameter
from connector.validation import name_problem

CREATE_CATEGORIES = "core_course_create_categories"
GET_CATEGORIES = "core_course_get_categories"
CREATE_COURSES = "core_course_create_courses"
UPDATE_COURSES = "core_course_update_courses"
GET_COURSES_BY_FIELD = "core_course_get_courses_by_field"
DUPLICATE_COURSE = "core_course_duplicate_course"
IMPORT_COURSE = "core_course_import_course"
GET_CONTENTS = "core_course_get_contents"
GET_COURSE_MODULE = "core_course_get_course_module"

CourseField = Literal["id", "ids", "shortname", "idnumber", "category", "sectionid"]
CATEGORY_KEYS = frozenset(
    {"id", "ids", "name", "parent", "idnumber", "sortorder", "visible", "theme"}
)
FULLNAME_MAX = 254
SHORTNAME_MAX = 255


# --- inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCategory:
    """One category for ``core_course_create_categories`` (``parent=0``: top level)."""

    name: str
    parent: int = 0
    idnumber: str | None = None
    description: str | None = None
    descriptionformat: int | None = None
    theme: str | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params


@dataclass(frozen=True)
class FormatOption:
    """A course format option, such as ``numsections``."""

    name: str
    value: str | int


@dataclass(frozen=True)
class CourseCustomField:
    """A course custom field value (by the field's shortname)."""

    shortname: str
    value: str


@dataclass(frozen=True)
class NewCourse:
    """One course for ``core_course_create_courses``; ``None`` fields take site defaults."""

    fullname: str
    shortname: str
    categoryid: int
    idnumber: str | None = None
    summary: str | None = None
    summaryformat: int | None = None
    format: str | None = None
    showgrades: bool | None = None
    newsitems: int | None = None
    startdate: int | None = None
    enddate: int | None = None
    maxbytes: int | None = None
    showreports: bool | None = None
    visible: bool | None = None
    groupmode: int | None = None
    groupmodeforce: bool | None = None
    defaultgroupingid: int | None = None
    enablecompletion: bool | None = None
    completionnotify: bool | None = None
    lang: str | None = None
    forcetheme: str | None = None
    courseformatoptions: tuple[FormatOption, ...] = ()
    customfields: tuple[CourseCustomField, ...] = ()

    def params(self) -> dict[str, Any]:
        return _without_empty(to_params(self))


@dataclass(frozen=True)
class CourseUpdate:
    """Changes to one course for ``core_course_update_courses``; ``None`` fields are kept."""

    id: int
    fullname: str | None = None
    shortname: str | None = None
    categoryid: int | None = None
    idnumber: str | None = None
    summary: str | None = None
    summaryformat: int | None = None
    format: str | None = None
    showgrades: bool | None = None
    newsitems: int | None = None
    startdate: int | None = None
    enddate: int | None = None
    maxbytes: int | None = None
    showreports: bool | None = None
    visible: bool | None = None
    groupmode: int | None = None
    groupmodeforce: bool | None = None
    defaultgroupingid: int | None = None
    enablecompletion: bool | None = None
    completionnotify: bool | None = None
    lang: str | None = None
    forcetheme: str | None = None
    courseformatoptions: tuple[FormatOption, ...] = ()
    customfields: tuple[CourseCustomField, ...] = ()

    def params(self) -> dict[str, Any]:
        return _without_empty(to_params(self))


def _without_empty(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value != []}


# --- outputs ------------------------------------------------------------------------


class CreatedCategory(MoodleModel):
    id: int
    name: str


class Category(MoodleModel):
    """A course category as ``core_course_get_categories`` returns it."""

    id: int
    name: str
    idnumber: str | None = None
    description: str = ""
    parent: int = 0
    sortorder: int | None = None
    coursecount: int | None = None
    visible: bool | None = None
    depth: int | None = None
    path: str = ""
    timemodified: int | None = None


class CreatedCourse(MoodleModel):
    id: int
    shortname: str


class FormatOptionValue(MoodleModel):
    name: str
    value: str | int | None = None


class CourseInfo(MoodleModel):
    """A course as ``core_course_get_courses_by_field`` returns it."""

    id: int
    fullname: str
    shortname: str
    displayname: str = ""
    categoryid: int | None = None
    categoryname: str | None = None
    idnumber: str | None = None
    summary: str = ""
    summaryformat: int | None = None
    format: str | None = None
    startdate: int = 0
    enddate: int = 0
    visible: bool | None = None
    groupmode: int | None = None
    groupmodeforce: bool | None = None
    enablecompletion: bool | None = None
    showactivitydates: bool | None = None
    lang: str = ""
    timecreated: int | None = None
    timemodified: int | None = None
    enrollmentmethods: tuple[str, ...] = ()
    courseformatoptions: tuple[FormatOptionValue, ...] = ()


class CourseList(MoodleModel):
    courses: tuple[CourseInfo, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


class ModuleDate(MoodleModel):
    """A date an activity shows on the course page (``timeopen``, ``duedate``...)."""

    label: str = ""
    timestamp: int
    dataid: str | None = None


class ModuleCompletion(MoodleModel):
    """The calling user's completion of an activity, as shown in the course contents."""

    state: int = 0
    timecompleted: int = 0
    overrideby: int | None = None
    hascompletion: bool | None = None
    isautomatic: bool | None = None


class ModuleSummary(MoodleModel):
    """An activity as listed in ``core_course_get_contents``."""

    id: int
    name: str
    instance: int
    modname: str
    visible: bool | None = None
    uservisible: bool | None = None
    url: str | None = None
    completion: int | None = None
    availability: str | None = None
    customdata: str | None = None
    dates: tuple[ModuleDate, ...] = ()
    completiondata: ModuleCompletion | None = None


class CourseSection(MoodleModel):
    """A section of ``core_course_get_contents`` with its activities."""

    id: int
    name: str
    section: int
    visible: bool | None = None
    uservisible: bool | None = None
    summary: str = ""
    # Moodle's text about the section's restriction, given only while the section is
    # closed to the caller (its availability JSON is not in the web service's answer).
    availabilityinfo: str | None = None
    modules: tuple[ModuleSummary, ...] = ()


class CourseModule(MoodleModel):
    """An activity's settings as ``core_course_get_course_module`` returns them."""

    id: int
    course: int
    module: int
    name: str
    modname: str
    instance: int
    section: int
    sectionnum: int | None = None
    idnumber: str | None = None
    groupmode: int | None = None
    groupingid: int | None = None
    completion: int | None = None
    completionview: int | None = None
    completionexpected: int | None = None
    completionpassgrade: int | None = None
    visible: bool | None = None
    availability: str | None = None
    added: int | None = None
    grade: float | None = None
    gradepass: float | None = None


class _CourseModuleAnswer(MoodleModel):
    cm: CourseModule
    warnings: tuple[WsWarning, ...] = ()


# --- the area -----------------------------------------------------------------------


class Courses:
    """``core_course_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    # -- categories ------------------------------------------------------------------

    def create_categories(
        self, categories: Sequence[NewCategory]
    ) -> BatchOutcome[NewCategory, CreatedCategory]:
        """Create categories: ``core_course_create_categories``.

        A parent must exist before its children are sent (they refer to its id).
        """
        outcome = send_rows(
            self._client,
            CREATE_CATEGORIES,
            "categories",
            categories,
            row_params=NewCategory.params,
            describe=_describe_category,
            read_answer=created_rows(
                self._client, CREATE_CATEGORIES, CreatedCategory, row_params=NewCategory.params
            ),
            check=lambda _, category: _problems(name_problem("name", category.name, required=True)),
        )
        return settle_dropped(outcome, CREATE_CATEGORIES, lambda row: f"category {row.name!r}")

    def get_categories(
        self, criteria: Mapping[str, str | int] | None = None, *, addsubcategories: bool = True
    ) -> list[Category]:
        """Categories matching all ``criteria`` (none: all): ``core_course_get_categories``.

        Keys: id, ids (comma-separated), name, parent, idnumber, sortorder, visible, theme.
        """
        criteria = criteria or {}
        unknown = sorted(set(criteria) - CATEGORY_KEYS)
        if unknown:
            raise ValueError(f"{GET_CATEGORIES} cannot search by {unknown}")
        params: dict[str, Any] = {
            "criteria": [{"key": key, "value": value} for key, value in criteria.items()],
            "addsubcategories": addsubcategories,
        }
        return parse_list(Category, self._client.call(GET_CATEGORIES, params), GET_CATEGORIES)

    # -- courses ---------------------------------------------------------------------

    def create_courses(
        self, courses: Sequence[NewCourse]
    ) -> BatchOutcome[NewCourse, CreatedCourse]:
        """Create courses: ``core_course_create_courses``.

        Rows are checked first (names, duplicate shortnames or idnumbers in the request);
        a batch refused for one row is bisected so every other row is created.
        """
        first_with: dict[tuple[str, str], int] = {}

        def check(index: int, course: NewCourse) -> list[str]:
            problems = _problems(
                name_problem("full name", course.fullname, required=True, max_length=FULLNAME_MAX),
                name_problem(
                    "short name", course.shortname, required=True, max_length=SHORTNAME_MAX
                ),
            )
            for kind, value in (("shortname", course.shortname), ("idnumber", course.idnumber)):
                if not value:
                    continue
                if (kind, value) in first_with:
                    problems.append(f"{kind} also in courses[{first_with[kind, value]}]")
                else:
                    first_with[kind, value] = index
            return problems

        outcome = send_rows(
            self._client,
            CREATE_COURSES,
            "courses",
            courses,
            row_params=NewCourse.params,
            describe=lambda index, course: f"courses[{index}] {course.shortname!r}",
            read_answer=created_rows(
                self._client,
                CREATE_COURSES,
                CreatedCourse,
                row_params=NewCourse.params,
                key_of_row=lambda course: course.shortname,
                key_of_created=lambda record: record.shortname,
            ),
            check=check,
        )
        return settle_dropped(outcome, CREATE_COURSES, lambda row: f"course {row.shortname!r}")

    def update_courses(
        self, updates: Sequence[CourseUpdate]
    ) -> BatchOutcome[CourseUpdate, tuple[WsWarning, ...]]:
        """Change courses: ``core_course_update_courses``.

        Not atomic: each row is applied on its own; ``done`` pairs each row with Moodle's
        warnings about it (``invalidrecord`` for an unknown id...), empty when applied.
        """
        return send_rows(
            self._client,
            UPDATE_COURSES,
            "courses",
            updates,
            row_params=CourseUpdate.params,
            describe=lambda index, update: f"courses[{index}] id={update.id}",
            read_answer=warnings_by_id(UPDATE_COURSES, lambda update: update.id),
            check=lambda _, update: _problems(
                name_problem("full name", update.fullname, required=True)
                if update.fullname is not None
                else None,
                name_problem("short name", update.shortname, required=True)
                if update.shortname is not None
                else None,
            ),
        )

    def get_courses_by_field(
        self, field: CourseField, value: str | int | Sequence[int]
    ) -> CourseList:
        """Courses whose ``field`` equals ``value``: ``core_course_get_courses_by_field``.

        For ``ids`` give a sequence of ids. An unknown value gives an empty list.
        """
        if field == "ids":
            if isinstance(value, str | int):
                raise ValueError("field 'ids' takes a sequence of course ids")
            value = ",".join(str(int(course_id)) for course_id in value)
            if not value:
                return CourseList()
        elif not isinstance(value, str | int):
            raise ValueError(f"field {field!r} takes one value")
        payload = self._client.call(GET_COURSES_BY_FIELD, {"field": field, "value": value})
        return parse(CourseList, payload, GET_COURSES_BY_FIELD)

    def duplicate_course(
        self,
        courseid: int,
        fullname: str,
        shortname: str,
        categoryid: int,
        *,
        visible: bool = True,
        options: Mapping[str, int | bool] | None = None,
    ) -> CreatedCourse:
        """Copy a course with its activities: ``core_course_duplicate_course``.

        ``options`` are backup settings such as ``users``, ``blocks``, ``activities``.
        Activity dates are copied as they are (not shifted to a new start date).
        """
        problems = _problems(
            name_problem("full name", fullname, required=True, max_length=FULLNAME_MAX),
            name_problem("short name", shortname, required=True, max_length=SHORTNAME_MAX),
        )
        if problems:
            raise _refusal(DUPLICATE_COURSE, f"course {shortname!r}", problems)
        params: dict[str, Any] = {
            "courseid": courseid,
            "fullname": fullname,
            "shortname": shortname,
            "categoryid": categoryid,
            "visible": visible,
            "options": _named(options),
        }
        payload = self._client.call(DUPLICATE_COURSE, params, write=True)
        return parse(CreatedCourse, payload, DUPLICATE_COURSE)

    def import_course(
        self,
        importfrom: int,
        importto: int,
        *,
        deletecontent: bool = False,
        options: Mapping[str, int | bool] | None = None,
    ) -> None:
        """Import activities of one course into another: ``core_course_import_course``."""
        params: dict[str, Any] = {
            "importfrom": importfrom,
            "importto": importto,
            "deletecontent": deletecontent,
            "options": _named(options),
        }
        self._client.call(IMPORT_COURSE, params, write=True)

    # -- contents --------------------------------------------------------------------

    def get_contents(
        self, courseid: int, options: Mapping[str, str | int | bool] | None = None
    ) -> list[CourseSection]:
        """Sections and activities of a course: ``core_course_get_contents``."""
        params: dict[str, Any] = {"courseid": courseid, "options": _named(options)}
        return parse_list(CourseSection, self._client.call(GET_CONTENTS, params), GET_CONTENTS)

    def get_course_module(self, cmid: int) -> CourseModule:
        """One activity's settings, grade and pass grade: ``core_course_get_course_module``."""
        payload = self._client.call(GET_COURSE_MODULE, {"cmid": cmid})
        return parse(_CourseModuleAnswer, payload, GET_COURSE_MODULE).cm


def _named(options: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in (options or {}).items()]


def _problems(*problems: str | None) -> list[str]:
    return [problem for problem in problems if problem]


def _describe_category(index: int, category: NewCategory) -> str:
    return f"categories[{index}] {category.name!r}"


def _refusal(wsfunction: str, row: str, problems: list[str]) -> LmsInvalidParameter:
    return refused(f"{row}: {'; '.join(problems)}", wsfunction=wsfunction)
