"""Settings: a TOML file, overridden by ``BDTX_*`` environment variables.

Sections of the file map to nested settings; an environment variable names the section
and the key joined by ``_``: ``[lms] url`` is ``BDTX_LMS_URL``, ``[database] url`` is
``BDTX_DATABASE_URL``, ``[lms] token_file`` is ``BDTX_LMS_TOKEN_FILE``.

The LMS token is a secret: it comes only from ``BDTX_LMS_TOKEN`` or from the file named
by ``BDTX_LMS_TOKEN_FILE`` (or ``[lms] token_file``), never from the TOML file itself,
and it is held as a :class:`~pydantic.SecretStr`.

A wrong or missing setting raises :class:`SettingsError` with one message naming it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from scheduler.schedule import LOCAL_TIMEZONE_NAME, local_zone
from scheduler.validation import validate_runs

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG_FILE = CONFIG_DIR / "bdtx.toml"
SANDBOX_URL = "sandbox:"
ENV_PREFIX = "BDTX_"


class SettingsError(Exception):
    """A setting is wrong or missing; the message names it and says how to fix it."""


class LmsSettings(BaseModel):
    """Where the LMS is and how to talk to it."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        default=SANDBOX_URL,
        description="Moodle site root (https://...), or 'sandbox:' for the built-in sandbox LMS",
    )
    token: SecretStr | None = None
    token_file: Path | None = None
    verify_tls: bool = True
    timeout_s: float = Field(default=180.0, gt=0)
    field_budget: int = Field(default=5000, ge=100, description="PHP max_input_vars of the site")
    # Calls in flight: a number, or "auto" (tuned during each apply, see sync/tuning.py).
    # Unset: "auto" for a real site, 1 for the sandbox LMS.
    max_concurrency: int | Literal["auto"] | None = None
    max_concurrency_ceiling: int = Field(default=4, ge=1, le=16)
    rate_limit_per_s: float | None = Field(default=None, gt=0)
    retry_attempts: int = Field(default=5, ge=1, le=20)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        if value == SANDBOX_URL:
            return value
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or be 'sandbox:' for the sandbox LMS)")
        return value.rstrip("/")

    @field_validator("max_concurrency")
    @classmethod
    def _check_concurrency(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= 16:
            raise ValueError("must be 1 to 16, or 'auto'")
        return value

    @property
    def is_sandbox(self) -> bool:
        return self.url == SANDBOX_URL

    @property
    def auto_concurrency(self) -> bool:
        """Whether the apply tunes its concurrency (``max_concurrency = "auto"``)."""
        if self.max_concurrency is None:
            return not self.is_sandbox
        return self.max_concurrency == "auto"

    @property
    def read_concurrency(self) -> int:
        """Calls in flight for reads: the fixed number, or the ceiling when tuned (a read
        can neither collide nor duplicate anything; the apply's writes start at 1)."""
        value = self.max_concurrency
        if isinstance(value, int):
            return value
        return self.max_concurrency_ceiling if self.auto_concurrency else 1


class DatabaseSettings(BaseModel):
    """The state database."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(default="sqlite:///var/bdtx.sqlite")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// path or a postgresql:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value


class VirtualClassSlot(BaseModel):
    """One live meeting of the virtual class (days 8-9) (``[[runs.virtual_class]]``).

    It applies to the classes it names, or to every class with learners of the school
    clusters it names, or, naming neither, to every class of the run without a slot of its own.
    """

    model_config = ConfigDict(extra="forbid")

    # Local date and time in the site's time zone (TOML: start = 2023-09-11T07:30:00).
    start: datetime
    duration_minutes: int = Field(default=240, ge=15, le=720)
    meeting_url: str = Field(min_length=1)
    classes: list[str] = Field(default_factory=list)  # class ids, e.g. "M4-2023/THCS/GV/Toán/03"
    clusters: list[str] = Field(default_factory=list)  # school clusters (Cụm trường)

    @field_validator("meeting_url")
    @classmethod
    def _check_meeting_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be a link starting with https://")
        return value


class PassMarks(BaseModel):
    """What counts as a pass (``[runs.pass_marks]``)."""

    model_config = ConfigDict(extra="forbid")

    # The assessor's pass mark for the final assignment, on final_product_scale (5 of 10).
    final_product: float = Field(default=5.0, ge=0)
    final_product_scale: float = Field(default=10.0, gt=0)
    # Automatic pass: quizzes at or above this percentage; none = the quizzes' own pass grade.
    quiz_percent: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _check_mark_within_scale(self) -> PassMarks:
        if self.final_product > self.final_product_scale:
            raise ValueError(
                f"final_product {self.final_product:g} is above final_product_scale "
                f"{self.final_product_scale:g}"
            )
        return self


class ActivityIdNumbers(BaseModel):
    """ID numbers of the template's activities the software reads (``[runs.activities]``)."""

    model_config = ConfigDict(extra="forbid")

    quiz: str = Field(default="quiz_auto", min_length=1)
    final_product: str = Field(default="final_product", min_length=1)
    survey: str = Field(default="survey", min_length=1)
    # The activity whose completion records the module as completed (both passes).
    module_completed: str = Field(default="module_completed", min_length=1)


class RunSettings(BaseModel):
    """One module run of the year (``[[runs]]``); its dates are in scheduler/."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    module: int = Field(ge=1)
    name: str = ""
    levels: list[str] = Field(default_factory=lambda: ["THCS", "THPT"])
    audiences: list[str] = Field(default_factory=lambda: ["CBQL", "GV"])
    start: date
    template_course: str = "TPL-MODULE"
    unit_lock_date: date | None = None
    # Subjects taken as reference (not certified) by learners marked concurrent for them,
    # e.g. module 4: "Hoạt động trải nghiệm, hướng nghiệp" (Kiêm nhiệm HĐTNHN).
    concurrent_subjects: list[str] = Field(default_factory=list)
    # Accounts, courses and enrolments are provisioned this many days before day 1.
    provision_lead_days: int = Field(default=7, ge=0, le=90)
    # Reporters grade until this many days after the module's last day (day 16).
    grading_days: int = Field(default=10, ge=1, le=60)
    # Enrolments stay open this many days after the grading deadline, so the closing pull
    # at the deadline still reads each course in one call (Moodle's course-wide grade
    # report lists active enrolments only).
    enrolment_grace_days: int = Field(default=2, ge=0, le=30)
    # Reporters are reminded this many days before their grading deadline, at reminder_time.
    reminder_days: list[int] = Field(default_factory=lambda: [3, 1])
    reminder_time: time = time(8, 0)
    virtual_class: list[VirtualClassSlot] = Field(default_factory=list)
    pass_marks: PassMarks = Field(default_factory=PassMarks)
    activities: ActivityIdNumbers = Field(default_factory=ActivityIdNumbers)


class RosterSettings(BaseModel):
    """Where the school lists are, and how to read them."""

    model_config = ConfigDict(extra="forbid")

    # The files ``bdtx run`` imports (schools, learners, core staff; any order).
    files: list[Path] = Field(default_factory=list)
    # Header text -> field, for lists whose headers the reader does not know.
    header_overrides: dict[str, str] = Field(default_factory=dict)
    # Learners without modules 1-3: "route" to a modules 1-3 track, or "exclude".
    without_modules_123: str = Field(default="route", pattern="^(route|exclude)$")
    # An import marking more people than this as left stops before storing anything and
    # needs --accept (an import that would leave nobody active always stops).
    max_leavers: int = Field(default=50, ge=0)
    max_leavers_percent: float = Field(default=5.0, ge=0)
    # A learners' list without the "Đã hoàn thành MĐ 1, 2, 3" column: "done" or "not_done"
    # is assumed for everyone in it; unset, such a list is refused (it decides eligibility).
    assume_modules_123: str | None = Field(default=None, pattern="^(done|not_done)$")


class ClassesSettings(BaseModel):
    """How far one allocation may rewrite the classes without --accept."""

    model_config = ConfigDict(extra="forbid")

    # Learners moved from one class to another in one run (a return to a learner's earlier
    # class does not count); more stops before storing anything and needs --accept.
    max_moves: int = Field(default=50, ge=0)
    max_moves_percent: float = Field(default=5.0, ge=0)


class ProvisioningSettings(BaseModel):
    """How the roster becomes LMS accounts, courses and groups."""

    model_config = ConfigDict(extra="forbid")

    # {email_local}: the e-mail's local part; {identity}: the identity code. ASCII, lower case;
    # a taken username gets 2, 3, ... appended.
    username_pattern: str = "{email_local}"
    # "createpassword": Moodle makes and mails the password; "generate": we make one per
    # person, write per-school account sheets, and force a change at first login.
    credentials: str = Field(default="createpassword", pattern="^(createpassword|generate)$")
    auth: str = "manual"
    # Where per-school account sheets with first passwords go ("generate" only).
    accounts_dir: Path = Path("var/accounts")
    # Moodle custom profile fields to fill: shortname -> what goes in (school_name,
    # school_code, district, level, subject, identity). Moodle silently drops unknown
    # ones: `bdtx lms check` lists them and the sync never sends them.
    profile_fields: dict[str, str] = Field(default_factory=dict)
    category_prefix: str = "BDTX"
    # Moodle role ids: stock Moodle has student = 5, non-editing teacher = 4.
    role_ids: dict[str, int] = Field(default_factory=lambda: {"student": 5, "teacher": 4})
    suspend_grace_days: int = Field(default=14, ge=0)
    max_suspend: int = Field(default=50, ge=0)
    max_suspend_percent: float = Field(default=5.0, ge=0)
    max_unenrol: int = Field(default=100, ge=0)
    max_unenrol_percent: float = Field(default=5.0, ge=0)
    max_email_changes: int = Field(default=50, ge=0)
    max_email_changes_percent: float = Field(default=5.0, ge=0)
    # Learners taken out of one group and put in another of the same course.
    max_group_moves: int = Field(default=100, ge=0)
    max_group_moves_percent: float = Field(default=5.0, ge=0)
    # The schedule in Moodle (sync/calendar.py): how long a copied course may wait for
    # Moodle's background task (cron) to make its activities' events before that is an
    # error; and what to do with a date someone moved by hand ("restore" it or "keep" it).
    calendar_wait_minutes: int = Field(default=60, ge=1)
    calendar_drift: str = Field(default="restore", pattern="^(restore|keep)$")
    # Profile fields: a re-sync trusts an account to hold the values an apply wrote
    # (sync/read.py); every participant's are read again at least this often, so a value
    # changed by hand in Moodle is restored within these days.
    profile_recheck_days: int = Field(default=7, ge=0)


class DaemonSettings(BaseModel):
    """What ``bdtx daemon`` does when (``[daemon]``); a run's own dates are in ``[[runs]]``."""

    model_config = ConfigDict(extra="forbid")

    # New roster files dropped here are imported (then moved to done/ or refused/).
    inbox: Path = Path("var/inbox")
    inbox_every_minutes: int = Field(default=5, ge=1, le=1440)
    # A file written less than this long ago (real seconds) may still be copied: next scan.
    inbox_settle_seconds: int = Field(default=10, ge=0)
    # Each provisioned run is synced again this often until it closes.
    resync_every_hours: int = Field(default=24, ge=1, le=24 * 14)
    # Progress pulls: during days 1-16, then during grading (and once at closing).
    pull_online_every_minutes: int = Field(default=60, ge=5, le=1440)
    pull_grading_every_hours: int = Field(default=24, ge=1, le=24 * 7)
    # A job that fails because the LMS is unreachable is retried after these waits,
    # doubling from the first to the cap, until the LMS answers.
    retry_first_seconds: int = Field(default=30, ge=1)
    retry_max_seconds: int = Field(default=900, ge=1)
    # One daemon per state database: its lock is renewed this often and taken over when
    # its holder is gone (same host, no such process) or silent for the lease.
    heartbeat_seconds: int = Field(default=30, ge=1)
    lock_lease_seconds: int = Field(default=300, ge=10)


class Settings(BaseSettings):
    """All settings of bdtx-sync."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        case_sensitive=False,
    )

    lms: LmsSettings = Field(default_factory=LmsSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    runs: list[RunSettings] = Field(default_factory=list)
    provisioning: ProvisioningSettings = Field(default_factory=ProvisioningSettings)
    roster: RosterSettings = Field(default_factory=RosterSettings)
    classes: ClassesSettings = Field(default_factory=ClassesSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    max_class_size: int = Field(default=50, ge=5, le=500)
    # A person completes the year's BDTX plan with at least this many modules completed.
    year_modules: int = Field(default=3, ge=1, le=20)
    timezone: str = LOCAL_TIMEZONE_NAME

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            local_zone(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Ho_Chi_Minh)") from None
        return value

    @model_validator(mode="after")
    def _check_runs(self) -> Settings:
        problems = validate_runs(self.runs, self.site_zone())
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise ValueError(f"{problems[0]}{more}")
        return self

    def site_zone(self) -> tzinfo:
        """The site's time zone: run days and instants are local times in it."""
        return local_zone(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment overrides it.
        return (env_settings, init_settings)

    def lms_token(self) -> SecretStr | None:
        """The LMS token from BDTX_LMS_TOKEN or the token file; ``None`` when neither is set."""
        if self.lms.token is not None and self.lms.token.get_secret_value().strip():
            return SecretStr(self.lms.token.get_secret_value().strip())
        if self.lms.token_file is not None:
            try:
                text = self.lms.token_file.read_text("utf-8").strip()
            except OSError as exc:
                raise SettingsError(
                    f"Setting lms.token_file (BDTX_LMS_TOKEN_FILE): cannot read "
                    f"{self.lms.token_file}: {exc.strerror}"
                ) from None
            if not text:
                raise SettingsError(
                    f"Setting lms.token_file (BDTX_LMS_TOKEN_FILE): {self.lms.token_file} is empty"
                )
            return SecretStr(text)
        return None

    def require_lms_token(self) -> SecretStr:
        """The token for a real Moodle; a clear error when none is configured."""
        token = self.lms_token()
        if token is None:
            raise SettingsError(
                "Setting lms.token is missing: set BDTX_LMS_TOKEN, or BDTX_LMS_TOKEN_FILE to a "
                "file holding the web-service token of the Moodle service user"
            )
        return token

    def run(self, run_id: str) -> RunSettings:
        for run in self.runs:
            if run.id == run_id:
                return run
        known = ", ".join(r.id for r in self.runs) or "none configured"
        raise SettingsError(f"Setting runs: no run with id {run_id!r} (known: {known})")


def _env_name(location: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in location if not isinstance(p, int)]
    if len(parts) >= 2 and parts[0] in {"lms", "database"}:
        return ENV_PREFIX + "_".join(parts[:2]).upper()
    return ""


def _describe(error: ValidationError, data: Mapping[str, Any]) -> str:
    first = error.errors()[0]
    location = tuple(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if not location:  # a check across settings: the message names the setting itself
        return f"Setting {message}"
    name = "".join(_location_part(location[:i], p, data) for i, p in enumerate(location))
    name = name.lstrip(".")
    env = _env_name(location)
    where = f"{name} ({env})" if env else name
    if first["type"] == "extra_forbidden":
        message = "unknown setting (misspelt?)"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more)" if more else ""
    return f"Setting {where}: {message}{suffix}"


def _location_part(parent: tuple[int | str, ...], part: int | str, data: Mapping[str, Any]) -> str:
    """``.key``, ``[n]`` (1-based), or ``[id]`` for a run that has an id: runs[M4-2023]."""
    if not isinstance(part, int):
        return f".{part}"
    if parent == ("runs",):
        runs = data.get("runs")
        run = runs[part] if isinstance(runs, list) and part < len(runs) else None
        if isinstance(run, Mapping) and isinstance(run.get("id"), str) and run["id"]:
            return f"[{run['id']}]"
    return f"[{part + 1}]"


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML file as a dict; a clear error if it is unreadable or not TOML."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"Config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"Config file {path} is not valid TOML: {exc}") from None
    lms = data.get("lms")
    if isinstance(lms, Mapping) and "token" in lms:
        raise SettingsError(
            f"Setting lms.token must not be written in {path}: a secret does not belong in a "
            "config file; use BDTX_LMS_TOKEN or BDTX_LMS_TOKEN_FILE"
        )
    return data


def load_settings(config_file: Path | None = None) -> Settings:
    """Load settings from ``config_file`` (default: ``$BDTX_CONFIG``, else config/bdtx.toml),
    overridden by ``BDTX_*`` environment variables."""
    env_path = os.environ.get("BDTX_CONFIG")
    path = config_file or (Path(env_path) if env_path else DEFAULT_CONFIG_FILE)
    data = read_toml(path) if (path != DEFAULT_CONFIG_FILE or path.exists()) else {}
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise SettingsError(_describe(exc, data)) from None
