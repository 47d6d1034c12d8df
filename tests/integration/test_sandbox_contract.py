"""Replay every recorded Moodle call against the sandbox LMS and compare the answers.

Each case of ``/work/shared/moodle-contract/`` whose function the sandbox implements is
sent over HTTP (through ``SandboxLms.transport()``) as the recorded client sent it:
``wstoken``, ``wsfunction``, ``moodlewsrestformat`` first, then the parameters flattened
PHP-style. The sandbox starts from :func:`seed_recording_site` (the recorded site, same
ids) with the clock at recording time, or from the bare site for cases that created what
the fixture already holds; cases whose recording followed earlier calls get those calls
first (``SETUPS``, each one documented).

Errors must match ``exception``, ``errorcode``, ``message`` and the presence (and text,
unless trimmed) of ``debuginfo``, which only ``*_debug`` cases (recorded with developer
debugging) carry. Successes must match the JSON shape: the same keys at every level, the
same JSON types, an empty list where the recording has one and, for lists, every item
shaped like one of the recorded items. Values (ids, times, names) may differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from sandbox import MoodleError, SandboxLms, SandboxOptions, seed_recording_site
from sandbox.fixtures import TEMPLATE_D0
from sandbox.protocol import flatten_params
from sandbox.registry import REGISTRY
from tests.contract import meta, recorded, recorded_cases
from tests.grading_scenario import CHECKPOINTS, scenario_for_case
from tests.sandbox_acting import act_as, grade_final_product

RECORDING_CLOCK = 1795559070  # 2026-11-24, the site clock of the recording.
BAD_TOKEN = "0123456789abcdef0123456789abcdef"
USERS = {
    "syncbot": "syncbot",
    "limitedbot": "limitedbot",
    "student nhung.nth": "nhung.nth",
    "teacher thao.gv (editingteacher)": "thao.gv",
    "teacher lan.gv (non-editing teacher, group 1, 'teacher A')": "lan.gv",
    "student giang.vt (L6)": "giang.vt",
}
# What the sync needs to provision and read back: all of it must be emulated.
PROVISIONING_AND_READING = (
    "core_webservice_get_site_info",
    "core_user_create_users",
    "core_user_update_users",
    "core_user_get_users_by_field",
    "core_user_get_users",
    "core_course_create_categories",
    "core_course_get_categories",
    "core_course_create_courses",
    "core_course_update_courses",
    "core_course_get_courses_by_field",
    "core_course_duplicate_course",
    "core_course_get_contents",
    "enrol_manual_enrol_users",
    "enrol_manual_unenrol_users",
    "core_enrol_get_enrolled_users",
    "core_enrol_get_users_courses",
    "core_group_create_groups",
    "core_group_get_course_groups",
    "core_group_add_group_members",
    "core_group_delete_group_members",
    "core_group_get_group_members",
    "core_role_assign_roles",
    "core_role_unassign_roles",
    "core_cohort_create_cohorts",
    "core_cohort_add_cohort_members",
)


# ---- which cases the sandbox can replay ----------------------------------------------------


def _dispatch_level(case: dict[str, Any]) -> bool:
    """An error the REST server gives before any function runs (unknown / not in service)."""
    response = case["response"]
    if not case["is_error"] or not isinstance(response, dict):
        return False
    if response["errorcode"] == "accessexception":
        return True
    return "external_functions" in str(response.get("message", ""))


def _replayable(name: str) -> bool:
    case = recorded(name)
    return case["function"] in REGISTRY or _dispatch_level(case)


ALL_CASES = recorded_cases()
REPLAYED = [name for name in ALL_CASES if _replayable(name)]
NOT_IMPLEMENTED = sorted({recorded(n)["function"] for n in ALL_CASES if not _replayable(n)})


# ---- per-case setup ----------------------------------------------------------------------------

Setup = Callable[[SandboxLms], None]


def _open_feedback(lms: SandboxLms) -> None:
    # Recorded by moving the feedback's open event to D0 (update_event_start_day).
    activity = lms.site.activity_of("feedback", 3)
    assert activity is not None
    activity.settings["timeopen"] = TEMPLATE_D0


def _student_submits(lms: SandboxLms) -> None:
    act_as(
        lms,
        "nhung.nth",
        "mod_assign_save_submission",
        {
            "assignmentid": 3,
            "plugindata": {
                "onlinetext_editor": {
                    "text": "<p>Sản phẩm cuối của Nhung</p>",
                    "format": 1,
                    "itemid": 0,
                }
            },
        },
    )


def _quiz_attempt(lms: SandboxLms, *, finish: bool) -> None:
    started = act_as(lms, "nhung.nth", "mod_quiz_start_attempt", {"quizid": 3})
    attempt = started["attempt"]["id"]
    if finish:
        act_as(
            lms,
            "nhung.nth",
            "mod_quiz_process_attempt",
            {
                "attemptid": attempt,
                "finishattempt": 1,
                "data": [
                    {"name": f"q{attempt}:1_:sequencecheck", "value": "1"},
                    {"name": f"q{attempt}:1_answer", "value": "1"},
                ],
            },
        )


def _natural_path(lms: SandboxLms) -> None:
    """Student 5 does everything: view, mark, quiz, submit, graded 85, feedback."""
    act_as(lms, "nhung.nth", "mod_page_view_page", {"pageid": 5})
    act_as(
        lms,
        "nhung.nth",
        "core_completion_update_activity_completion_status_manually",
        {"cmid": 16, "completed": 1},
    )
    _quiz_attempt(lms, finish=True)
    _student_submits(lms)
    grade_final_product(lms, 5, 85, "thao.gv")
    _open_feedback(lms)
    act_as(
        lms,
        "nhung.nth",
        "mod_feedback_process_page",
        {"feedbackid": 3, "page": 0, "responses": [{"name": "multichoice_3", "value": "1"}]},
    )


def _override(
    lms: SandboxLms, userid: int, cmid: int, state: int, username: str = "syncbot"
) -> None:
    act_as(
        lms,
        username,
        "core_completion_override_activity_completion_status",
        {"userid": userid, "cmid": cmid, "newstate": state},
    )


def _overrides_user6(lms: SandboxLms) -> None:
    """As recorded for user 6: page forced done then undone, checklist by teacher, grade 40."""
    _override(lms, 6, 15, 1)
    _override(lms, 6, 16, 1)
    _override(lms, 6, 15, 0)
    _override(lms, 6, 16, 0, "thao.gv")
    grade_final_product(lms, 6, 40, "syncbot")


def _partial_user6(lms: SandboxLms) -> None:
    _override(lms, 6, 15, 1)
    _override(lms, 6, 16, 1)


def _all_overridden_user7(lms: SandboxLms) -> None:
    for cmid in (15, 16, 17, 18, 19):
        _override(lms, 7, cmid, 1)


def _expect_error(lms: SandboxLms, function: str, case: str) -> None:
    with pytest.raises(MoodleError):
        lms.call(function, recorded(case)["params"])


def _restored_events_only(lms: SandboxLms) -> None:
    """Moodle's restore creates only the "open" events; the close/due ones of course 3
    came later from adhoc tasks (ids 23-26), after this case was recorded."""
    for event in list(lms.site.events.values()):
        if event.courseid == 3 and event.modulename and event.eventtype != "open":
            del lms.site.events[event.id]


def _group_and_course_events(lms: SandboxLms) -> None:
    lms.call(
        "core_calendar_create_calendar_events",
        recorded("core_calendar_create_calendar_events__ok_group_and_course")["params"],
    )
    lms.call(
        "core_calendar_create_calendar_events",
        recorded("core_calendar_create_calendar_events__site_event")["params"],
    )


def _categories(lms: SandboxLms) -> None:
    lms.call(
        "core_course_create_categories",
        recorded("core_course_create_categories__ok_parent")["params"],
    )
    lms.call(
        "core_course_create_categories",
        recorded("core_course_create_categories__ok_children_batch")["params"],
    )


def _no_teachers_yet(lms: SandboxLms) -> None:
    """Recorded before the teachers (course contacts) were enrolled in course 3."""
    lms.call(
        "enrol_manual_unenrol_users",
        {"enrolments": [{"userid": 17, "courseid": 3}, {"userid": 18, "courseid": 3}]},
    )


def _drop_groups(lms: SandboxLms) -> None:
    for group_id in list(lms.site.groups_of_course[3]):
        lms.site.remove_group(group_id)


# Cases replayed on the bare site (template only): the fixture already holds what they create.
BARE = {
    "core_cohort_create_cohorts__ok_system",
    "core_course_create_categories__ok_parent",
    "core_course_create_categories__ok_children_batch",
    "core_course_create_courses__ok",
    "core_course_create_courses__ok_batch",
    "core_user_create_users__ok_batch_vietnamese",
    "core_user_create_users__ok_teachers",
}


def _grades_5_and_6(lms: SandboxLms) -> None:
    grade_final_product(lms, 5, 85, "thao.gv")
    grade_final_product(lms, 6, 40, "syncbot")


def _quiz_overrides(lms: SandboxLms) -> None:
    for case in ("mod_quiz_save_overrides__ok_group", "mod_quiz_save_overrides__ok_user"):
        lms.call("mod_quiz_save_overrides", recorded(case)["params"])


def _calendar_before_adhoc_tasks(lms: SandboxLms) -> None:
    _restored_events_only(lms)
    _group_and_course_events(lms)


def _replayed_first(function: str, case: str) -> Setup:
    """A setup that makes the recorded call ``case`` first (it must succeed)."""
    return lambda lms: lms.call(function, recorded(case)["params"])


def _failed_first(function: str, case: str) -> Setup:
    """A setup that makes the recorded failing call ``case`` first."""
    return lambda lms: _expect_error(lms, function, case)


COURSE_STATUS = "core_completion_get_course_completion_status__"
ACTIVITY_STATUS = "core_completion_get_activities_completion_status__"
SETUPS: dict[str, Setup] = {
    # Parent category 3 must exist before its children.
    "core_course_create_categories__ok_children_batch": _replayed_first(
        "core_course_create_categories", "core_course_create_categories__ok_parent"
    ),
    "core_course_create_courses__ok": _categories,
    "core_course_create_courses__ok_batch": _categories,
    # The recorded duplicate created K26-DUP, which the fixture already holds.
    "core_course_duplicate_course__ok": lambda lms: lms.site.remove_course(7),
    # The recorded groups of course 3 were created by this very call.
    "core_group_create_groups__ok": _drop_groups,
    "core_course_get_courses_by_field__ok_by_idnumber": _no_teachers_yet,
    "core_course_get_courses_by_field__dates_after_import_into_D1_course": _no_teachers_yet,
    # "after_atomic_test" cases read back after the failed atomic batch.
    "core_user_get_users_by_field__after_atomic_test": _failed_first(
        "core_user_create_users", "core_user_create_users__error_batch_one_bad_row"
    ),
    "core_course_get_courses_by_field__ok_after_atomic_test": _failed_first(
        "core_course_create_courses", "core_course_create_courses__error_batch_one_bad_row"
    ),
    "core_enrol_get_enrolled_users__after_atomic_test": _failed_first(
        "enrol_manual_enrol_users", "enrol_manual_enrol_users__error_batch_one_bad_row"
    ),
    "core_user_get_users_by_field__after_mixed_update": _replayed_first(
        "core_user_update_users", "core_user_update_users__mixed_batch_good_bad_good"
    ),
    "core_course_get_courses_by_field__ids_after_mixed_update": _replayed_first(
        "core_course_update_courses", "core_course_update_courses__mixed_batch_good_bad_good"
    ),
    # Calendar reads after the recorded course/group/site events were created.
    "core_calendar_get_calendar_events__course_and_group_userevents0": (
        _calendar_before_adhoc_tasks
    ),
    "core_calendar_get_calendar_events__ok_course_and_group_default_options": (
        _group_and_course_events
    ),
    # Learning state recorded before the reads.
    f"{ACTIVITY_STATUS}natural_path_all_done": _natural_path,
    f"{ACTIVITY_STATUS}after_overrides": _overrides_user6,
    f"{COURSE_STATUS}natural_path_before_cron": _natural_path,
    f"{COURSE_STATUS}natural_path_after_cron": _natural_path,
    f"{COURSE_STATUS}partial_after_cron": _partial_user6,
    f"{COURSE_STATUS}all_overridden_before_cron": _all_overridden_user7,
    f"{COURSE_STATUS}all_overridden_after_cron": _all_overridden_user7,
    "gradereport_user_get_grade_items__ok": lambda lms: grade_final_product(lms, 5, 85, "thao.gv"),
    "gradereport_user_get_grade_items__after_quiz_and_assign": _natural_path,
    "mod_assign_get_grades__ok": _grades_5_and_6,
    "mod_assign_get_submissions__ok": _student_submits,
    "mod_assign_submit_for_grading__student": _student_submits,
    "mod_assign_save_user_extensions__ok_second_extension_overwrites": _replayed_first(
        "mod_assign_save_user_extensions", "mod_assign_save_user_extensions__ok"
    ),
    "mod_feedback_get_items__student": _open_feedback,
    "mod_feedback_process_page__student_submit": _open_feedback,
    "mod_quiz_process_attempt__student_finish": lambda lms: _quiz_attempt(lms, finish=False),
    "mod_quiz_get_attempt_data__student": lambda lms: _quiz_attempt(lms, finish=False),
    "mod_quiz_get_user_attempts__ok_after_attempt": lambda lms: _quiz_attempt(lms, finish=True),
    "mod_quiz_get_user_best_grade__ok_after_attempt": lambda lms: _quiz_attempt(lms, finish=True),
    "mod_quiz_get_overrides__ok": _quiz_overrides,
}


# ---- building the request ------------------------------------------------------------------


def _params(name: str, case: dict[str, Any]) -> dict[str, Any]:
    """The recorded parameters; the two huge trimmed ones are rebuilt from their pattern."""
    if name == "core_user_create_users__silent_truncation_over_max_input_vars":
        return {
            "users": [
                {
                    "username": f"trunc{i:05d}",
                    "password": "Hv#2026abcd",
                    "firstname": "Nhung",
                    "lastname": "Nguyễn Thị",
                    "email": f"trunc{i:05d}@example.edu.vn",
                    "idnumber": f"TRUNC-{i:05d}",
                }
                for i in range(900)
            ]
        }
    if "_values_last_is_real" in name:
        count = int(name.split("boundary_")[1].split("_")[0])
        return {
            "field": "username",
            "values": [f"nosuch{i:05d}" for i in range(count - 1)] + ["nhung.nth"],
        }
    params: dict[str, Any] = case["params"]
    return params


def _token(lms: SandboxLms, name: str, case: dict[str, Any]) -> str:
    if name.startswith("core_webservice_get_site_info__error_missing_token"):
        return ""
    if "invalid_token" in name:
        return BAD_TOKEN
    return lms.token_for(USERS[case["as_user"]])


def _fields(lms: SandboxLms, name: str, case: dict[str, Any]) -> list[tuple[str, str]]:
    control = [
        ("wstoken", _token(lms, name, case)),
        ("wsfunction", case["function"]),
        ("moodlewsrestformat", "json"),
    ]
    return control + flatten_params(_params(name, case))


def _sandbox_for(name: str) -> SandboxLms:
    scenario = scenario_for_case(name)
    if scenario is not None:
        return scenario
    options = SandboxOptions(debug=name.endswith("_debug"))
    lms = SandboxLms(options, clock=lambda: RECORDING_CLOCK)
    if name not in BARE:
        seed_recording_site(lms)
    setup = SETUPS.get(name)
    if setup is not None:
        setup(lms)
    return lms


def _replay(name: str) -> tuple[Any, list[tuple[str, str]]]:
    case = recorded(name)
    lms = _sandbox_for(name)
    fields = _fields(lms, name, case)
    with httpx.Client(base_url="http://sandbox.test", transport=lms.transport()) as client:
        response = client.post(
            "/webservice/rest/server.php",
            content=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json(), fields


# ---- comparing ---------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def shape_mismatches(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Every place where ``actual`` does not have the JSON shape of ``expected``."""
    if _kind(expected) != _kind(actual):
        return [f"{path}: expected {_kind(expected)}, got {_kind(actual)} ({str(actual)[:80]})"]
    if isinstance(expected, dict):
        problems: list[str] = []
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        if missing:
            problems.append(f"{path}: missing keys {missing}")
        if extra:
            problems.append(f"{path}: unexpected keys {extra}")
        for key in sorted(set(expected) & set(actual)):
            problems.extend(shape_mismatches(expected[key], actual[key], f"{path}.{key}"))
        return problems
    if isinstance(expected, list):
        if not expected or not actual:
            return (
                []
                if not expected and not actual
                else [f"{path}: expected {len(expected)} items, got {len(actual)}"]
            )
        problems = []
        for index, item in enumerate(actual):
            attempts = [
                shape_mismatches(candidate, item, f"{path}[{index}]") for candidate in expected
            ]
            if all(attempts):
                closest = attempts[0]
                for attempt in attempts[1:]:
                    closest = attempt if len(attempt) < len(closest) else closest
                problems.extend(closest)
        return problems
    return []


