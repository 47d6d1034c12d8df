"""Saving the sandbox LMS to a file and loading it back (what the CLI does between runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox import SandboxLms, seed_recording_site
from sandbox.persist import dump_site

NOW = 1_795_559_070


def _busy_site() -> SandboxLms:
    lms = SandboxLms(clock=lambda: NOW)
    seed_recording_site(lms)
    student = lms.token_for("nhung.nth")
    attempt = lms.call("mod_quiz_start_attempt", {"quizid": 3}, token=student)["attempt"]["id"]
    lms.call(
        "mod_quiz_process_attempt",
        {
            "attemptid": attempt,
            "finishattempt": 1,
            "data": [{"name": f"q{attempt}:1_answer", "value": "1"}],
        },
        token=student,
    )
    lms.call(
        "mod_quiz_save_overrides",
        {"data": {"quizid": 3, "overrides": [{"groupid": 2, "timeclose": NOW}]}},
    )
    lms.call(
        "core_completion_override_activity_completion_status",
        {"userid": 6, "cmid": 16, "newstate": 1},
    )
    lms.call("core_message_send_instant_messages", {"messages": [{"touserid": 5, "text": "hi"}]})
    lms.site.role_changes[4] = {"moodle/site:accessallgroups": True}
    return lms


def test_save_then_load_gives_the_same_site_and_tokens(tmp_path: Path) -> None:
    original = _busy_site()
    path = tmp_path / "var" / "sandbox.json"
    original.save(path)
    loaded = SandboxLms.load_or_new(path, clock=lambda: NOW)
    assert dump_site(loaded.site) == dump_site(original.site)
    assert loaded.site.role_changes == {4: {"moodle/site:accessallgroups": True}}
    assert loaded.tokens == original.tokens
    calls: list[tuple[str, dict[str, Any]]] = [
        ("core_enrol_get_enrolled_users", {"courseid": 3}),
        ("core_group_get_group_members", {"groupids": [1, 2]}),
        ("core_course_get_contents", {"courseid": 3}),
        ("mod_quiz_get_overrides", {"quizid": 3}),
        ("core_completion_get_activities_completion_status", {"courseid": 3, "userid": 5}),
    ]
    for function, params in calls:
        assert loaded.call(function, params) == original.call(function, params)


def test_loaded_site_keeps_counting_ids(tmp_path: Path) -> None:
    original = _busy_site()
    path = tmp_path / "sandbox.json"
    original.save(path)
    loaded = SandboxLms.load_or_new(path)
    user = {
        "username": "next.one",
        "password": "Hv#2026abcd",
        "firstname": "N",
        "lastname": "O",
        "email": "n@o.vn",
    }
    assert loaded.call("core_user_create_users", {"users": [user]})[0]["id"] == 19
    assert (
        loaded.call("core_user_get_users_by_field", {"field": "username", "values": ["nhung.nth"]})[
            0
        ]["id"]
        == 5
    )


def test_missing_file_gives_a_fresh_sandbox(tmp_path: Path) -> None:
    lms = SandboxLms.load_or_new(tmp_path / "nothing.json")
    assert set(lms.tokens) == {"syncbot", "limitedbot"}
    assert "TPL-MODULE" in lms.site.course_by_shortname
