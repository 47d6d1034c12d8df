"""Assignments: ``mod_assign_*``.

Recorded traps this module guards against:

* ``mod_assign_save_grade`` with a grade above the assignment's maximum answers ``null``
  (no error, no warning) and leaves the stored grade unchanged:
  :meth:`Assignments.save_grade` takes the assignment and refuses such a grade;
* ``mod_assign_get_assignments`` returns nothing for courses the service user is not
  enrolled in unless ``includenotenrolledcourses`` is on (the default here);
* ``mod_assign_save_user_extensions`` reports a refused extension as a warning, not an
  error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.client import MoodleClient
from connector.common import MoodleModel, WsWarning, parse, parse_warnings, refused

GET_ASSIGNMENTS = "mod_assign_get_assignments"
GET_SUBMISSIONS = "mod_assign_get_submissions"
GET_GRADES = "mod_assign_get_grades"
SAVE_GRADE = "mod_assign_save_grade"
SAVE_USER_EXTENSIONS = "mod_assign_save_user_extensions"
SAVE_SUBMISSION = "mod_assign_save_submission"
SUBMIT_FOR_GRADING = "mod_assign_submit_for_grading"

_EXTENSION_ITEM = re.compile(r"User id: (\d+)")


class AssignmentConfig(MoodleModel):
    plugin: str
    subtype: str
    name: str
    value: str | None = None


class Assignment(MoodleModel):
    """An assignment's settings; ``grade`` is the maximum grade (negative: a scale id)."""

    id: int
    cmid: int
    course: int
    name: str
    grade: float
    duedate: int = 0
    allowsubmissionsfromdate: int = 0
    cutoffdate: int = 0
    gradingduedate: int = 0
    completionsubmit: bool | None = None
    teamsubmission: bool | None = None
    maxattempts: int | None = None
    attemptreopenmethod: str | None = None
    markingworkflow: bool | None = None
    configs: tuple[AssignmentConfig, ...] = ()

    @property
    def max_grade(self) -> float | None:
        """The highest point grade, or ``None`` when graded on a scale or not graded."""
        return self.grade if self.grade > 0 else None


class AssignmentCourse(MoodleModel):
    id: int
    fullname: str = ""
    shortname: str = ""
    assignments: tuple[Assignment, ...] = ()


class AssignmentList(MoodleModel):
    """Answer of ``mod_assign_get_assignments``: assignments grouped by course."""

    courses: tuple[AssignmentCourse, ...] = ()
    warnings: tuple[WsWarning, ...] = ()

    @property
    def assignments(self) -> list[Assignment]:
        return [assignment for course in self.courses for assignment in course.assignments]


class EditorField(MoodleModel):
    name: str
    text: str = ""
    format: int | None = None


class SubmissionPlugin(MoodleModel):
    type: str
    name: str = ""
    editorfields: tuple[EditorField, ...] = ()


class Submission(MoodleModel):
    """One user's (or group's) submission."""

    id: int
    userid: int
    attemptnumber: int = 0
    status: str
    groupid: int = 0
    timecreated: int | None = None
    timemodified: int | None = None
    gradingstatus: str | None = None
    plugins: tuple[SubmissionPlugin, ...] = ()

    @property
    def onlinetext(self) -> str | None:
        for plugin in self.plugins:
            if plugin.type == "onlinetext" and plugin.editorfields:
                return plugin.editorfields[0].text
        return None


class AssignmentSubmissions(MoodleModel):
    assignmentid: int
    submissions: tuple[Submission, ...] = ()


