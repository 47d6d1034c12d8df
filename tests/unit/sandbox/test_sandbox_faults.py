"""Fault injection through the httpx transport."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

from sandbox import FaultKind, SandboxLms
from sandbox.faults import Fault, FaultPlan
from sandbox.protocol import flatten_params


def _post(
    lms: SandboxLms, client: httpx.Client, function: str, params: dict[str, object]
) -> httpx.Response:
    fields = [
        ("wstoken", lms.token_for("syncbot")),
        ("wsfunction", function),
        ("moodlewsrestformat", "json"),
    ]
    return client.post(
        "/webservice/rest/server.php",
        content=urlencode(fields + flatten_params(params)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _category(name: str) -> dict[str, object]:
    return {"categories": [{"name": name, "parent": 0}]}


def _names(lms: SandboxLms) -> set[str]:
    return {category.name for category in lms.site.categories.values()}


@pytest.fixture
def lms() -> SandboxLms:
    return SandboxLms()


def test_connection_error_on_the_nth_call_applies_nothing(lms: SandboxLms) -> None:
    lms.inject_fault("core_course_create_categories", on_call=2, kind=FaultKind.CONNECTION_ERROR)
    with httpx.Client(base_url="http://sandbox.test", transport=lms.transport()) as client:
        assert (
            _post(lms, client, "core_course_create_categories", _category("one")).status_code == 200
        )
        with pytest.raises(httpx.ConnectError):
            _post(lms, client, "core_course_create_categories", _category("two"))
        assert (
            _post(lms, client, "core_course_create_categories", _category("three")).status_code
            == 200
        )
    assert {"one", "three"} <= _names(lms)
    assert "two" not in _names(lms)


def test_http_503_applies_nothing(lms: SandboxLms) -> None:
    lms.inject_fault("*", on_call=1, kind=FaultKind.HTTP_503)
    with httpx.Client(base_url="http://sandbox.test", transport=lms.transport()) as client:
        assert (
            _post(lms, client, "core_course_create_categories", _category("busy")).status_code
            == 503
        )
    assert "busy" not in _names(lms)


def test_dropped_response_still_applies_the_write(lms: SandboxLms) -> None:
    lms.inject_fault("core_course_create_categories", on_call=1, kind=FaultKind.DROP_RESPONSE)
    transport = lms.transport()
    with (
        httpx.Client(base_url="http://sandbox.test", transport=transport) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        _post(lms, client, "core_course_create_categories", _category("ghost"))
    assert "ghost" in _names(lms)


def test_fault_plan_counts_per_function_and_fires_once() -> None:
    plan = FaultPlan()
    plan.add(Fault("f", 2, FaultKind.HTTP_503))
    plan.add(Fault("*", 4, FaultKind.CONNECTION_ERROR))
    fired = [plan.next_fault(name) for name in ("f", "g", "f", "f", "f")]
    assert fired == [None, None, FaultKind.HTTP_503, FaultKind.CONNECTION_ERROR, None]
    assert (plan.calls("f"), plan.calls()) == (4, 5)
    with pytest.raises(ValueError, match="counts from 1"):
        plan.add(Fault("f", 0, FaultKind.HTTP_503))
