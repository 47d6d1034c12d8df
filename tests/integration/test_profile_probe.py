"""The profile-field probe against the sandbox LMS, which drops undefined fields as Moodle does."""

from __future__ import annotations

from connector.client import MoodleClient
from connector.lms import MoodleLms
from connector.profile_fields import check_profile_fields
from connector.users import UserRules
from sandbox.lms import SandboxLms
from sandbox.options import SandboxOptions
from sandbox.state import ProfileField

CONFIGURED = frozenset({"school", "subject"})


def _lms(sandbox: SandboxLms) -> MoodleLms:
    client = MoodleClient(
        "http://sandbox.invalid", sandbox.token_for("syncbot"), transport=sandbox.transport()
    )
    return MoodleLms(client, user_rules=UserRules(profile_fields=CONFIGURED))


def test_a_field_created_on_the_site_later_is_found_by_the_next_probe() -> None:
    sandbox = SandboxLms(SandboxOptions(profile_fields=(ProfileField("school", "Trường"),)))
    lms = _lms(sandbox)
    assert check_profile_fields(lms, CONFIGURED, write=True).missing == {"subject"}

    sandbox.site.profile_fields.append(ProfileField("subject", "Môn"))
    assert check_profile_fields(lms, CONFIGURED, write=False).missing == {"subject"}
    assert check_profile_fields(lms, CONFIGURED, write=True).missing == frozenset()


def test_a_probe_that_already_shows_every_field_writes_nothing() -> None:
    lms = _lms(SandboxLms(SandboxOptions()))  # the default sandbox has both fields
    check_profile_fields(lms, CONFIGURED, write=True)
    writes = {"core_user_create_users", "core_user_update_users"}
    before = {f: s.calls for f, s in lms.client.stats.snapshot().items() if f in writes}
    again = check_profile_fields(lms, CONFIGURED, write=True)
    after = {f: s.calls for f, s in lms.client.stats.snapshot().items() if f in writes}
    assert again.missing == frozenset()
    assert again.usable == CONFIGURED
    assert after == before


def test_nothing_configured_asks_nothing() -> None:
    lms = _lms(SandboxLms(SandboxOptions()))
    found = check_profile_fields(lms, (), write=True)
    assert found.usable == frozenset()
    assert lms.client.stats.calls == 0