class SubmissionList(MoodleModel):
    assignments: tuple[AssignmentSubmissions, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


class AssignGrade(MoodleModel):
    """A grade given in the assignment (``grade`` as a number; ``-1``: not graded)."""

    id: int
    userid: int
    attemptnumber: int = 0
    grade: float | None = None
    grader: int | None = None
    timecreated: int | None = None
    timemodified: int | None = None


class AssignmentGrades(MoodleModel):
    assignmentid: int
    grades: tuple[AssignGrade, ...] = ()


class GradeList(MoodleModel):
    assignments: tuple[AssignmentGrades, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


@dataclass(frozen=True)
class ExtensionOutcome:
    """Which users got their extension and which were refused, with Moodle's reason."""

    granted: tuple[int, ...]
    refused: Mapping[int, WsWarning]


class Assignments:
    """``mod_assign_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def get_assignments(
        self, courseids: Sequence[int], *, includenotenrolledcourses: bool = True
    ) -> AssignmentList:
        """Assignments of courses: ``mod_assign_get_assignments``.

        ``includenotenrolledcourses`` is on by default: the service user is usually not
        enrolled, and Moodle would otherwise answer nothing but a warning.
        """
        params: dict[str, Any] = {
            "courseids": list(courseids),
            "includenotenrolledcourses": includenotenrolledcourses,
        }
        return parse(AssignmentList, self._client.call(GET_ASSIGNMENTS, params), GET_ASSIGNMENTS)

    def get_submissions(
        self,
        assignmentids: Sequence[int],
        *,
        status: str | None = None,
        since: int | None = None,
        before: int | None = None,
    ) -> SubmissionList:
        """Submissions of assignments: ``mod_assign_get_submissions``."""
        params: dict[str, Any] = {
            "assignmentids": list(assignmentids),
            "status": status,
            "since": since,
            "before": before,
        }
        return parse(SubmissionList, self._client.call(GET_SUBMISSIONS, params), GET_SUBMISSIONS)

    def get_grades(self, assignmentids: Sequence[int], *, since: int | None = None) -> GradeList:
        """Grades given in assignments: ``mod_assign_get_grades``."""
        params: dict[str, Any] = {"assignmentids": list(assignmentids), "since": since}
        return parse(GradeList, self._client.call(GET_GRADES, params), GET_GRADES)

    def save_grade(
        self,
        assignment: Assignment,
        userid: int,
        grade: float,
        *,
        feedback: str | None = None,
        feedbackformat: int = 1,
        attemptnumber: int = -1,
        addattempt: bool = False,
        workflowstate: str = "",
        applytoall: bool = True,
    ) -> None:
        """Grade a user's submission: ``mod_assign_save_grade``.

        Takes the :class:`Assignment` (from :meth:`get_assignments`) so the grade can be
        checked against its maximum: Moodle silently ignores a grade above it. Refused
        here, with :class:`~connector.errors.LmsInvalidParameter`: a grade above the
        maximum, below 0 or not a number, and any grade for an assignment without point
        grading. ``feedback`` goes to the feedback comments.
        """
        maximum = assignment.max_grade
        where = f"user {userid} in assignment {assignment.id} {assignment.name!r}"
        if maximum is None:
            raise refused(
                f"{where}: the assignment is graded on a scale or not graded; "
                "only point grades can be saved",
                wsfunction=SAVE_GRADE,
                errorcode="notpointgraded",
            )
        if not math.isfinite(grade) or grade < 0:
            raise refused(f"{where}: grade {grade} is not a grade", wsfunction=SAVE_GRADE)
        if grade > maximum:
            raise refused(
                f"{where}: grade {grade:g} is above the maximum {maximum:g}; "
                "Moodle would silently keep the old grade",
                wsfunction=SAVE_GRADE,
                errorcode="gradeabovemaximum",
            )
        params: dict[str, Any] = {
            "assignmentid": assignment.id,
            "userid": userid,
            "grade": grade,
            "attemptnumber": attemptnumber,
            "addattempt": addattempt,
            "workflowstate": workflowstate,
            "applytoall": applytoall,
        }
        if feedback is not None:
            params["plugindata"] = {
                "assignfeedbackcomments_editor": {"text": feedback, "format": feedbackformat}
            }
        self._client.call(SAVE_GRADE, params, write=True)

    def save_user_extensions(
        self, assignmentid: int, due_dates: Mapping[int, int]
    ) -> ExtensionOutcome:
        """Give users a later due date: ``mod_assign_save_user_extensions``.

        ``due_dates`` maps user id to the extended due date (a timestamp after the
        assignment's due date; a second extension replaces the first). Refused users come
        back in ``refused`` with Moodle's warning.
        """
        userids = list(due_dates)
        if not userids:
            return ExtensionOutcome(granted=(), refused={})
        params: dict[str, Any] = {
            "assignmentid": assignmentid,
            "userids": userids,
            "dates": [due_dates[userid] for userid in userids],
        }
        payload = self._client.call(SAVE_USER_EXTENSIONS, params, write=True)
        warnings = parse_warnings(payload, SAVE_USER_EXTENSIONS)
        refused_users: dict[int, WsWarning] = {}
        for warning in warnings:
            match = _EXTENSION_ITEM.search(warning.item or "")
            if match is None or int(match.group(1)) not in due_dates:
                refused_users.update({userid: warning for userid in userids})
            else:
                refused_users[int(match.group(1))] = warning
        granted = tuple(userid for userid in userids if userid not in refused_users)
        return ExtensionOutcome(granted=granted, refused=refused_users)

    def save_submission(
        self, assignmentid: int, *, onlinetext: str, textformat: int = 1, itemid: int = 0
    ) -> tuple[WsWarning, ...]:
        """Save the calling user's online-text submission: ``mod_assign_save_submission``.

        Acts as the token's user (a learner's token in simulations). Returns Moodle's
        warnings (empty: saved).
        """
        params: dict[str, Any] = {
            "assignmentid": assignmentid,
            "plugindata": {
                "onlinetext_editor": {"text": onlinetext, "format": textformat, "itemid": itemid}
            },
        }
        return parse_warnings(
            self._client.call(SAVE_SUBMISSION, params, write=True), SAVE_SUBMISSION
        )

    def submit_for_grading(
        self, assignmentid: int, *, acceptsubmissionstatement: bool = True
    ) -> tuple[WsWarning, ...]:
        """Submit the calling user's draft: ``mod_assign_submit_for_grading``.

        Returns Moodle's warnings; ``couldnotsubmitforgrading`` when there is no draft to
        submit (an assignment without drafts submits on save).
        """
        params: dict[str, Any] = {
            "assignmentid": assignmentid,
            "acceptsubmissionstatement": acceptsubmissionstatement,
        }
        payload = self._client.call(SUBMIT_FOR_GRADING, params, write=True)
        return parse_warnings(payload, SUBMIT_FOR_GRADING)
