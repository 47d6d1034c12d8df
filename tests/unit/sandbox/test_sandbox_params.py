"""Parameter validation as Moodle's external API does it, with its debuginfo texts."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from sandbox.errors import InvalidParameter
from sandbox.params import M, Need, Param, S, Single, V, Value, default, validate, validate_call

USERS = S(users=M(S(username=V(Param.USERNAME), email=V(Param.RAW_TRIMMED))))


def _debuginfo(spec: Single, params: Mapping[str, object]) -> str | None:
    with pytest.raises(InvalidParameter) as caught:
        validate_call(spec, dict(params))
    assert caught.value.errorcode == "invalidparameter"
    assert caught.value.message == "Invalid parameter value detected"
    return caught.value.debuginfo


def test_missing_required_key() -> None:
    assert _debuginfo(S(courseid=V(Param.INT)), {}) == (
        "Missing required key in single structure: courseid"
    )


def test_wrong_scalar_type_names_the_param_type() -> None:
    assert _debuginfo(S(courseid=V(Param.INT)), {"courseid": "abc"}) == (
        "courseid => Invalid parameter value detected: Invalid external api parameter: "
        'the value is "abc", the server was expecting "int" type'
    )


def test_nested_errors_carry_every_key_on_the_way() -> None:
    params = {"users": {"0": {"username": "Nguyễn.Upper", "email": "x@y.vn"}}}
    assert _debuginfo(USERS, params) == (
        "users => Invalid parameter value detected: username => Invalid parameter value "
        'detected: Invalid external api parameter: the value is "Nguyễn.Upper", the server '
        'was expecting "username" type'
    )


def test_unexpected_keys_are_rejected() -> None:
    assert _debuginfo(S(a=V(Param.INT)), {"a": "1", "b": "2"}) == (
        "Unexpected keys (b) detected in parameter array."
    )


def test_an_empty_list_is_absent_from_the_form_and_so_missing() -> None:
    spec = S(field=V(Param.ALPHA), values=M(V(Param.RAW)))
    assert _debuginfo(spec, {"field": "username"}) == (
        "Missing required key in single structure: values"
    )


@pytest.mark.parametrize("value", ["05", " 5", "+5", "5.0", ""])
def test_int_must_be_written_exactly(value: str) -> None:
    with pytest.raises(InvalidParameter):
        validate(V(Param.INT), value)


def test_values_come_back_typed() -> None:
    spec = Single(
        {
            "id": V(Param.INT),
            "ok": V(Param.BOOL),
            "grade": V(Param.FLOAT),
            "name": V(Param.TEXT),
            "lang": default(V(Param.SAFEDIR), "en"),
            "city": Value(Param.NOTAGS, Need.OPTIONAL),
        }
    )
    result = validate_call(spec, {"id": "-3", "ok": "1", "grade": "8.5", "name": "Đợt 1"})
    assert result == {"id": -3, "ok": True, "grade": 8.5, "name": "Đợt 1", "lang": "en"}


@pytest.mark.parametrize("value", ["true", "2", "yes"])
def test_bool_accepts_only_zero_and_one(value: str) -> None:
    with pytest.raises(InvalidParameter):
        validate(V(Param.BOOL), value)


def test_username_must_already_be_clean() -> None:
    assert validate(V(Param.USERNAME), "an.tv2@x-y_z") == "an.tv2@x-y_z"
    for bad in ("An.tv", "an tv", "nhung ", "đào"):
        with pytest.raises(InvalidParameter):
            validate(V(Param.USERNAME), bad)


def test_a_list_given_as_a_scalar_is_refused() -> None:
    with pytest.raises(InvalidParameter) as caught:
        validate(M(V(Param.INT)), "5")
    assert caught.value.debuginfo == "Only arrays accepted. The bad value is: '5'"
