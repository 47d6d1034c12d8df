import datetime as dt
import threading

import pytest

from scheduler.clock import Clock, SimulatedClock, SystemClock

START = dt.datetime(2023, 9, 4, 0, 0, tzinfo=dt.UTC)


def test_a_stopped_simulated_clock_moves_only_when_told() -> None:
    clock = SimulatedClock(START)
    assert clock.now() == START
    assert clock() == START  # callable, like every ``now`` parameter
    clock.advance(dt.timedelta(days=1))
    assert clock.now() == START + dt.timedelta(days=1)
    clock.sleep(3600)  # a sleep jumps ahead at once
    assert clock.now() == START + dt.timedelta(days=1, hours=1)


def test_time_never_goes_back() -> None:
    clock = SimulatedClock(START)
    with pytest.raises(ValueError, match="back"):
        clock.advance(dt.timedelta(seconds=-1))
    clock.advance_to(START - dt.timedelta(days=1))  # the past: nothing to do
    assert clock.now() == START


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        SimulatedClock(dt.datetime(2023, 9, 4))


def test_an_accelerated_clock_sleeps_a_fraction_of_real_time() -> None:
    clock = SimulatedClock(START, speed=36_000.0)  # ten hours a second
    clock.sleep(3600)  # one simulated hour: 0.1 real second
    assert clock.now() >= START + dt.timedelta(hours=1)
    assert clock.now() < START + dt.timedelta(hours=10)


def test_wake_ends_a_sleep_at_once() -> None:
    for clock in (SimulatedClock(START, speed=1.0), SystemClock()):
        timer = threading.Timer(0.05, clock.wake)
        timer.start()
        before = dt.datetime.now(dt.UTC)
        clock.sleep(30)
        assert dt.datetime.now(dt.UTC) - before < dt.timedelta(seconds=10)
        assert isinstance(clock, Clock)
