"""Pull what the completion rule needs from the LMS, per run, with calls that grow with
courses, not learners.

What Moodle 4.5 offers (recorded: ``_meta__grading_scenario.json``):

* ``gradereport_user_get_grade_items`` — one call per course, every learner's quiz and
  final-assignment grades, with each item's ID number, course module and maximum;
* ``core_course_get_course_module`` — a graded activity's pass grade (one per course and
  graded activity), and a survey's ID number (``core_course_get_contents`` does not give
  ID numbers);
* ``mod_assign_get_submissions`` / ``mod_assign_get_grades`` — one call for all the run's
  assignments: who submitted, and who graded whom (``grader``: Moodle does not check the
  grader teaches the learner's group);
* ``mod_feedback_get_responses_analysis`` — one call per survey: who answered what;
* ``core_completion_get_activities_completion_status`` — per learner only: called only when
  the run requires an activity with no grade (a page view, a checklist), and then only for
  learners the other reads have not already failed or passed for good.

Never called here: ``mod_assign_get_submission_status``, which *creates* an empty
submission row for a learner who has none.

The result is evidence per learner seat (:mod:`grading.evidence`) with the class's
assessors, ready for :func:`grading.rule.decide_run`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connector.assignments import AssignGrade
from connector.grades import GradeItem, UserGrades
from connector.lms import MoodleLms
from grading.evidence import ActivityEvidence, FinalAssignment, LearnerEvidence, Seat
from grading.rule import CompletionPolicy
from sync.model import STUDENT_ROLE, TEACHER_ROLE, DesiredEnrolment, DesiredState


@dataclass(frozen=True)
class ActivityIds:
    """How the pull finds a run's activities: by their ID number in the template."""

    quiz: str = "quiz_auto"
    final: str = "final_product"
    survey: str = "survey"
    rating_question: str = "satisfaction"  # the survey question's label
    positive_answers: frozenset[str] = frozenset({"1", "2"})  # raw values counted positive


@dataclass(frozen=True)
class PreviousGrade:
    """A seat's final-assignment grade as the previous pull kept it."""

    grade: float | None
    grader_id: int | None


@dataclass(frozen=True)
class SurveyAnswer:
    answered_at: int
    rating: str | None


@dataclass
class CourseFacts:
    """What one course of the run answered."""

    idnumber: str
    course_id: int
    grade_items: dict[int, dict[str, GradeItem]] = field(default_factory=dict)  # user -> idn
    pass_grades: dict[str, float] = field(default_factory=dict)  # activity idnumber -> pass
    assignment_id: int | None = None
    final_grade_max: float = 100.0
    survey_id: int | None = None
    survey: dict[int, SurveyAnswer] = field(default_factory=dict)  # user -> answer
    completion: dict[int, dict[str, bool]] = field(default_factory=dict)  # user -> cm idn


@dataclass(frozen=True)
class RunPull:
    """Everything one pull of one run found."""

    run_id: str
    evidence: tuple[LearnerEvidence, ...]
    assessors_by_class: Mapping[str, frozenset[int]]
    # (identity code, course idnumber) -> positive, per seat that answered: a learner with
    # a reference seat answers each course's survey apart.
    survey_positive: Mapping[tuple[str, str], bool]
    problems: tuple[str, ...]  # in Vietnamese: what keeps the pull from being complete
    calls: Mapping[str, int]


def run_courses(lms: MoodleLms, desired: DesiredState, run_id: str) -> dict[str, int]:
    """Course idnumber -> LMS id, for the run's courses that exist (2 calls + 1 per
    category)."""
    wanted = {i: c for i, c in desired.courses.items() if c.run_id == run_id}
    categories = {c.idnumber: c.id for c in lms.courses.get_categories() if c.idnumber}
    found: dict[str, int] = {}
    for category in sorted({c.category_idnumber for c in wanted.values()}):
        if category not in categories:
            continue
        for course in lms.courses.get_courses_by_field("category", categories[category]).courses:
            if course.idnumber in wanted:
                found[course.idnumber] = course.id
    return found


def _read_grade_items(lms: MoodleLms, facts: CourseFacts, learners: Iterable[int]) -> int:
    """Every learner's grade items: one call for the course, then one per learner the
    course report left out. Moodle's all-users report lists active enrolments only, so
    once a run's enrolments have ended (after its grading window) each learner is read
    alone. Returns how many were."""
    report = lms.grades.get_grade_items(facts.course_id)
    for user in report.usergrades:
        facts.grade_items[user.userid] = _items_by_idnumber(user)
    missing = [userid for userid in learners if userid not in facts.grade_items]
    for userid in missing:
        for user in lms.grades.get_grade_items(facts.course_id, userid=userid).usergrades:
            facts.grade_items[user.userid] = _items_by_idnumber(user)
    return len(missing)


def _items_by_idnumber(user: UserGrades) -> dict[str, GradeItem]:
    return {item.idnumber: item for item in user.gradeitems if item.idnumber}


