"""The daemon's job planning: which jobs are due now, catch-up once, retries, staleness."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.settings import RunSettings
from scheduler.jobs import (
    Cadence,
    JobKind,
    JobRecordView,
    JobSpec,
    all_jobs,
    due_jobs,
    job_states,
    next_wakeup,
    retry_wait,
)
from scheduler.timeline import run_timeline

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ALL = tuple(JobKind)
ids = itertools.count(1)


def m4(**fields: Any) -> RunSettings:
    return RunSettings.model_validate(
        {"id": "M4-2023", "module": 4, "start": date(2023, 9, 4), **fields}
    )


def vn(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2023, month, day, hour, minute, tzinfo=VN)


def specs(kinds: tuple[JobKind, ...] = ALL, **cadence: Any) -> list[JobSpec]:
    return all_jobs([run_timeline(m4(), VN)], Cadence(**cadence), kinds)


def record(job_id: str, at: datetime, outcome: str = "ok", **extra: Any) -> JobRecordView:
    return JobRecordView(next(ids), job_id, at, outcome, **extra)


def due_ids(
    now: datetime, records: list[JobRecordView], kinds: tuple[JobKind, ...] = ALL
) -> dict[str, datetime]:
    return {d.spec.id: d.scheduled_for for d in due_jobs(specs(kinds), job_states(records), now)}


def test_nothing_of_a_run_is_due_before_its_provisioning_time() -> None:
    due = due_ids(vn(8, 27, 23, 59), [])
    assert set(due) == {"inbox"}


def test_provisioning_is_due_at_00_00_seven_days_before_day_1_local_time() -> None:
    due = due_ids(vn(8, 28), [])
    assert due["sync:M4-2023"] == vn(8, 28) == datetime(2023, 8, 27, 17, tzinfo=UTC)
    assert "pull:M4-2023" not in due


def test_a_job_done_for_its_latest_slot_is_not_due_again() -> None:
    records = [record("sync:M4-2023", vn(8, 28))]
    assert "sync:M4-2023" not in due_ids(vn(8, 28, 23), records)
    assert due_ids(vn(8, 29, 0, 1), records)["sync:M4-2023"] == vn(8, 29)


def test_catch_up_after_downtime_runs_each_missed_job_once_for_the_latest_slot() -> None:
    """Down from day -7 to day 5: 12 daily syncs and 96 hourly pulls missed; one each."""
    records = [record("sync:M4-2023", vn(8, 28))]
    now = vn(9, 8, 9, 30)
    due = due_jobs(specs(), job_states(records), now)
    run_jobs = [d for d in due if d.spec.run_id]
    assert [(d.spec.id, d.scheduled_for) for d in run_jobs] == [
        ("sync:M4-2023", vn(9, 8)),
        ("pull:M4-2023", vn(9, 8, 9)),
    ]
    # Once those are recorded, nothing of the run is due until the next slot.
    records += [record(d.spec.id, d.scheduled_for) for d in run_jobs]
    assert set(due_ids(now, records)) == {"inbox"}
    assert set(due_ids(vn(9, 8, 10), records)) == {"inbox", "pull:M4-2023"}


def test_sync_job_runs_in_kind_order_inbox_sync_pull() -> None:
    due = due_jobs(specs(), job_states([]), vn(9, 5, 10))
    assert [d.spec.kind for d in due] == [JobKind.INBOX, JobKind.SYNC, JobKind.PULL]


def test_pull_goes_daily_in_grading_and_once_at_closing_then_stops() -> None:
    (pull,) = specs((JobKind.PULL,))
    closed = vn(9, 30)  # day 27 at 00:00: 10 grading days after day 16
    assert pull.slots[0] == vn(9, 4)
    assert vn(9, 20, 1) not in pull.slots  # hourly only on days 1-16
    assert vn(9, 19, 23) in pull.slots
    assert [s for s in pull.slots if s >= vn(9, 20)] == [
        vn(9, 20) + timedelta(days=d) for d in range(11)
    ]
    assert pull.slots[-1] == closed
    assert due_ids(closed + timedelta(hours=3), [], (JobKind.PULL,)) == {"pull:M4-2023": closed}
    # A day after closing, an old pull is no longer worth doing.
    assert due_ids(closed + timedelta(days=1, minutes=1), [], (JobKind.PULL,)) == {}


def test_sync_stops_once_the_run_closed() -> None:
    assert "sync:M4-2023" not in due_ids(vn(10, 20), [], (JobKind.SYNC,))
    (sync,) = specs((JobKind.SYNC,))
    assert sync.slots[-1] < vn(9, 30) <= sync.slots[-1] + timedelta(days=1)


def test_a_missed_reminder_is_sent_late_on_the_day_but_not_a_day_later() -> None:
    (remind,) = specs((JobKind.REMIND,))
    assert remind.slots == (vn(9, 27, 8), vn(9, 29, 8))  # 3 and 1 days before 00:00 of day 27
    assert due_ids(vn(9, 27, 15), [], (JobKind.REMIND,)) == {"remind:M4-2023": vn(9, 27, 8)}
    assert due_ids(vn(9, 28, 9), [], (JobKind.REMIND,)) == {}


def test_closing_is_due_once_at_closing_and_stays_due_until_done() -> None:
    later = vn(12, 1)
    assert due_ids(later, [], (JobKind.CLOSE,)) == {"close:M4-2023": vn(9, 30)}
    assert due_ids(later, [record("close:M4-2023", vn(9, 30))], (JobKind.CLOSE,)) == {}


def test_inbox_is_due_on_every_interval_aligned_slot() -> None:
    (inbox,) = specs((JobKind.INBOX,), inbox_every=timedelta(minutes=5))
    now = datetime(2026, 11, 30, 7, 33, 12, tzinfo=UTC)
    assert inbox.latest_slot(now) == datetime(2026, 11, 30, 7, 30, tzinfo=UTC)
    assert inbox.next_slot(now) == datetime(2026, 11, 30, 7, 35, tzinfo=UTC)
    done = [record("inbox", datetime(2026, 11, 30, 7, 30, tzinfo=UTC), "skipped")]
    assert due_ids(now, done, (JobKind.INBOX,)) == {}


@pytest.mark.parametrize("outcome", ["interrupted", "killed", "running"])
def test_an_unfinished_run_of_a_job_is_due_again_at_once(outcome: str) -> None:
    records = [record("sync:M4-2023", vn(8, 28), outcome)]
    assert due_ids(vn(8, 28, 3), records, (JobKind.SYNC,)) == {"sync:M4-2023": vn(8, 28)}


def test_a_failed_job_waits_for_its_next_slot() -> None:
    records = [record("sync:M4-2023", vn(8, 28), "failed")]
    assert due_ids(vn(8, 28, 23), records, (JobKind.SYNC,)) == {}
    assert due_ids(vn(8, 29, 1), records, (JobKind.SYNC,)) == {"sync:M4-2023": vn(8, 29)}


def test_a_retrying_job_is_due_at_its_retry_time_with_the_next_attempt() -> None:
    since = vn(8, 28, 0, 0)
    retry_at = vn(8, 28, 0, 4)
    records = [
        record(
            "sync:M4-2023", vn(8, 28), "retrying", attempt=3, retry_at=retry_at, outage_since=since
        )
    ]
    assert due_ids(vn(8, 28, 0, 3), records, (JobKind.SYNC,)) == {}
    (job,) = due_jobs(specs((JobKind.SYNC,)), job_states(records), vn(8, 28, 0, 4))
    assert (job.attempt, job.outage_since, job.scheduled_for) == (4, since, vn(8, 28))
    assert next_wakeup(specs((JobKind.SYNC,)), job_states(records), vn(8, 28, 0, 1)) == retry_at


def test_a_success_after_retries_ends_the_retry_state() -> None:
    records = [
        record("sync:M4-2023", vn(8, 28), "retrying", attempt=1, retry_at=vn(8, 28, 0, 1)),
        record("sync:M4-2023", vn(8, 28), "ok"),
    ]
    state = job_states(records)["sync:M4-2023"]
    assert (state.retry_at, state.attempt, state.done_through) == (None, 0, vn(8, 28))


def test_next_wakeup_is_the_earliest_next_slot() -> None:
    records = [record("sync:M4-2023", vn(8, 28))]
    only_run = (JobKind.SYNC, JobKind.PULL)
    assert next_wakeup(specs(only_run), job_states(records), vn(8, 28, 5)) == vn(8, 29)
    assert next_wakeup(specs(only_run), job_states(records), vn(9, 4, 0, 30)) == vn(9, 4, 1)
    assert next_wakeup(specs(only_run), job_states(records), vn(12, 1)) is None


def test_retry_waits_double_up_to_the_cap() -> None:
    first, cap = timedelta(seconds=30), timedelta(minutes=15)
    waits = [retry_wait(n, first, cap).total_seconds() for n in range(1, 9)]
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    assert retry_wait(500, first, cap) == cap
    with pytest.raises(ValueError, match="from 1"):
        retry_wait(0, first, cap)


def test_extended_class_moves_closing_and_the_last_pull() -> None:
    timeline = run_timeline(m4(), VN, {"M4-2023/THCS/GV/Toán/01": 5})
    jobs = {s.id: s for s in all_jobs([timeline], Cadence(), ALL)}
    assert jobs["close:M4-2023"].slots == (vn(10, 5),)
    assert jobs["pull:M4-2023"].slots[-1] == vn(10, 5)
    assert vn(10, 2, 8) in jobs["remind:M4-2023"].slots  # the extended class's own reminder


def test_a_closed_run_has_no_job_left_while_another_run_goes_on() -> None:
    m9 = RunSettings.model_validate({"id": "M9-2023", "module": 9, "start": date(2023, 9, 4)})
    timelines = [run_timeline(m4(), VN), run_timeline(m9, VN)]
    records: list[JobRecordView] = []
    during_grading = vn(9, 25, 12)
    open_due = {
        d.spec.id for d in due_jobs(all_jobs(timelines, Cadence(), ALL), {}, during_grading)
    }
    assert {"sync:M4-2023", "pull:M4-2023", "sync:M9-2023", "pull:M9-2023"} <= open_due

    closed = all_jobs(timelines, Cadence(), ALL, closed_runs={"M4-2023"})
    due = {d.spec.id for d in due_jobs(closed, job_states(records), during_grading)}
    assert not {job for job in due if job.endswith("M4-2023")}
    assert {"sync:M9-2023", "pull:M9-2023"} <= due
    m4_jobs = [s for s in closed if s.run_id == "M4-2023"]
    assert {s.kind for s in m4_jobs} == set(ALL) - {JobKind.INBOX}  # still listed (status)
    assert all(s.next_slot(during_grading) is None for s in m4_jobs)
    assert next_wakeup(m4_jobs, {}, during_grading) is None
