"""The journal query behind the not-kept guard, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from store.db import session_scope
from store.sync_repo import DbJournal, applied_writes, journal_plan, start_run
from sync.apply import ActionOutcome
from sync.kept import AppliedWrite
from sync.model import Action, ActionKind, Plan

NOW = dt.datetime(2023, 8, 20, 8, 0, tzinfo=dt.UTC)

CREATE = Action(
    ActionKind.CREATE_USER,
    "7000000001",
    "người mới",
    {"username": "an", "password": "Secret#1x", "customfields": {"school": "Trường THCS Tân Phú"}},
)
UPDATE = Action(ActionKind.UPDATE_USER, "7000000002", "đổi firstname", {"id": 9, "firstname": "Ân"})
ENROL = Action(ActionKind.ENROL, "C|7000000001", "có trong danh sách lớp", {"role": "student"})


def test_only_done_writes_of_the_asked_kinds_come_back(engine: Engine) -> None:
    run_id = start_run(engine, mode="apply", user="test", digest="d", now=NOW)
    journal_plan(engine, run_id, Plan((CREATE, UPDATE, ENROL)), NOW)
    journal = DbJournal(engine, run_id, lambda: NOW)
    journal.record(
        [
            ActionOutcome(CREATE, "done"),
            ActionOutcome(UPDATE, "failed", "invaliduserid"),
            ActionOutcome(ENROL, "done"),
        ]
    )
    with session_scope(engine) as session:
        found = applied_writes(session, ["create_user", "update_user"])
    assert found == [
        AppliedWrite(
            run_id,
            0,
            "create_user",
            "7000000001",
            {"username": "an", "customfields": {"school": "Trường THCS Tân Phú"}},
        )
    ]
