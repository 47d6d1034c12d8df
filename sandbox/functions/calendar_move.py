"""Moving an activity's date: ``core_calendar_update_event_start_day``, and the calendar's
event exporter it answers with."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import access, building, errors
from sandbox.params import Param, S, V
from sandbox.registry import CallContext, ws_function
from sandbox.state import Activity, Course, Event

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


def _move_standard_event(ctx: CallContext, event: Event, daytimestamp: int) -> dict[str, Any]:
    """A course or group event (no activity behind it) moves like in the calendar's month
    view (drag and drop): the day changes, the time and length stay. Seen on the real
    Moodle 4.5 of /work/realmoodle (2026-11-30): a group event moved back and forth, the
    answer carrying the new start, sort time equal to it, the group's name."""
    if not access.has_course_capability(
        ctx.site, ctx.caller, "moodle/calendar:manageentries", event.courseid
    ):
        raise errors.moodle_exception(
            "nopermissiontoupdatecalendar",
            "Sorry, but you do not have permission to update the calendar event",
        )
    event.timestart = event.timesort = moved_start(event.timestart, daytimestamp)
    event.timemodified = ctx.now
    root = ctx.options.wwwroot
    course = ctx.site.courses[event.courseid]
    group = ctx.site.groups.get(event.groupid) if event.groupid else None
    kind = "Group event" if event.eventtype == "group" else "Course event"
    return {
        "id": event.id,
        "name": event.name,
        "description": event.description,
        "descriptionformat": event.format,
        "location": "",
        "categoryid": None,
        "groupid": event.groupid or None,
        "userid": event.userid,
        "repeatid": None,
        "eventcount": None,
        "component": None,
        "modulename": "",
        "activityname": "",
        "activitystr": "",
        "instance": None,
        "eventtype": event.eventtype,
        "timestart": event.timestart,
        "timeduration": event.timeduration,
        "timesort": event.timesort,
        "timeusermidnight": _midnight(event.timesort),
        "visible": event.visible,
        "timemodified": event.timemodified,
        "overdue": event.timestart < ctx.now,
        "icon": {
            "key": f"i/{event.eventtype}event",
            "component": "core",
            "alttext": kind,
            "iconurl": "",
            "iconclass": "",
        },
        "course": _course_summary(ctx, course),
        "subscription": {"displayeventsource": False},
        "canedit": True,
        "candelete": True,
        "deleteurl": f"{root}/calendar/delete.php?id={event.id}&course={course.id}",
        "editurl": f"{root}/calendar/event.php?action=edit&id={event.id}&course={course.id}",
        "viewurl": f"{root}/calendar/view.php?view=day&course={course.id}&time={event.timestart}"
        f"#event_{event.id}",
        "formattedtime": _formatted_time(ctx, event),
        "formattedlocation": "",
        "isactionevent": False,
        "iscourseevent": event.eventtype == "course",
        "iscategoryevent": False,
        "groupname": group.name if group is not None else None,
        "normalisedeventtype": event.eventtype,
        "normalisedeventtypetext": kind,
        "purpose": "none",
        "branded": False,
        "url": f"{root}/course/view.php?id={course.id}",
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
    if not event.modulename and event.eventtype in ("course", "group"):
        return {"event": _move_standard_event(ctx, event, params["daytimestamp"])}
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
