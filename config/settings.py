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
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

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
    max_concurrency: int = Field(default=1, ge=1, le=16)
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

    @property
    def is_sandbox(self) -> bool:
        return self.url == SANDBOX_URL


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


class RunSettings(BaseModel):
    """One module run of the year (``[[runs]]``)."""

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


class RosterSettings(BaseModel):
    """Where the school lists are, and how to read them."""

    model_config = ConfigDict(extra="forbid")

    # The files ``bdtx run`` imports (schools, learners, core staff; any order).
    files: list[Path] = Field(default_factory=list)
    # Header text -> field, for lists whose headers the reader does not know.
    header_overrides: dict[str, str] = Field(default_factory=dict)
    # Learners without modules 1-3: "route" to a modules 1-3 track, or "exclude".
    without_modules_123: str = Field(default="route", pattern="^(route|exclude)$")


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
    max_class_size: int = Field(default=50, ge=5, le=500)
    timezone: str = "Asia/Ho_Chi_Minh"

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


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = tuple(first["loc"])
    name = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in location)
    name = name.lstrip(".") or "settings"
    env = _env_name(location)
    where = f"{name} ({env})" if env else name
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown setting (misspelt?)"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more)" if more else ""
    return f"Setting {where}: {message}{suffix}"


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
        raise SettingsError(_describe(exc)) from None
