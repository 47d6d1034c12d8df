"""The sandbox LMS on a real local port (http.server), called with a real httpx client."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sandbox import FaultKind, SandboxLms, start_server
from sandbox.protocol import flatten_params

REST = "/webservice/rest/server.php"


@pytest.fixture
def served() -> Iterator[tuple[SandboxLms, str]]:
    lms = SandboxLms()
    server, url = start_server(lms, "127.0.0.1", 0)
    try:
        yield lms, url
    finally:
        server.shutdown()
        server.server_close()


def _data(lms: SandboxLms, function: str, params: Mapping[str, object]) -> list[tuple[str, str]]:
    control = [
        ("wstoken", lms.token_for("syncbot")),
        ("wsfunction", function),
        ("moodlewsrestformat", "json"),
    ]
    return control + flatten_params(params)


def test_site_info_over_real_http(served: tuple[SandboxLms, str]) -> None:
    lms, url = served
    with httpx.Client(base_url=url, timeout=10) as client:
        response = client.post(REST, data=dict(_data(lms, "core_webservice_get_site_info", {})))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    info = response.json()
    assert (info["username"], info["release"]) == ("syncbot", "4.5.5+ (Build: 20250613)")


def test_concurrent_creates_keep_every_row(served: tuple[SandboxLms, str]) -> None:
    lms, url = served

    def create(batch: int) -> int:
        users = [
            {
                "username": f"c{batch}.{i}",
                "password": "Hv#2026abcd",
                "firstname": "A",
                "lastname": "B",
                "email": f"c{batch}.{i}@example.edu.vn",
            }
            for i in range(50)
        ]
        with httpx.Client(base_url=url, timeout=30) as client:
            body = client.post(
                REST, data=dict(_data(lms, "core_user_create_users", {"users": users}))
            )
        return len(body.json())

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(create, range(8))) == 400
    ids = [user.id for user in lms.site.users.values()]
    assert len(ids) == len(set(ids)) == 404


def test_dropped_response_closes_the_socket_after_applying(served: tuple[SandboxLms, str]) -> None:
    lms, url = served
    lms.inject_fault("core_course_create_categories", on_call=1, kind=FaultKind.DROP_RESPONSE)
    params = {"categories": [{"name": "applied", "parent": 0}]}
    with httpx.Client(base_url=url, timeout=10) as client, pytest.raises(httpx.TransportError):
        client.post(REST, data=dict(_data(lms, "core_course_create_categories", params)))
    assert "applied" in {c.name for c in lms.site.categories.values()}


def test_503_over_real_http(served: tuple[SandboxLms, str]) -> None:
    lms, url = served
    lms.inject_fault("*", on_call=1, kind=FaultKind.HTTP_503)
    with httpx.Client(base_url=url, timeout=10) as client:
        assert (
            client.post(
                REST, data=dict(_data(lms, "core_webservice_get_site_info", {}))
            ).status_code
            == 503
        )
        assert (
            client.post(
                REST, data=dict(_data(lms, "core_webservice_get_site_info", {}))
            ).status_code
            == 200
        )


def test_a_call_on_a_kept_alive_connection_does_not_wait_for_a_delayed_ack(
    served: tuple[SandboxLms, str],
) -> None:
    """A reply's headers and body leave at once (no Nagle wait): a sandbox call costs what
    the sandbox does, not the client's 40 ms delayed acknowledgement, which real Moodle
    does not add (its recorded 20 ms per call is the sandbox throttle's to model)."""
    lms, url = served
    data = dict(_data(lms, "core_webservice_get_site_info", {}))
    calls = 25
    with httpx.Client(base_url=url, timeout=10) as client:
        client.post(REST, data=data).raise_for_status()
        started = time.perf_counter()
        for _ in range(calls):
            client.post(REST, data=data).raise_for_status()
        elapsed = time.perf_counter() - started
    assert elapsed < calls * 0.040 * 0.75, elapsed  # a delayed ACK is at least 40 ms
