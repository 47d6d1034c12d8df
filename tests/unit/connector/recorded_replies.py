"""Replays of recorded Moodle answers for the area tests: ``httpx.MockTransport`` handlers.

They read the form body exactly as PHP would (including ``max_input_vars`` truncation
when asked), answer with the responses recorded from a real Moodle 4.5
(:mod:`tests.contract`), and keep every request for the test to inspect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx

from connector.client import MoodleClient
from connector.retry import NO_RETRY
from tests.contract import recorded

PROTOCOL = ("wstoken", "wsfunction", "moodlewsrestformat")
Form = list[tuple[str, str]]


def form_of(request: httpx.Request) -> Form:
    """The form fields of a request, in order, blanks kept (as PHP reads them)."""
    return parse_qsl(request.content.decode(), keep_blank_values=True)


def params_of(form: Form) -> Form:
    """The function's own fields: the form without wstoken/wsfunction/format."""
    return [(name, value) for name, value in form if name not in PROTOCOL]


def unflatten(form: Form) -> dict[str, Any]:
    """PHP's reading of ``users[0][name]=x`` pairs: nested dicts, numeric keys as lists."""
    root: dict[str, Any] = {}
    for name, value in form:
        base, _, rest = name.partition("[")
        path = [base] + (rest[:-1].split("][") if rest else [])
        node = root
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    params: dict[str, Any] = _listify(root)
    return params


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def answer(payload: Any) -> httpx.Response:
    """An HTTP 200 JSON answer, as Moodle sends both results and errors."""
    return httpx.Response(
        200, content=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )


def recorded_answer(case: str) -> httpx.Response:
    return answer(recorded(case)["response"])


def recorded_form(case: str) -> Form:
    """The function fields a recorded request carried (complete for untrimmed cases)."""
    request = recorded(case)["request"]
    sample = [(name, value) for name, value in request["form_fields_sample"]]
    assert len(sample) + len(PROTOCOL) == request["form_field_count"], f"{case} is sampled"
    return sample


Responder = Callable[[Form], httpx.Response]


@dataclass
class RecordedReplies:
    """Answers each wsfunction with a fixed recorded case or a function of the form.

    ``max_input_vars`` makes it keep only the first ``max_input_vars + 1`` form fields,
    as PHP does, dropping the rest without a word.
    """

    routes: Mapping[str, str | Responder]
    max_input_vars: int | None = None
    requests: list[tuple[str, Form]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == "/webservice/rest/server.php"
        form = form_of(request)
        assert [name for name, _ in form[:3]] == list(PROTOCOL)
        assert dict(form[:3]) == {
            "wstoken": "t0k",
            "wsfunction": form[1][1],
            "moodlewsrestformat": "json",
        }
        if self.max_input_vars is not None:
            form = form[: self.max_input_vars + 1]
        wsfunction = form[1][1]
        self.requests.append((wsfunction, params_of(form)))
        route = self.routes[wsfunction]
        return recorded_answer(route) if isinstance(route, str) else route(params_of(form))

    def sent(self, wsfunction: str) -> list[Form]:
        """The function fields of every request made to ``wsfunction``."""
        return [form for name, form in self.requests if name == wsfunction]

    def client(self, **options: Any) -> MoodleClient:
        return MoodleClient(
            base_url="https://lms.test",
            token="t0k",
            transport=httpx.MockTransport(self),
            retry=NO_RETRY,
            **options,
        )


def serve(case: str, **options: Any) -> tuple[RecordedReplies, MoodleClient]:
    """A replay answering the recorded case's function with that case, and its client."""
    replies = RecordedReplies({recorded(case)["function"]: case})
    return replies, replies.client(**options)


def recorded_rows(case: str, rows: Sequence[Mapping[str, Any]]) -> httpx.Response:
    """The list answer of a recorded case, sized to the request: each row is the recorded
    first item with the values the request decides (ids, names). A key the recording does
    not have is an error, so the answer keeps Moodle's exact shape."""
    template = recorded(case)["response"][0]
    for row in rows:
        assert set(row) <= set(template), f"{case} has no {set(row) - set(template)}"
    return answer([{**template, **row} for row in rows])
