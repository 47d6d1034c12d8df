"""The REST client against an in-test server function (httpx.MockTransport)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest

from connector import errors as e
from connector.client import MoodleClient, RateLimiter, rest_endpoint
from connector.retry import RetryPolicy
from tests.contract import recorded

TOKEN = "s3cr3t-token-0123456789abcdef"

Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, **kwargs: object) -> tuple[MoodleClient, list[float]]:
    waits: list[float] = []
    options: dict[str, object] = {
        "retry": RetryPolicy(attempts=4, initial_wait_s=1.0, max_wait_s=8.0, jitter_s=0.0),
        "sleep": waits.append,
    }
    options.update(kwargs)
    client = MoodleClient(
        "https://lms.test/",
        TOKEN,
        transport=httpx.MockTransport(handler),
        **options,  # type: ignore[arg-type]
    )
    return client, waits


def form(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.content.decode(), keep_blank_values=True)


# These tests are about the client itself (form encoding, retries, budgets, errors at the
# HTTP level), not about a function's answer: where the payload does not matter it is
# minimal JSON on purpose; where it does, it is recorded.


def test_posts_the_moodle_form_and_decodes_json() -> None:
    seen: list[httpx.Request] = []
    site_info = recorded("core_webservice_get_site_info__ok")["response"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=site_info)

    client, _ = make_client(handler)
    result = client.call("core_webservice_get_site_info")
    assert result == site_info
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://lms.test/webservice/rest/server.php"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(request) == [
        ("wstoken", TOKEN),
        ("wsfunction", "core_webservice_get_site_info"),
        ("moodlewsrestformat", "json"),
    ]


def test_nested_params_are_flattened_php_style() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"null")

    client, _ = make_client(handler)
    result = client.call(
        "enrol_manual_enrol_users",
        {"enrolments": [{"roleid": 5, "userid": 7, "courseid": 3, "suspend": False}]},
        write=True,
    )
    assert result is None
    assert form(seen[0])[3:] == [
        ("enrolments[0][roleid]", "5"),
        ("enrolments[0][userid]", "7"),
        ("enrolments[0][courseid]", "3"),
        ("enrolments[0][suspend]", "0"),
    ]


def test_endpoint_accepts_site_root_or_endpoint() -> None:
    assert (
        rest_endpoint("https://x.vn/replies") == "https://x.vn/replies/webservice/rest/server.php"
    )
    assert rest_endpoint("https://x.vn/webservice/rest/server.php/") == (
        "https://x.vn/webservice/rest/server.php"
    )


def test_error_body_with_http_200_raises_mapped_error_without_retry() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            200, json=recorded("core_user_create_users__duplicate_email")["response"]
        )

    client, waits = make_client(handler)
    with pytest.raises(e.LmsInvalidParameter) as info:
        client.call("core_user_create_users", {"users": [{"username": "a"}]}, write=True)
    assert info.value.wsfunction == "core_user_create_users"
    assert calls == 1
    assert waits == []
    assert client.stats.by_function["core_user_create_users"].errors == 1


def test_reads_are_retried_with_exponential_waits_then_succeed() -> None:
    answers = [httpx.Response(502), httpx.Response(503), httpx.Response(200, json={"ok": 1})]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    client, waits = make_client(handler)
    assert client.call("core_user_get_users_by_field", {"field": "id", "values": [1]}) == {"ok": 1}
    assert waits == [1.0, 2.0]
    stats = client.stats.by_function["core_user_get_users_by_field"]
    assert (stats.calls, stats.retries, stats.errors) == (3, 2, 2)


def test_retries_are_bounded() -> None:
    client, waits = make_client(lambda request: httpx.Response(500))
    with pytest.raises(e.LmsTransportError):
        client.call("core_course_get_courses_by_field")
    assert waits == [1.0, 2.0, 4.0]  # 4 attempts, 3 waits


def test_backoff_is_capped_and_jittered() -> None:
    jitter = RetryPolicy(
        initial_wait_s=1.0, max_wait_s=8.0, jitter_s=0.5, random_uniform=lambda a, b: b
    )
    assert [jitter.wait_for(n, None) for n in (1, 2, 3, 4, 5, 6)] == [1.5, 2.5, 4.5, 8.5, 8.5, 8.5]


def test_retry_after_is_honoured() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "5"}), httpx.Response(200, json=[])]
    client, waits = make_client(lambda request: answers.pop(0))
    assert client.call("core_group_get_course_groups", {"courseid": 3}) == []
    assert waits == [5.0]


def test_write_after_lost_answer_is_not_resent() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadTimeout("slow", request=request)

    client, waits = make_client(handler)
    with pytest.raises(e.LmsOutcomeUnknown) as info:
        client.call("core_user_create_users", {"users": [{"username": "a"}]}, write=True)
    assert calls == 1
    assert waits == []
    assert isinstance(info.value.cause, e.LmsTimeout)


def test_write_that_never_left_is_resent() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=b"null")

    client, waits = make_client(handler)
    assert client.call("enrol_manual_enrol_users", {"enrolments": []}, write=True) is None
    assert calls == 3
    assert waits == [1.0, 2.0]


def test_write_on_overload_is_resent() -> None:
    answers = [httpx.Response(503), httpx.Response(200, json=[{"id": 1, "username": "a"}])]
    client, waits = make_client(lambda request: answers.pop(0))
    result = client.call("core_user_create_users", {"users": [{"username": "a"}]}, write=True)
    assert result == [{"id": 1, "username": "a"}]
    assert waits == [1.0]


def test_non_json_answer_is_a_protocol_error() -> None:
    client, _ = make_client(lambda request: httpx.Response(200, text="<html>Notice: ...</html>"))
    with pytest.raises(e.LmsProtocolError, match="not JSON"):
        client.call("core_webservice_get_site_info")


def test_http_404_is_a_protocol_error_naming_the_url_problem() -> None:
    client, _ = make_client(lambda request: httpx.Response(404, text="nope"))
    with pytest.raises(e.LmsProtocolError, match="site root"):
        client.call("core_webservice_get_site_info")


def test_a_request_over_the_field_budget_is_refused_before_sending() -> None:
    sent = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        return httpx.Response(200, json=[])

    client, _ = make_client(handler, field_budget=10)
    client.call("core_user_get_users_by_field", {"field": "id", "values": list(range(6))})
    with pytest.raises(e.LmsProtocolError, match="exceeds the budget"):
        client.call("core_user_get_users_by_field", {"field": "id", "values": list(range(7))})
    assert sent == 1


def test_token_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers: list[Callable[[httpx.Request], httpx.Response]] = [
        lambda r: httpx.Response(
            200, json=recorded("core_webservice_get_site_info__error_invalid_token")["response"]
        ),
        lambda r: httpx.Response(200, text="garbage"),
        lambda r: httpx.Response(500, text="boom"),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if answers:
            return answers.pop(0)(request)
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make_client(handler, retry=RetryPolicy(attempts=2, jitter_s=0.0))
    texts = [repr(client), str(client.__dict__.get("_token"))]
    for write in (False, False, False, True):
        with pytest.raises(e.LmsError) as info:
            client.call("core_webservice_get_site_info", write=write)
        error = info.value
        texts += [
            str(error),
            repr(error),
            repr(vars(error)),
            str(error.__cause__),
            str(error.__context__),
        ]
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "the client should have logged the retries"
    assert all(TOKEN not in text for text in texts)


def test_concurrency_map_keeps_order_and_limits_in_flight() -> None:
    import threading
    import time

    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        value = dict(parse_qsl(request.content.decode()))["courseid"]
        return httpx.Response(200, json=[{"id": int(value)}])

    client, _ = make_client(handler, max_concurrency=3)
    results = client.map_concurrent(
        lambda n: client.call("core_group_get_course_groups", {"courseid": n}), range(12)
    )
    assert results == [[{"id": n}] for n in range(12)]
    assert 1 < peak <= 3


def test_rate_limiter_spaces_request_starts() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    assert slept == [0.25, 0.5]
