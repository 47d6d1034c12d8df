"""Secrets never leave in an error, even when the server echoes the request."""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest

from connector import errors as e
from connector.client import MoodleClient
from connector.redact import MASK, Redactor, redact
from connector.retry import RetryPolicy

TOKEN = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def echo_html(request: httpx.Request) -> httpx.Response:
    """A proxy's error page that quotes the whole request, with HTTP 200."""
    body = request.content.decode()
    return httpx.Response(200, text=f"<html><body><pre>{body}</pre></body></html>")


def echo_json_error(request: httpx.Request) -> httpx.Response:
    """A Moodle with debugging on: the error's message and debuginfo quote the request."""
    body = request.content.decode()
    payload = {
        "exception": "moodle_exception",
        "errorcode": "generalexceptionmessage",
        "message": f"Bad request {body}",
        "debuginfo": f"token {TOKEN} from {body}",
    }
    return httpx.Response(200, json=payload)


def client_for(handler: object) -> MoodleClient:
    return MoodleClient(
        "https://lms.test/",
        TOKEN,
        transport=httpx.MockTransport(handler),  # type: ignore[arg-type]
        retry=RetryPolicy(attempts=1),
        sleep=lambda _s: None,
    )


@pytest.mark.parametrize("handler", [echo_html, echo_json_error])
@pytest.mark.parametrize("write", [False, True])
def test_an_echoed_token_is_not_in_the_error(handler: object, write: bool) -> None:
    with client_for(handler) as client, pytest.raises(e.LmsError) as caught:
        client.call("core_user_create_users", {"users": [{"username": "a"}]}, write=write)
    error = caught.value
    texts = [str(error), repr(error), error.message, *map(str, error.args)]
    if isinstance(error, e.LmsWsError):
        texts += [error.debuginfo or ""]
    assert all(TOKEN not in text for text in texts), texts
    assert MASK in str(error)  # the echo itself is still shown, masked


def test_redact_masks_known_secrets_and_token_fields() -> None:
    assert redact(f"a {TOKEN} b", [TOKEN]) == f"a {MASK} b"
    assert redact(f"x={quote('s/e c+ret')}", ["s/e c+ret"]) == f"x={MASK}"
    # an unknown token is still masked where it is visibly a token
    assert redact("wstoken=abcdef0123456789&x=1") == f"wstoken={MASK}&x=1"
    assert redact('{"token": "abcdef0123456789"}') == f'{{"token": "{MASK}"}}'
    assert redact("wstoken%3Dabcdef0123456789") == f"wstoken%3D{MASK}"
    # ordinary text is left alone
    assert redact("Invalid token - token not found") == "Invalid token - token not found"


def test_a_redactor_ignores_empty_or_tiny_secrets() -> None:
    redactor = Redactor(["", "ab"])
    redactor.add(TOKEN)
    assert redactor.secrets == (TOKEN,)
    assert redactor(json.dumps({"t": TOKEN})) == json.dumps({"t": MASK})
