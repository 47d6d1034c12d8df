"""The gradebook as the user report shows it: ``gradereport_user_get_grade_items``."""

from __future__ import annotations

from typing import Any

from connector.client import MoodleClient
from connector.common import MoodleModel, WsWarning, parse

GET_GRADE_ITEMS = "gradereport_user_get_grade_items"


class GradeItem(MoodleModel):
    """One grade item of a user's report; ``graderaw`` is ``None`` when not graded."""

    id: int
    itemname: str | None = None
    itemtype: str
    itemmodule: str | None = None
    iteminstance: int | None = None
    itemnumber: int | None = None
    idnumber: str | None = None
    cmid: int | None = None
    graderaw: float | None = None
    grademin: float | None = None
    grademax: float | None = None
    gradedategraded: int | None = None
    gradedatesubmitted: int | None = None
    gradeishidden: bool | None = None
    gradeislocked: bool | None = None
    gradeisoverridden: bool | None = None
    gradeformatted: str | None = None
    feedback: str | None = None


class UserGrades(MoodleModel):
    """The grade items of one user in one course."""

    courseid: int
    userid: int
    userfullname: str = ""
    useridnumber: str | None = None
    gradeitems: tuple[GradeItem, ...] = ()

    def item(self, itemmodule: str, cmid: int) -> GradeItem | None:
        """The grade item of an activity (by module name and course module id)."""
        for item in self.gradeitems:
            if item.itemmodule == itemmodule and item.cmid == cmid:
                return item
        return None

    @property
    def course_item(self) -> GradeItem | None:
        """The course total."""
        for item in self.gradeitems:
            if item.itemtype == "course":
                return item
        return None


class GradeReport(MoodleModel):
    usergrades: tuple[UserGrades, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


class Grades:
    """Gradebook web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def get_grade_items(
        self, courseid: int, *, userid: int | None = None, groupid: int | None = None
    ) -> GradeReport:
        """Grade items of one user, or of every user (``userid=None``), in a course.

        Calls ``gradereport_user_get_grade_items``.
        """
        params: dict[str, Any] = {"courseid": courseid, "userid": userid, "groupid": groupid}
        return parse(GradeReport, self._client.call(GET_GRADE_ITEMS, params), GET_GRADE_ITEMS)
