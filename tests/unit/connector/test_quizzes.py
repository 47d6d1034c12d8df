"""``connector.quizzes`` against recorded answers."""

from __future__ import annotations

from connector.quizzes import (
    GET_ATTEMPT_DATA,
    GET_QUIZZES_BY_COURSES,
    GET_USER_ATTEMPTS,
    GET_USER_BEST_GRADE,
    PROCESS_ATTEMPT,
    START_ATTEMPT,
    Quizzes,
)

from .recorded_replies import RecordedReplies, recorded_form, serve


def test_quizzes_are_parsed_with_dates_and_grade() -> None:
    case = "mod_quiz_get_quizzes_by_courses__ok"
    replies, client = serve(case)

    [quiz] = Quizzes(client).get_quizzes_by_courses([3]).quizzes

    assert replies.sent(GET_QUIZZES_BY_COURSES) == [recorded_form(case)]
    assert (quiz.id, quiz.coursemodule, quiz.course) == (3, 17, 3)
    assert (quiz.timeopen, quiz.timeclose) == (1795366800, 1795971600)
    assert (quiz.grade, quiz.sumgrades, quiz.attempts) == (10.0, 1.0, 3)


def test_attempts_of_a_user() -> None:
    case = "mod_quiz_get_user_attempts__ok_after_attempt"
    replies, client = serve(case)

    [attempt] = Quizzes(client).get_user_attempts(3, userid=5).attempts

    assert replies.sent(GET_USER_ATTEMPTS) == [recorded_form(case)]
    assert (attempt.state, attempt.sumgrades, attempt.timefinish) == ("finished", 1.0, 1795559073)


def test_no_attempts() -> None:
    _, client = serve("mod_quiz_get_user_attempts__ok_no_attempts")
    assert Quizzes(client).get_user_attempts(3, userid=5).attempts == ()


def test_best_grade_with_and_without_attempts() -> None:
    replies, client = serve("mod_quiz_get_user_best_grade__ok_after_attempt")
    best = Quizzes(client).get_user_best_grade(3, userid=5)
    assert replies.sent(GET_USER_BEST_GRADE) == [
        recorded_form("mod_quiz_get_user_best_grade__ok_after_attempt")
    ]
    assert (best.hasgrade, best.grade, best.gradetopass, best.passed) == (True, 10.0, 5.0, True)

    _, client = serve("mod_quiz_get_user_best_grade__ok_no_attempts")
    none = Quizzes(client).get_user_best_grade(3, userid=5)
    assert (none.hasgrade, none.grade, none.passed) == (False, None, None)


def test_a_learner_takes_the_quiz() -> None:
    replies = RecordedReplies(
        {
            START_ATTEMPT: "mod_quiz_start_attempt__student",
            GET_ATTEMPT_DATA: "mod_quiz_get_attempt_data__student",
            PROCESS_ATTEMPT: "mod_quiz_process_attempt__student_finish",
        }
    )
    quizzes = Quizzes(replies.client())

    started = quizzes.start_attempt(3)
    page = quizzes.get_attempt_data(started.attempt.id, 0)
    [question] = page.questions
    state = quizzes.process_attempt(
        started.attempt.id,
        {f"q1:{question.slot}_:sequencecheck": str(question.sequencecheck), "q1:1_answer": "1"},
        finishattempt=True,
    )

    assert replies.sent(START_ATTEMPT) == [recorded_form("mod_quiz_start_attempt__student")]
    assert replies.sent(GET_ATTEMPT_DATA) == [recorded_form("mod_quiz_get_attempt_data__student")]
    assert replies.sent(PROCESS_ATTEMPT) == [
        recorded_form("mod_quiz_process_attempt__student_finish")
    ]
    assert (started.attempt.state, page.nextpage, question.type) == ("inprogress", -1, "truefalse")
    assert state.state == "finished"
