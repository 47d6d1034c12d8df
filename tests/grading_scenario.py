"""The grading scenario recorded on real Moodle 4.5, rebuilt step by step on the sandbox LMS.

``_meta__grading_scenario.json`` describes it: course ``K26-GR`` (id 3), a copy of the
template made on a clean site; learners L1..L8 (ids 5..12) in two groups, each with its
non-editing teacher (teacher A, id 13, group 1; teacher B, id 14, group 2); then, at
recorded instants, quiz attempts, submissions, survey answers, grades by the class
teachers and by an outsider (the service account), reads with side effects, a suspension,
an extension and a late submission.

Every recorded case of the scenario was taken at one point of that story.
:func:`build_grading_scenario` replays the story through the sandbox's own web-service
functions, with the sandbox clock at each recorded instant, up to a named checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox import SandboxLms, SandboxOptions
from sandbox.options import SERVICE_FUNCTIONS, TEMPLATE_D0
from sandbox.state import Submission
from tests.sandbox_acting import act_as

DAY = 86400
COURSE_ID = 3
QUIZ_ID = 2
ASSIGN_ID = 2
FEEDBACK_ID = 2
GROUP_1, GROUP_2 = 1, 2
SETUP_CLOCK = 1796005256  # the copy was made then (K26-GR timemodified), people set up after
EXTENSION_UNTIL = TEMPLATE_D0 + 30 * DAY  # 1797354000

LEARNERS = (  # L1..L8, ids 5..12 in this order
    ("an.nv", "An", "Nguyễn Văn"),
    ("binh.tt", "Bình", "Trần Thị"),
    ("chi.lm", "Chi", "Lê Minh"),
    ("dat.pq", "Đạt", "Phạm Quốc"),
    ("em.ht", "Em", "Hoàng Thị"),
    ("giang.vt", "Giang", "Võ Trường"),
    ("hoa.dt", "Hoa", "Đỗ Thị"),
    ("khoa.ng", "Khoa", "Ngô Gia"),
)
TEACHERS = (("lan.gv", "Lan", "Phạm Thị"), ("son.gv", "Sơn", "Trần Văn"))  # ids 13, 14


# Functions the recording clone's service had on top of the production list.
ADDED_ON_CLONE = (
    "mod_assign_get_submission_status",
    "mod_assign_get_user_flags",
    "mod_assign_list_participants",
    "mod_assign_get_participant",
    "mod_feedback_get_analysis",
    "mod_feedback_get_responses_analysis",
    "mod_feedback_get_non_respondents",
    "mod_feedback_get_items",
)


class _Clock:
    """The sandbox's clock, moved to each recorded instant."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


@dataclass(frozen=True)
class Step:
    at: int
    name: str
    run: Callable[[SandboxLms], None]


def _user(index: int, username: str, first: str, last: str, prefix: str) -> dict[str, Any]:
    return {
        "username": username,
        "password": "Hv#2026abcd",
        "firstname": first,
        "lastname": last,
        "email": f"{username}@example.edu.vn",
        "idnumber": f"{prefix}2026-GR{index:02d}",
        "lang": "en",
        "timezone": "Asia/Ho_Chi_Minh",
    }


