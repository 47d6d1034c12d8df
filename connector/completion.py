"""Activity and course completion: ``core_completion_*``.

Recorded behaviour worth knowing:

* the course completion status ``completed`` is what Moodle's completion cron last
  aggregated; activity completions show changes at once;
* an override is accepted even for a user not enrolled in the course;
* ``core_completion_update_activity_completion_status_manually`` has no user parameter:
  it acts on the token's own user (a learner's token in simulations).
"""

from __future__ import annotations

from typing import Any

from connector.client import MoodleClient
from connector.common import MoodleModel, WsWarning, parse

GET_ACTIVITIES_COMPLETION_STATUS = "core_completion_get_activities_completion_status"
GET_COURSE_COMPLETION_STATUS = "core_completion_get_course_completion_status"
OVERRIDE_ACTIVITY_COMPLETION_STATUS = "core_completion_override_activity_completion_status"
UPDATE_ACTIVITY_COMPLETION_STATUS_MANUALLY = (
    "core_completion_update_activity_completion_status_manually"
)

# Completion states (COMPLETION_* in Moodle).
INCOMPLETE, COMPLETE, COMPLETE_PASS, COMPLETE_FAIL = 0, 1, 2, 3


class RuleValue(MoodleModel):
    status: int
    description: str = ""


class CompletionRuleStatus(MoodleModel):
    rulename: str
    rulevalue: RuleValue


class ActivityCompletion(MoodleModel):
    """A user's completion of one activity; ``overrideby`` is who overrode it, if anyone."""

    cmid: int
    modname: str
    instance: int
    state: int
    timecompleted: int = 0
    tracking: int = 0
    overrideby: int | None = None
    hascompletion: bool | None = None
    isautomatic: bool | None = None
    istrackeduser: bool | None = None
    isoverallcomplete: bool | None = None
    details: tuple[CompletionRuleStatus, ...] = ()

    @property
    def complete(self) -> bool:
        """Complete, or complete with a pass grade (not "complete, failed")."""
        return self.state in (COMPLETE, COMPLETE_PASS)


class ActivitiesCompletion(MoodleModel):
    statuses: tuple[ActivityCompletion, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


class CriterionDetails(MoodleModel):
    type: str = ""
    criteria: str = ""
    requirement: str = ""
    status: str = ""


class CourseCriterionStatus(MoodleModel):
    """One course completion criterion and whether the user meets it."""

    type: int
    title: str = ""
    status: str = ""
    complete: bool
    timecompleted: int | None = None
    details: CriterionDetails | None = None


class CourseCompletionStatus(MoodleModel):
    """A user's course completion, as last aggregated by the completion cron."""

    completed: bool
    aggregation: int
    completions: tuple[CourseCriterionStatus, ...] = ()


class _CourseCompletionAnswer(MoodleModel):
    completionstatus: CourseCompletionStatus
    warnings: tuple[WsWarning, ...] = ()


class CompletionOverride(MoodleModel):
    """The activity completion after an override."""

    cmid: int
    userid: int
    state: int
    timecompleted: int | None = None
    overrideby: int | None = None
    tracking: int | None = None


class ManualCompletionAnswer(MoodleModel):
    status: bool
    warnings: tuple[WsWarning, ...] = ()


class Completion:
    """``core_completion_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def get_activities_completion_status(self, courseid: int, userid: int) -> ActivitiesCompletion:
        """A user's completion of every tracked activity of a course.

        Calls ``core_completion_get_activities_completion_status``.
        """
        params = {"courseid": courseid, "userid": userid}
        payload = self._client.call(GET_ACTIVITIES_COMPLETION_STATUS, params)
        return parse(ActivitiesCompletion, payload, GET_ACTIVITIES_COMPLETION_STATUS)

    def get_course_completion_status(self, courseid: int, userid: int) -> CourseCompletionStatus:
        """A user's course completion: ``core_completion_get_course_completion_status``."""
        params = {"courseid": courseid, "userid": userid}
        payload = self._client.call(GET_COURSE_COMPLETION_STATUS, params)
        return parse(
            _CourseCompletionAnswer, payload, GET_COURSE_COMPLETION_STATUS
        ).completionstatus

    def override_activity_completion_status(
        self, userid: int, cmid: int, *, complete: bool
    ) -> CompletionOverride:
        """Mark an activity complete or incomplete for a user, as a teacher would.

        Calls ``core_completion_override_activity_completion_status``. Only the two
        states Moodle accepts can be expressed (it fails with ``err_system`` for others).
        """
        params: dict[str, Any] = {"userid": userid, "cmid": cmid, "newstate": complete}
        payload = self._client.call(OVERRIDE_ACTIVITY_COMPLETION_STATUS, params, write=True)
        return parse(CompletionOverride, payload, OVERRIDE_ACTIVITY_COMPLETION_STATUS)

    def update_activity_completion_status_manually(
        self, cmid: int, *, completed: bool
    ) -> ManualCompletionAnswer:
        """Tick a manual-completion activity for the token's own user.

        Calls ``core_completion_update_activity_completion_status_manually``; Moodle
        refuses it (``cannotmanualctrack``) for an activity with automatic completion.
        """
        params: dict[str, Any] = {"cmid": cmid, "completed": completed}
        payload = self._client.call(UPDATE_ACTIVITY_COMPLETION_STATUS_MANUALLY, params, write=True)
        return parse(ManualCompletionAnswer, payload, UPDATE_ACTIVITY_COMPLETION_STATUS_MANUALLY)
