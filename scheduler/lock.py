"""The single-instance rule of the daemon, pure: when may a lock left by another be taken?

One daemon runs per state database. Its lock row says who holds it (host, pid), since
when, and its last heartbeat (real time, renewed every ``heartbeat_seconds``). Another
daemon may take it over only when the holder is surely gone:

* the holder is on this host and no process has its pid any more (killed, crashed); or
* its heartbeat is older than the lease (its host went down, or it hangs): a holder on
  another host cannot be checked any other way.

Otherwise the newcomer says who holds the lock and exits non-zero. The storage side
(``store/daemon_repo.py``) makes the take-over a compare-and-set, so two newcomers never
both win.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the daemon lock."""

    host: str
    pid: int
    since: dt.datetime
    heartbeat: dt.datetime
    clock_at: dt.datetime | None = None

    def describe(self) -> str:
        """One line for an operator: host, pid, since, last heartbeat (UTC)."""
        return (
            f"host {self.host}, pid {self.pid}, since {self.since:%Y-%m-%d %H:%M:%S} UTC, "
            f"last heartbeat {self.heartbeat:%Y-%m-%d %H:%M:%S} UTC"
        )


@dataclass(frozen=True)
class Me:
    """This process."""

    host: str
    pid: int

    @classmethod
    def current(cls) -> Me:
        return cls(socket.gethostname(), os.getpid())


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


def may_take_over(
    holder: Holder,
    me: Me,
    *,
    now: dt.datetime,
    lease: dt.timedelta,
    alive: Callable[[int], bool] = pid_alive,
) -> bool:
    """Whether ``me`` may take the lock ``holder`` left (see the module's rules)."""
    if holder.host == me.host and holder.pid == me.pid:
        return True  # our own row (a restart that reused the pid, or a re-acquire)
    if now - holder.heartbeat > lease:
        return True
    return holder.host == me.host and not alive(holder.pid)


class LockHeld(Exception):
    """Another daemon holds the lock of this state database."""

    def __init__(self, holder: Holder) -> None:
        super().__init__(f"another daemon runs on this state database: {holder.describe()}")
        self.holder = holder
