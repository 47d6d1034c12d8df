"""The learning side: submissions, grades, quiz attempts, completion, calendar."""

from __future__ import annotations

import pytest

from sandbox import MoodleError, SandboxLms, SandboxOptions, seed_recording_site
from sandbox.fixtures import DAY, TEMPLATE_D0
from tests.sandbox_acting import act_as, grade_final_product

NOW = 1_795_559_070  # D0 + 9 days: the quiz and the assignment are open.


@pytest.fixture
def lms() -> SandboxLms:
    site = SandboxLms(clock=lambda: NOW)
    seed_recording_site(site)
    return site


def _states(lms: SandboxLms, userid: int) -> dict[int, int]:
    result = lms.call(
        "core_completion_get_activities_completion_status", {"courseid": 3, "userid": userid}
    )
    return {status["cmid"]: status["state"] for status in result["statuses"]}


def test_grade_above_the_maximum_is_silently_ignored(lms: SandboxLms) -> None:
    grade_final_product(lms, 5, 85)
    grade_final_product(lms, 5, 150, "syncbot")
    grades = lms.call("mod_assign_get_grades", {"assignmentids": [3]})
    assert grades["assignments"][0]["grades"][0]["grade"] == "85.00000"


def test_the_natural_path_completes_the_course(lms: SandboxLms) -> None:
    assert set(_states(lms, 5).values()) == {0}
    act_as(lms, "nhung.nth", "mod_page_view_page", {"pageid": 5})
    act_as(
        lms,
        "nhung.nth",
        "core_completion_update_activity_completion_status_manually",
        {"cmid": 16, "completed": 1},
    )
    attempt = act_as(lms, "nhung.nth", "mod_quiz_start_attempt", {"quizid": 3})["attempt"]["id"]
    finished = act_as(
        lms,
        "nhung.nth",
        "mod_quiz_process_attempt",
        {
            "attemptid": attempt,
            "finishattempt": 1,
            "data": [{"name": f"q{attempt}:1_answer", "value": "1"}],
        },
    )
    assert finished["state"] == "finished"
    act_as(
        lms,
        "nhung.nth",
        "mod_assign_save_submission",
        {
            "assignmentid": 3,
            "plugindata": {"onlinetext_editor": {"text": "<p>done</p>", "format": 1, "itemid": 0}},
        },
    )
    grade_final_product(lms, 5, 85)
    feedback = lms.site.activity_of("feedback", 3)
    assert feedback is not None
    feedback.settings["timeopen"] = TEMPLATE_D0
    act_as(lms, "nhung.nth", "mod_feedback_process_page", {"feedbackid": 3, "page": 0})
    assert _states(lms, 5) == {15: 1, 16: 1, 17: 2, 18: 2, 19: 1}
    status = lms.call("core_completion_get_course_completion_status", {"courseid": 3, "userid": 5})
    assert status["completionstatus"]["completed"] is True
    best = lms.call("mod_quiz_get_user_best_grade", {"quizid": 3, "userid": 5})
    assert (best["hasgrade"], best["grade"], best["gradetopass"]) == (True, 10, 5)
    report = lms.call("gradereport_user_get_grade_items", {"courseid": 3, "userid": 5})
    course_total = report["usergrades"][0]["gradeitems"][-1]
    assert (course_total["graderaw"], course_total["grademax"]) == (95, 110)


def test_a_fail_grade_does_not_complete_the_assignment(lms: SandboxLms) -> None:
    act_as(
        lms,
        "nhung.nth",
        "mod_assign_save_submission",
        {
            "assignmentid": 3,
            "plugindata": {"onlinetext_editor": {"text": "x", "format": 1, "itemid": 0}},
        },
    )
    grade_final_product(lms, 5, 40)
    assert _states(lms, 5)[18] == 3


def test_overrides_win_and_record_who_overrode(lms: SandboxLms) -> None:
    result = lms.call(
        "core_completion_override_activity_completion_status",
        {"userid": 6, "cmid": 18, "newstate": 1},
    )
    assert (result["state"], result["overrideby"], result["tracking"]) == (1, 3, 2)
    assert _states(lms, 6)[18] == 1
    with pytest.raises(MoodleError) as caught:
        act_as(
            lms,
            "nhung.nth",
            "core_completion_override_activity_completion_status",
            {"userid": 6, "cmid": 18, "newstate": 0},
        )
    assert caught.value.errorcode == "nopermission"