def _compare_error(
    name: str, expected: dict[str, Any], actual: Any, trimmed: dict[str, Any]
) -> None:
    assert isinstance(actual, dict), f"{name}: expected an error, got {str(actual)[:200]}"
    assert actual.get("exception") == expected["exception"]
    assert actual.get("errorcode") == expected["errorcode"]
    assert actual.get("message") == expected["message"]
    assert ("debuginfo" in actual) == ("debuginfo" in expected)
    if "debuginfo" in expected:
        if "$.debuginfo" in trimmed:
            prefix = expected["debuginfo"].split("...[trimmed]")[0]
            assert actual["debuginfo"].startswith(prefix)
        else:
            assert actual["debuginfo"] == expected["debuginfo"]


@pytest.mark.parametrize("name", REPLAYED)
def test_recorded_case(name: str) -> None:
    case = recorded(name)
    actual, fields = _replay(name)
    trimmed = (case.get("trimmed") or {}).get("response", {})
    if not (case.get("trimmed") or {}).get("params") or "_values_last_is_real" in name:
        assert len(fields) == case["request"]["form_field_count"], (
            "the replay encodes like the recording"
        )
    if case["is_error"]:
        _compare_error(name, case["response"], actual, trimmed)
        return
    assert not (isinstance(actual, dict) and "exception" in actual), f"unexpected error {actual}"
    problems = shape_mismatches(case["response"], actual)
    assert not problems, "\n".join(problems[:20])