def _set_up_course(lms: SandboxLms) -> None:
    """Copy the template, fix the two dates as recorded, add people, enrol and group them."""
    lms.call(
        "core_course_duplicate_course",
        {
            "courseid": 2,
            "fullname": "K26-GR Kỹ năng số - lớp chấm điểm",
            "shortname": "K26-GR",
            "categoryid": 1,
            "visible": 1,
            "options": [
                {"name": "users", "value": 0},
                {"name": "blocks", "value": 1},
                {"name": "activities", "value": 1},
            ],
        },
    )
    quiz = lms.site.activity_of("quiz", QUIZ_ID)
    feedback = lms.site.activity_of("feedback", FEEDBACK_ID)
    assert quiz is not None
    assert feedback is not None
    # The clone's template was the real-moodle tools' TPL-MODULE: its summary, no end
    # date, in the default category "Miscellaneous"; its survey had one required,
    # non-anonymous satisfaction question with four options.
    course = lms.site.courses[COURSE_ID]
    course.summary, course.enddate = "Template course for BDTX sync tests", 0
    lms.site.categories[course.category].name = "Miscellaneous"
    feedback.name = "Phiếu khảo sát (Survey)"
    assign = lms.site.activity_of("assign", ASSIGN_ID)
    assert assign is not None
    assign.name = "Sản phẩm cuối mô-đun (Final product)"
    assign.intro = "Test assign 1"
    feedback.settings["anonymous"] = 2
    [item] = feedback.settings["items"]
    item.update(
        name="Mức độ hài lòng",
        label="satisfaction",
        presentation="r>>>>>Rất hài lòng|Hài lòng|Bình thường|Không hài lòng",
        required=True,
    )
    # Then the copy's background task (adhoc_task.php) made its due and closing events
    # (the names and descriptions above are the clone template's own).
    lms.run_background_tasks()
    # Recorded with core_calendar_update_event_start_day: quiz close to D0+30d, feedback
    # open to D0 (at the site clock the copied quiz was closed and the survey not open).
    for activity, eventtype, day in ((quiz, "close", 30), (feedback, "open", 0)):
        (event,) = [
            e
            for e in lms.site.events.values()
            if (e.modulename, e.instance, e.eventtype)
            == (activity.modname, activity.instance, eventtype)
        ]
        moved = {"eventid": event.id, "daytimestamp": TEMPLATE_D0 + day * DAY}
        lms.call("core_calendar_update_event_start_day", moved)
    assert quiz.settings["timeclose"] == TEMPLATE_D0 + 30 * DAY
    assert feedback.settings["timeopen"] == TEMPLATE_D0
    learners = [_user(i, *person, "HV") for i, person in enumerate(LEARNERS, 1)]
    teachers = [_user(i, *person, "GV") for i, person in enumerate(TEACHERS, 1)]
    lms.call("core_user_create_users", {"users": learners + teachers})
    enrolments = [{"roleid": 5, "userid": uid, "courseid": COURSE_ID} for uid in range(5, 13)]
    enrolments += [{"roleid": 4, "userid": uid, "courseid": COURSE_ID} for uid in (13, 14)]
    lms.call("enrol_manual_enrol_users", {"enrolments": enrolments})
    lms.call(
        "core_group_create_groups",
        {
            "groups": [
                {"courseid": COURSE_ID, "name": name, "description": "", "idnumber": idnumber}
                for name, idnumber in (
                    ("Nhóm 1 - Sáng", "K26-GR-G1"),
                    ("Nhóm 2 - Chiều", "K26-GR-G2"),
                )
            ]
        },
    )
    members = [{"groupid": GROUP_1, "userid": uid} for uid in (5, 6, 7, 8, 13)]
    members += [{"groupid": GROUP_2, "userid": uid} for uid in (9, 10, 11, 12, 14)]
    lms.call("core_group_add_group_members", {"members": members})
    for username, _, _ in (*LEARNERS, *TEACHERS):
        lms.issue_token(username)


def _quiz(username: str, *, correct: bool) -> Callable[[SandboxLms], None]:
    def attempt(lms: SandboxLms) -> None:
        started = act_as(lms, username, "mod_quiz_start_attempt", {"quizid": QUIZ_ID})
        attempt_id = started["attempt"]["id"]
        act_as(
            lms,
            username,
            "mod_quiz_process_attempt",
            {
                "attemptid": attempt_id,
                "finishattempt": 1,
                "data": [
                    {"name": f"q{attempt_id}:1_:sequencecheck", "value": "1"},
                    {"name": f"q{attempt_id}:1_answer", "value": "1" if correct else "0"},
                ],
            },
        )

    return attempt


def _submit(username: str) -> Callable[[SandboxLms], None]:
    def submit(lms: SandboxLms) -> None:
        act_as(
            lms,
            username,
            "mod_assign_save_submission",
            {
                "assignmentid": ASSIGN_ID,
                "plugindata": {
                    "onlinetext_editor": {
                        "text": f"<p>Sản phẩm cuối mô-đun của {username}</p>",
                        "format": 1,
                        "itemid": 0,
                    }
                },
            },
        )

    return submit


def _answer_survey(username: str, option: int) -> Callable[[SandboxLms], None]:
    def answer(lms: SandboxLms) -> None:
        act_as(
            lms,
            username,
            "mod_feedback_process_page",
            {
                "feedbackid": FEEDBACK_ID,
                "page": 0,
                "responses": [{"name": "multichoice_2", "value": str(option)}],
            },
        )

    return answer


