"""Course contents: core_course_get_contents and core_course_get_course_module."""

from __future__ import annotations

import json
from typing import Any

from sandbox import completion
from sandbox.building import MODULE_IDS
from sandbox.functions.common import (
    activity_or_missing,
    course_or_missing,
    module_icon_url,
    module_view_url,
    validate_course_context,
)
from sandbox.params import M, Param, S, V, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, Section

PURPOSE = {
    "page": "content",
    "quiz": "assessment",
    "assign": "assessment",
    "feedback": "communication",
    "forum": "collaboration",
}
PLURAL = {
    "page": "Pages",
    "quiz": "Quizzes",
    "assign": "Assignments",
    "feedback": "Feedback",
    "forum": "Forums",
}


def course_grade_category(ctx: CallContext, activity: Activity) -> int:
    """The id of the grade category of the activity's course (its grades' category)."""
    course = ctx.site.courses.get(activity.course)
    return course.gradecategory if course else 0


def _customdata(activity: Activity) -> str:
    s = activity.settings
    if activity.modname == "quiz":
        data: Any = {
            "customcompletionrules": {
                "completionpassorattemptsexhausted": [],
                "completionminattempts": "0",
            },
            "timeopen": str(s.get("timeopen", 0)),
            "timeclose": str(s.get("timeclose", 0)),
        }
    elif activity.modname == "assign":
        data = {
            "customcompletionrules": {"completionsubmit": "1"},
            "duedate": s.get("duedate", 0),
            "cutoffdate": str(s.get("cutoffdate", 0)),
            "allowsubmissionsfromdate": str(s.get("allowsubmissionsfromdate", 0)),
        }
    elif activity.modname == "feedback":
        data = {
            "customcompletionrules": {"completionsubmit": "1"},
            "timeopen": str(s.get("timeopen", 0)),
            "timeclose": str(s.get("timeclose", 0)),
            "anonymous": "1",
        }
    elif activity.modname == "forum":
        data = {"trackingtype": str(s.get("trackingtype", 1))}
    else:
        data = ""
    return json.dumps(data, separators=(",", ":"))


def _dates(activity: Activity, now: int) -> list[dict[str, Any]]:
    s = activity.settings
    pairs: list[tuple[str, str]] = []
    if activity.modname in ("quiz", "feedback"):
        pairs = [
            ("timeopen", "Opened:" if s.get("timeopen", 0) <= now else "Opens:"),
            ("timeclose", "Closes:"),
        ]
    elif activity.modname == "assign":
        opened = "Opened:" if s.get("allowsubmissionsfromdate", 0) <= now else "Opens:"
        pairs = [("allowsubmissionsfromdate", opened), ("duedate", "Due:")]
    return [
        {"label": label, "timestamp": s[key], "dataid": key} for key, label in pairs if s.get(key)
    ]


def module_record(ctx: CallContext, activity: Activity) -> dict[str, Any]:
    """One module of ``core_course_get_contents``."""
    out: dict[str, Any] = {
        "id": activity.cmid,
        "url": module_view_url(ctx, activity),
        "name": activity.name,
        "instance": activity.instance,
        "contextid": activity.contextid,
        "visible": activity.visible,
        "uservisible": True,
        "visibleoncoursepage": 1,
        "modicon": module_icon_url(ctx, activity.modname),
        "modname": activity.modname,
        "purpose": PURPOSE.get(activity.modname, "other"),
        "branded": False,
        "modplural": PLURAL.get(activity.modname, activity.modname),
        "availability": None,
        "indent": 0,
        "onclick": "",
        "afterlink": None,
    }
    if activity.modname == "forum":
        out["activitybadge"] = []
    out["customdata"] = _customdata(activity)
    out["noviewlink"] = False
    out["completion"] = activity.completion
    if activity.completion:
        out["completiondata"] = completion.status_record(ctx.site, activity, ctx.caller.userid)
    out["downloadcontent"] = 1
    out["dates"] = _dates(activity, ctx.now)
    out["groupmode"] = 0
    if activity.modname == "page":
        out["contents"] = [
            {
                "type": "file",
                "filename": "index.html",
                "filepath": "/",
                "filesize": 0,
                "fileurl": f"{ctx.options.wwwroot}/webservice/pluginfile.php/{activity.contextid}"
                "/mod_page/content/index.html?forcedownload=1",
                "timecreated": None,
                "timemodified": activity.timemodified,
                "sortorder": 1,
                "userid": None,
                "author": None,
                "license": None,
            }
        ]
        out["contentsinfo"] = {
            "filescount": 1,
            "filessize": 0,
            "lastmodified": activity.timemodified,
            "mimetypes": [],
            "repositorytype": "",
        }
    return out


def _section_record(ctx: CallContext, section: Section) -> dict[str, Any]:
    name = section.name or ("General" if section.number == 0 else f"Topic {section.number}")
    return {
        "id": section.id,
        "name": name,
        "visible": section.visible,
        "summary": section.summary,
        "summaryformat": 1,
        "section": section.number,
        "hiddenbynumsections": 0,
        "uservisible": True,
        "component": None,
        "itemid": None,
        "modules": [module_record(ctx, ctx.site.activities[cmid]) for cmid in section.modules],
    }


@ws_function(
    "core_course_get_contents",
    S(courseid=V(Param.INT), options=default(M(S(name=V(Param.ALPHANUM), value=V(Param.RAW))), [])),
)
def get_contents(ctx: CallContext, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections and modules of a course, with the caller's own completion data."""
    course = course_or_missing(ctx, params["courseid"])
    validate_course_context(ctx, course.id)
    return [_section_record(ctx, section) for section in ctx.site.course_sections(course)]


@ws_function("core_course_get_course_module", S(cmid=V(Param.INT)))
def get_course_module(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """One course module's settings."""
    activity = activity_or_missing(ctx, params["cmid"])
    validate_course_context(ctx, activity.course)
    section = ctx.site.sections[activity.section]
    cm: dict[str, Any] = {
        "id": activity.cmid,
        "course": activity.course,
        "module": MODULE_IDS.get(activity.modname, 0),
        "name": activity.name,
        "modname": activity.modname,
        "instance": activity.instance,
        "section": section.id,
        "sectionnum": section.number,
        "groupmode": 0,
        "groupingid": 0,
        "completion": activity.completion,
        "idnumber": activity.idnumber,
        "added": activity.added,
        "score": 0,
        "indent": 0,
        "visible": activity.visible,
        "visibleoncoursepage": 1,
        "visibleold": 1,
        "completiongradeitemnumber": 0 if activity.completionusegrade else None,
        "completionpassgrade": 1 if activity.completionpassgrade else 0,
        "completionview": 1 if activity.completionview else 0,
        "completionexpected": 0,
        "showdescription": 0,
        "downloadcontent": 1,
        "availability": None,
    }
    if activity.modname in ("assign", "quiz"):
        cm["grade"] = activity.settings["grade"]
        cm["gradepass"] = f"{float(activity.settings['gradepass']):.2f}"
        cm["gradecat"] = course_grade_category(ctx, activity)
    if activity.modname == "assign":
        cm["advancedgrading"] = [{"area": "submissions", "method": None}]
    return {"cm": cm, "warnings": []}
