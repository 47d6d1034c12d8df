"""Tokens, services and capabilities; debuginfo only in developer-debug mode."""

from __future__ import annotations

import pytest

from sandbox import MoodleError, SandboxLms, SandboxOptions, seed_recording_site


def _error(lms: SandboxLms, function: str, params: dict[str, object], token: str) -> MoodleError:
    with pytest.raises(MoodleError) as caught:
        lms.call(function, params, token=token)
    return caught.value


def test_unknown_token() -> None:
    lms = SandboxLms()
    error = _error(lms, "core_webservice_get_site_info", {}, "f" * 32)
    assert (error.errorcode, error.message) == ("invalidtoken", "Invalid token - token not found")


def test_unknown_function_is_the_recorded_missing_record() -> None:
    lms = SandboxLms()
    error = _error(lms, "core_nonexistent_function", {}, lms.token_for("syncbot"))
    assert error.exception == "dml_missing_record_exception"
    assert error.message == "Can't find data record in database table external_functions."


def test_function_outside_the_service_is_an_access_exception() -> None:
    lms = SandboxLms()
    error = _error(lms, "core_course_delete_courses", {"courseids": [1]}, lms.token_for("syncbot"))
    assert (error.exception, error.errorcode) == ("webservice_access_exception", "accessexception")


def test_service_list_is_an_option() -> None:
    lms = SandboxLms(SandboxOptions(service_functions=("core_webservice_get_site_info",)))
    token = lms.token_for("syncbot")
    assert lms.call("core_webservice_get_site_info", token=token)["functions"] == [
        {"name": "core_webservice_get_site_info", "version": "2024100705.01"}
    ]
    assert (
        _error(lms, "core_user_get_users", {"criteria": []}, token).errorcode == "accessexception"
    )


def test_limited_account_lacks_capabilities() -> None:
    lms = SandboxLms()
    user = {
        "username": "x",
        "password": "Hv#2026abcd",
        "firstname": "X",
        "lastname": "Y",
        "email": "x@y.vn",
    }
    error = _error(lms, "core_user_create_users", {"users": [user]}, lms.token_for("limitedbot"))
    assert error.errorcode == "nopermissions"
    assert (
        error.message
        == "Sorry, but you do not currently have permissions to do that (Create users)."
    )


def test_limited_account_cannot_enter_courses() -> None:
    lms = SandboxLms()
    error = _error(lms, "core_course_get_contents", {"courseid": 2}, lms.token_for("limitedbot"))
    assert error.errorcode == "errorcoursecontextnotvalid"


def test_student_cannot_grade_but_teacher_can() -> None:
    lms = SandboxLms(clock=lambda: 1_795_559_070)
    seed_recording_site(lms)
    params = {
        "assignmentid": 3,
        "userid": 5,
        "grade": 85,
        "attemptnumber": -1,
        "addattempt": 0,
        "workflowstate": "",
        "applytoall": 1,
    }
    error = _error(lms, "mod_assign_save_grade", params, lms.token_for("nhung.nth"))
    assert (
        error.message
        == "Sorry, but you do not currently have permissions to do that (Grade assignment)."
    )
    assert lms.call("mod_assign_save_grade", params, token=lms.token_for("thao.gv")) is None
    assert lms.site.assign_grades[(3, 5)].grader == 17


@pytest.mark.parametrize(("debug", "present"), [(False, False), (True, True)])
def test_debuginfo_only_in_developer_debug_mode(debug: bool, present: bool) -> None:
    lms = SandboxLms(SandboxOptions(debug=debug))
    reply = lms.handle(
        "",
        f"wstoken={lms.token_for('syncbot')}&wsfunction=core_course_get_contents&moodlewsrestformat=json",
    )
    assert reply.status == 200
    assert (
        b'"debuginfo":"Missing required key in single structure: courseid"' in reply.body
    ) is present
    assert b'"errorcode":"invalidparameter"' in reply.body


def test_tokens_are_stable_and_printable() -> None:
    first, second = SandboxLms(), SandboxLms()
    assert first.tokens == second.tokens
    assert set(first.tokens) == {"syncbot", "limitedbot"}
    assert all(len(token) == 32 for token in first.tokens.values())
    with pytest.raises(KeyError):
        first.issue_token("nobody")