def _grade(grader: str, userid: int, grade: float) -> Callable[[SandboxLms], None]:
    def save(lms: SandboxLms) -> None:
        username = lms.site.users[userid].username
        act_as(
            lms,
            grader,
            "mod_assign_save_grade",
            {
                "assignmentid": ASSIGN_ID,
                "userid": userid,
                "grade": grade,
                "attemptnumber": -1,
                "addattempt": 0,
                "workflowstate": "",
                "applytoall": 1,
                "plugindata": {
                    "assignfeedbackcomments_editor": {
                        "text": f"Nhận xét cho {username}",
                        "format": 1,
                    }
                },
            },
        )

    return save


def _read_submission_status(userid: int) -> Callable[[SandboxLms], None]:
    """The side effect of the recorded ``mod_assign_get_submission_status`` read.

    Real Moodle creates an empty submission row (status ``new``) for a learner who has
    none when this function reads their status. The function is not in the production
    service (nor in the sandbox): the step makes the row it created, nothing else.
    """

    def create_empty_row(lms: SandboxLms) -> None:
        site = lms.site
        with site.lock:
            key = (ASSIGN_ID, userid)
            if key not in site.submissions:
                now = int(lms.clock())
                site.submissions[key] = Submission(
                    id=site.ids.take("assign_submission"),
                    assignment=ASSIGN_ID,
                    userid=userid,
                    textformat=0,  # an empty row: no editor format chosen yet
                    timecreated=now,
                    timemodified=now,
                )

    return create_empty_row


def _suspend_l8(lms: SandboxLms) -> None:
    lms.call("core_user_update_users", {"users": [{"id": 12, "suspended": 1}]})


def _extend_l6(lms: SandboxLms) -> None:
    lms.call(
        "mod_assign_save_user_extensions",
        {"assignmentid": ASSIGN_ID, "userids": [10], "dates": [EXTENSION_UNTIL]},
    )


STORY: tuple[Step, ...] = (
    Step(SETUP_CLOCK, "set_up", _set_up_course),
    Step(1796008934, "quiz_l1_pass", _quiz("an.nv", correct=True)),
    Step(1796008934, "quiz_l2_fail", _quiz("binh.tt", correct=False)),
    Step(1796008934, "submit_l1", _submit("an.nv")),
    Step(1796008935, "submit_l2", _submit("binh.tt")),
    Step(1796008935, "submit_l4", _submit("dat.pq")),
    Step(1796008935, "submit_l5", _submit("em.ht")),
    Step(1796008935, "survey_l1", _answer_survey("an.nv", 1)),
    Step(1796008935, "survey_l4", _answer_survey("dat.pq", 3)),
    Step(1796008935, "survey_l5", _answer_survey("em.ht", 4)),
    Step(1796008940, "grade_l1_by_a", _grade("lan.gv", 5, 80)),
    Step(1796008940, "grade_l2_by_a", _grade("lan.gv", 6, 40)),
    Step(1796008947, "grade_l5_by_b", _grade("son.gv", 9, 60)),
    Step(1796008947, "grade_l4_by_outsider", _grade("syncbot", 8, 70)),
    Step(1796008964, "status_read_l6", _read_submission_status(10)),
    Step(1796008989, "suspend_l8", _suspend_l8),
    Step(1796008990, "extend_l6", _extend_l6),
    Step(1796009009, "status_read_l7", _read_submission_status(11)),
    Step(1796009023, "submit_l7", _submit("hoa.dt")),
)
STEP_NAMES = tuple(step.name for step in STORY)


def build_grading_scenario(
    *, through: str = STEP_NAMES[-1], skip: frozenset[str] = frozenset()
) -> SandboxLms:
    """A bare sandbox with the story replayed up to and including step ``through``.

    ``skip`` leaves out steps a recorded case was taken without (e.g. a recorded call
    that is itself the step: the replay makes it).
    """
    if through not in STEP_NAMES:
        raise ValueError(f"no step {through!r} in the grading scenario")
    clock = _Clock(SETUP_CLOCK)
    lms = SandboxLms(
        SandboxOptions(
            service_functions=SERVICE_FUNCTIONS + ADDED_ON_CLONE,
            wwwroot="http://127.0.0.1:8081",  # the clone was served there
        ),
        clock=clock,
    )
    for step in STORY:
        clock.now = step.at
        if step.name not in skip:
            step.run(lms)
        if step.name == through:
            break
    return lms


