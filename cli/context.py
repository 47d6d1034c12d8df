"""The CLI's side of the composition root (``app/root.py``): its consoles, its exit
codes and the JSON shape of a failure; every command's output goes through the redactor.
"""

from __future__ import annotations

import gc
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from rich.console import Console

from app.root import App
from config.settings import SettingsError
from connector.redact import Redactor

log = logging.getLogger("bdtx")

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_SETTINGS = 2
EXIT_LMS = 3
EXIT_NEEDS_ACCEPT = 4


def print_json_error(message: str, exit_code: int, kind: str) -> None:
    """The one JSON shape of a failed ``--json`` command, on one line of standard output.

    ``{"ok": false, "error": <message>, "error_kind": <kind>, "exit_code": <code>}``;
    ``kind`` says what went wrong: ``settings``, ``lms``, ``needs_accept``,
    ``not_a_roster``, ``no_results`` (no finished grading pull to list), ``too_early``
    (a run closed before its grading window ends, without ``--force``), ``refused`` (a
    request that makes no sense, e.g. an extension before the current deadline),
    ``internal``.
    """
    body = {"ok": False, "error": message, "error_kind": kind, "exit_code": exit_code}
    print(json.dumps(body, ensure_ascii=False), flush=True)


def fail(console: Console, error: object, exit_code: int, kind: str, *, as_json: bool) -> int:
    """A command's refusal (an error or its message): in red on ``console`` (standard
    error), and as the JSON error shape with ``--json``; returns the exit code."""
    console.print(f"[red]{error}[/red]", soft_wrap=True)
    if as_json:
        print_json_error(str(error), exit_code, kind)
    return exit_code


def tune_gc() -> None:
    """Collect young objects less often.

    An import holds a province's rows (110,000 at scale 20) alive for minutes; with the
    default threshold (700) every few thousand new objects rescan them, which cost about
    a sixth of a large import. Cycles are still collected, only later.
    """
    gc.set_threshold(100_000, 50, 100)


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
class AppContext(App):
    """The CLI's composition root: the application's, plus where the command prints."""

    console: Console = field(default_factory=Console)
    err_console: Console = field(default_factory=lambda: Console(stderr=True))

    @classmethod
    def from_config(cls, config_file: Path | None, console: Console | None = None) -> AppContext:
        settings, redact = App.load_settings(config_file)
        return cls(settings=settings, console=console or Console(), redact=redact)


__all__ = ["AppContext", "RedactingStream", "SettingsError"]
