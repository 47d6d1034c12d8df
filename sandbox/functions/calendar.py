"""Calendar events: create, list and move (core_calendar_*)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import access, building, errors
from sandbox.params import M, Need, Param, S, Single, V, Value, default
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, Course, Event

_NEW_EVENT = Single(
    {
        "name": V(Param.TEXT),
        "description": default(V(Param.RAW), ""),
        "format": default(V(Param.INT), 1),
        "courseid": default(V(Param.INT), 0),
        "groupid": default(V(Param.INT), 0),
        "repeats": default(V(Param.INT), 0),
        "eventtype": default(V(Param.TEXT), "user"),
        "timestart": Value(Param.INT, Need.OPTIONAL),
        "timeduration": default(V(Param.INT), 0),
        "visible": default(V(Param.INT), 1),
        "sequence": default(V(Param.INT), 1),
    }
)


def _may_create(ctx: CallContext, row: dict[str, Any]) -> bool:
    kind = row["eventtype"]
    if kind == "user":
        return True
    if kind == "site":
        return access.has_system_capability(ctx.caller, "moodle/calendar:manageentries")
    course_id = row["courseid"]
    if course_id not in ctx.site.courses:
        return False
    return access.has_course_capability(
        ctx.site, ctx.caller, "moodle/calendar:manageentries", course_id
    )


@ws_function("core_calendar_create_calendar_events", S(events=M(_NEW_EVENT)))
def create_calendar_events(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Create events; ones the caller may not create become warnings."""
    site = ctx.site
    created: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for row in params["events"]:
        if not _may_create(ctx, row):
            warnings.append(
                {
                    "item": row["name"],
                    "warningcode": "nopermissions",
                    "message": "you do not have permissions to create this event",
                }
            )
            continue
        start = row.get("timestart") if row.get("timestart") is not None else ctx.now
        event = Event(
            id=site.ids.take("event"),
            name=row["name"],
            eventtype=row["eventtype"],
            timestart=start,
            description=row["description"] or "",
            format=row["format"],
            courseid=row["courseid"] if row["eventtype"] != "user" else 0,
            groupid=row["groupid"] if row["eventtype"] == "group" else 0,
            userid=ctx.caller.userid,
            timeduration=row["timeduration"],
            visible=row["visible"],
            sequence=row["sequence"],
            timemodified=ctx.now,
            timesort=start,
        )
        site.events[event.id] = event
        created.append(
            {
                "id": event.id,
                "name": event.name,
                "description": event.description,
                "format": event.format,
                "courseid": event.courseid,
                "groupid": event.groupid,
                "userid": event.userid,
                "modulename": "",
                "instance": 0,
                "eventtype": event.eventtype,
                "timestart": event.timestart,
                "timeduration": event.timeduration,
                "visible": event.visible,
                "uuid": "",
                "sequence": event.sequence,
                "timemodified": event.timemodified,
                "subscriptionid": None,
            }
        )
    return {"events": created, "warnings": warnings}


def event_record(event: Event) -> dict[str, Any]:
    """One event as ``core_calendar_get_calendar_events`` lists it."""
    return {
        "id": event.id,
        "name": event.name,
        "description": event.description,
        "format": event.format,
        "courseid": event.courseid,
        "categoryid": event.categoryid or None,
        "groupid": event.groupid or None,
        "userid": event.userid,
        "repeatid": None,
        "modulename": event.modulename or None,
        "instance": event.instance or None,
        "eventtype": event.eventtype,
        "timestart": event.timestart,
        "timeduration": event.timeduration,
        "visible": event.visible,
        "sequence": event.sequence,
        "timemodified": event.timemodified,
        "subscriptionid": None,
    }


def _wanted(ctx: CallContext, event: Event, query: dict[str, Any], options: dict[str, Any]) -> bool:
    if event.id in query["eventids"]:
        return True
    if event.eventtype == "site":
        return bool(options["siteevents"])
    if event.eventtype == "user":
        return bool(options["userevents"]) and event.userid == ctx.caller.userid
    if event.eventtype == "group":
        return bool(options["userevents"]) and event.groupid in query["groupids"]
    if event.eventtype == "category":
        return event.categoryid in query["categoryids"]
    return event.courseid in query["courseids"]