# The point of the story at which each recorded case of the scenario was taken (the step
# it follows), and the steps it was taken without, when the recorded call is itself a step.
GRADED = "grade_l4_by_outsider"
CHECKPOINTS: dict[str, tuple[str, frozenset[str]]] = {
    "mod_assign_get_assignments__as_teacher_after_extension": ("extend_l6", frozenset()),
    "mod_assign_get_grades__course_with_grader_and_outsider": (GRADED, frozenset()),
    "mod_assign_get_grades__since_between_gradings": (GRADED, frozenset()),
    "mod_assign_get_submissions__after_extension_L6": ("extend_l6", frozenset()),
    "mod_assign_get_submissions__after_submission_status_reads_created_new_rows": (
        "status_read_l7",
        frozenset(),
    ),
    "mod_assign_get_submissions__course_after_grading_scenario": (GRADED, frozenset()),
    "mod_assign_get_submissions__status_filter_new": (GRADED, frozenset()),
    "mod_assign_get_submissions__status_filter_submitted": (GRADED, frozenset()),
    "mod_assign_save_grade__ok_noneditingteacher_own_group": ("survey_l5", frozenset()),
    "mod_assign_save_grade__ok_syncbot_with_submission": ("grade_l5_by_b", frozenset()),
    "mod_assign_save_user_extensions__ok_learner_without_submission": ("suspend_l8", frozenset()),
    "mod_quiz_get_user_attempts__L2_failed_finished_attempt": (GRADED, frozenset()),
    "mod_quiz_get_user_best_grade__L1_passed": (GRADED, frozenset()),
    "mod_quiz_get_user_best_grade__L2_failed": (GRADED, frozenset()),
    "mod_quiz_get_user_best_grade__L3_never_started": (GRADED, frozenset()),
    "core_completion_get_activities_completion_status__L1_quiz_passed_assign_graded_survey_done": (
        GRADED,
        frozenset(),
    ),
    "core_completion_get_activities_completion_status__L2_quiz_failed_assign_graded_below_pass": (
        GRADED,
        frozenset(),
    ),
    "core_completion_get_activities_completion_status__L3_nothing_done": (GRADED, frozenset()),
    "core_completion_get_course_completion_status__L1_partial_before_cron": (GRADED, frozenset()),
    "core_message_send_instant_messages__ok_reminder_to_teacher_vietnamese": (
        "status_read_l6",
        frozenset(),
    ),
    "core_message_send_instant_messages__to_suspended_user": ("suspend_l8", frozenset()),
    "gradereport_user_get_grade_items__course_all_users_after_grading_scenario": (
        GRADED,
        frozenset(),
    ),
    "gradereport_user_get_grade_items__group1_only": (GRADED, frozenset()),
    "mod_feedback_get_analysis__course_after_3_answers": (GRADED, frozenset()),
    "mod_feedback_get_analysis__group2": (GRADED, frozenset()),
    "mod_feedback_get_feedbacks_by_courses__grading_course_syncbot_not_enrolled": (
        GRADED,
        frozenset(),
    ),
    "mod_feedback_get_non_respondents__course_after_3_answers": (GRADED, frozenset()),
    "mod_feedback_get_responses_analysis__course_after_3_answers": (GRADED, frozenset()),
    "core_calendar_get_action_events_by_course__syncbot_not_enrolled": (GRADED, frozenset()),
    "core_calendar_get_action_events_by_course__teacher_A_timeline": (GRADED, frozenset()),
    "core_calendar_get_action_events_by_course__L6_after_extension": ("extend_l6", frozenset()),
    "core_calendar_get_action_events_by_course__teacher_A_timeline_one_ungraded_submission": (
        "submit_l7",
        frozenset(),
    ),
}


def scenario_for_case(name: str) -> SandboxLms | None:
    """The sandbox in the state a recorded case of the scenario was taken in (None: not one)."""
    checkpoint = CHECKPOINTS.get(name)
    if checkpoint is None:
        return None
    through, skip = checkpoint
    return build_grading_scenario(through=through, skip=skip)
