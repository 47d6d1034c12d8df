"""``connector.users`` against recorded Moodle answers and an atomic, truncating test server."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from connector.errors import (
    LmsInvalidParameter,
    LmsInvalidToken,
    LmsMissingCapability,
    LmsTruncationError,
)
from connector.users import (
    CREATE_USERS,
    GET_USERS,
    GET_USERS_BY_FIELD,
    UPDATE_USERS,
    CreatedUser,
    NewUser,
    ProfileFieldValue,
    UserRules,
    Users,
    UserUpdate,
)
from connector.validation import PasswordPolicy
from tests.contract import recorded

from .recorded_replies import (
    Form,
    RecordedReplies,
    answer,
    recorded_answer,
    recorded_form,
    recorded_rows,
    serve,
    unflatten,
)

SITE_FIELDS = UserRules(profile_fields=frozenset({"school", "cccd", "classcode"}))


def new_user(row: dict[str, Any]) -> NewUser:
    """A recorded ``users[i]`` row as the typed input."""
    fields = dict(row)
    custom = tuple(ProfileFieldValue(**item) for item in fields.pop("customfields", []))
    if "createpassword" in fields:
        fields["createpassword"] = bool(fields["createpassword"])
    return NewUser(**fields, customfields=custom)


def recorded_users(case: str) -> list[NewUser]:
    return [new_user(row) for row in recorded(case)["params"]["users"]]


def learner(n: int, **extra: Any) -> NewUser:
    return NewUser(
        username=f"hv{n:05d}",
        password="Hv#2026abcd",
        firstname="Nhung",
        lastname="Nguyễn Thị",
        email=f"hv{n:05d}@example.edu.vn",
        idnumber=f"HV-{n:05d}",
        **extra,
    )


class UserDirectory:
    """An in-test user table that answers the three user functions.

    Creation is atomic like Moodle's: one bad row (a username already taken, a required
    key missing) fails the request with the recorded ``invalidparameter`` body and creates
    no one.
    """

    REQUIRED = frozenset({"username", "firstname", "lastname", "email"})

    def __init__(self, taken: frozenset[str] = frozenset(), max_input_vars: int | None = None):
        self.taken = taken
        self.records: dict[int, dict[str, Any]] = {}
        self.creations: list[str] = []
        self.replies = RecordedReplies(
            {
                CREATE_USERS: self.create,
                UPDATE_USERS: self.update,
                GET_USERS_BY_FIELD: self.lookup,
            },
            max_input_vars=max_input_vars,
        )

    def create(self, form: Form) -> httpx.Response:
        users = unflatten(form).get("users", [])
        existing = self.taken | {record["username"] for record in self.records.values()}
        if any(not set(user) >= self.REQUIRED or user["username"] in existing for user in users):
            return answer(recorded("core_user_create_users__error_batch_one_bad_row")["response"])
        created = []
        for user in users:
            user_id = 100 + len(self.records)
            self.records[user_id] = dict(user)
            self.creations.append(user["username"])
            created.append({"id": user_id, "username": user["username"]})
        return recorded_rows("core_user_create_users__ok_teachers", created)

    def update(self, form: Form) -> httpx.Response:
        for user in unflatten(form)["users"]:
            self.records[int(user.pop("id"))].update(user)
        return recorded_answer("core_user_update_users__ok")

    def lookup(self, form: Form) -> httpx.Response:
        # Hand-made: the users this directory created exist in no recording; the rows
        # carry what was sent, which is what the connector reads back.
        params = unflatten(form)
        wanted = set(params["values"])
        found = [
            {"id": user_id, "fullname": "x", **record}
            for user_id, record in self.records.items()
            if record[params["field"]] in wanted
        ]
        return answer(found)


# --- core_user_create_users ---------------------------------------------------------


def test_create_users_sends_the_recorded_form_and_parses_the_answer() -> None:
    replies, client = serve("core_user_create_users__ok_teachers")
    users = recorded_users("core_user_create_users__ok_teachers")

    outcome = Users(client, SITE_FIELDS).create_users(users)

    assert replies.sent(CREATE_USERS) == [recorded_form("core_user_create_users__ok_teachers")]
    assert outcome.done == [
        (users[0], CreatedUser(id=17, username="thao.gv")),
        (users[1], CreatedUser(id=18, username="tuan.gv")),
    ]
    assert outcome.failed == []
    assert outcome.calls == 1


def test_create_users_with_createpassword_sends_the_recorded_fields() -> None:
    case = "core_user_create_users__ok_createpassword"
    replies, client = serve(case)

    outcome = Users(client, SITE_FIELDS).create_users(recorded_users(case))

    assert sorted(replies.sent(CREATE_USERS)[0]) == sorted(recorded_form(case))
    assert [created for _, created in outcome.done] == [CreatedUser(id=21, username="auto.pass")]


def test_required_keys_come_first_in_each_row() -> None:
    params = learner(1, city="Đồng Xoài", customfields=(ProfileFieldValue("school", "X"),)).params()
    assert list(params)[:5] == ["username", "password", "firstname", "lastname", "email"]
    assert list(params)[-1] == "customfields"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("core_user_create_users__error_invalid_username_chars", "lower-case"),
        ("core_user_create_users__error_invalid_email", "e-mail"),
        ("core_user_create_users__error_password_policy", "password breaks the site's policy"),
        ("core_user_create_users__unknown_customfield", "'nosuchfield' is not one the site has"),
    ],
)
def test_rows_moodle_would_refuse_or_mangle_are_refused_before_sending(
    case: str, reason: str
) -> None:
    replies = RecordedReplies({})
    users = recorded_users(case)

    outcome = Users(replies.client(), SITE_FIELDS).create_users(users)

    assert replies.requests == []
    assert outcome.done == []
    [(row, error)] = outcome.failed
    assert row == users[0]
    assert isinstance(error, LmsInvalidParameter)
    assert error.wsfunction == CREATE_USERS
    assert str(error).startswith(f"{CREATE_USERS}: users[0] {users[0].username!r}: ")
    assert reason in error.message


def test_refusals_before_sending_cover_duplicates_and_missing_password() -> None:
    directory = UserDirectory()
    users = [
        learner(1),
        learner(1),  # same username again
        NewUser("other", "A", "B", email="HV00001@example.edu.vn", password="Hv#2026abcd"),
        NewUser("nopass", "A", "B", email="nopass@example.edu.vn"),
        NewUser("tagged", "<b>A</b>", "B", email="tagged@example.edu.vn", password="Hv#2026abcd"),
        learner(2, country="vn"),
    ]

    outcome = Users(directory.replies.client()).create_users(users)

    assert [user.username for user, _ in outcome.done] == ["hv00001"]
    reasons = {user.username: error.message for user, error in outcome.failed}
    assert "username also in users[0]" in reasons["hv00001"]
    assert "e-mail also in users[0]" in reasons["other"]
    assert "neither a password nor createpassword" in reasons["nopass"]
    assert "strips as an HTML tag" in reasons["tagged"]
    assert "two-letter ISO code" in reasons["hv00002"]


def test_password_policy_follows_the_site() -> None:
    weak = NewUser("weak", "A", "B", email="weak@example.edu.vn", password="123")
    strict = Users(RecordedReplies({}).client())
    relaxed = Users(RecordedReplies({}).client(), UserRules(password_policy=None))
    short = Users(
        RecordedReplies({}).client(),
        UserRules(
            password_policy=PasswordPolicy(
                min_length=3, min_digits=1, min_lower=0, min_upper=0, min_non_alphanumeric=0
            )
        ),
    )
    assert strict.new_user_problems(weak) == [
        "password breaks the site's policy: needs at least 8 characters, at least 1 "
        "lower-case letter(s), at least 1 upper-case letter(s), at least 1 "
        "non-alphanumeric character(s)"
    ]
    assert relaxed.new_user_problems(weak) == []
    assert short.new_user_problems(weak) == []


def test_a_batch_with_bad_rows_lands_its_good_rows_and_names_each_bad_one() -> None:
    bad = {17, 99, 150}
    directory = UserDirectory(taken=frozenset(f"hv{n:05d}" for n in bad))
    users = [learner(n) for n in range(200)]

    outcome = Users(directory.replies.client()).create_users(users)

    assert len(outcome.done) == 197
    assert sorted(directory.creations) == sorted(user.username for user, _ in outcome.done)
    assert len(set(directory.creations)) == 197  # nobody created twice
    assert [(user.username, type(error)) for user, error in outcome.failed] == [
        (f"hv{n:05d}", LmsInvalidParameter) for n in sorted(bad)
    ]
    for user, error in outcome.failed:
        index = users.index(user)
        assert (
            error.message == f"users[{index}] {user.username!r}: Invalid parameter value detected"
        )
    # Bisecting costs far fewer calls than one call per row.
    assert outcome.calls == len(directory.replies.requests) < 50
    for user, created in outcome.done:
        assert directory.records[created.id]["username"] == user.username


def test_batches_fit_the_field_budget() -> None:
    directory = UserDirectory()
    users = [learner(n) for n in range(1000)]  # 6 fields each

    outcome = Users(directory.replies.client()).create_users(users)

    sizes = [len(form) for form in directory.replies.sent(CREATE_USERS)]
    assert sizes == [832 * 6, 168 * 6]  # 3 + 4992 <= 5000, as in the provisioning baseline
    assert len(outcome.done) == 1000


def test_users_dropped_by_max_input_vars_are_recovered_once_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory = UserDirectory(max_input_vars=5000)
    client = directory.replies.client(field_budget=10_000)  # more than the server keeps
    users = [learner(n) for n in range(1000)]

    with caplog.at_level(logging.WARNING, logger="bdtx.connector"):
        outcome = Users(client).create_users(users)

    assert outcome.failed == []
    assert sorted(user.username for user, _ in outcome.done) == [u.username for u in users]
    assert sorted(directory.creations) == [u.username for u in users]  # each exactly once
    calls = [name for name, _ in directory.replies.requests]
    assert calls == [CREATE_USERS, UPDATE_USERS, GET_USERS_BY_FIELD, CREATE_USERS]
    first, second = directory.replies.sent(CREATE_USERS)
    assert len(first) == 4998  # 5001 kept, protocol fields included
    assert len(second) == 167 * 6
    [lookup] = directory.replies.sent(GET_USERS_BY_FIELD)
    assert len(lookup) == 1 + 167
    # What certainly arrived: 832 whole users and the 5 required fields of the 833rd.
    assert client.field_budget == 3 + 832 * 6 + 5
    assert "PHP max_input_vars is lower than field_budget=10000" in caplog.text
    for user, created in outcome.done:
        assert directory.records[created.id]["idnumber"] == user.idnumber


def test_a_row_cut_in_the_middle_gets_its_lost_optional_fields_back() -> None:
    # 8 fields per user: 5001 - 3 = 624 users and 6 fields of user 624, cut after idnumber.
    directory = UserDirectory(max_input_vars=5000)
    client = directory.replies.client(field_budget=20_000)
    users = [learner(n, city="Đồng Xoài", country="VN") for n in range(2000)]

    outcome = Users(client).create_users(users)

    assert len(outcome.done) == 2000
    assert outcome.failed == []
    assert len(set(directory.creations)) == 2000
    for user, created in outcome.done:
        record = directory.records[created.id]
        assert (record["idnumber"], record["city"], record["country"]) == (
            user.idnumber,
            "Đồng Xoài",
            "VN",
        )
    [repair] = directory.replies.sent(UPDATE_USERS)
    assert unflatten(repair)["users"][0] == {
        "id": str(dict(outcome.done)[users[624]].id),
        "idnumber": "HV-00624",
        "city": "Đồng Xoài",
        "country": "VN",
    }
    # The budget learnt (3 + 624 x 8 + 5 required fields) is never exceeded again: the
    # 1375 users dropped go in batches of 624 that arrive whole, with no second cut.
    assert client.field_budget == 3 + 624 * 8 + 5
    received = [len(form) for form in directory.replies.sent(CREATE_USERS)]
    assert received == [4998, 624 * 8, 624 * 8, 127 * 8]


def test_users_found_on_read_back_are_not_created_again() -> None:
    directory = UserDirectory(max_input_vars=50)
    client = directory.replies.client(field_budget=200)

    def create_then_someone_else_creates(form: Form) -> httpx.Response:
        response = UserDirectory.create(directory, form)
        # Another process creates one of the dropped users meanwhile.
        directory.records[999] = {"username": "hv00020", "email": "x@example.edu.vn"}
        return response

    directory.replies.routes = {
        **directory.replies.routes,
        CREATE_USERS: create_then_someone_else_creates,
    }
    outcome = Users(client).create_users([learner(n) for n in range(21)])

    done = {user.username: created.id for user, created in outcome.done}
    assert done["hv00020"] == 999
    assert directory.creations.count("hv00020") == 0
    assert len(done) == 21


def test_rows_the_server_keeps_dropping_end_as_truncation_errors() -> None:
    directory = UserDirectory(max_input_vars=3)  # nothing but the protocol fields survives
    client = directory.replies.client(field_budget=100)

    def create_nothing(form: Form) -> httpx.Response:
        return answer([])  # no row arrived, none created (not recorded: PHP kept no user)

    directory.replies.routes = {**directory.replies.routes, CREATE_USERS: create_nothing}
    outcome = Users(client).create_users([learner(n) for n in range(3)])

    assert outcome.done == []
    assert [type(error) for _, error in outcome.failed] == [LmsTruncationError] * 3
    assert outcome.failed[0][1].message.startswith("users[0] 'hv00000': not created")


def test_missing_capability_stops_the_whole_request() -> None:
    _, client = serve("core_user_create_users__error_missing_capability")
    with pytest.raises(LmsMissingCapability):
        Users(client, SITE_FIELDS).create_users(
            recorded_users("core_user_create_users__error_missing_capability")
        )


def test_an_invalid_token_is_not_taken_for_a_bad_row() -> None:
    replies = RecordedReplies({CREATE_USERS: "core_webservice_get_site_info__error_invalid_token"})
    with pytest.raises(LmsInvalidToken):
        Users(replies.client()).create_users([learner(1), learner(2)])
    assert len(replies.requests) == 1


# --- core_user_update_users ---------------------------------------------------------


def test_update_warnings_come_back_per_row() -> None:
    case = "core_user_update_users__mixed_batch_good_bad_good"
    replies, client = serve(case)
    updates = [
        UserUpdate(id=row["id"], city=row["city"]) for row in recorded(case)["params"]["users"]
    ]

    outcome = Users(client).update_users(updates)

    assert replies.sent(UPDATE_USERS) == [recorded_form(case)]
    assert [
        (update.id, [w.warningcode for w in warnings]) for update, warnings in outcome.done
    ] == [
        (11, []),
        (999999, ["invaliduserid"]),
        (12, []),
    ]
    assert outcome.done[1][1][0].message == "Invalid user ID"


def test_update_sends_the_recorded_form_with_profile_fields() -> None:
    case = "core_user_update_users__ok"
    replies, client = serve(case)
    update = UserUpdate(
        id=6,
        firstname="Ân",
        email="an.tv2@example.edu.vn",
        customfields=(ProfileFieldValue("classcode", "K26-B"),),
    )

    outcome = Users(client, SITE_FIELDS).update_users([update])

    assert replies.sent(UPDATE_USERS) == [recorded_form(case)]
    assert outcome.done == [(update, ())]


def test_suspend_is_sent_as_one() -> None:
    replies, client = serve("core_user_update_users__ok_suspend")
    Users(client).update_users([UserUpdate(id=16, suspended=True)])
    assert replies.sent(UPDATE_USERS) == [recorded_form("core_user_update_users__ok_suspend")]


def test_a_taken_username_is_a_warning_for_that_row_only() -> None:
    _, client = serve("core_user_update_users__warning_username_taken")
    outcome = Users(client).update_users([UserUpdate(id=7, username="an.tv")])
    [(update, warnings)] = outcome.done
    assert update.id == 7
    assert warnings[0].warningcode == "dmlwriteexception"


def test_updates_are_batched_by_budget_and_checked_first() -> None:
    replies = RecordedReplies({UPDATE_USERS: "core_user_update_users__ok"})
    updates = [UserUpdate(id=n, city="Bình Long") for n in range(1, 11)]
    bad = [UserUpdate(id=50, email="not-an-email"), UserUpdate(id=1, city="again")]

    outcome = Users(replies.client(field_budget=3 + 8)).update_users(updates + bad)

    assert [len(form) for form in replies.sent(UPDATE_USERS)] == [8, 8, 4]
    assert len(outcome.done) == 10
    assert [update.id for update, _ in outcome.failed] == [50, 1]
    assert "users[11] id=1: user id also in users[0]" in outcome.failed[1][1].message


# --- core_user_get_users_by_field ---------------------------------------------------


def test_lookup_results_are_keyed_by_value_whatever_their_order() -> None:
    case = "core_user_get_users_by_field__result_order"
    replies, client = serve(case)

    found = Users(client).get_users_by_field(
        "username", ["phuc.hv", "nosuch", "an.tv", "nhung.nth"]
    )

    assert replies.sent(GET_USERS_BY_FIELD) == [recorded_form(case)]
    returned = [user["id"] for user in recorded(case)["response"]]
    assert returned == sorted(returned)  # Moodle answers in id order, not request order
    assert set(found) == {"phuc.hv", "an.tv", "nhung.nth"}
    assert found["nhung.nth"].id == 5
    assert found["an.tv"].email == "an.tv2@example.edu.vn"
    assert found["nhung.nth"].profile_field("classcode") == "K26-A"
    assert found["nhung.nth"].profile_field("nosuch") is None


def test_usernames_are_normalised_and_impossible_ones_skipped() -> None:
    replies, client = serve("core_user_get_users_by_field__ok_username")

    found = Users(client).get_users_by_field(
        "username", [" NHUNG.NTH ", "an.tv", "Bad Name!", "an.tv"]
    )

    assert replies.sent(GET_USERS_BY_FIELD) == [
        [("field", "username"), ("values[0]", "nhung.nth"), ("values[1]", "an.tv")]
    ]
    assert sorted(found) == ["an.tv", "nhung.nth"]


def test_email_lookups_are_lower_cased_because_moodle_compares_them_exactly() -> None:
    # As recorded: the upper-case form of a stored e-mail finds no one.
    assert recorded("core_user_get_users_by_field__email_other_case")["response"] == []
    replies, client = serve("core_user_get_users_by_field__ok_email")

    found = Users(client).get_users_by_field("email", ["  BINH.LT@Example.EDU.VN "])

    assert replies.sent(GET_USERS_BY_FIELD) == [
        recorded_form("core_user_get_users_by_field__ok_email")
    ]
    assert found["binh.lt@example.edu.vn"].username == "binh.lt"


def test_ids_are_keyed_as_ints() -> None:
    replies, client = serve("core_user_get_users_by_field__ok_id")
    found = Users(client).get_users_by_field("id", [5])
    assert replies.sent(GET_USERS_BY_FIELD) == [
        recorded_form("core_user_get_users_by_field__ok_id")
    ]
    assert found[5].username == "nhung.nth"


def test_unknown_values_are_simply_absent() -> None:
    _, client = serve("core_user_get_users_by_field__unknown_value")
    assert Users(client).get_users_by_field("username", ["no.such.user"]) == {}


def test_an_empty_lookup_sends_nothing() -> None:
    replies = RecordedReplies({})
    users = Users(replies.client())
    assert users.get_users_by_field("username", []) == {}
    assert users.get_users_by_field("email", ["not-an-email", ""]) == {}
    assert replies.requests == []


def test_lookups_are_batched_by_budget() -> None:
    replies = RecordedReplies(
        {GET_USERS_BY_FIELD: "core_user_get_users_by_field__boundary_4998_values_last_is_real"}
    )
    names = [f"hv{n:05d}" for n in range(14)]

    Users(replies.client(field_budget=10)).get_users_by_field("username", names)

    sent = replies.sent(GET_USERS_BY_FIELD)
    assert [len(form) for form in sent] == [7, 7, 3]  # field + 6, 6, 2 values; 3 + 7 = 10
    assert [value for form in sent for name, value in form if name != "field"] == names


# --- core_user_get_users ------------------------------------------------------------


def test_search_sends_criteria_and_parses_users() -> None:
    case = "core_user_get_users__ok_lastname_like"
    replies, client = serve(case)

    result = Users(client).get_users({"lastname": "Nguyễn%"})

    assert replies.sent(GET_USERS) == [recorded_form(case)]
    assert [user.username for user in result.users] == [
        user["username"] for user in recorded(case)["response"]["users"]
    ]
    assert result.warnings == ()


def test_search_by_profile_field_is_refused_before_sending() -> None:
    # Moodle answers invalidparameter for such a key (recorded); we do not send it.
    assert recorded("core_user_get_users__error_invalid_criteria_key")["is_error"]
    replies = RecordedReplies({})
    with pytest.raises(ValueError, match="cannot search by"):
        Users(replies.client()).get_users({"profile_field_school": "x"})
    assert replies.requests == []