def test_silent_truncation_keeps_the_recorded_row_count() -> None:
    """900 users x 6 fields + 3: PHP keeps 5,001 fields, so exactly 833 users arrive."""
    name = "core_user_create_users__silent_truncation_over_max_input_vars"
    note = recorded(name)["trimmed"]["response"]["$"]
    actual, _ = _replay(name)
    assert f"list of {len(actual)} items" in note
    assert len(actual) == 833


@pytest.mark.parametrize(("count", "found"), [(4996, 1), (4997, 1), (4998, 0)])
def test_max_input_vars_boundary_as_recorded(count: int, found: int) -> None:
    actual, fields = _replay(f"core_user_get_users_by_field__boundary_{count}_values_last_is_real")
    assert len(fields) == count + 4
    assert len(actual) == found


def test_report_functions_the_sandbox_does_not_implement() -> None:
    """Printed for ``-rP``: the recorded functions this sandbox does not emulate."""
    print("Recorded functions the sandbox LMS does not implement:")
    for function in NOT_IMPLEMENTED:
        cases = [n for n in ALL_CASES if recorded(n)["function"] == function]
        print(f"  {function} ({len(cases)} recorded cases)")
    print(f"Replayed {len(REPLAYED)} of {len(ALL_CASES)} recorded cases.")
    assert not set(NOT_IMPLEMENTED) & set(REGISTRY)
    assert not set(PROVISIONING_AND_READING) - set(REGISTRY), "the provisioning side is complete"


