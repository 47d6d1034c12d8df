"""What a pull from the LMS knows about one learner of one run: plain, frozen data.

The pull (an adapter) fills these from Moodle's grade items, submissions, grades and
completion states; the completion rule (:mod:`grading.rule`) decides from them alone.
Grades are raw values on the LMS item's own scale (an assignment out of 100, a quiz out
of 10); ``None`` means "no grade", never zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Seat(StrEnum):
    """Which kind of enrolment the evidence is for."""

    MAIN = "main"
    """The learner's main subject (or the managers' version): certified."""
    REFERENCE = "reference"
    """A reference (concurrent) subject: self-study, reported separately, never certified."""


@dataclass(frozen=True)
class ActivityEvidence:
    """One activity of the course for one learner, as the LMS reports it.

    ``complete`` is the LMS's own completion state (Moodle: 1 complete or 2 complete-pass;
    3 "complete, fail" is not complete for the rule). ``grade``/``grade_max``/``pass_grade``
    are set for graded activities (a quiz): ``pass_grade`` is the item's "grade to pass".
    """

    idnumber: str
    complete: bool
    grade: float | None = None
    grade_max: float | None = None
    pass_grade: float | None = None

    @property
    def is_graded_item(self) -> bool:
        return self.grade_max is not None and self.pass_grade is not None and self.pass_grade > 0


@dataclass(frozen=True)
class FinalAssignment:
    """The final assignment (bài tập cuối khóa / sản phẩm cuối mô đun) of one learner.

    ``grader_id`` is the LMS id of whoever saved the grade: Moodle records it and does not
    check that they teach the learner's group, so the rule does.
    """

    submitted: bool = False
    grade: float | None = None
    grade_max: float = 100.0
    grader_id: int | None = None
    graded_at: int | None = None  # epoch seconds, as the LMS gives it


@dataclass(frozen=True)
class LearnerEvidence:
    """Everything the rule needs about one learner's seat in one run."""

    identity_code: str
    class_code: str
    seat: Seat = Seat.MAIN
    course_idnumber: str = ""
    exempt: bool = False
    activities: Mapping[str, ActivityEvidence] = field(default_factory=dict)
    final: FinalAssignment = field(default_factory=FinalAssignment)
    survey_answered: bool = False
    survey_rating: str | None = None  # the value chosen on the configured rating question
