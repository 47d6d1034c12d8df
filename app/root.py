"""The composition root: settings, state database, LMS client, clock — built once, passed down.

Nothing else in the project reads the environment or builds a client, an engine or a
clock. The CLI (``cli/context.AppContext`` adds its consoles) and the daemon both start
from an ``App``; the use cases (``roster/service.py``, ``sync/service.py``,
``grading/service.py``, ...) take what they need from it.
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import Settings, SettingsError, load_settings
from connector.redact import Redactor
from scheduler.clock import Clock, SystemClock

if TYPE_CHECKING:
    # Imported where first used: a command pays only for what it needs (start-up time).
    import httpx
    from sqlalchemy import Engine

    from connector.lms import MoodleLms
    from connector.profile_fields import ProfileFieldCheck
    from sandbox.lms import SandboxLms
    from sandbox.options import SandboxOptions

SANDBOX_STATE_FILE = Path("var/sandbox-lms.json")


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


@dataclass
class App:
    """Everything a use case needs; parts are built on first use."""

    settings: Settings
    sandbox_state_file: Path = SANDBOX_STATE_FILE
    transport: httpx.BaseTransport | None = None  # tests inject a sandbox transport here
    sandbox_options: SandboxOptions | None = None  # a sandbox site unlike the demo's (tests)
    redact: Redactor = field(default_factory=Redactor)
    """Every message shown or stored goes through it (it learns the LMS token)."""
    clock: Clock = field(default_factory=SystemClock)
    _engine: Engine | None = None
    _lms: MoodleLms | None = None
    _sandbox: SandboxLms | None = None

    @staticmethod
    def load_settings(config_file: Path | None) -> tuple[Settings, Redactor]:
        """The settings of ``config_file`` (or the default) and a redactor that knows the
        token, if one is configured (a missing token is reported when the LMS is needed)."""
        settings = load_settings(config_file)
        redact = Redactor()
        try:
            token = settings.lms_token()
        except SettingsError:
            token = None
        if token is not None:
            redact.add(token.get_secret_value())
        return settings, redact

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
            # holds moodle/site:accessallgroups, so participants come with their groups;
            # the template has the "module completed" activity the write-back marks, and
            # its dates can all be moved (README "The schedule in Moodle").
            options = self.sandbox_options or SandboxOptions(
                enrolled_users_include_groups=True,
                module_completed_activity=True,
                template_ready=True,
            )
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
            max_concurrency=lms_settings.read_concurrency,
            rate_limit_per_s=lms_settings.rate_limit_per_s,
        )
        rules = UserRules(profile_fields=self.configured_profile_fields)
        self._lms = MoodleLms(client, user_rules=rules)
        return self._lms

    def end_of_command(self) -> None:
        """What the sandbox's cron would have done by the next command, then saved.

        Moodle's cron runs its background tasks within a minute; a command takes longer,
        so by the next command they have run (events of copied courses)."""
        if self._sandbox is not None:
            self._sandbox.run_background_tasks()
            self._sandbox.save(self.sandbox_state_file)

    def close(self) -> None:
        if self._lms is not None:
            self._lms.client.close()
        self.end_of_command()
        if self._engine is not None:
            self._engine.dispose()
