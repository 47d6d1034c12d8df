"""Run configuration that cannot work is refused with one message naming the run and the key."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.settings import DEFAULT_CONFIG_FILE, RunSettings, SettingsError, load_settings
from scheduler.validation import RunProblem, TemplateActivity, check_templates, validate_runs
from tests.contract import recorded

VN = ZoneInfo("Asia/Ho_Chi_Minh")

M4 = """
[[runs]]
id = "M4-2023"
module = 4
start = 2023-09-04
"""


def load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bdtx.toml"
    path.write_text(text, "utf-8")
    load_settings(path)


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def second_run(start: str, levels: str = '["THCS", "THPT"]', module: int = 5) -> str:
    return f'[[runs]]\nid = "M5-2023"\nmodule = {module}\nstart = {start}\nlevels = {levels}\n'


def slot(start: str, extra: str = "") -> str:
    return f'[[runs.virtual_class]]\nstart = {start}\nmeeting_url = "https://meet.example.vn/a"\n{extra}'


def make_run(**fields: Any) -> RunSettings:
    return RunSettings.model_validate(
        {"id": "M4-2023", "module": 4, "start": date(2023, 9, 4), **fields}
    )


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BDTX_CONFIG", "BDTX_LMS_URL", "BDTX_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_shipped_plan_four_weeks_apart_is_valid() -> None:
    settings = load_settings(DEFAULT_CONFIG_FILE)

    assert validate_runs(settings.runs, VN) == []


def test_a_run_starting_within_another_for_the_same_learners_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, M4 + second_run("2023-09-19"))

    assert message == (
        "Setting runs[M5-2023].start: 2023-09-19 falls within run M4-2023 (2023-09-04 to "
        "2023-09-19, days 1-16): THCS CBQL, THCS GV, THPT CBQL, THPT GV would study two "
        "modules at once"
    )


def test_the_same_module_twice_at_once_for_one_level_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, M4 + second_run("2023-09-04", '["THPT"]', module=4))

    assert message.startswith("Setting runs[M5-2023].start: 2023-09-04 falls within run M4-2023")
    assert "THPT CBQL, THPT GV would study" in message


@pytest.mark.parametrize(
    "other",
    [
        second_run("2023-09-20"),  # the day after M4's day 16: grading may overlap
        second_run("2023-09-04", '["TH"]'),  # primary teachers, not in M4
    ],
)
def test_runs_for_other_learners_or_after_day_16_are_accepted(tmp_path: Path, other: str) -> None:
    load(tmp_path, M4 + other)


def test_the_earlier_run_is_named_whatever_the_order_in_the_file(tmp_path: Path) -> None:
    message = refused(tmp_path, second_run("2023-09-10") + M4.replace("09-04", "09-01"))

    assert message.startswith("Setting runs[M5-2023].start: 2023-09-10 falls within run M4-2023")


@pytest.mark.parametrize(
    ("slot_text", "message"),
    [
        (
            slot("2023-09-13T07:30:00"),
            "Setting runs[M4-2023].virtual_class[1].start: 2023-09-13 07:30 (day 10, 240 "
            "minutes) is not within the virtual class, days 8-9: 2023-09-11 to 2023-09-12",
        ),
        (
            slot("2023-09-10T13:30:00"),
            "Setting runs[M4-2023].virtual_class[1].start: 2023-09-10 13:30 (day 7, 240 "
            "minutes) is not within the virtual class, days 8-9: 2023-09-11 to 2023-09-12",
        ),
        (  # starts on day 9 but runs past midnight into day 10
            slot("2023-09-12T22:00:00", "duration_minutes = 180\n"),
            "Setting runs[M4-2023].virtual_class[1].start: 2023-09-12 22:00 (day 9, 180 "
            "minutes) is not within the virtual class, days 8-9: 2023-09-11 to 2023-09-12",
        ),
        (  # 01:00 UTC on 11/9 is fine (08:00 in Viet Nam), 16:30 UTC on 12/9 is 23:30 there
            slot("2023-09-12T16:30:00Z", "duration_minutes = 60\n"),
            "Setting runs[M4-2023].virtual_class[1].start: 2023-09-12 23:30 (day 9, 60 "
            "minutes) is not within the virtual class, days 8-9: 2023-09-11 to 2023-09-12",
        ),
        (
            slot(
                "2023-09-11T07:30:00", 'classes = ["M4-2023/THCS/GV/Toán/01"]\nclusters = ["1"]\n'
            ),
            "Setting runs[M4-2023].virtual_class[1]: name classes or clusters, not both",
        ),
        (
            slot("2023-09-11T07:30:00", 'classes = ["M5-2023/THCS/GV/Toán/01"]\n'),
            "Setting runs[M4-2023].virtual_class[1].classes: M5-2023/THCS/GV/Toán/01: not "
            "classes of this run (their ids start with 'M4-2023/')",
        ),
        (
            slot("2023-09-11T07:30:00", "link = 'x'\n"),
            "Setting runs[M4-2023].virtual_class[1].link: unknown setting (misspelt?)",
        ),
        (
            slot("2023-09-11T07:30:00").replace("https://meet.example.vn/a", "meet.example.vn"),
            "Setting runs[M4-2023].virtual_class[1].meeting_url: must be a link starting with "
            "https://",
        ),
    ],
)
def test_a_bad_virtual_class_slot_is_refused(tmp_path: Path, slot_text: str, message: str) -> None:
    assert refused(tmp_path, M4 + slot_text) == message


def test_slots_on_days_8_and_9_are_accepted(tmp_path: Path) -> None:
    load(
        tmp_path,
        M4
        + slot("2023-09-11T00:00:00", 'clusters = ["Cụm 1"]\n')
        + slot("2023-09-12T20:00:00", "duration_minutes = 240\n")
        + slot("2023-09-11T07:30:00+07:00", 'classes = ["M4-2023/THCS/GV/Toán/01"]\n'),
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ("grading_days = 0\n", r"runs\[M4-2023\]\.grading_days: .*greater than or equal to 1"),
        ("grading_window = 10\n", r"runs\[M4-2023\]\.grading_window: unknown setting"),
        (
            "reminder_days = [3, 0, 12]\n",
            r"^Setting runs\[M4-2023\]\.reminder_days: 0, 12: a reminder comes 1 to grading_days "
            r"\(10\) days before the grading deadline$",
        ),
        (
            "grading_days = 2\nreminder_days = [3]\n",
            r"runs\[M4-2023\]\.reminder_days: 3: a reminder comes 1 to grading_days \(2\)",
        ),
        ("provision_lead_days = -1\n", r"runs\[M4-2023\]\.provision_lead_days: "),
        (
            "unit_lock_date = 2023-09-20\n",
            r"runs\[M4-2023\]\.unit_lock_date: 2023-09-20 is after the run's last day "
            r"\(2023-09-19\): it would lock nothing",
        ),
        (
            "[runs.pass_marks]\nfinal_product = 12\n",
            r"runs\[M4-2023\]\.pass_marks: final_product 12 is above final_product_scale 10$",
        ),
        ("[runs.pass_marks]\nquiz_percent = 101\n", r"runs\[M4-2023\]\.pass_marks\.quiz_percent"),
        ("[runs.activities]\nquizz = 'q'\n", r"runs\[M4-2023\]\.activities\.quizz: unknown"),
        ("[runs.activities]\nsurvey = ''\n", r"runs\[M4-2023\]\.activities\.survey: "),
    ],
)
def test_a_bad_run_key_is_named(tmp_path: Path, keys: str, message: str) -> None:
    assert re.search(message, refused(tmp_path, M4 + keys))


def test_two_runs_with_one_id_are_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, M4 + M4.replace("2023-09-04", "2023-11-06"))

    assert message == "Setting runs[M4-2023].id: two runs have this id; each needs its own"


def test_several_problems_are_counted_in_one_message(tmp_path: Path) -> None:
    message = refused(tmp_path, M4 + "reminder_days = [0]\n" + slot("2023-09-04T07:00:00"))

    assert message.startswith("Setting runs[M4-2023].reminder_days: 0: ")
    assert message.endswith(" (and 1 more)")


def test_an_unknown_site_time_zone_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, 'timezone = "Asia/Hanoi_City"\n') == (
        "Setting timezone: unknown time zone 'Asia/Hanoi_City' (e.g. Asia/Ho_Chi_Minh)"
    )


@pytest.mark.parametrize(("minutes", "accepted"), [(60, True), (61, False)])
def test_a_slot_may_end_exactly_at_midnight_after_day_9(minutes: int, accepted: bool) -> None:
    run = make_run(
        virtual_class=[
            {
                "start": "2023-09-12T23:00:00",
                "duration_minutes": minutes,
                "meeting_url": "https://m",
            }
        ]
    )

    problems = [str(p) for p in validate_runs([run], VN)]

    assert problems == (
        []
        if accepted
        else [
            f"runs[M4-2023].virtual_class[1].start: 2023-09-12 23:00 (day 9, {minutes} minutes) is "
            "not within the virtual class, days 8-9: 2023-09-11 to 2023-09-12"
        ]
    )


# -- template facts from the LMS -------------------------------------------------------------


# The recorded template course (TPL-MODULE): its dates are days from 16/11/2026 00:00.
TEMPLATE = [
    TemplateActivity(
        "quiz", "Quiz", "quiz_auto", {"timeopen": 1795366800, "timeclose": 1795971600}
    ),
    TemplateActivity("assign", "Final product", "final_product", {"duedate": 1796144400}),
    TemplateActivity("feedback", "Survey", "survey", {"timeopen": 1796576400}),
    TemplateActivity("label", "Completed", "module_completed"),
]


def test_a_template_with_dates_and_the_configured_activities_passes() -> None:
    assert check_templates([make_run()], {"TPL-MODULE": TEMPLATE}) == []


def test_an_unknown_template_is_named() -> None:
    problems = check_templates([make_run(template_course="TPL-M4")], {"TPL-MODULE": TEMPLATE})

    assert [str(p) for p in problems] == [
        "runs[M4-2023].template_course: no course with shortname 'TPL-M4' on the LMS"
    ]


def test_a_template_without_dates_to_move_is_refused() -> None:
    undated = [
        TemplateActivity(a.modname, a.name, a.idnumber, dict.fromkeys(a.dates, 0)) for a in TEMPLATE
    ]

    problems = check_templates([make_run()], {"TPL-MODULE": undated})

    assert problems == [
        RunProblem(
            "M4-2023",
            "template_course",
            "template 'TPL-MODULE' has no dated activity (due date, open or close time) to "
            "move to the run's dates",
        )
    ]


def test_configured_activity_id_numbers_missing_from_the_template_are_named() -> None:
    run = make_run(activities={"survey": "khao_sat"})

    problems = check_templates([run], {"TPL-MODULE": TEMPLATE[:2]})

    assert [(p.key, p.message) for p in problems] == [
        ("activities.survey", "template 'TPL-MODULE' has no activity with ID number 'khao_sat'"),
        (
            "activities.module_completed",
            "template 'TPL-MODULE' has no activity with ID number 'module_completed' (needed "
            "by the completion write-back: add an activity with manual completion and this ID "
            "number)",
        ),
    ]
    assert [p.severity for p in problems] == ["error", "warning"]


def test_a_module_completed_activity_learners_could_tick_or_untracked_is_named() -> None:
    """Seen on the real Moodle 4.5: a learner may tick a *visible* manual activity (the
    course completion follows), and an override of an activity without completion
    tracking changes nothing, without an error."""
    run = make_run()

    def marker(**fields: object) -> list[TemplateActivity]:
        activity = TemplateActivity("page", "Hoàn thành mô-đun", "module_completed", **fields)  # type: ignore[arg-type]
        return [*TEMPLATE[:3], activity]

    hidden_manual = check_templates([run], {"TPL-MODULE": marker(completion=1, visible=False)})
    visible = check_templates([run], {"TPL-MODULE": marker(completion=1, visible=True)})
    untracked = check_templates([run], {"TPL-MODULE": marker(completion=0, visible=False)})
    automatic = check_templates([run], {"TPL-MODULE": marker(completion=2, visible=False)})

    assert hidden_manual == []
    assert [(p.key, p.activity, p.severity) for p in visible] == [
        ("activities.module_completed", "Hoàn thành mô-đun", "error")
    ]
    assert "learners can mark it complete themselves" in visible[0].message
    assert [(p.key, p.severity) for p in untracked] == [("activities.module_completed", "error")]
    assert "no completion tracking" in untracked[0].message
    assert [(p.key, p.severity) for p in automatic] == [("activities.module_completed", "warning")]
    assert "automatic completion" in automatic[0].message


def test_the_recorded_template_has_dates_to_move() -> None:
    """What core_course_get_contents answered for the real template (no ID numbers there)."""
    sections = recorded("core_course_get_contents__dates_template")["response"]
    activities = [
        TemplateActivity(
            module["modname"],
            module["name"],
            dates={date["dataid"]: date["timestamp"] for date in module["dates"]},
        )
        for section in sections
        for module in section["modules"]
    ]

    # Its assignment lets submissions in from the template's start: a date no web service
    # moves, which holds the due date back when a run is earlier than the template.
    (allow_from,) = check_templates([make_run()], {"TPL-MODULE": activities})
    assert (allow_from.activity, allow_from.severity) == ("Final product", "warning")
    assert "'Allow submissions from'" in allow_from.message
    undated = [a for a in activities if not a.dates]
    assert [str(p) for p in check_templates([make_run()], {"TPL-MODULE": undated})] == [
        "runs[M4-2023].template_course: template 'TPL-MODULE' has no dated activity (due "
        "date, open or close time) to move to the run's dates"
    ]


def test_dates_and_restrictions_the_push_cannot_move_are_named_per_activity() -> None:
    template = [
        *TEMPLATE[:2],
        TemplateActivity(
            "assign",
            "Late work",
            "late",
            {"duedate": 1796144400, "cutoffdate": 1796490000, "gradingduedate": 0},
        ),
        TemplateActivity("page", "Reading", "", restricted_on=(1795366800,), section="Week 2"),
        TemplateActivity(
            "quiz",
            "Practice",
            "",
            section="Week 3",
            section_restriction="Not available until 23/11",
        ),
        TemplateActivity(
            "feedback",
            "Survey",
            "survey",
            section="Week 3",
            section_restriction="Not available until 23/11",
        ),
        TemplateActivity("label", "Completed", "module_completed"),
    ]

    problems = check_templates([make_run()], {"TPL-MODULE": template})

    found = [(p.activity, p.severity, p.message.split(":")[0]) for p in problems]
    assert found == [
        ("Late work", "error", "cut-off date"),
        ("Late work", "warning", "no 'Remind me to grade by' date"),
        ("Reading", "error", "access restricted by date"),
        ("section 'Week 3'", "error", "section restricted (Not available until 23/11)"),
        ("Practice", "warning", "no due, open or close date"),
        ("Survey", "warning", "no due, open or close date"),
    ]
    assert all(p.key == "template_course" for p in problems)
