"""Survey (feedback) reports: who answered and what.

Moodle 4.5 (recorded in ``_meta__grading_scenario.json``): for a non-anonymous feedback,
``mod_feedback_get_responses_analysis`` lists every attempt with its user and answers, in
one call per feedback (``perpage`` 0: all). Neither function is in a typical service:
``bdtx lms check`` names them. Both need ``mod/feedback:viewreports``.
"""

from __future__ import annotations

from connector.client import MoodleClient
from connector.common import MoodleModel, WsWarning, parse

GET_RESPONSES_ANALYSIS = "mod_feedback_get_responses_analysis"


class FeedbackAnswer(MoodleModel):
    id: int  # the question (item) id
    name: str  # "(label) question"
    printval: str
    rawval: str


class FeedbackAttempt(MoodleModel):
    id: int
    userid: int
    timemodified: int
    fullname: str = ""
    responses: tuple[FeedbackAnswer, ...] = ()

    def answer(self, label: str) -> FeedbackAnswer | None:
        """The answer to the question labelled ``label`` (the ``(label)`` of its name)."""
        prefix = f"({label}) "
        for response in self.responses:
            if response.name.startswith(prefix):
                return response
        return None


class ResponsesAnalysis(MoodleModel):
    attempts: tuple[FeedbackAttempt, ...] = ()
    totalattempts: int = 0
    totalanonattempts: int = 0
    warnings: tuple[WsWarning, ...] = ()


class Feedback:
    """Feedback (survey) report functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def get_responses_analysis(self, feedbackid: int) -> ResponsesAnalysis:
        """Every named attempt of a feedback: ``mod_feedback_get_responses_analysis``."""
        payload = self._client.call(
            GET_RESPONSES_ANALYSIS, {"feedbackid": feedbackid, "page": 0, "perpage": 0}
        )
        return parse(ResponsesAnalysis, payload, GET_RESPONSES_ANALYSIS)