def _graded_items(facts: CourseFacts) -> dict[str, GradeItem]:
    """One grade item per activity ID number (any learner's: they share the item)."""
    items: dict[str, GradeItem] = {}
    for by_idnumber in facts.grade_items.values():
        for idnumber, item in by_idnumber.items():
            items.setdefault(idnumber, item)
    return items


def _read_pass_grades(
    lms: MoodleLms, facts: CourseFacts, wanted: Iterable[str], ids: ActivityIds
) -> None:
    items = _graded_items(facts)
    for idnumber in sorted(set(wanted)):
        item = items.get(idnumber)
        if item is None or item.cmid is None:
            continue
        module = lms.courses.get_course_module(item.cmid)
        facts.pass_grades[idnumber] = float(module.gradepass or 0)
    final = items.get(ids.final)
    if final is not None and final.itemmodule == "assign":
        facts.assignment_id = final.iteminstance
        facts.final_grade_max = float(final.grademax or 100.0)


def _read_survey(lms: MoodleLms, facts: CourseFacts, ids: ActivityIds) -> None:
    for section in lms.courses.get_contents(facts.course_id):
        for module in section.modules:
            if module.modname != "feedback" or facts.survey_id is not None:
                continue
            if lms.courses.get_course_module(module.id).idnumber == ids.survey:
                facts.survey_id = module.instance
    if facts.survey_id is None:
        return
    for attempt in lms.feedback.get_responses_analysis(facts.survey_id).attempts:
        answer = attempt.answer(ids.rating_question)
        facts.survey[attempt.userid] = SurveyAnswer(
            attempt.timemodified, answer.rawval if answer else None
        )


def _latest_grades(grades: Iterable[AssignGrade]) -> dict[int, AssignGrade]:
    latest: dict[int, AssignGrade] = {}
    for grade in grades:
        kept = latest.get(grade.userid)
        if kept is None or grade.attemptnumber >= kept.attemptnumber:
            latest[grade.userid] = grade
    return latest


def _grade_value(grade: AssignGrade | None) -> float | None:
    """Moodle keeps -1 in a grade row that holds no grade (e.g. feedback only)."""
    if grade is None or grade.grade is None:
        return None
    return None if grade.grade < 0 else grade.grade


def _ungraded_required(policy: CompletionPolicy, facts: Iterable[CourseFacts]) -> set[str]:
    graded = {idn for f in facts for idn in _graded_items(f)}
    return {a for a in policy.required_activities if a not in graded}


def _read_completion(
    lms: MoodleLms, facts: CourseFacts, userids: Iterable[int], wanted: set[str]
) -> None:
    """Per learner, and only when a required activity has no grade to read instead."""
    modules = {
        m.id: m for section in lms.courses.get_contents(facts.course_id) for m in section.modules
    }
    idnumber_of: dict[int, str] = {}
    for cmid in sorted(modules):
        idnumber = lms.courses.get_course_module(cmid).idnumber or ""
        if idnumber in wanted:
            idnumber_of[cmid] = idnumber
    for userid in userids:
        states = lms.completion.get_activities_completion_status(facts.course_id, userid)
        facts.completion[userid] = {
            idnumber_of[s.cmid]: s.complete for s in states.statuses if s.cmid in idnumber_of
        }


def _activities(
    facts: CourseFacts, userid: int | None, policy: CompletionPolicy
) -> dict[str, ActivityEvidence]:
    found: dict[str, ActivityEvidence] = {}
    items = facts.grade_items.get(userid, {}) if userid is not None else {}
    done = facts.completion.get(userid, {}) if userid is not None else {}
    shared = _graded_items(facts)
    for idnumber in policy.required_activities:
        if idnumber in shared:
            item = items.get(idnumber)
            grade = item.graderaw if item is not None else None
            found[idnumber] = ActivityEvidence(
                idnumber,
                complete=grade is not None,
                grade=grade,
                grade_max=shared[idnumber].grademax,
                pass_grade=facts.pass_grades.get(idnumber),
            )
        elif idnumber in done:
            found[idnumber] = ActivityEvidence(idnumber, complete=done[idnumber])
    return found


def _assessors(
    desired: DesiredState, run_courses: Iterable[str], accounts: Mapping[str, int]
) -> dict[str, frozenset[int]]:
    by_class: dict[str, set[int]] = {}
    for (course, code), enrolment in desired.enrolments.items():
        if course not in run_courses or enrolment.role != TEACHER_ROLE:
            continue
        lms_id = accounts.get(code)
        for class_code in enrolment.groups:
            members = by_class.setdefault(class_code, set())
            if lms_id is not None:
                members.add(lms_id)
    return {code: frozenset(ids) for code, ids in by_class.items()}


def _learner_seats(desired: DesiredState, course: str) -> list[DesiredEnrolment]:
    return sorted(
        (e for (c, _), e in desired.enrolments.items() if c == course and e.role == STUDENT_ROLE),
        key=lambda e: e.identity_code,
    )


def _learner_ids(
    desired: DesiredState, facts: CourseFacts, accounts: Mapping[str, int]
) -> list[int]:
    """LMS ids of the course's learners that have an account."""
    return [
        accounts[e.identity_code]
        for e in _learner_seats(desired, facts.idnumber)
        if e.identity_code in accounts
    ]


