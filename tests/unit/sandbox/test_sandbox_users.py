"""Accounts in the sandbox LMS: atomic creates, per-row updates, exact look-ups."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import MoodleError, SandboxLms, SandboxOptions


def _user(username: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "username": username,
        "password": "Hv#2026abcd",
        "firstname": "Học",
        "lastname": "Viên",
        "email": f"{username}@example.edu.vn",
    }
    row.update(extra)
    return row


@pytest.fixture
def lms() -> SandboxLms:
    return SandboxLms(clock=lambda: 1_795_559_070)


def _usernames(lms: SandboxLms) -> set[str]:
    return set(lms.site.user_by_username)


def _create(lms: SandboxLms, *rows: dict[str, Any]) -> Any:
    return lms.call("core_user_create_users", {"users": list(rows)})


def test_create_returns_ids_in_order(lms: SandboxLms) -> None:
    created = _create(lms, _user("a.one"), _user("b.two"))
    assert [row["username"] for row in created] == ["a.one", "b.two"]
    assert created[1]["id"] == created[0]["id"] + 1


@pytest.mark.parametrize(
    ("bad", "debuginfo"),
    [
        (_user("a.one"), "Username already exists: a.one"),
        (
            _user("c.three", email="A.ONE@EXAMPLE.EDU.VN"),
            "Email address already exists: A.ONE@EXAMPLE.EDU.VN",
        ),
        (_user("c.three", email="not-an-email"), "Email address is invalid: not-an-email"),
        (_user("c.three", auth="webservice"), "Invalid authentication type: webservice"),
    ],
)
def test_one_bad_row_fails_the_whole_batch(
    lms: SandboxLms, bad: dict[str, Any], debuginfo: str
) -> None:
    _create(lms, _user("a.one"))
    before = _usernames(lms)
    with pytest.raises(MoodleError) as caught:
        _create(lms, _user("ok.first"), bad, _user("ok.last"))
    assert caught.value.errorcode == "invalidparameter"
    assert caught.value.debuginfo == debuginfo
    assert _usernames(lms) == before


def test_duplicates_inside_one_batch_are_caught_too(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        _create(lms, _user("twin"), _user("twin.b", email="TWIN@example.edu.vn"))
    assert caught.value.debuginfo == "Email address already exists: TWIN@example.edu.vn"
    assert "twin" not in _usernames(lms)


def test_failed_batch_still_uses_up_ids_like_a_database_sequence(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError):
        _create(lms, _user("x.one"), _user("x.one"))
    assert _create(lms, _user("y.one"))[0]["id"] == 6


def test_weak_password_is_refused_with_moodles_policy_text(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        _create(lms, _user("weak", password="abc"))
    assert caught.value.exception == "core\\exception\\moodle_exception"
    assert caught.value.errorcode.startswith(
        "<div>Passwords must be at least 8 characters long.</div>"
    )
    assert "at least 1 digit(s)" in caught.value.errorcode
    assert caught.value.message == f"error/{caught.value.errorcode}"


def test_createpassword_or_nologin_need_no_password(lms: SandboxLms) -> None:
    row = _user("auto")
    del row["password"]
    _create(lms, {**row, "createpassword": 1}, _user("nolog", auth="nologin", password="x"))
    assert {"auto", "nolog"} <= _usernames(lms)


def test_unknown_custom_fields_are_ignored(lms: SandboxLms) -> None:
    fields = [{"type": "school", "value": "THPT A"}, {"type": "nosuch", "value": "x"}]
    created = _create(lms, _user("cf", customfields=fields))
    user = lms.site.users[created[0]["id"]]
    assert user.customfields == {"school": "THPT A"}


def test_update_is_per_row_with_warnings(lms: SandboxLms) -> None:
    first, second = _create(lms, _user("u.one"), _user("u.two"))
    result = lms.call(
        "core_user_update_users",
        {
            "users": [
                {"id": first["id"], "city": "Bình Long"},
                {"id": 999999, "city": "x"},
                {"id": second["id"], "username": "u.one"},
                {"id": second["id"], "email": "U.ONE@example.edu.vn"},
                {"id": second["id"], "email": "broken"},
                {
                    "id": second["id"],
                    "suspended": 1,
                    "customfields": [{"type": "level", "value": "THPT"}],
                },
            ]
        },
    )
    codes = [(w["itemid"], w["warningcode"]) for w in result["warnings"]]
    assert codes == [
        (999999, "invaliduserid"),
        (second["id"], "dmlwriteexception"),
        (second["id"], "useremailduplicate"),
        (second["id"], "useremailinvalid"),
    ]
    assert lms.site.users[first["id"]].city == "Bình Long"
    assert lms.site.users[second["id"]].suspended is True
    assert lms.site.users[second["id"]].customfields["level"] == "THPT"


def test_changing_an_email_reindexes_the_user(lms: SandboxLms) -> None:
    created = _create(lms, _user("mover"))
    userid = created[0]["id"]
    lms.call("core_user_update_users", {"users": [{"id": userid, "email": "new@example.edu.vn"}]})
    by_old = lms.call(
        "core_user_get_users_by_field", {"field": "email", "values": ["mover@example.edu.vn"]}
    )
    by_new = lms.call(
        "core_user_get_users_by_field", {"field": "email", "values": ["new@example.edu.vn"]}
    )
    assert by_old == []
    assert [u["id"] for u in by_new] == [userid]


def test_lookup_by_field_is_exact_and_in_id_order(lms: SandboxLms) -> None:
    _create(lms, _user("zed"), _user("amy"), _user("bob", idnumber="HV-1"))
    found = lms.call(
        "core_user_get_users_by_field", {"field": "username", "values": ["bob", "x", "zed"]}
    )
    assert [u["username"] for u in found] == ["zed", "bob"]
    upper = lms.call(
        "core_user_get_users_by_field", {"field": "email", "values": ["AMY@example.edu.vn"]}
    )
    assert upper == []
    by_idnumber = lms.call(
        "core_user_get_users_by_field", {"field": "idnumber", "values": ["HV-1"]}
    )
    assert by_idnumber[0]["username"] == "bob"


def test_lookup_refuses_a_username_that_is_not_clean(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call("core_user_get_users_by_field", {"field": "username", "values": ["ok", "NOT.OK"]})
    assert caught.value.errorcode == "invalidparameter"


def test_lookup_by_an_unsupported_field_is_a_coding_error(lms: SandboxLms) -> None:
    with pytest.raises(MoodleError) as caught:
        lms.call("core_user_get_users_by_field", {"field": "cccd", "values": ["1"]})
    assert caught.value.errorcode == "codingerror"


def test_profile_fields_are_configurable() -> None:
    from sandbox.state import ProfileField

    lms = SandboxLms(SandboxOptions(profile_fields=(ProfileField("unit", "Unit"),)))
    created = lms.call(
        "core_user_create_users",
        {
            "users": [
                _user(
                    "p",
                    customfields=[
                        {"type": "unit", "value": "U1"},
                        {"type": "school", "value": "S"},
                    ],
                )
            ]
        },
    )
    found = lms.call("core_user_get_users_by_field", {"field": "id", "values": [created[0]["id"]]})
    assert found[0]["customfields"] == [
        {"type": "text", "value": "U1", "displayvalue": "U1", "name": "Unit", "shortname": "unit"}
    ]


def test_get_users_searches_names_with_like_case_insensitively(lms: SandboxLms) -> None:
    _create(
        lms, _user("n1", lastname="Nguyễn Văn"), _user("n2", lastname="nguyễn thị"), _user("t1")
    )
    found = lms.call("core_user_get_users", {"criteria": [{"key": "lastname", "value": "Nguyễn%"}]})
    assert sorted(u["username"] for u in found["users"]) == ["n1", "n2"]
