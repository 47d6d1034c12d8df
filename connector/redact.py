"""Redaction of secrets: the one function every message shown or stored goes through.

A server that echoes the request (an HTML error page, a proxy, a debugging Moodle) puts
the web-service token into an exception's text. :class:`Redactor` replaces each known
secret, and any ``wstoken=...`` / ``"token": "..."`` value even when the secret is not
known to it (the state database, for instance, never holds the token).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Redactor", "redact"]

MASK = "**********"
# wstoken=abc, token=abc, "wstoken": "abc", wstoken%3Dabc (URL-encoded in a URL or a page)
_TOKEN_FIELD = re.compile(
    r"""(?ix)
    ( \b(?:ws)?token (?: \s*=\s* | %3D | ["']?\s*[:=]\s*["']? ) )
    ( [A-Za-z0-9_\-]{8,} )
    """
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret, and every token-looking field value, masked."""
    for secret in secrets:
        if secret:
            # as typed, and as a URL or a form body would carry it
            for form in {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, MASK)
    return _TOKEN_FIELD.sub(lambda m: m.group(1) + MASK, text)


class Redactor:
    """The secrets of this process, and :func:`redact` with them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask ``secret`` from now on (too short a secret would mask ordinary text)."""
        if len(secret) >= 4 and secret not in self._secrets:
            self._secrets.append(secret)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._secrets)

    def __call__(self, text: str) -> str:
        return redact(text, self._secrets)
