"""``connector.completion`` against recorded answers."""

from __future__ import annotations

import pytest

from connector.completion import (
    GET_ACTIVITIES_COMPLETION_STATUS,
    GET_COURSE_COMPLETION_STATUS,
    OVERRIDE_ACTIVITY_COMPLETION_STATUS,
    UPDATE_ACTIVITY_COMPLETION_STATUS_MANUALLY,
    Completion,
)
from connector.errors import LmsMissingCapability, LmsWsError
from tests.contract import recorded

from .recorded_replies import recorded_form, serve


def test_activity_statuses_show_overrides() -> None:
    case = "core_completion_get_activities_completion_status__after_overrides"
    replies, client = serve(case)

    statuses = Completion(client).get_activities_completion_status(3, 6).statuses

    assert replies.sent(GET_ACTIVITIES_COMPLETION_STATUS) == [recorded_form(case)]
    by_cmid = {status.cmid: status for status in statuses}
    assert (by_cmid[15].overrideby, by_cmid[16].overrideby, by_cmid[17].overrideby) == (3, 17, None)
    assert by_cmid[18].details[1].rulevalue.status == 3
    assert not any(status.complete for status in statuses)


def test_all_done_on_the_natural_path() -> None:
    _, client = serve("core_completion_get_activities_completion_status__natural_path_all_done")
    statuses = Completion(client).get_activities_completion_status(3, 5).statuses
    assert all(status.complete for status in statuses)


def test_course_completion_status() -> None:
    case = "core_completion_get_course_completion_status__partial_after_cron"
    replies, client = serve(case)

    status = Completion(client).get_course_completion_status(3, 6)

    assert replies.sent(GET_COURSE_COMPLETION_STATUS) == [recorded_form(case)]
    assert status.completed is False
    assert [criterion.complete for criterion in status.completions] == [
        True,
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("case", "complete"),
    [
        ("core_completion_override_activity_completion_status__ok_manual_activity", True),
        ("core_completion_override_activity_completion_status__ok_set_incomplete", False),
    ],
)
def test_override_sends_the_state_as_one_or_zero(case: str, complete: bool) -> None:
    replies, client = serve(case)
    params = recorded(case)["params"]

    override = Completion(client).override_activity_completion_status(
        params["userid"], params["cmid"], complete=complete
    )

    assert replies.sent(OVERRIDE_ACTIVITY_COMPLETION_STATUS) == [recorded_form(case)]
    assert (override.state, override.overrideby) == (int(complete), 3)


def test_override_without_the_capability() -> None:
    _, client = serve(
        "core_completion_override_activity_completion_status__error_missing_capability"
    )
    with pytest.raises(LmsMissingCapability):
        Completion(client).override_activity_completion_status(6, 15, complete=True)


def test_manual_completion_of_ones_own_activity() -> None:
    case = "core_completion_update_activity_completion_status_manually__ok_student_self_manual"
    replies, client = serve(case)
    answer = Completion(client).update_activity_completion_status_manually(16, completed=True)
    assert replies.sent(UPDATE_ACTIVITY_COMPLETION_STATUS_MANUALLY) == [recorded_form(case)]
    assert answer.status is True


def test_manual_completion_of_an_automatic_activity_is_refused() -> None:
    _, client = serve(
        "core_completion_update_activity_completion_status_manually__error_student_on_automatic_activity"
    )
    with pytest.raises(LmsWsError) as raised:
        Completion(client).update_activity_completion_status_manually(15, completed=True)
    assert raised.value.errorcode == "cannotmanualctrack"
