"""``connector.site`` against recorded answers."""

from __future__ import annotations

import pytest

from connector.errors import LmsInvalidToken
from connector.site import GET_SITE_INFO, Site

from .recorded_replies import serve


def test_site_info_is_parsed_from_the_recorded_answer() -> None:
    replies, client = serve("core_webservice_get_site_info__ok")

    info = Site(client).get_site_info()

    assert replies.sent(GET_SITE_INFO) == [[]]  # nothing but the protocol fields
    assert info.sitename == "Moodle Contract Test"
    assert info.release == "4.5.5+ (Build: 20250613)"
    assert info.version == "2024100705.01"
    assert (info.username, info.userid) == ("syncbot", 3)
    assert info.userissiteadmin is False
    assert info.function_names == {
        "core_calendar_update_event_start_day",
        "core_calendar_create_calendar_events",
        "core_calendar_get_calendar_events",
    }
    assert info.missing_functions(
        ["core_calendar_get_calendar_events", "core_user_create_users"]
    ) == ["core_user_create_users"]


@pytest.mark.parametrize(
    "case",
    [
        "core_webservice_get_site_info__error_invalid_token",
        "core_webservice_get_site_info__error_missing_token",
    ],
)
def test_a_bad_token_is_a_configuration_error(case: str) -> None:
    _, client = serve(case)
    with pytest.raises(LmsInvalidToken) as raised:
        Site(client).get_site_info()
    assert raised.value.wsfunction == GET_SITE_INFO
    assert "t0k" not in str(raised.value)