def test_manual_completion_only_on_manual_activities(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        act_as(
            lms,
            "nhung.nth",
            "core_completion_update_activity_completion_status_manually",
            {"cmid": 15, "completed": 1},
        )
    assert caught.value.errorcode == "cannotmanualctrack"


def test_extensions_must_be_after_the_due_date(lms: SandboxLms) -> None:
    due = TEMPLATE_D0 + 16 * DAY
    warnings = lms.call(
        "mod_assign_save_user_extensions",
        {"assignmentid": 3, "userids": [7, 8], "dates": [due - DAY, due + DAY]},
    )
    assert [w["warningcode"] for w in warnings] == ["couldnotgrantextensions"]
    assert lms.site.extensions == {(3, 8): due + DAY}


def test_quiz_closed_before_it_opens() -> None:
    early = SandboxLms(clock=lambda: TEMPLATE_D0 + DAY)
    seed_recording_site(early)
    with pytest.raises(MoodleError) as caught:
        early.call("mod_quiz_start_attempt", {"quizid": 3}, token=early.token_for("nhung.nth"))
    assert caught.value.errorcode == "attempterror"


def test_group_events_need_user_events(lms: SandboxLms) -> None:
    lms.call(
        "core_calendar_create_calendar_events",
        {
            "events": [
                {
                    "name": "G1",
                    "courseid": 3,
                    "groupid": 1,
                    "eventtype": "group",
                    "timestart": TEMPLATE_D0 + 50 * DAY,
                },
                {
                    "name": "C",
                    "courseid": 3,
                    "eventtype": "course",
                    "timestart": TEMPLATE_D0 + 50 * DAY,
                },
            ]
        },
    )
    query = {"courseids": [3], "groupids": [1]}
    without = lms.call(
        "core_calendar_get_calendar_events",
        {"events": query, "options": {"userevents": 0, "timestart": TEMPLATE_D0 + 40 * DAY}},
    )
    with_user = lms.call(
        "core_calendar_get_calendar_events",
        {"events": query, "options": {"timestart": TEMPLATE_D0 + 40 * DAY}},
    )
    assert [e["name"] for e in without["events"]] == ["C"]
    assert sorted(e["name"] for e in with_user["events"]) == ["C", "G1"]


def test_messages_to_unknown_users_fail_per_message(lms: SandboxLms) -> None:
    sent = lms.call(
        "core_message_send_instant_messages",
        {
            "messages": [
                {"touserid": 5, "text": "hi", "clientmsgid": "a1"},
                {"touserid": 999, "text": "x"},
            ]
        },
    )
    assert [m["msgid"] > 0 for m in sent] == [True, False]
    assert sent[0]["text"] == "<p>hi</p>"


def test_the_course_grade_report_lists_active_enrolments_only(lms: SandboxLms) -> None:
    """Seen on real Moodle 4.5: once an enrolment has ended, the learner drops out of the
    all-users report, while asking for that learner alone still answers."""
    everyone = lms.call("gradereport_user_get_grade_items", {"courseid": 3})["usergrades"]
    assert 5 in {u["userid"] for u in everyone}
    ended = int(lms.clock()) - 60
    lms.call(
        "enrol_manual_enrol_users",
        {"enrolments": [{"roleid": 5, "userid": 5, "courseid": 3, "timeend": ended}]},
    )
    after = lms.call("gradereport_user_get_grade_items", {"courseid": 3})["usergrades"]
    assert 5 not in {u["userid"] for u in after}
    assert len(after) == len(everyone) - 1
    alone = lms.call("gradereport_user_get_grade_items", {"courseid": 3, "userid": 5})
    assert [u["userid"] for u in alone["usergrades"]] == [5]


def test_overriding_every_activity_completes_the_course_at_once(lms: SandboxLms) -> None:
    """Recorded: all_overridden_before_cron (user 7, no cron in between)."""
    for cmid in (15, 16, 17, 18, 19):
        lms.call(
            "core_completion_override_activity_completion_status",
            {"userid": 7, "cmid": cmid, "newstate": 1},
        )
    status = lms.call("core_completion_get_course_completion_status", {"courseid": 3, "userid": 7})
    assert status["completionstatus"]["completed"] is True
    assert {c["timecompleted"] for c in status["completionstatus"]["completions"]} == {NOW}


def test_marking_an_overridden_activity_incomplete_leaves_its_criterion_met(
    lms: SandboxLms,
) -> None:
    """Recorded: after_overrides shows user 6's pages incomplete again, while
    partial_after_cron still counts both as met criteria."""
    for newstate in (1, 0):
        lms.call(
            "core_completion_override_activity_completion_status",
            {"userid": 6, "cmid": 15, "newstate": newstate},
        )
    assert _states(lms, 6)[15] == 0
    status = lms.call("core_completion_get_course_completion_status", {"courseid": 3, "userid": 6})
    criteria = status["completionstatus"]["completions"]
    assert [(c["status"], c["timecompleted"]) for c in criteria][:2] == [
        ("Yes", NOW),
        ("No", None),
    ]
    assert status["completionstatus"]["completed"] is False


def _module_completed_site() -> tuple[SandboxLms, int, int]:
    """A copy of a template with the "module completed" activity, one learner enrolled."""
    lms = SandboxLms(SandboxOptions(module_completed_activity=True), clock=lambda: NOW)
    copy = lms.call(
        "core_course_duplicate_course",
        {"courseid": 2, "fullname": "Copy", "shortname": "COPY", "categoryid": 1},
    )
    [user] = lms.call(
        "core_user_create_users",
        {
            "users": [
                {
                    "username": "hv1",
                    "password": "Hv#2026abcd",
                    "firstname": "An",
                    "lastname": "Nguyễn",
                    "email": "hv1@example.edu.vn",
                }
            ]
        },
    )
    lms.call(
        "enrol_manual_enrol_users",
        {"enrolments": [{"roleid": 5, "userid": user["id"], "courseid": copy["id"]}]},
    )
    return lms, copy["id"], user["id"]


def test_the_module_completed_activity_alone_completes_the_course() -> None:
    lms, course, user = _module_completed_site()
    [marker] = [
        a
        for a in lms.site.course_activities(lms.site.courses[course])
        if a.idnumber == "module_completed"
    ]
    status = lms.call(
        "core_completion_get_course_completion_status", {"courseid": course, "userid": user}
    )["completionstatus"]
    assert (status["completed"], len(status["completions"])) == (False, 1)

    lms.call(
        "core_completion_override_activity_completion_status",
        {"userid": user, "cmid": marker.cmid, "newstate": 1},
    )
    done = lms.call(
        "core_completion_get_course_completion_status", {"courseid": course, "userid": user}
    )["completionstatus"]
    lms.call(
        "core_completion_override_activity_completion_status",
        {"userid": user, "cmid": marker.cmid, "newstate": 0},
    )
    still = lms.call(
        "core_completion_get_course_completion_status", {"courseid": course, "userid": user}
    )["completionstatus"]
    assert (done["completed"], still["completed"]) == (True, True)


def test_a_learner_cannot_tick_the_hidden_module_completed_activity() -> None:
    """Real Moodle 4.5 (tried): a learner's manual completion of the hidden "module
    completed" page is refused with requireloginerror ("Course or activity not
    accessible."); of a visible manual page, accepted. Only the override completes it."""
    lms, course, user = _module_completed_site()
    [marker] = [
        a
        for a in lms.site.course_activities(lms.site.courses[course])
        if a.idnumber == "module_completed"
    ]
    lms.issue_token("hv1")
    with pytest.raises(MoodleError) as caught:
        act_as(
            lms,
            "hv1",
            "core_completion_update_activity_completion_status_manually",
            {"cmid": marker.cmid, "completed": 1},
        )
    assert caught.value.errorcode == "requireloginerror"
    status = lms.call(
        "core_completion_get_course_completion_status", {"courseid": course, "userid": user}
    )["completionstatus"]
    assert status["completed"] is False

    marker.visible = 1  # a template left visible: the learner completes the module alone
    act_as(
        lms,
        "hv1",
        "core_completion_update_activity_completion_status_manually",
        {"cmid": marker.cmid, "completed": 1},
    )
    status = lms.call(
        "core_completion_get_course_completion_status", {"courseid": course, "userid": user}
    )["completionstatus"]
    assert status["completed"] is True
