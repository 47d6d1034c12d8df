"""When a daemon may take over the lock another left: only when that one is surely gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scheduler.lock import Holder, Me, may_take_over

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def holder(
    host: str = "srv1", pid: int = 100, beat_ago: timedelta = timedelta(seconds=10)
) -> Holder:
    return Holder(host, pid, NOW - timedelta(days=1), NOW - beat_ago)


def test_a_live_holder_on_this_host_keeps_the_lock() -> None:
    assert not may_take_over(holder(), Me("srv1", 200), now=NOW, lease=LEASE, alive=lambda _: True)


def test_a_dead_holder_on_this_host_is_taken_over_at_once() -> None:
    seen: list[int] = []

    def alive(pid: int) -> bool:
        seen.append(pid)
        return False

    assert may_take_over(holder(), Me("srv1", 200), now=NOW, lease=LEASE, alive=alive)
    assert seen == [100]


def test_a_holder_on_another_host_is_never_checked_by_pid_only_by_its_heartbeat() -> None:
    def alive(_pid: int) -> bool:
        raise AssertionError("a pid of another host means nothing here")

    assert not may_take_over(holder("srv2"), Me("srv1", 200), now=NOW, lease=LEASE, alive=alive)
    stale = holder("srv2", beat_ago=LEASE + timedelta(seconds=1))
    assert may_take_over(stale, Me("srv1", 200), now=NOW, lease=LEASE, alive=alive)


def test_a_silent_holder_on_this_host_is_taken_over_after_the_lease_even_if_its_pid_lives() -> None:
    stale = holder(beat_ago=LEASE + timedelta(seconds=1))
    assert may_take_over(stale, Me("srv1", 200), now=NOW, lease=LEASE, alive=lambda _: True)
    at_lease = holder(beat_ago=LEASE)
    assert not may_take_over(at_lease, Me("srv1", 200), now=NOW, lease=LEASE, alive=lambda _: True)


def test_describe_names_host_pid_and_since() -> None:
    text = holder().describe()
    assert "host srv1" in text
    assert "pid 100" in text
    assert "since 2026-11-29 08:00:00 UTC" in text
