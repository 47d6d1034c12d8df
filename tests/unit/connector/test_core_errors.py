"""Every error body recorded from a real Moodle maps to the exception its caller handles."""

from __future__ import annotations

import pytest

from connector import errors as e
from tests.contract import recorded, recorded_cases

# What the caller must do next, per recorded error case.
EXPECTED: dict[str, type[e.LmsError]] = {
    "core_webservice_get_site_info__error_invalid_token": e.LmsInvalidToken,
    "core_webservice_get_site_info__error_missing_token": e.LmsInvalidToken,
    "core_nonexistent_function__error_unknown_function": e.LmsFunctionNotAvailable,
    "core_course_delete_courses__error_function_not_in_service": e.LmsFunctionNotAvailable,
    "core_user_create_users__error_missing_capability": e.LmsMissingCapability,
    "core_completion_override_activity_completion_status__error_missing_capability": (
        e.LmsMissingCapability
    ),
    "core_completion_override_activity_completion_status__error_student_no_capability": (
        e.LmsMissingCapability
    ),
    "mod_assign_save_grade__error_student_no_capability": e.LmsMissingCapability,
    "enrol_manual_enrol_users__error_role_not_assignable": e.LmsMissingCapability,
    "core_course_get_contents__error_not_enrolled_no_capability": e.LmsMissingCapability,
    "core_user_create_users__error_batch_one_bad_row": e.LmsInvalidParameter,
    "core_user_create_users__duplicate_email": e.LmsInvalidParameter,
    "core_user_get_users_by_field__empty_values": e.LmsInvalidParameter,
    "core_user_get_users_by_field__error_invalid_field": e.LmsInvalidParameter,
    "enrol_manual_enrol_users__error_nonexistent_course": e.LmsInvalidParameter,
    "core_group_add_group_members__error_user_not_enrolled": e.LmsInvalidParameter,
    "core_course_get_contents__error_nonexistent_course": e.LmsNotFound,
    "core_course_get_course_module__error_nonexistent": e.LmsNotFound,
    "enrol_manual_enrol_users__error_nonexistent_user": e.LmsNotFound,
    "core_group_add_group_members__error_nonexistent_user": e.LmsNotFound,
    "core_course_create_categories__error_nonexistent_parent": e.LmsNotFound,
    "core_course_import_course__error_nonexistent_target": e.LmsNotFound,
    "core_course_create_courses__error_nonexistent_category": e.LmsNotFound,
    "core_group_create_groups__error_nonexistent_course": e.LmsNotFound,
    "core_course_create_courses__error_duplicate_shortname": e.LmsAlreadyExists,
    "core_course_create_categories__error_duplicate_idnumber": e.LmsAlreadyExists,
    "core_group_create_groups__error_duplicate_idnumber": e.LmsAlreadyExists,
    "core_completion_override_activity_completion_status__error_newstate_2": e.LmsWsError,
    "core_user_create_users__error_password_policy": e.LmsDataError,
    "core_calendar_update_event_start_day__error_assign_due_after_cutoff": e.LmsDataError,
}

ERROR_CASES = [name for name in recorded_cases() if recorded(name)["is_error"]]


def test_the_table_names_only_recorded_error_cases() -> None:
    assert set(EXPECTED) <= set(ERROR_CASES)


@pytest.mark.parametrize("case", ERROR_CASES)
def test_every_recorded_error_maps_to_a_specific_class(case: str) -> None:
    record = recorded(case)
    error = e.error_from_payload(record["response"], wsfunction=record["function"])
    assert isinstance(error, e.LmsWsError | e.LmsRetryableError)
    assert error.wsfunction == record["function"]
    if case in EXPECTED:
        assert type(error) is EXPECTED[case]
    if isinstance(error, e.LmsWsError):
        assert error.errorcode == record["response"]["errorcode"]
        assert (error.debuginfo is not None) == ("debuginfo" in record["response"])


@pytest.mark.parametrize("case", ERROR_CASES)
def test_raise_for_payload_raises_recorded_errors(case: str) -> None:
    with pytest.raises(e.LmsError):
        e.raise_for_payload(recorded(case)["response"])


def test_successes_and_nulls_pass_through() -> None:
    ok = recorded("core_webservice_get_site_info__ok")["response"]
    assert e.raise_for_payload(ok) is ok
    assert e.raise_for_payload(None) is None
    assert e.raise_for_payload([{"id": 1}]) == [{"id": 1}]
    # A dict with "exception" but no "errorcode" is data, not an error body.
    assert e.raise_for_payload({"exception": "x"}) == {"exception": "x"}


def test_groups_by_next_action() -> None:
    assert issubclass(e.LmsInvalidToken, e.LmsConfigError)
    assert issubclass(e.LmsAlreadyExists, e.LmsDataError)
    assert issubclass(e.LmsTimeout, e.LmsRetryableError)
    assert not issubclass(e.LmsOutcomeUnknown, e.LmsRetryableError)
    assert not issubclass(e.LmsDataError, e.LmsRetryableError)


def test_maintenance_is_retryable() -> None:
    error = e.error_from_payload(
        {"exception": "moodle_exception", "errorcode": "sitemaintenance", "message": "m"}
    )
    assert isinstance(error, e.LmsOverloaded)


def test_context_error_on_a_missing_course_is_not_found_but_on_access_is_capability() -> None:
    missing = recorded("core_group_create_groups__error_nonexistent_course")["response"]
    denied = recorded("core_course_get_contents__error_not_enrolled_no_capability")["response"]
    assert isinstance(e.error_from_payload(missing), e.LmsNotFound)
    assert isinstance(e.error_from_payload(denied), e.LmsMissingCapability)


def test_message_includes_code_and_debuginfo() -> None:
    record = recorded("core_user_create_users__duplicate_email_debug")
    text = str(e.error_from_payload(record["response"], wsfunction=record["function"]))
    assert text.startswith("core_user_create_users: Invalid parameter value detected")
    assert "[invalidparameter]" in text
    assert "Email address already exists" in text


def test_a_write_rolled_back_by_a_deadlock_is_a_write_conflict_not_a_data_error() -> None:
    # What Moodle answered (issue 10) when two add_group_members on one group deadlocked.
    body = {
        "exception": "dml_write_exception",
        "errorcode": "dmlwriteexception",
        "message": "Error writing to database",
    }
    error = e.error_from_payload(body, wsfunction="core_group_add_group_members")
    assert isinstance(error, e.LmsWriteConflict)
    # Neither bisected as a bad row nor re-sent blindly by the client's retry policy.
    assert not isinstance(error, e.LmsDataError | e.LmsRetryableError)
