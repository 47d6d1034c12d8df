"""``bdtx lms check`` reads what the completion write-back needs of the template's
"module completed" activity: its completion tracking and whether learners see it."""

from __future__ import annotations

import datetime as dt

from config.settings import RunSettings
from connector.client import MoodleClient
from connector.lms import MoodleLms
from sandbox import SandboxLms, SandboxOptions
from sandbox.fixtures import TEMPLATE_SHORTNAME
from scheduler.validation import check_templates
from sync.template_read import read_templates

RUN = RunSettings(id="M4-2026", module=4, start=dt.date(2026, 11, 16), template_course="x")


def _lms(sandbox: SandboxLms) -> MoodleLms:
    client = MoodleClient(
        "http://sandbox.invalid", sandbox.token_for("syncbot"), transport=sandbox.transport()
    )
    return MoodleLms(client)


def test_a_visible_or_untracked_module_completed_activity_is_reported() -> None:
    sandbox = SandboxLms(SandboxOptions(module_completed_activity=True), clock=lambda: 0)
    run = RUN.model_copy(update={"template_course": TEMPLATE_SHORTNAME})
    [marker] = [a for a in sandbox.site.activities.values() if a.idnumber == "module_completed"]

    def problems() -> list[tuple[str, str, str]]:
        templates = read_templates(_lms(sandbox), [TEMPLATE_SHORTNAME])
        return [
            (p.key, p.activity, p.severity)
            for p in check_templates([run], templates)
            if p.key == "activities.module_completed"
        ]

    assert problems() == []  # hidden, manual completion: as the README asks
    marker.visible = 1
    assert problems() == [("activities.module_completed", marker.name, "error")]
    marker.visible = 0
    marker.completion = 0
    assert problems() == [("activities.module_completed", marker.name, "error")]
