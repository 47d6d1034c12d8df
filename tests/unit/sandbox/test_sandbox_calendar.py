"""Calendar fidelity of the sandbox LMS: copies' events, Moodle's background task, and
moving an activity's date with core_calendar_update_event_start_day (as recorded in
_meta__date_shift_experiment.json and the core_calendar_* cases)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import MoodleError, SandboxLms, seed_recording_site
from sandbox.fixtures import DAY, TEMPLATE_D0
from sandbox.lms import ADHOC_TASK_PATH
from sandbox.server import start_server

NOW = 1_795_559_070
K26_A = 3


@pytest.fixture
def lms() -> SandboxLms:
    site = SandboxLms(clock=lambda: NOW)
    seed_recording_site(site)
    return site


def _events(lms: SandboxLms, course_id: int) -> list[tuple[str, str, int]]:
    found = lms.call(
        "core_calendar_get_calendar_events",
        {"events": {"courseids": [course_id]}, "options": {"userevents": 0, "siteevents": 0}},
    )["events"]
    return [(e["modulename"], e["eventtype"], e["timestart"]) for e in found]


def _event_id(lms: SandboxLms, course_id: int, modname: str, eventtype: str) -> int:
    return next(
        e.id
        for e in lms.site.events.values()
        if e.courseid == course_id and e.modulename == modname and e.eventtype == eventtype
    )


def _duplicate(lms: SandboxLms, shortname: str) -> int:
    created: dict[str, Any] = lms.call(
        "core_course_duplicate_course",
        {"courseid": 2, "fullname": shortname, "shortname": shortname, "categoryid": 4},
    )
    return int(created["id"])


def test_a_copy_has_only_the_open_events_until_the_background_task_runs(lms: SandboxLms) -> None:
    copy = _duplicate(lms, "COPY-1")
    assert _events(lms, copy) == [
        ("quiz", "open", TEMPLATE_D0 + 7 * DAY),
        ("feedback", "open", TEMPLATE_D0 + 21 * DAY),
    ]
    assert lms.run_background_tasks() == 4  # the seed's duplicate, two imports, this copy
    # The grading-due event exists now, but the course's events leave it out while no
    # submission awaits grading (seen on the real Moodle 4.5).
    assert _events(lms, copy) == [
        ("quiz", "open", TEMPLATE_D0 + 7 * DAY),
        ("quiz", "close", TEMPLATE_D0 + 14 * DAY),
        ("assign", "due", TEMPLATE_D0 + 16 * DAY),
        ("feedback", "open", TEMPLATE_D0 + 21 * DAY),
        ("feedback", "close", TEMPLATE_D0 + 28 * DAY),
    ]
    grading = [
        e for e in lms.site.events.values() if e.courseid == copy and e.eventtype == "gradingdue"
    ]
    assert [e.timestart for e in grading] == [TEMPLATE_D0 + 26 * DAY]
    asked = lms.call("core_calendar_get_calendar_events", {"events": {"eventids": [grading[0].id]}})
    assert [e["eventtype"] for e in asked["events"]] == ["gradingdue"]
    assert lms.run_background_tasks() == 0


def test_the_template_has_the_five_recorded_events(lms: SandboxLms) -> None:
    assert [kind for _, kind, _ in _events(lms, 2)] == ["open", "close", "due", "open", "close"]


def test_moving_a_due_date_keeps_the_time_of_day_and_moves_the_assignment(
    lms: SandboxLms,
) -> None:
    lms.run_background_tasks()
    due = _event_id(lms, K26_A, "assign", "due")
    noon = TEMPLATE_D0 + 18 * DAY + 12 * 3600  # any time of the target day
    moved = lms.call(
        "core_calendar_update_event_start_day", {"eventid": due, "daytimestamp": noon}
    )["event"]
    assert moved["timestart"] == TEMPLATE_D0 + 18 * DAY
    assert moved["timesort"] == TEMPLATE_D0 + 16 * DAY  # as recorded: the old sort time
    assignment = lms.site.activity_of("assign", lms.site.events[due].instance)
    assert assignment is not None
    assert assignment.settings["duedate"] == TEMPLATE_D0 + 18 * DAY


def test_a_due_date_after_the_cut_off_is_refused_and_nothing_moves(lms: SandboxLms) -> None:
    lms.run_background_tasks()
    due = _event_id(lms, K26_A, "assign", "due")
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "core_calendar_update_event_start_day",
            {"eventid": due, "daytimestamp": TEMPLATE_D0 + 25 * DAY},
        )
    assert caught.value.errorcode == "Cut-off date cannot be earlier than the due date."
    assert lms.site.events[due].timestart == TEMPLATE_D0 + 16 * DAY


def test_a_quiz_cannot_open_after_it_closes(lms: SandboxLms) -> None:
    lms.run_background_tasks()
    opening = _event_id(lms, K26_A, "quiz", "open")
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "core_calendar_update_event_start_day",
            {"eventid": opening, "daytimestamp": TEMPLATE_D0 + 15 * DAY},
        )
    assert caught.value.errorcode == "openafterclose"


def test_an_event_the_caller_cannot_see_is_not_found(lms: SandboxLms) -> None:
    opening = _event_id(lms, K26_A, "quiz", "open")
    with pytest.raises(MoodleError) as caught:
        lms.call(
            "core_calendar_update_event_start_day",
            {"eventid": opening, "daytimestamp": TEMPLATE_D0},
            token=lms.token_for("limitedbot"),
        )
    assert caught.value.message == f"error/Unable to find event with id {opening}"


def test_a_moved_feedback_event_keeps_its_place_until_the_refresh(lms: SandboxLms) -> None:
    opening = _event_id(lms, K26_A, "feedback", "open")
    lms.call(
        "core_calendar_update_event_start_day", {"eventid": opening, "daytimestamp": TEMPLATE_D0}
    )
    assert [kind for kind, _, _ in _events(lms, K26_A)] == ["quiz", "feedback"]
    lms.run_background_tasks()
    assert [m for m, _, _ in _events(lms, K26_A)][:2] == ["feedback", "quiz"]


def test_queued_tasks_survive_saving_and_loading(lms: SandboxLms, tmp_path: Path) -> None:
    lms.save(tmp_path / "sandbox.json")
    loaded = SandboxLms.load_or_new(tmp_path / "sandbox.json", clock=lambda: NOW)
    assert loaded.run_background_tasks() == 3


def test_the_served_sandbox_runs_its_cron_for_a_service_token_only(lms: SandboxLms) -> None:
    server, url = start_server(lms)
    try:
        with httpx.Client(base_url=url) as client:
            refused = client.post(ADHOC_TASK_PATH, data={"wstoken": lms.token_for("limitedbot")})
            assert refused.status_code == 403
            ran = client.post(ADHOC_TASK_PATH, data={"wstoken": lms.token_for("syncbot")})
            assert ran.json() == {"tasks": 3}
    finally:
        server.shutdown()
        server.server_close()
    assert lms.site.background_tasks == []