def test_shape_comparison_catches_differences() -> None:
    """The comparator itself: a missing key, a type change and an empty list all count."""
    assert shape_mismatches({"a": 1, "b": [{"c": "x"}]}, {"a": 2, "b": [{"c": "y"}]}) == []
    assert shape_mismatches({"a": 1}, {"a": "1"})
    assert shape_mismatches({"a": 1, "b": 2}, {"a": 1})
    assert shape_mismatches({"a": [{"c": 1}]}, {"a": []})
    assert shape_mismatches({"a": [{"c": 1}]}, {"a": [{"d": 1}]})
    assert shape_mismatches([], [1])
    assert json.loads(json.dumps(None)) is None


def test_every_grading_scenario_case_is_replayed_at_its_point_of_the_story() -> None:
    """A case of the grading scenario replayed on the recording site would compare nothing
    meaningful: each one the sandbox can replay must name its checkpoint."""
    scenario_cases = {Path(file).stem for file in meta("grading_scenario")["files"]}
    assert set(CHECKPOINTS) <= scenario_cases, "checkpoints name only recorded scenario cases"
    missing = sorted(scenario_cases & set(REPLAYED) - set(CHECKPOINTS))
    assert not missing, f"scenario cases without a checkpoint: {missing}"


def test_grading_scenario_reproduces_the_recorded_grades_and_graders() -> None:
    """The story's outcome, value by value: who graded whom, and what."""
    lms = scenario_for_case("mod_assign_get_grades__course_with_grader_and_outsider")
    assert lms is not None
    got = lms.call("mod_assign_get_grades", {"assignmentids": [2]})["assignments"][0]["grades"]
    expected = recorded("mod_assign_get_grades__course_with_grader_and_outsider")["response"]
    want = expected["assignments"][0]["grades"]

    def facts(grades: list[dict[str, Any]]) -> list[tuple[int, int, float, int]]:
        return sorted(
            (g["userid"], g["grader"], float(g["grade"]), g["timemodified"]) for g in grades
        )

    assert facts(got) == facts(want)


