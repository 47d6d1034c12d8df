"""Quizzes: ``mod_quiz_*``.

The reads (quizzes, attempts, best grade) serve the progress pull with the service
token. ``start_attempt``, ``process_attempt`` and ``get_attempt_data`` act as the
token's own user: the sandbox uses them with a learner's token to take a quiz.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from connector.client import MoodleClient
from connector.common import MoodleModel, WsWarning, parse

GET_QUIZZES_BY_COURSES = "mod_quiz_get_quizzes_by_courses"
GET_USER_ATTEMPTS = "mod_quiz_get_user_attempts"
GET_USER_BEST_GRADE = "mod_quiz_get_user_best_grade"
START_ATTEMPT = "mod_quiz_start_attempt"
PROCESS_ATTEMPT = "mod_quiz_process_attempt"
GET_ATTEMPT_DATA = "mod_quiz_get_attempt_data"

AttemptStatus = Literal["all", "finished", "unfinished"]


class Quiz(MoodleModel):
    """A quiz's settings; ``grade`` is the maximum grade, ``sumgrades`` the raw total."""

    id: int
    coursemodule: int
    course: int
    name: str
    timeopen: int = 0
    timeclose: int = 0
    timelimit: int = 0
    attempts: int = 0
    grademethod: int | None = None
    grade: float | None = None
    sumgrades: float | None = None
    visible: bool | None = None
    completionpass: bool | None = None
    completionattemptsexhausted: bool | None = None
    hasquestions: bool | None = None


class QuizList(MoodleModel):
    quizzes: tuple[Quiz, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


class QuizAttempt(MoodleModel):
    """One attempt; ``sumgrades`` is the raw mark (``None`` until graded)."""

    id: int
    quiz: int
    userid: int
    attempt: int
    uniqueid: int | None = None
    state: str
    preview: bool | None = None
    timestart: int = 0
    timefinish: int = 0
    timemodified: int | None = None
    sumgrades: float | None = None


class AttemptList(MoodleModel):
    attempts: tuple[QuizAttempt, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


class BestGrade(MoodleModel):
    """A user's best quiz grade on the quiz's scale (``grade`` absent: no graded attempt)."""

    hasgrade: bool
    grade: float | None = None
    gradetopass: float | None = None
    warnings: tuple[WsWarning, ...] = ()

    @property
    def passed(self) -> bool | None:
        """Whether the best grade reaches the pass grade (``None``: no grade or no pass grade)."""
        if self.grade is None or self.gradetopass is None:
            return None
        return self.grade >= self.gradetopass


class StartedAttempt(MoodleModel):
    attempt: QuizAttempt
    warnings: tuple[WsWarning, ...] = ()


class AttemptState(MoodleModel):
    state: str
    warnings: tuple[WsWarning, ...] = ()


class AttemptQuestion(MoodleModel):
    """A question on an attempt page; ``sequencecheck`` goes back with the answer."""

    slot: int
    type: str
    page: int
    sequencecheck: int | None = None
    state: str | None = None
    status: str | None = None
    flagged: bool | None = None
    maxmark: float | None = None
    html: str = ""


class AttemptData(MoodleModel):
    attempt: QuizAttempt
    messages: tuple[str, ...] = ()
    nextpage: int
    questions: tuple[AttemptQuestion, ...] = ()
    warnings: tuple[WsWarning, ...] = ()


def _named(values: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in (values or {}).items()]


class Quizzes:
    """``mod_quiz_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def get_quizzes_by_courses(self, courseids: Sequence[int]) -> QuizList:
        """Quizzes of courses: ``mod_quiz_get_quizzes_by_courses``."""
        payload = self._client.call(GET_QUIZZES_BY_COURSES, {"courseids": list(courseids)})
        return parse(QuizList, payload, GET_QUIZZES_BY_COURSES)

    def get_user_attempts(
        self,
        quizid: int,
        *,
        userid: int | None = None,
        status: AttemptStatus = "all",
        includepreviews: bool | None = None,
    ) -> AttemptList:
        """A user's attempts at a quiz: ``mod_quiz_get_user_attempts``.

        ``userid=None`` means the token's own user.
        """
        params: dict[str, Any] = {
            "quizid": quizid,
            "userid": userid,
            "status": status,
            "includepreviews": includepreviews,
        }
        payload = self._client.call(GET_USER_ATTEMPTS, params)
        return parse(AttemptList, payload, GET_USER_ATTEMPTS)

    def get_user_best_grade(self, quizid: int, *, userid: int | None = None) -> BestGrade:
        """A user's best grade in a quiz: ``mod_quiz_get_user_best_grade``."""
        payload = self._client.call(GET_USER_BEST_GRADE, {"quizid": quizid, "userid": userid})
        return parse(BestGrade, payload, GET_USER_BEST_GRADE)

    def start_attempt(
        self,
        quizid: int,
        *,
        preflightdata: Mapping[str, str] | None = None,
        forcenew: bool | None = None,
    ) -> StartedAttempt:
        """Start an attempt as the token's user: ``mod_quiz_start_attempt``."""
        params: dict[str, Any] = {
            "quizid": quizid,
            "preflightdata": _named(preflightdata),
            "forcenew": forcenew,
        }
        return parse(
            StartedAttempt, self._client.call(START_ATTEMPT, params, write=True), START_ATTEMPT
        )

    def process_attempt(
        self,
        attemptid: int,
        data: Mapping[str, str],
        *,
        finishattempt: bool = False,
        timeup: bool | None = None,
        preflightdata: Mapping[str, str] | None = None,
    ) -> AttemptState:
        """Answer questions, and finish the attempt if asked: ``mod_quiz_process_attempt``.

        ``data`` holds the form fields of the answers, such as ``q1:1_answer`` and the
        ``q1:1_:sequencecheck`` taken from :meth:`get_attempt_data`.
        """
        params: dict[str, Any] = {
            "attemptid": attemptid,
            "data": _named(data),
            "finishattempt": finishattempt,
            "timeup": timeup,
            "preflightdata": _named(preflightdata),
        }
        payload = self._client.call(PROCESS_ATTEMPT, params, write=True)
        return parse(AttemptState, payload, PROCESS_ATTEMPT)

    def get_attempt_data(
        self, attemptid: int, page: int, *, preflightdata: Mapping[str, str] | None = None
    ) -> AttemptData:
        """One page of an attempt, with its questions: ``mod_quiz_get_attempt_data``."""
        params: dict[str, Any] = {
            "attemptid": attemptid,
            "page": page,
            "preflightdata": _named(preflightdata),
        }
        return parse(AttemptData, self._client.call(GET_ATTEMPT_DATA, params), GET_ATTEMPT_DATA)
