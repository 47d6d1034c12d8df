"""The shipped configuration on a stock Moodle: no custom profile fields at all."""

from __future__ import annotations

from config.settings import DEFAULT_CONFIG_FILE, load_settings
from connector.check import check_lms
from connector.client import MoodleClient
from connector.lms import MoodleLms
from connector.users import UserRules
from sandbox.lms import SandboxLms
from sandbox.options import SandboxOptions


def test_the_shipped_configuration_is_ready_on_a_site_without_profile_fields() -> None:
    settings = load_settings(DEFAULT_CONFIG_FILE)
    sandbox = SandboxLms(SandboxOptions(profile_fields=()))
    client = MoodleClient(
        "http://sandbox.invalid", sandbox.token_for("syncbot"), transport=sandbox.transport()
    )
    configured = frozenset(settings.provisioning.profile_fields)
    lms = MoodleLms(client, user_rules=UserRules(profile_fields=configured))
    report = check_lms(lms, settings.runs[0].template_course, configured)
    assert report.problems == []
    assert [line for line in report.lines if line.kind == "profile field"] == []
