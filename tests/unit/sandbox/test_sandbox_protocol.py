"""The sandbox LMS's wire format: PHP form decoding, max_input_vars, JSON replies."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest

from sandbox import SandboxLms, SandboxOptions
from sandbox.protocol import decode_request, flatten_params, nest_fields, split_form


def test_split_form_keeps_max_input_vars_plus_one_fields() -> None:
    body = "&".join(f"v{i}={i}" for i in range(10))
    assert len(split_form(body, 5)) == 6
    assert split_form(body, 5)[-1] == ("v5", "5")
    assert len(split_form(body, None)) == 10


def test_split_form_decodes_plus_percent_and_skips_empty_pieces() -> None:
    assert split_form("a=x+y&&b=%C4%90%E1%BB%93ng&c", None) == [
        ("a", "x y"),
        ("b", "Đồng"),
        ("c", ""),
    ]


def test_nest_fields_builds_php_arrays() -> None:
    nested = nest_fields(
        [
            ("users[0][username]", "an"),
            ("users[0][customfields][0][type]", "school"),
            ("users[1][username]", "binh"),
            ("values[]", "x"),
            ("values[]", "y"),
            ("my.field", "dot"),
        ]
    )
    assert nested["users"]["0"]["customfields"]["0"]["type"] == "school"
    assert nested["users"]["1"]["username"] == "binh"
    assert nested["values"] == {"0": "x", "1": "y"}
    assert nested["my_field"] == "dot"


def test_later_duplicate_field_overwrites_the_earlier_one() -> None:
    assert nest_fields([("a", "1"), ("a", "2")]) == {"a": "2"}


def test_decode_request_merges_query_and_body_and_splits_control_fields() -> None:
    request = decode_request("wstoken=abc", "wsfunction=f&moodlewsrestformat=json&courseid=3", 5000)
    assert (request.token, request.wsfunction, request.restformat) == ("abc", "f", "json")
    assert request.params == {"courseid": "3"}


def test_flatten_params_is_php_style_with_booleans_as_digits() -> None:
    fields = flatten_params({"users": [{"username": "an", "suspended": True}], "flag": False})
    assert fields == [("users[0][username]", "an"), ("users[0][suspended]", "1"), ("flag", "0")]


def _post(lms: SandboxLms, fields: list[tuple[str, str]]) -> httpx.Response:
    with httpx.Client(base_url="http://sandbox.test", transport=lms.transport()) as client:
        return client.post(
            "/webservice/rest/server.php",
            content=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )


def _control(lms: SandboxLms, function: str) -> list[tuple[str, str]]:
    return [
        ("wstoken", lms.token_for("syncbot")),
        ("wsfunction", function),
        ("moodlewsrestformat", "json"),
    ]


def _users(count: int) -> list[tuple[str, str]]:
    rows = [
        {
            "username": f"trunc{i:04d}",
            "password": "Hv#2026abcd",
            "firstname": "A",
            "lastname": "B",
            "email": f"trunc{i:04d}@example.edu.vn",
            "idnumber": f"T-{i}",
        }
        for i in range(count)
    ]
    return flatten_params({"users": rows})


@pytest.mark.parametrize(("limit", "created"), [(5000, 833), (20000, 1000), (None, 1000)])
def test_create_users_body_is_truncated_like_php(limit: int | None, created: int) -> None:
    """1000 users x 6 fields + 3 = 6003 fields: PHP with 5000 keeps 5001 -> 833 users."""
    lms = SandboxLms(SandboxOptions(max_input_vars=limit))
    response = _post(lms, _control(lms, "core_user_create_users") + _users(1000))
    assert response.status_code == 200
    assert len(response.json()) == created
    assert len(lms.site.user_by_username) == 4 + created


def test_a_row_cut_in_half_by_truncation_fails_the_call() -> None:
    lms = SandboxLms(SandboxOptions(max_input_vars=12))
    response = _post(lms, _control(lms, "core_user_create_users") + _users(3))
    body = response.json()
    assert body["errorcode"] == "invalidparameter"
    assert "debuginfo" not in body
    assert "trunc0000" not in lms.site.user_by_username


def test_every_reply_is_http_200_json_and_void_functions_return_null() -> None:
    lms = SandboxLms()
    response = _post(
        lms,
        _control(lms, "core_role_assign_roles")
        + flatten_params(
            {
                "assignments": [
                    {"roleid": 1, "userid": 2, "contextlevel": "coursecat", "instanceid": 1}
                ]
            }
        ),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b"null"


def test_replies_escape_non_ascii_like_php_json_encode() -> None:
    lms = SandboxLms()
    fields = [*_control(lms, "core_course_get_courses_by_field"), ("field", "id"), ("value", "2")]
    response = _post(lms, fields)
    assert b"\\u1ef9" in response.content
    assert json.loads(response.content)["courses"][0]["shortname"] == "TPL-MODULE"


def test_other_paths_are_not_found() -> None:
    lms = SandboxLms()
    with httpx.Client(base_url="http://sandbox.test", transport=lms.transport()) as client:
        assert client.get("/login/index.php").status_code == 404


def test_parameters_in_the_query_string_are_accepted() -> None:
    lms = SandboxLms()
    token = lms.token_for("syncbot")
    with httpx.Client(base_url="http://sandbox.test", transport=lms.transport()) as client:
        response = client.get(
            "/webservice/rest/server.php",
            params={
                "wstoken": token,
                "wsfunction": "core_webservice_get_site_info",
                "moodlewsrestformat": "json",
            },
        )
    assert response.json()["username"] == "syncbot"


def test_without_json_format_the_reply_is_moodles_xml() -> None:
    lms = SandboxLms()
    token = lms.token_for("syncbot")
    ok = lms.handle("", f"wstoken={token}&wsfunction=core_course_get_categories")
    assert ok.content_type.startswith("application/xml")
    assert b'<KEY name="name"><VALUE>Category 1</VALUE>' in ok.body
    failed = lms.handle("", "wstoken=nope&wsfunction=core_course_get_categories")
    assert b"<ERRORCODE>invalidtoken</ERRORCODE>" in failed.body