def pull_run(
    lms: MoodleLms,
    desired: DesiredState,
    run_id: str,
    *,
    accounts: Mapping[str, int],
    exempt: frozenset[str] = frozenset(),
    policy: CompletionPolicy | None = None,
    ids: ActivityIds | None = None,
    since: int | None = None,
    previous: Mapping[tuple[str, str], PreviousGrade] | None = None,
) -> RunPull:
    """Read one run's progress and grades; ``accounts``: identity code -> LMS user id.

    Incremental: with ``since`` (epoch seconds), ``mod_assign_get_grades`` returns only
    the grade rows modified since then; every other seat keeps its final-assignment grade
    from ``previous`` (the last finished pull's, by identity code and course idnumber).
    The rest is read in full: it costs one call per course or run either way.
    """
    policy = policy or CompletionPolicy()
    ids = ids or ActivityIds()
    before = {name: s.calls for name, s in lms.client.stats.snapshot().items()}
    problems: list[str] = []
    wanted_courses = sorted(i for i, c in desired.courses.items() if c.run_id == run_id)
    found = run_courses(lms, desired, run_id)
    for idnumber in wanted_courses:
        if idnumber not in found:
            problems.append(f"Khóa học {idnumber} chưa có trên hệ thống (chưa đồng bộ?)")
    courses = [CourseFacts(idnumber, found[idnumber]) for idnumber in sorted(found)]
    graded_wanted = set(policy.required_activities) | {ids.final}
    for facts in courses:
        one_by_one = _read_grade_items(lms, facts, _learner_ids(desired, facts, accounts))
        if one_by_one:
            problems.append(
                f"Khóa học {facts.idnumber}: {one_by_one} học viên đã hết thời hạn ghi danh, "
                f"phải đọc điểm từng người ({one_by_one} lệnh thay vì 1)"
            )
        _read_pass_grades(lms, facts, graded_wanted, ids)
        _read_survey(lms, facts, ids)
        if facts.assignment_id is None:
            problems.append(
                f"Khóa học {facts.idnumber}: không tìm thấy bài tập cuối khóa "
                f"(mã hoạt động {ids.final})"
            )
    assignment_ids = sorted({f.assignment_id for f in courses if f.assignment_id})
    submitted: set[tuple[int, int]] = set()
    grades: dict[tuple[int, int], AssignGrade] = {}
    if assignment_ids:
        for assignment in lms.assignments.get_submissions(assignment_ids).assignments:
            for submission in assignment.submissions:
                if submission.status == "submitted":
                    submitted.add((assignment.assignmentid, submission.userid))
        for graded in lms.assignments.get_grades(assignment_ids, since=since).assignments:
            for userid, grade in _latest_grades(graded.grades).items():
                grades[(graded.assignmentid, userid)] = grade
    ungraded = _ungraded_required(policy, courses)
    if ungraded:
        for facts in courses:
            _read_completion(lms, facts, _learner_ids(desired, facts, accounts), ungraded)

    evidence: list[LearnerEvidence] = []
    survey_positive: dict[tuple[str, str], bool] = {}
    for facts in courses:
        for seat in _learner_seats(desired, facts.idnumber):
            learner_id = accounts.get(seat.identity_code)
            key = (facts.assignment_id or 0, learner_id or 0)
            final_grade = grades.get(key)
            value, grader, graded_at = _grade_value(final_grade), None, None
            if final_grade is not None:
                grader, graded_at = final_grade.grader, final_grade.timemodified
            elif since is not None and previous is not None:
                kept = previous.get((seat.identity_code, facts.idnumber))
                if kept is not None:
                    value, grader = kept.grade, kept.grader_id
            answer = facts.survey.get(learner_id) if learner_id is not None else None
            if answer is not None:
                survey_positive[(seat.identity_code, facts.idnumber)] = (
                    answer.rating in ids.positive_answers
                )
            evidence.append(
                LearnerEvidence(
                    identity_code=seat.identity_code,
                    class_code=next(iter(sorted(seat.groups)), ""),
                    seat=Seat.REFERENCE if seat.reference else Seat.MAIN,
                    course_idnumber=facts.idnumber,
                    exempt=seat.identity_code in exempt,
                    activities=_activities(facts, learner_id, policy),
                    final=FinalAssignment(
                        submitted=key in submitted,
                        grade=value,
                        grade_max=facts.final_grade_max,
                        grader_id=grader,
                        graded_at=graded_at,
                    ),
                    survey_answered=answer is not None,
                    survey_rating=answer.rating if answer is not None else None,
                )
            )
    after = lms.client.stats.snapshot()
    calls = Counter({name: s.calls - before.get(name, 0) for name, s in after.items()})
    return RunPull(
        run_id=run_id,
        evidence=tuple(evidence),
        assessors_by_class=_assessors(desired, set(wanted_courses), accounts),
        survey_positive=survey_positive,
        problems=tuple(problems),
        calls={name: count for name, count in sorted(calls.items()) if count},
    )
