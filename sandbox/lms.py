"""The sandbox LMS: an in-process site that speaks Moodle's Web Services REST protocol.

:class:`SandboxLms` owns the site, the tokens and the fault plan, and turns one HTTP
request into one HTTP response exactly as Moodle's ``webservice/rest/server.php`` does:
HTTP 200 with a JSON body for every outcome, errors included. Use
:meth:`SandboxLms.transport` to plug it into an ``httpx.Client`` or
:func:`sandbox.server.start_server` to serve it on a real port.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

import sandbox.functions  # noqa: F401 - registers every handler
from sandbox import errors
from sandbox.access import Caller
from sandbox.errors import MoodleError
from sandbox.faults import Fault, FaultKind, FaultPlan
from sandbox.fixtures import build_base_site
from sandbox.functions.site import PARTICIPANT_SERVICE, SERVICE
from sandbox.options import SandboxOptions
from sandbox.params import validate_call
from sandbox.persist import dump_site, load_site
from sandbox.protocol import (
    REST_PATH,
    decode_request,
    encode_json,
    encode_xml,
    encode_xml_error,
    flatten_params,
)
from sandbox.registry import REGISTRY, CallContext
from sandbox.state import Site
from sandbox.tasks import run_background_tasks
from sandbox.throttle import CallSlot, Throttle, write_conflict

# The served sandbox's "cron": POST here with a service token runs the queued tasks.
ADHOC_TASK_PATH = "/admin/cli/adhoc_task.php"

# Real Moodle functions the sandbox does not emulate: calling one gives the recorded
# access error when the service lacks it, not "unknown function".
KNOWN_FUNCTIONS = frozenset(
    {
        "core_course_delete_courses",
        "core_user_delete_users",
        "core_group_delete_groups",
        "core_course_delete_categories",
        "core_cohort_delete_cohorts",
        "core_enrol_get_course_enrolment_methods",
        "core_user_get_course_user_profiles",
        "core_course_get_courses",
        "core_course_edit_module",
        "core_course_edit_section",
        "core_courseformat_update_course",
        "core_calendar_get_action_events_by_course",
        "core_grades_update_grades",
        "mod_page_get_pages_by_courses",
    }
)
SERVICE_ACCOUNTS = {"syncbot": SERVICE, "limitedbot": SERVICE}


@dataclass(frozen=True)
class TokenInfo:
    """A web-service token and whom it stands for."""

    token: str
    username: str
    service: str
    system_capabilities: frozenset[str] | None


@dataclass(frozen=True)
class HttpReply:
    """What the HTTP side should do: answer, or fail the connection."""

    status: int
    body: bytes
    content_type: str = "text/plain"
    refuse_connection: bool = False
    drop_response: bool = False
    timed_out: bool = False  # applied, but the client stopped waiting (in-process throttle)


class SandboxLms:
    """A Moodle 4.5 site in memory, reachable through the real REST protocol."""

    def __init__(
        self,
        options: SandboxOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        throttle: Throttle | None = None,
    ) -> None:
        self.options = options or SandboxOptions()
        self.clock = clock
        # None: every call is instant and none collides; see sandbox.throttle.
        self.throttle = throttle
        self.site: Site = build_base_site(self.options, now=int(clock()))
        self.faults = FaultPlan()
        self._tokens: dict[str, TokenInfo] = {}
        self.issue_token("syncbot", capabilities=None)
        self.issue_token("limitedbot", capabilities=frozenset({"webservice/rest:use"}))

    # ---- saving and loading ------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the site and the issued tokens to a JSON file (atomically)."""
        data = {
            "site": dump_site(self.site),
            "tokens": [
                {
                    "username": info.username,
                    "service": info.service,
                    "capabilities": None
                    if info.system_capabilities is None
                    else sorted(info.system_capabilities),
                }
                for info in self._tokens.values()
            ],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, ensure_ascii=False)
        os.replace(temporary, path)

    @classmethod
    def load_or_new(
        cls,
        path: Path,
        options: SandboxOptions | None = None,
        *,
        clock: Callable[[], float] = time.time,
        throttle: Throttle | None = None,
    ) -> SandboxLms:
        """The sandbox saved at ``path`` by :meth:`save`, or a fresh one if there is none."""
        lms = cls(options, clock=clock, throttle=throttle)
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            lms.site = load_site(data["site"])
            for token in data["tokens"]:
                caps = token["capabilities"]
                lms.issue_token(
                    token["username"],
                    service=token["service"],
                    capabilities=None if caps is None else frozenset(caps),
                )
        return lms

    # ---- tokens ------------------------------------------------------------------------

    def issue_token(
        self,
        username: str,
        *,
        service: str | None = None,
        capabilities: frozenset[str] | None = frozenset(),
    ) -> str:
        """Create (or return) the token of an existing user.

        Service accounts get the service of the recording; everyone else the participant
        service. ``capabilities`` are system-level; None grants all of them.
        """
        with self.site.lock:
            if username not in self.site.user_by_username:
                raise KeyError(f"no user {username!r} in the sandbox LMS")
            chosen = service or SERVICE_ACCOUNTS.get(username, PARTICIPANT_SERVICE)
            seed = f"{self.options.token_seed}:{username}:{chosen}"
            token = hashlib.md5(seed.encode("utf-8"), usedforsecurity=False).hexdigest()
            self._tokens[token] = TokenInfo(token, username, chosen, capabilities)
            return token

    @property
    def tokens(self) -> dict[str, str]:
        """Every token by username, e.g. ``{"syncbot": "...", "limitedbot": "..."}``."""
        return {info.username: info.token for info in self._tokens.values()}

    def token_for(self, username: str) -> str:
        """The token issued to ``username``."""
        return self.tokens[username]

    # ---- calls ---------------------------------------------------------------------------

    def inject_fault(self, wsfunction: str, *, on_call: int, kind: FaultKind) -> None:
        """Make the ``on_call``-th call of ``wsfunction`` (``"*"``: of any) fail."""
        self.faults.add(Fault(wsfunction, on_call, kind))

    def _caller(self, token: str | None) -> Caller:
        info = self._tokens.get(token or "")
        if info is None:
            raise errors.invalid_token()
        userid = self.site.user_by_username.get(info.username)
        if userid is None:
            raise errors.invalid_token()
        return Caller(userid, info.username, info.service, info.system_capabilities)

    def _service_functions(self, caller: Caller) -> tuple[str, ...]:
        if caller.service == PARTICIPANT_SERVICE:
            return self.options.participant_functions
        return self.options.service_functions

    def dispatch(self, token: str | None, wsfunction: str | None, params: dict[str, Any]) -> Any:
        """Run one call from decoded (string-valued) parameters; raise :class:`MoodleError`."""
        caller = self._caller(token)
        name = wsfunction or ""
        known = (
            name in REGISTRY
            or name in KNOWN_FUNCTIONS
            or name in self.options.extra_known_functions
        )
        if not known:
            raise errors.unknown_function()
        if name not in self._service_functions(caller):
            raise errors.access_exception(name)
        function = REGISTRY.get(name)
        if function is None:
            raise errors.not_implemented(name)
        validated = validate_call(function.params, params)
        with self.site.lock:
            ctx = CallContext(self.site, caller, self.options, int(self.clock()), name)
            return function.handler(ctx, validated)

    def call(
        self, wsfunction: str, params: Mapping[str, Any] | None = None, *, token: str | None = None
    ) -> Any:
        """Call a function from Python as the service account (or ``token``).

        The parameters go through the same PHP form encoding as over HTTP, so validation
        sees strings exactly as Moodle would. Errors raise :class:`MoodleError`.
        """
        fields = flatten_params(params or {})
        decoded = decode_request("", urlencode(fields), None)
        return self.dispatch(token or self.token_for("syncbot"), wsfunction, decoded.params)

    def handle(self, query: str, body: str) -> HttpReply:
        """One HTTP request to ``server.php`` -> the reply, fault injection included."""
        request = decode_request(query, body, self.options.max_input_vars)
        fault = self.faults.next_fault(request.wsfunction or "")
        if fault is FaultKind.CONNECTION_ERROR:
            return HttpReply(0, b"", refuse_connection=True)
        if fault is FaultKind.HTTP_503:
            return HttpReply(503, b"Service Unavailable")
        as_json = request.restformat == "json"
        slot = CallSlot(0.0)
        try:
            with self._worker(request.wsfunction or "", request.params) as slot:
                if slot.collided:
                    raise write_conflict()  # rolled back: nothing of the call applied
                result: Any = self.dispatch(request.token, request.wsfunction, request.params)
                if self.throttle is not None:
                    self.throttle.answered(slot, request.wsfunction or "", request.params, result)
            content = encode_json(result) if as_json else encode_xml(result)
        except MoodleError as error:
            payload = error.payload(debug=self.options.debug)
            content = encode_json(payload) if as_json else encode_xml_error(payload)
        return HttpReply(
            200,
            content,
            content_type="application/json" if as_json else "application/xml; charset=utf-8",
            drop_response=fault is FaultKind.DROP_RESPONSE,
            timed_out=slot.timed_out,
        )

    def _worker(self, wsfunction: str, params: dict[str, Any]) -> AbstractContextManager[CallSlot]:
        """A PHP worker for one call: the throttle's, or an instant one."""
        if self.throttle is None:
            return nullcontext(CallSlot(0.0))
        return self.throttle.call(wsfunction, params)

    def run_background_tasks(self) -> int:
        """Moodle's cron: run the queued adhoc tasks (see :mod:`sandbox.tasks`); how many ran."""
        with self.site.lock:
            return run_background_tasks(self.site, int(self.clock()))

    def handle_cron(self, query: str, body: str) -> HttpReply:
        """``POST /admin/cli/adhoc_task.php`` with ``wstoken`` of a service account (one
        holding every system capability): run the background tasks, answer their count."""
        request = decode_request(query, body, self.options.max_input_vars)
        info = self._tokens.get(request.token or "")
        if info is None or info.system_capabilities is not None:
            return HttpReply(403, b"Forbidden: a service token with every capability is needed")
        ran = self.run_background_tasks()
        return HttpReply(200, encode_json({"tasks": ran}), content_type="application/json")

    def handle_path(self, path: str, query: str, body: str) -> HttpReply:
        """One HTTP request to any path: the REST server, the cron, or 404."""
        if path == REST_PATH:
            return self.handle(query, body)
        if path == ADHOC_TASK_PATH:
            return self.handle_cron(query, body)
        return HttpReply(404, b"Not Found")

    # ---- HTTP adapters -------------------------------------------------------------------

    def handle_httpx(self, request: httpx.Request) -> httpx.Response:
        """The ``httpx.MockTransport`` handler."""
        body = request.content.decode("utf-8", errors="replace")
        query = request.url.query.decode("ascii", errors="replace")
        reply = self.handle_path(request.url.path, query, body)
        if reply.refuse_connection:
            raise httpx.ConnectError("Connection refused (sandbox fault)", request=request)
        if reply.timed_out:
            raise httpx.ReadTimeout("no answer in time (sandbox throttle)", request=request)
        if reply.drop_response:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response (sandbox fault).", request=request
            )
        return httpx.Response(
            reply.status, content=reply.body, headers={"Content-Type": reply.content_type}
        )

    def transport(self) -> httpx.BaseTransport:
        """An ``httpx`` transport that sends every request to this sandbox LMS."""
        return httpx.MockTransport(self.handle_httpx)

    def client(self, base_url: str | None = None, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` wired to :meth:`transport`."""
        return httpx.Client(
            base_url=base_url or self.options.wwwroot, transport=self.transport(), **kwargs
        )