def test_grading_scenario_survey_reports_match_the_recording_value_by_value() -> None:
    """Who answered what, who did not, and the counts per option, as real Moodle said."""
    lms = scenario_for_case("mod_feedback_get_responses_analysis__course_after_3_answers")
    assert lms is not None
    for name in (
        "mod_feedback_get_responses_analysis__course_after_3_answers",
        "mod_feedback_get_non_respondents__course_after_3_answers",
        "mod_feedback_get_analysis__course_after_3_answers",
        "mod_feedback_get_analysis__group2",
    ):
        case = recorded(name)
        assert lms.call(case["function"], case["params"]) == case["response"], name


def test_non_respondents_come_twenty_at_a_time_unless_perpage_says_otherwise() -> None:
    """Moodle's quirk: perpage 0 means 20 per call and ``page`` is then an offset."""
    lms = scenario_for_case("mod_feedback_get_non_respondents__course_after_3_answers")
    assert lms is not None
    first = lms.call("mod_feedback_get_non_respondents", {"feedbackid": 2, "page": 1})
    assert [u["userid"] for u in first["users"]] == [7, 10, 11, 12]
    assert first["total"] == 5
    paged = lms.call("mod_feedback_get_non_respondents", {"feedbackid": 2, "page": 1, "perpage": 2})
    assert [u["userid"] for u in paged["users"]] == [10, 11]
