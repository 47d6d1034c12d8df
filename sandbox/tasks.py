"""Moodle's background (adhoc) tasks, which real Moodle's cron runs a minute or so later.

A course copy (duplicate or import) queues ``refresh_mod_calendar_events_task``: until it
has run, the copy's activities have only their "open" calendar events (recorded:
``core_calendar_get_calendar_events__dates_after_duplicate`` lists 2 events where the
template has 5). :func:`run_background_tasks` runs what is queued, in order. Who runs it:
tests call it (or ``SandboxLms.run_background_tasks``) where the recording ran
``admin/cli/adhoc_task.php``; ``bdtx`` runs it when a command that used the in-process
sandbox ends (Moodle's cron runs every minute, a command takes longer); the served
sandbox runs it on ``POST /admin/cli/adhoc_task.php`` with a service token.
"""

from __future__ import annotations

from sandbox import building
from sandbox.state import Site

ADMIN_USERID = 2


def _refresh_calendar_events(site: Site, courseid: int, now: int) -> None:
    course = site.courses.get(courseid)
    if course is None:
        return
    activities = sorted(site.course_activities(course), key=lambda a: (a.modname, a.instance))
    for activity in activities:
        building.refresh_activity_events(site, activity, ADMIN_USERID, now)


def run_background_tasks(site: Site, now: int) -> int:
    """Run every queued task, oldest first; returns how many ran. Hold ``site.lock``."""
    ran = 0
    while site.background_tasks:
        task = site.background_tasks.pop(0)
        if task.kind == building.REFRESH_CALENDAR_EVENTS:
            _refresh_calendar_events(site, task.courseid, now)
        ran += 1
    return ran