@ws_function(
    "core_calendar_get_calendar_events",
    S(
        events=Single(
            {
                "eventids": default(M(V(Param.INT)), []),
                "courseids": default(M(V(Param.INT)), []),
                "groupids": default(M(V(Param.INT)), []),
                "categoryids": default(M(V(Param.INT)), []),
            },
            Need.DEFAULT,
            {"eventids": [], "courseids": [], "groupids": [], "categoryids": []},
        ),
        options=Single(
            {
                "userevents": default(V(Param.BOOL), True),
                "siteevents": default(V(Param.BOOL), True),
                "timestart": default(V(Param.INT), 0),
                "timeend": default(V(Param.INT), 0),
                "ignorehidden": default(V(Param.BOOL), True),
            },
            Need.DEFAULT,
            {
                "userevents": True,
                "siteevents": True,
                "timestart": 0,
                "timeend": 0,
                "ignorehidden": True,
            },
        ),
    ),
)
def get_calendar_events(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Events of courses, groups, the site and the caller, by sort time (as recorded: an
    event moved by ``update_event_start_day`` keeps its place until its refresh).

    As recorded, group events need ``userevents`` on even when their groups are asked for.
    """
    query, options = params["events"], params["options"]
    courses = [
        cid for cid in query["courseids"] if access.can_enter_course(ctx.site, ctx.caller, cid)
    ]
    query = {**query, "courseids": set(courses), "groupids": set(query["groupids"])}
    start, end = options["timestart"], options["timeend"]
    found = [
        event
        for event in ctx.site.events.values()
        if _wanted(ctx, event, query, options)
        and event.timestart >= start
        and (not end or event.timestart <= end)
        and (event.visible or not options["ignorehidden"])
    ]
    found.sort(key=lambda e: (e.timesort, e.id))
    return {"events": [event_record(e) for e in found], "warnings": []}


# ---- moving an activity's date: core_calendar_update_event_start_day ------------------------

SITE_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # The recorded site's (and its users') zone.
_GENERATED_COURSE_IMAGE = (
    '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="136" height="235">'
    '<rect x="0" y="0" width="100%" height="100%" fill="rgb(223, 230, 233)" />'
    '<polyline points="22.666666666667, 0, 45.333333333333, 39.259818304895, 0, '
    '39.259818304895, 22.666666666667, 0" fill="#222" fill-opacity="0.1" /></svg>'
)
_MODULE_NAMES = {"assign": "Assignment", "feedback": "Feedback", "quiz": "Quiz"}
_ACTIVITY_STR = {"due": "is due", "gradingdue": "is due to be graded"}
_PURPOSE = {"assign": "assessment", "quiz": "assessment", "feedback": "communication"}


def _local(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, SITE_TIMEZONE)


def _midnight(timestamp: int) -> int:
    day = _local(timestamp)
    return int(day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def moved_start(timestart: int, daytimestamp: int) -> int:
    """The day of ``daytimestamp`` at the time of day of ``timestart`` (site time zone)."""
    old = _local(timestart)
    day = _local(daytimestamp)
    return int(
        day.replace(hour=old.hour, minute=old.minute, second=old.second, microsecond=0).timestamp()
    )


def _visible_event(ctx: CallContext, event_id: int) -> Event:
    """The event, if the caller may see it; Moodle's vault reports any other as missing."""
    event = ctx.site.events.get(event_id)
    visible = event is not None and (
        (event.eventtype == "user" and event.userid == ctx.caller.userid)
        or (event.eventtype == "site")
        or (
            event.courseid in ctx.site.courses
            and access.can_enter_course(ctx.site, ctx.caller, event.courseid)
        )
    )
    if event is None or not visible:
        raise errors.unknown_string_exception(f"Unable to find event with id {event_id}")
    return event


def _check_activity_rules(activity: Activity, eventtype: str, start: int) -> None:
    """The module's own rules on the new date (``*_core_calendar_validate_event_timestart``).

    Recorded: an assignment due after its cut-off is refused. The other texts are the
    modules' language strings for the same checks (not recorded).
    """
    s = activity.settings
    if activity.modname == "assign" and eventtype == "due":
        if s.get("cutoffdate") and start > s["cutoffdate"]:
            raise errors.unknown_string_exception(
                "Cut-off date cannot be earlier than the due date."
            )
        if s.get("allowsubmissionsfromdate") and start < s["allowsubmissionsfromdate"]:
            raise errors.unknown_string_exception(
                "Due date cannot be earlier than the allow submissions from date."
            )
    late = bool(s.get("duedate")) and start < s.get("duedate", 0)
    if activity.modname == "assign" and eventtype == "gradingdue" and late:
        raise errors.unknown_string_exception(
            "Remind me to grade by date cannot be earlier than the due date."
        )
    if activity.modname in ("quiz", "feedback"):
        if eventtype == "open" and s.get("timeclose") and start > s["timeclose"]:
            raise errors.moodle_exception(
                "openafterclose",
                "Could not update the activity. You have specified an open date after the "
                "close date.",
            )
        if eventtype == "close" and s.get("timeopen") and start < s["timeopen"]:
            raise errors.moodle_exception(
                "closebeforeopen",
                "Could not update the activity. You have specified a close date before the "
                "open date.",
            )


def _course_summary(ctx: CallContext, course: Course) -> dict[str, Any]:
    category = ctx.site.categories.get(course.category)
    image = base64.b64encode(_GENERATED_COURSE_IMAGE.encode("ascii")).decode("ascii")
    return {
        "id": course.id,
        "fullname": course.fullname,
        "shortname": course.shortname,
        "idnumber": course.idnumber,
        "summary": course.summary,
        "summaryformat": course.summaryformat,
        "startdate": course.startdate,
        "enddate": course.enddate,
        "visible": bool(course.visible),
        "showactivitydates": course.showactivitydates,
        "showcompletionconditions": course.showcompletionconditions,
        "pdfexportfont": "",
        "fullnamedisplay": course.fullname,
        "viewurl": f"{ctx.options.wwwroot}/course/view.php?id={course.id}",
        "courseimage": f"data:image/svg+xml;base64,{image}",
        "progress": 0,
        "hasprogress": False,
        "isfavourite": False,
        "hidden": False,
        "showshortname": False,
        "coursecategory": category.name if category else "",
    }


def _formatted_time(ctx: CallContext, event: Event) -> str:
    local = _local(event.timestart)
    day = f"{local:%A}, {local.day} {local:%B}"
    link = f"{ctx.options.wwwroot}/calendar/view.php?view=day&amp;time={event.timestart}"
    clock = local.strftime("%I:%M %p")
    if event.timestart + event.timeduration < ctx.now:
        return (
            f'<span class="dimmed_text"><a class="dimmed" href="{link}">{day}</a>, {clock}</span>'
        )
    return f'<a href="{link}">{day}</a>, {clock}'


def exported_event(ctx: CallContext, event: Event, activity: Activity) -> dict[str, Any]:
    """An activity's event as the calendar's event exporter shows it to the caller."""
    root = ctx.options.wwwroot
    course = ctx.site.courses[event.courseid]
    module = _MODULE_NAMES.get(activity.modname, activity.modname.capitalize())
    verb = _ACTIVITY_STR.get(event.eventtype, f"{event.eventtype}s")
    return {
        "id": event.id,
        "name": event.name,
        "description": event.description,
        "descriptionformat": event.format,
        "location": "",
        "categoryid": None,
        "groupid": None,
        "userid": event.userid,
        "repeatid": None,
        "eventcount": None,
        "component": f"mod_{activity.modname}",
        "modulename": activity.modname,
        "activityname": activity.name,
        "activitystr": f"{module} {verb}",
        "instance": activity.cmid,
        "eventtype": event.eventtype,
        "timestart": event.timestart,
        "timeduration": event.timeduration,
        "timesort": event.timesort,
        "timeusermidnight": _midnight(event.timesort),
        "visible": event.visible,
        "timemodified": event.timemodified,
        "overdue": event.timesort < ctx.now,
        "icon": {
            "key": "monologo",
            "component": activity.modname,
            "alttext": "Not answered" if activity.modname == "quiz" else "Activity event",
            "iconurl": f"{root}/theme/image.php/boost/{activity.modname}/1/monologo?filtericon=1",
            "iconclass": "",
        },
        "course": _course_summary(ctx, course),
        "subscription": {"displayeventsource": False},
        "canedit": True,
        "candelete": False,
        "deleteurl": f"{root}/calendar/delete.php?id={event.id}&course={course.id}",
        "editurl": f"{root}/course/mod.php?update={activity.cmid}&return=1&sesskey=sandbox",
        "viewurl": f"{root}/calendar/view.php?view=day&course={course.id}&time={event.timesort}"
        f"#event_{event.id}",
        "formattedtime": _formatted_time(ctx, event),
        "formattedlocation": "",
        "isactionevent": True,
        "iscourseevent": False,
        "iscategoryevent": False,
        "groupname": None,
        "normalisedeventtype": "course",
        "normalisedeventtypetext": "Course event",
        "purpose": _PURPOSE.get(activity.modname, "other"),
        "branded": False,
        "url": f"{root}/mod/{activity.modname}/view.php?id={activity.cmid}",
    }


@ws_function(
    "core_calendar_update_event_start_day",
    S(eventid=V(Param.INT), daytimestamp=V(Param.INT)),
)
def update_event_start_day(ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
    """Move an activity's event to another day, keeping its time of day.

    The only web-service call that moves an activity's date: the activity's setting
    follows (an assignment's due date, a quiz's opening...), checked by the module's own
    rules first. Events the caller cannot see are "not found". An assignment's or a
    quiz's events are then refreshed at once (sort time, author); a feedback's wait for
    the next refresh task. As recorded, the answer is the event as it was, with the new
    start: old sort time, old author.
    """
    event = _visible_event(ctx, params["eventid"])
    activity = ctx.site.activity_of(event.modulename, event.instance) if event.modulename else None
    setting = building.EVENT_SETTING.get((event.modulename, event.eventtype))
    if activity is None or setting is None:
        raise errors.moodle_exception(
            "nopermissiontoupdatecalendar",
            "Sorry, but you do not have permission to update the calendar event",
        )
    if not access.has_course_capability(
        ctx.site, ctx.caller, "moodle/course:manageactivities", event.courseid
    ):
        raise errors.moodle_exception(
            "nopermissiontoupdatecalendar",
            "Sorry, but you do not have permission to update the calendar event",
        )
    start = moved_start(event.timestart, params["daytimestamp"])
    _check_activity_rules(activity, event.eventtype, start)
    answer = exported_event(ctx, replace(event, timestart=start, timemodified=ctx.now), activity)
    activity.settings[setting] = start
    activity.timemodified = ctx.now
    event.timestart = start
    event.timemodified = ctx.now
    if activity.modname in building.REFRESH_TAKES_USER:
        building.refresh_activity_events(ctx.site, activity, ctx.caller.userid, ctx.now)
    return {"event": answer}
