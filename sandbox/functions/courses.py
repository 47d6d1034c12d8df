"""Categories and courses: create, update, read, duplicate and import."""

from __future__ import annotations

from typing import Any

from sandbox import access, building, errors
from sandbox.errors import InvalidParameter
from sandbox.functions.common import course_image_url, course_or_missing
from sandbox.params import M, Multiple, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import CONTEXT_COURSE, Category, Course

EDITING_TEACHER = 3
_NAME_VALUE = S(name=V(Param.ALPHANUMEXT), value=V(Param.RAW))

# ---- categories -----------------------------------------------------------------------

_NEW_CATEGORY = Single(
    {
        "name": V(Param.TEXT),
        "parent": default(V(Param.INT), 0),
        "idnumber": Value(Param.RAW, Need.OPTIONAL),
        "description": Value(Param.RAW, Need.OPTIONAL),
        "descriptionformat": default(V(Param.INT), 1),
        "theme": Value(Param.PLUGIN, Need.OPTIONAL),
    }
)


@ws_function("core_course_create_categories", S(categories=M(_NEW_CATEGORY)))
def create_categories(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Create categories, all or none."""
    site = ctx.site
    pending: list[Category] = []
    idnumbers: set[str] = set()
    for row in params["categories"]:
        parent_id = row["parent"]
        parent = site.categories.get(parent_id) or next(
            (c for c in pending if c.id == parent_id), None
        )
        if parent_id and parent is None:
            raise errors.moodle_exception("unknowcategory", "Category not known!")
        if parent_id:
            if not access.has_category_capability(
                site, ctx.caller, "moodle/category:manage", parent_id
            ):
                raise errors.required_capability("Manage course categories")
        else:
            access.require_system(ctx.caller, "moodle/category:manage")
        if not row["name"].strip():
            raise errors.moodle_exception("categorynamerequired", "A category name is required.")
        idnumber = row.get("idnumber") or ""
        if idnumber and (idnumber in site.category_by_idnumber or idnumber in idnumbers):
            raise errors.moodle_exception(
                "categoryidnumbertaken", "ID number is already used for another category"
            )
        category_id = site.ids.take("course_categories")
        pending.append(
            Category(
                id=category_id,
                name=row["name"],
                parent=parent_id,
                idnumber=idnumber,
                description=row.get("description") or "",
                descriptionformat=row["descriptionformat"],
                sortorder=category_id * 10000,
                timemodified=ctx.now,
                depth=(parent.depth + 1) if parent else 1,
                path=f"{parent.path if parent else ''}/{category_id}",
                theme=row.get("theme") or "",
            )
        )
        if idnumber:
            idnumbers.add(idnumber)
    for category in pending:
        site.add_category(category)
    return [{"id": category.id, "name": category.name} for category in pending]


def category_record(ctx: CallContext, category: Category) -> dict[str, Any]:
    """One category as ``core_course_get_categories`` returns it."""
    coursecount = sum(1 for c in ctx.site.courses.values() if c.category == category.id)
    return {
        "id": category.id,
        "name": category.name,
        "idnumber": category.idnumber,
        "description": category.description,
        "descriptionformat": category.descriptionformat,
        "parent": category.parent,
        "sortorder": category.sortorder,
        "coursecount": coursecount,
        "visible": category.visible,
        "visibleold": category.visible,
        "timemodified": category.timemodified,
        "depth": category.depth,
        "path": category.path,
        "theme": category.theme,
    }


_CATEGORY_KEYS = ("id", "ids", "name", "parent", "idnumber", "visible", "theme")


def _category_matches(category: Category, key: str, value: str) -> bool:
    if key == "ids":
        return str(category.id) in {v.strip() for v in value.split(",")}
    return str(getattr(category, key)) == value


@ws_function(
    "core_course_get_categories",
    S(
        criteria=default(M(S(key=V(Param.ALPHA), value=V(Param.RAW))), []),
        addsubcategories=default(V(Param.BOOL), True),
    ),
)
def get_categories(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Categories matching every criterion, plus their subcategories when asked."""
    criteria = [(c["key"], c["value"]) for c in params["criteria"]]
    for key, _ in criteria:
        if key not in _CATEGORY_KEYS:
            raise InvalidParameter(f"The key {key} is not supported")
    categories = ctx.site.categories.values()
    found = {c.id for c in categories if all(_category_matches(c, k, v) for k, v in criteria)}
    if params["addsubcategories"]:
        for category in categories:
            if any(f"/{fid}/" in f"{category.path}/" for fid in found):
                found.add(category.id)
    chosen = sorted((ctx.site.categories[cid] for cid in found), key=lambda c: c.sortorder)
    return [category_record(ctx, category) for category in chosen]


# ---- courses --------------------------------------------------------------------------

_COURSE_KEYS: dict[str, Any] = {
    "idnumber": Value(Param.RAW, Need.OPTIONAL),
    "summary": Value(Param.RAW, Need.OPTIONAL),
    "startdate": Value(Param.INT, Need.OPTIONAL),
    "enddate": Value(Param.INT, Need.OPTIONAL),
    "numsections": Value(Param.INT, Need.OPTIONAL),
    "maxbytes": Value(Param.INT, Need.OPTIONAL),
    "visible": Value(Param.INT, Need.OPTIONAL),
    "hiddensections": Value(Param.INT, Need.OPTIONAL),
    "enablecompletion": Value(Param.INT, Need.OPTIONAL),
    "completionnotify": Value(Param.INT, Need.OPTIONAL),
    "lang": Value(Param.SAFEDIR, Need.OPTIONAL),
    "forcetheme": Value(Param.PLUGIN, Need.OPTIONAL),
    "courseformatoptions": Multiple(_NAME_VALUE, Need.OPTIONAL),
    "customfields": Multiple(S(shortname=V(Param.ALPHANUMEXT), value=V(Param.RAW)), Need.OPTIONAL),
}
_NEW_COURSE = Single(
    {
        "fullname": V(Param.TEXT),
        "shortname": V(Param.TEXT),
        "categoryid": V(Param.INT),
        "summaryformat": default(V(Param.INT), 1),
        "format": default(V(Param.PLUGIN), "topics"),
        "showgrades": default(V(Param.INT), 1),
        "newsitems": default(V(Param.INT), 5),
        "showreports": default(V(Param.INT), 0),
        "groupmode": default(V(Param.INT), 0),
        "groupmodeforce": default(V(Param.INT), 0),
        "defaultgroupingid": default(V(Param.INT), 0),
        **_COURSE_KEYS,
    }
)
_COURSE_UPDATE = Single(
    {
        "id": V(Param.INT),
        "fullname": Value(Param.TEXT, Need.OPTIONAL),
        "shortname": Value(Param.TEXT, Need.OPTIONAL),
        "categoryid": Value(Param.INT, Need.OPTIONAL),
        "summaryformat": Value(Param.INT, Need.OPTIONAL),
        "format": Value(Param.PLUGIN, Need.OPTIONAL),
        "showgrades": Value(Param.INT, Need.OPTIONAL),
        "newsitems": Value(Param.INT, Need.OPTIONAL),
        "showreports": Value(Param.INT, Need.OPTIONAL),
        "groupmode": Value(Param.INT, Need.OPTIONAL),
        "groupmodeforce": Value(Param.INT, Need.OPTIONAL),
        "defaultgroupingid": Value(Param.INT, Need.OPTIONAL),
        **_COURSE_KEYS,
    }
)


def _numsections(row: dict[str, Any]) -> int:
    for option in row.get("courseformatoptions") or []:
        if option["name"] == "numsections":
            return int(option["value"])
    value = row.get("numsections")
    return 4 if value is None else int(value)


def _shortname_taken(shortname: str, shown: str) -> errors.MoodleError:
    return errors.moodle_exception(
        "shortnametaken", f"Short name is already used for another course ({shown})"
    )


def _idnumber_taken(idnumber: str) -> errors.MoodleError:
    return errors.moodle_exception(
        "courseidnumbertaken", f"ID number is already used for another course ({idnumber})"
    )


def _check_new_course(
    ctx: CallContext, row: dict[str, Any], shortnames: set[str], idnumbers: set[str]
) -> None:
    site = ctx.site
    category_id = row["categoryid"]
    if category_id not in site.categories:
        raise errors.category_context_not_valid(category_id, errors.INVALID_PARAMETER_MESSAGE)
    if not access.has_category_capability(site, ctx.caller, "moodle/course:create", category_id):
        raise errors.required_capability("Create courses")
    shortname = row["shortname"]
    if shortname in site.course_by_shortname or shortname in shortnames:
        raise _shortname_taken(shortname, shortname)
    idnumber = row.get("idnumber") or ""
    if idnumber and (idnumber in site.course_by_idnumber or idnumber in idnumbers):
        raise _idnumber_taken(idnumber)


def _course_from_row(ctx: CallContext, row: dict[str, Any], course_id: int) -> Course:
    return Course(
        id=course_id,
        category=row["categoryid"],
        fullname=row["fullname"],
        shortname=row["shortname"],
        idnumber=row.get("idnumber") or "",
        summary=row.get("summary") or "",
        summaryformat=row["summaryformat"],
        format=row["format"],
        showgrades=row["showgrades"],
        newsitems=row["newsitems"],
        startdate=row["startdate"] if row.get("startdate") is not None else ctx.now,
        enddate=row.get("enddate") or 0,
        visible=1 if row.get("visible") is None else row["visible"],
        groupmode=row["groupmode"],
        groupmodeforce=row["groupmodeforce"],
        enablecompletion=row.get("enablecompletion") or 0,
        completionnotify=row.get("completionnotify") or 0,
        lang=row.get("lang") or "",
        maxbytes=row.get("maxbytes") or 0,
        showreports=row["showreports"],
        timecreated=ctx.now,
        timemodified=ctx.now,
        cacherev=ctx.now,
    )


@ws_function("core_course_create_courses", S(courses=M(_NEW_COURSE)))
def create_courses(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Create courses, all or none (a failed batch still uses up course ids)."""
    site = ctx.site
    shortnames: set[str] = set()
    idnumbers: set[str] = set()
    pending: list[tuple[Course, dict[str, Any]]] = []
    for row in params["courses"]:
        _check_new_course(ctx, row, shortnames, idnumbers)
        pending.append((_course_from_row(ctx, row, site.ids.take("course")), row))
        shortnames.add(row["shortname"])
        if row.get("idnumber"):
            idnumbers.add(row["idnumber"])
    for course, row in pending:
        building.new_course(site, course, _numsections(row), {})
        if course.newsitems > 0:
            building.add_news_forum(site, course, ctx.now)
    return [{"id": course.id, "shortname": course.shortname} for course, _ in pending]


def _course_warning(course_id: int, code: str, message: str) -> dict[str, Any]:
    return {"item": "course", "itemid": course_id, "warningcode": code, "message": message}


_UPDATABLE = (
    "fullname",
    "shortname",
    "idnumber",
    "summary",
    "summaryformat",
    "format",
    "showgrades",
    "newsitems",
    "startdate",
    "enddate",
    "maxbytes",
    "showreports",
    "visible",
    "groupmode",
    "groupmodeforce",
    "enablecompletion",
    "completionnotify",
    "lang",
)


def _update_problem(
    ctx: CallContext, course: Course | None, row: dict[str, Any]
) -> dict[str, Any] | None:
    site = ctx.site
    course_id = row["id"]
    if course is None:
        return _course_warning(
            course_id, "invalidrecord", "Can't find data record in database table course."
        )
    if not access.has_course_capability(site, ctx.caller, "moodle/course:update", course_id):
        return _course_warning(
            course_id,
            "nopermissions",
            "Sorry, but you do not currently have permissions to do that (Update course settings).",
        )
    shortname = row.get("shortname")
    holder = site.course_by_shortname.get(shortname) if shortname is not None else None
    if holder is not None and holder != course_id:
        return _course_warning(
            course_id,
            "shortnametaken",
            f"Short name is already used for another course ({shortname})",
        )
    idnumber = row.get("idnumber")
    holder = site.course_by_idnumber.get(idnumber) if idnumber else None
    if holder is not None and holder != course_id:
        return _course_warning(
            course_id,
            "courseidnumbertaken",
            f"ID number is already used for another course ({idnumber})",
        )
    category_id = row.get("categoryid")
    if category_id is not None and category_id not in site.categories:
        return _course_warning(
            course_id,
            "invalidrecord",
            "Can't find data record in database table course_categories.",
        )
    return None


@ws_function("core_course_update_courses", S(courses=M(_COURSE_UPDATE)))
def update_courses(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Update courses row by row; a bad row becomes a warning, the others still apply.

    A new start date does not move the activities' dates.
    """
    warnings: list[dict[str, Any]] = []
    for row in params["courses"]:
        course = ctx.site.courses.get(row["id"])
        problem = _update_problem(ctx, course, row)
        if problem is not None or course is None:
            warnings.append(problem or _course_warning(row["id"], "invalidrecord", ""))
            continue
        changes = {key: row[key] for key in _UPDATABLE if row.get(key) is not None}
        if row.get("categoryid") is not None:
            changes["category"] = row["categoryid"]
        changes["timemodified"] = ctx.now
        changes["cacherev"] = ctx.now
        ctx.site.update_course(course, changes)
    return {"warnings": warnings}


_FILTERS = ("displayh5p", "activitynames", "mathjaxloader", "emoticon", "mediaplugin", "urltolink")


def course_record(ctx: CallContext, course: Course) -> dict[str, Any]:
    """One course as ``core_course_get_courses_by_field`` returns it."""
    site = ctx.site
    category = site.categories.get(course.category)
    teachers = sorted(
        uid
        for uid, roles in site.role_assignments.get((CONTEXT_COURSE, course.id), {}).items()
        if EDITING_TEACHER in roles and uid in site.users
    )
    return {
        "id": course.id,
        "fullname": course.fullname,
        "displayname": course.fullname,
        "shortname": course.shortname,
        "courseimage": course_image_url(ctx, course),
        "categoryid": course.category,
        "categoryname": category.name if category else "",
        "sortorder": course.sortorder,
        "summary": course.summary,
        "summaryformat": course.summaryformat,
        "summaryfiles": [],
        "overviewfiles": [],
        "showactivitydates": course.showactivitydates,
        "showcompletionconditions": course.showcompletionconditions,
        "contacts": [{"id": uid, "fullname": site.users[uid].fullname} for uid in teachers],
        "enrollmentmethods": ["manual"] if course.manual_enrol else [],
        "idnumber": course.idnumber,
        "format": course.format,
        "showgrades": course.showgrades,
        "newsitems": course.newsitems,
        "startdate": course.startdate,
        "enddate": course.enddate,
        "maxbytes": course.maxbytes,
        "showreports": course.showreports,
        "visible": course.visible,
        "groupmode": course.groupmode,
        "groupmodeforce": course.groupmodeforce,
        "defaultgroupingid": 0,
        "enablecompletion": course.enablecompletion,
        "completionnotify": course.completionnotify,
        "lang": course.lang,
        "theme": "",
        "marker": 0,
        "legacyfiles": 0,
        "calendartype": "",
        "timecreated": course.timecreated,
        "timemodified": course.timemodified,
        "requested": 0,
        "cacherev": course.cacherev,
        "filters": [{"filter": name, "localstate": 0, "inheritedstate": 1} for name in _FILTERS],
        "courseformatoptions": [
            {"name": "hiddensections", "value": 1},
            {"name": "coursedisplay", "value": 0},
            {"name": "indentation", "value": "1"},
        ],
    }


def _courses_for(ctx: CallContext, field: str, value: str) -> list[Course]:
    site = ctx.site
    if field == "":
        return [c for c in site.courses.values() if c.id != 1]
    if field in ("id", "ids", "category"):
        try:
            numbers = {int(v) for v in value.split(",") if v.strip()} if value else set()
        except ValueError:
            raise InvalidParameter(f"Invalid value for field {field}") from None
        if field == "category":
            return [c for c in site.courses.values() if c.category in numbers]
        return [site.courses[n] for n in numbers if n in site.courses]
    if field == "shortname":
        found = site.course_by_shortname.get(value)
    elif field == "idnumber":
        found = site.course_by_idnumber.get(value)
    else:
        section = next((s for s in site.sections.values() if str(s.id) == value), None)
        found = section.course if section else None
    return [] if found is None else [site.courses[found]]


@ws_function(
    "core_course_get_courses_by_field",
    S(field=default(V(Param.ALPHA), ""), value=default(V(Param.RAW), "")),
)
def get_courses_by_field(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Courses by id, ids, shortname, idnumber, category or sectionid (or all)."""
    field, value = params["field"], params["value"]
    if field not in ("", "id", "ids", "shortname", "idnumber", "category", "sectionid"):
        raise InvalidParameter("Invalid field name")
    if field and value == "":
        raise InvalidParameter("When using a field you must provide a value")
    courses = sorted(_courses_for(ctx, field, value), key=lambda c: c.id)
    return {"courses": [course_record(ctx, course) for course in courses], "warnings": []}


# ---- duplicate and import ---------------------------------------------------------------


@ws_function(
    "core_course_duplicate_course",
    S(
        courseid=V(Param.INT),
        fullname=V(Param.TEXT),
        shortname=V(Param.TEXT),
        categoryid=V(Param.INT),
        visible=default(V(Param.INT), 1),
        options=default(M(S(name=V(Param.ALPHAEXT), value=V(Param.RAW))), []),
    ),
)
def duplicate_course(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Back up a course and restore it as a new one; activities keep absolute dates."""
    site = ctx.site
    source = course_or_missing(ctx, params["courseid"])
    category_id = params["categoryid"]
    if category_id not in site.categories:
        raise errors.category_context_not_valid(category_id, errors.INVALID_PARAMETER_MESSAGE)
    for capability in (
        "moodle/backup:backupcourse",
        "moodle/restore:restorecourse",
        "moodle/course:create",
    ):
        access.require_course(site, ctx.caller, capability, source.id)
    holder = site.course_by_shortname.get(params["shortname"])
    if holder is not None:
        raise _shortname_taken(params["shortname"], site.courses[holder].fullname)
    course = Course(
        id=site.ids.take("course"),
        category=category_id,
        fullname=params["fullname"],
        shortname=params["shortname"],
        summary=source.summary,
        summaryformat=source.summaryformat,
        format=source.format,
        showgrades=source.showgrades,
        newsitems=source.newsitems,
        startdate=source.startdate,
        enddate=source.enddate,
        visible=params["visible"],
        groupmode=source.groupmode,
        groupmodeforce=source.groupmodeforce,
        enablecompletion=source.enablecompletion,
        showactivitydates=source.showactivitydates,
        showcompletionconditions=source.showcompletionconditions,
        timecreated=source.timecreated,
        timemodified=source.timemodified,
        cacherev=ctx.now,
    )
    building.new_course(site, course, 0, {})
    course.sortorder = 0
    building.copy_activities(
        site, source, course, userid=ctx.caller.userid, now=ctx.now, copy_section_settings=True
    )
    options = {o["name"]: o["value"] for o in params["options"]}
    if options.get("users") in ("1", "true"):
        for enrolment in list(site.enrolments.get(source.id, {}).values()):
            site.enrol(
                type(enrolment)(enrolment.userid, course.id, enrolment.timestart, enrolment.timeend)
            )
    return {"id": course.id, "shortname": course.shortname}


@ws_function(
    "core_course_import_course",
    S(
        importfrom=V(Param.INT),
        importto=V(Param.INT),
        deletecontent=default(V(Param.INT), 0),
        options=default(M(S(name=V(Param.ALPHA), value=V(Param.RAW))), []),
    ),
)
def import_course(ctx: CallContext, params: dict[str, Any]) -> None:
    """Copy a course's activities into another course, merged or replacing its content.

    With ``deletecontent=1`` the target is emptied first, enrolments, the manual
    enrolment instance and the summary included, as ``remove_course_contents`` does
    (recorded: K26-B's summary is empty after such an import).
    """
    site = ctx.site
    source = site.courses.get(params["importfrom"])
    target = site.courses.get(params["importto"])
    if source is None or target is None:
        raise errors.moodle_exception(
            "invalidcourseid", "You are trying to use an invalid course ID"
        )
    access.require_course(site, ctx.caller, "moodle/backup:backuptargetimport", source.id)
    access.require_course(site, ctx.caller, "moodle/restore:restoretargetimport", target.id)
    replace = bool(params["deletecontent"])
    if replace:
        site.clear_course_content(target)
        for userid in list(site.enrolments.get(target.id, {})):
            site.remove_enrolment(target.id, userid)
        target.manual_enrol = False
        target.summary = ""
    building.copy_activities(
        site, source, target, userid=ctx.caller.userid, now=ctx.now, copy_section_settings=replace
    )
    target.cacherev = ctx.now
