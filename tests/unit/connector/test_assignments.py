"""``connector.assignments`` against recorded answers."""

from __future__ import annotations

import pytest

from connector.assignments import (
    GET_ASSIGNMENTS,
    GET_GRADES,
    GET_SUBMISSIONS,
    SAVE_GRADE,
    SAVE_SUBMISSION,
    SAVE_USER_EXTENSIONS,
    SUBMIT_FOR_GRADING,
    Assignment,
    Assignments,
)
from connector.errors import LmsInvalidParameter, LmsMissingCapability
from tests.contract import recorded

from .recorded_replies import RecordedReplies, recorded_form, serve


def final_product() -> Assignment:
    """The recorded assignment (max grade 100) as get_assignments parses it."""
    _, client = serve("mod_assign_get_assignments__ok")
    [assignment] = Assignments(client).get_assignments([3]).assignments
    return assignment


def test_assignments_are_parsed_with_dates_and_max_grade() -> None:
    case = "mod_assign_get_assignments__ok"
    replies, client = serve(case)

    found = Assignments(client).get_assignments([3])

    assert replies.sent(GET_ASSIGNMENTS) == [recorded_form(case)]
    [assignment] = found.assignments
    assert (assignment.id, assignment.cmid, assignment.course) == (3, 18, 3)
    assert (assignment.duedate, assignment.cutoffdate) == (1796144400, 1796490000)
    assert assignment.max_grade == 100.0
    assert assignment.completionsubmit is True


def test_not_enrolled_courses_need_the_flag() -> None:
    case = "mod_assign_get_assignments__warning_not_enrolled"
    replies, client = serve(case)
    found = Assignments(client).get_assignments([2], includenotenrolledcourses=False)
    assert replies.sent(GET_ASSIGNMENTS) == [
        [("courseids[0]", "2"), ("includenotenrolledcourses", "0")]
    ]
    assert found.courses == ()
    assert found.warnings[0].itemid == 2


def test_submissions_and_grades_are_parsed() -> None:
    replies = RecordedReplies(
        {GET_SUBMISSIONS: "mod_assign_get_submissions__ok", GET_GRADES: "mod_assign_get_grades__ok"}
    )
    assignments = Assignments(replies.client())

    [submission] = assignments.get_submissions([3]).assignments[0].submissions
    grades = assignments.get_grades([3]).assignments[0].grades

    assert replies.sent(GET_SUBMISSIONS) == [recorded_form("mod_assign_get_submissions__ok")]
    assert replies.sent(GET_GRADES) == [recorded_form("mod_assign_get_grades__ok")]
    assert (submission.userid, submission.status) == (5, "submitted")
    assert submission.onlinetext == "<p>Sản phẩm cuối của Nhung</p>"
    assert [(grade.userid, grade.grade) for grade in grades] == [(5, 85.0), (6, 40.0)]


def test_save_grade_with_feedback_sends_the_recorded_form() -> None:
    case = "mod_assign_save_grade__ok_teacher"
    replies, client = serve(case)
    Assignments(client).save_grade(final_product(), 5, 85, feedback="Tốt lắm!")
    assert replies.sent(SAVE_GRADE) == [recorded_form(case)]


def test_save_grade_without_feedback() -> None:
    case = "mod_assign_save_grade__ok_syncbot_no_submission"
    replies, client = serve(case)
    Assignments(client).save_grade(final_product(), 6, 40.0)
    assert replies.sent(SAVE_GRADE) == [recorded_form(case)]


def test_a_grade_above_the_maximum_is_refused_before_moodle_ignores_it() -> None:
    record = recorded("mod_assign_save_grade__grade_above_max_silently_ignored")
    assert record["response"] is None  # what Moodle answers: nothing, grade unchanged
    replies = RecordedReplies({})

    with pytest.raises(LmsInvalidParameter) as raised:
        Assignments(replies.client()).save_grade(final_product(), 5, record["params"]["grade"])

    assert replies.requests == []
    assert raised.value.errorcode == "gradeabovemaximum"
    assert raised.value.message == (
        "user 5 in assignment 3 'Final product': grade 150 is above the maximum 100; "
        "Moodle would silently keep the old grade"
    )


@pytest.mark.parametrize("grade", [-1.0, float("nan"), float("inf")])
def test_grades_that_are_not_grades_are_refused(grade: float) -> None:
    replies = RecordedReplies({})
    with pytest.raises(LmsInvalidParameter):
        Assignments(replies.client()).save_grade(final_product(), 5, grade)
    assert replies.requests == []


def test_scale_graded_assignments_are_refused() -> None:
    scale = final_product().model_copy(update={"grade": -2.0})
    with pytest.raises(LmsInvalidParameter, match="scale"):
        Assignments(RecordedReplies({}).client()).save_grade(scale, 5, 1)


def test_grading_without_the_capability() -> None:
    _, client = serve("mod_assign_save_grade__error_student_no_capability")
    with pytest.raises(LmsMissingCapability):
        Assignments(client).save_grade(final_product(), 5, 100)


def test_extensions_granted() -> None:
    case = "mod_assign_save_user_extensions__ok"
    replies, client = serve(case)
    outcome = Assignments(client).save_user_extensions(3, {6: 1798909200})
    assert replies.sent(SAVE_USER_EXTENSIONS) == [recorded_form(case)]
    assert outcome.granted == (6,)
    assert outcome.refused == {}


def test_an_extension_before_the_due_date_is_refused_for_that_user() -> None:
    case = "mod_assign_save_user_extensions__error_before_duedate"
    replies, client = serve(case)
    outcome = Assignments(client).save_user_extensions(3, {7: 1796058000})
    assert replies.sent(SAVE_USER_EXTENSIONS) == [recorded_form(case)]
    assert outcome.granted == ()
    assert outcome.refused[7].warningcode == "couldnotgrantextensions"


def test_no_extensions_no_call() -> None:
    replies = RecordedReplies({})
    assert Assignments(replies.client()).save_user_extensions(3, {}).granted == ()
    assert replies.requests == []


def test_a_learner_saves_and_submits() -> None:
    replies = RecordedReplies(
        {
            SAVE_SUBMISSION: "mod_assign_save_submission__ok_student_onlinetext",
            SUBMIT_FOR_GRADING: "mod_assign_submit_for_grading__student",
        }
    )
    assignments = Assignments(replies.client())

    saved = assignments.save_submission(3, onlinetext="<p>Sản phẩm cuối của Nhung</p>")
    submitted = assignments.submit_for_grading(3)

    assert replies.sent(SAVE_SUBMISSION) == [
        recorded_form("mod_assign_save_submission__ok_student_onlinetext")
    ]
    assert replies.sent(SUBMIT_FOR_GRADING) == [
        recorded_form("mod_assign_submit_for_grading__student")
    ]
    assert saved == ()
    assert [warning.warningcode for warning in submitted] == ["couldnotsubmitforgrading"]
