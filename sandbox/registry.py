"""The table of emulated web-service functions and what a handler receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.access import Caller
from sandbox.options import SandboxOptions
from sandbox.params import Single
from sandbox.state import Site


@dataclass(frozen=True)
class CallContext:
    """Everything a handler may use: the site, the caller, the options and the time."""

    site: Site
    caller: Caller
    options: SandboxOptions
    now: int
    wsfunction: str


Handler = Callable[[CallContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class WsFunction:
    """One emulated function: its parameter description and its handler."""

    name: str
    params: Single
    handler: Handler


REGISTRY: dict[str, WsFunction] = {}


def ws_function(name: str, params: Single) -> Callable[[Handler], Handler]:
    """Register the decorated handler as the emulation of ``name``."""

    def register(handler: Handler) -> Handler:
        if name in REGISTRY:
            raise ValueError(f"{name} registered twice")
        REGISTRY[name] = WsFunction(name, params, handler)
        return handler

    return register
