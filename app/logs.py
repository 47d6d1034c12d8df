"""Logging for long-running processes: text, or JSON lines (``--log-format json``).

Every record is redacted (the LMS token never reaches a log), in both formats.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
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


def configure_logging(
    fmt: str, redact: Redactor, *, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Send every log record to ``stream`` (standard error) as text or JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonLinesFormatter(redact) if fmt == "json" else RedactingTextFormatter(redact)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("bdtx").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
