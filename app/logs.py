"""Logging for long-running processes: text, or JSON lines (``--log-format json``).

Every record is redacted (the LMS token never reaches a log), in both formats.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from connector.redact import Redactor

# Attributes every LogRecord has; anything else was passed in ``extra`` and is kept.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC), level, logger, message, and the ``extra`` fields."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                body[key] = self.redact(value) if isinstance(value, str) else value
        if record.exc_info:
            body["error"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(body, ensure_ascii=False, default=str)


class RedactingTextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


@contextmanager
def logging_to(
    fmt: str, redact: Redactor, *, level: int = logging.INFO, stream: TextIO | None = None
) -> Iterator[None]:
    """While inside, every log record goes to ``stream`` (standard error) as text or JSON
    lines; on the way out the logging set-up before is restored (a command run in-process,
    as the tests do, leaves no handler on a stream that is gone)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonLinesFormatter(redact) if fmt == "json" else RedactingTextFormatter(redact)
    )
    root, ours, aps = (
        logging.getLogger(),
        logging.getLogger("bdtx"),
        logging.getLogger("apscheduler"),
    )
    saved = (list(root.handlers), root.level, ours.level, aps.level)
    for old in saved[0]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    ours.setLevel(level)
    aps.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        for old in saved[0]:
            root.addHandler(old)
        root.setLevel(saved[1])
        ours.setLevel(saved[2])
        aps.setLevel(saved[3])
