"""The composition root: settings, state database, LMS client — built once, passed down.

Nothing else in the project reads the environment or builds a client or an engine.
"""

from __future__ import annotations

import gc
import getpass
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console

from config.settings import Settings, SettingsError, load_settings
from connector.redact import Redactor

if TYPE_CHECKING:
    # Imported where first used: a command pays only for what it needs (start-up time).
    import httpx
    from sqlalchemy import Engine

    from connector.lms import MoodleLms
    from connector.profile_fields import ProfileFieldCheck
    from sandbox.lms import SandboxLms
    from sandbox.options import SandboxOptions

log = logging.getLogger("bdtx")

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_SETTINGS = 2
EXIT_LMS = 3
EXIT_NEEDS_ACCEPT = 4

SANDBOX_STATE_FILE = Path("var/sandbox-lms.json")


def print_json_error(message: str, exit_code: int, kind: str) -> None:
    """The one JSON shape of a failed ``--json`` command, on one line of standard output.

    ``{"ok": false, "error": <message>, "error_kind": <kind>, "exit_code": <code>}``;
    ``kind`` says what went wrong: ``settings``, ``lms``, ``needs_accept``,
    ``not_a_roster``, ``no_results`` (no finished grading pull to list), ``internal``.
    """
    body = {"ok": False, "error": message, "error_kind": kind, "exit_code": exit_code}
    print(json.dumps(body, ensure_ascii=False), flush=True)


def tune_gc() -> None:
    """Collect young objects less often.

    An import holds a province's rows (110,000 at scale 20) alive for minutes; with the
    default threshold (700) every few thousand new objects rescan them, which cost about
    a sixth of a large import. Cycles are still collected, only later.
    """
    gc.set_threshold(100_000, 50, 100)


class RedactingFilter(logging.Filter):
    """Replaces secrets in every log record, as a last line of defence."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingStream(io.TextIOBase):
    """A text stream that masks secrets in everything written through it.

    The CLI runs each command with ``sys.stdout`` and ``sys.stderr`` behind one of these,
    so tables, messages, JSON summaries and rendered exceptions are all redacted.
    """

    def __init__(self, target: TextIO, redact: Redactor) -> None:
        super().__init__()
        self.target = target
        self.redact = redact

    def write(self, text: str) -> int:
        self.target.write(self.redact(text))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        return self.target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.target, "encoding", None) or "utf-8"


@dataclass
class AppContext:
    """Everything a command needs; parts are built on first use."""

    settings: Settings
    console: Console = field(default_factory=Console)
    err_console: Console = field(default_factory=lambda: Console(stderr=True))
    sandbox_state_file: Path = SANDBOX_STATE_FILE
    transport: httpx.BaseTransport | None = None  # tests inject a sandbox transport here
    sandbox_options: SandboxOptions | None = None  # a sandbox site unlike the demo's (tests)
    redact: Redactor = field(default_factory=Redactor)
    """Every message the CLI shows or stores goes through it (it learns the LMS token)."""
    _engine: Engine | None = None
    _lms: MoodleLms | None = None
    _sandbox: SandboxLms | None = None

    @classmethod
    def from_config(cls, config_file: Path | None, console: Console | None = None) -> AppContext:
        settings = load_settings(config_file)
        context = cls(settings=settings, console=console or Console())
        try:
            token = settings.lms_token()
        except SettingsError:
            token = None  # reported when the LMS is first needed
        if token is not None:
            context.redact.add(token.get_secret_value())
        return context

    @property
    def user(self) -> str:
        try:
            return getpass.getuser()
        except OSError:
            return "unknown"

    def engine(self) -> Engine:
        if self._engine is None:
            from store.db import make_engine, migrate

            self._engine = make_engine(self.settings.database.url)
            migrate(self._engine)
        return self._engine

    def sandbox(self) -> SandboxLms:
        """The in-process sandbox LMS (``[lms] url = "sandbox:"``), its state kept in a file."""
        if self._sandbox is None:
            from sandbox.lms import SandboxLms
            from sandbox.options import SandboxOptions

            # The demo site is set up as the README asks of a real one: the service user
            # holds moodle/site:accessallgroups, so participants come with their groups.
            options = self.sandbox_options or SandboxOptions(enrolled_users_include_groups=True)
            self._sandbox = SandboxLms.load_or_new(self.sandbox_state_file, options)
        return self._sandbox

    @property
    def configured_profile_fields(self) -> frozenset[str]:
        """The custom profile fields the configuration maps (shortnames)."""
        return frozenset(self.settings.provisioning.profile_fields)

    def profile_fields(self, *, write: bool) -> ProfileFieldCheck:
        """The configured profile fields against the site: ``write`` re-probes it."""
        from connector.profile_fields import check_profile_fields

        return check_profile_fields(self.lms(), self.configured_profile_fields, write=write)

    @property
    def site_profile_fields(self) -> frozenset[str]:
        """The configured profile fields the site kept at the last probe (reads only)."""
        return self.profile_fields(write=False).usable

    def lms(self) -> MoodleLms:
        if self._lms is not None:
            return self._lms
        import httpx

        from connector.client import MoodleClient
        from connector.lms import MoodleLms
        from connector.retry import RetryPolicy
        from connector.users import UserRules

        lms_settings = self.settings.lms
        transport = self.transport
        if lms_settings.is_sandbox:
            sandbox = self.sandbox()
            transport = transport or sandbox.transport()
            url, token = "http://sandbox.invalid", sandbox.token_for("syncbot")
        else:
            url, token = lms_settings.url, self.settings.require_lms_token().get_secret_value()
        self.redact.add(token)
        logging.getLogger().addFilter(RedactingFilter(self.redact))
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter(self.redact))
        client = MoodleClient(
            url,
            token,
            transport=transport,
            timeout=httpx.Timeout(lms_settings.timeout_s, connect=10.0),
            verify=lms_settings.verify_tls,
            retry=RetryPolicy(attempts=lms_settings.retry_attempts),
            field_budget=lms_settings.field_budget,
            max_concurrency=lms_settings.max_concurrency,
            rate_limit_per_s=lms_settings.rate_limit_per_s,
        )
        rules = UserRules(profile_fields=self.configured_profile_fields)
        self._lms = MoodleLms(client, user_rules=rules)
        return self._lms

    def close(self) -> None:
        if self._lms is not None:
            self._lms.client.close()
        if self._sandbox is not None:
            # Moodle's cron runs its background tasks within a minute; a command takes
            # longer, so by the next command they have run (events of copied courses).
            self._sandbox.run_background_tasks()
            self._sandbox.save(self.sandbox_state_file)
        if self._engine is not None:
            self._engine.dispose()


__all__ = ["AppContext", "RedactingStream", "SettingsError"]
