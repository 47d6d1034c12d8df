"""The ``MoodleLms`` facade and the lists behind ``bdtx lms check``."""

from __future__ import annotations

import inspect
import re
from types import ModuleType

import pytest

from connector import (
    assignments,
    calendar,
    cohorts,
    completion,
    courses,
    enrol,
    feedback,
    grades,
    groups,
    messages,
    quizzes,
    roles,
    site,
    users,
)
from connector.lms import (
    PARTICIPANT_FUNCTIONS,
    REQUIRED_CAPABILITIES,
    REQUIRED_FUNCTIONS,
    MoodleLms,
)
from connector.site import GET_SITE_INFO
from sandbox.options import README_ADDED_FUNCTIONS
from tests.contract import meta, recorded

from .recorded_replies import RecordedReplies

AREAS: dict[ModuleType, type] = {
    site: site.Site,
    users: users.Users,
    courses: courses.Courses,
    enrol: enrol.Enrol,
    groups: groups.Groups,
    roles: roles.Roles,
    cohorts: cohorts.Cohorts,
    calendar: calendar.Calendar,
    assignments: assignments.Assignments,
    quizzes: quizzes.Quizzes,
    completion: completion.Completion,
    grades: grades.Grades,
    feedback: feedback.Feedback,
    messages: messages.Messages,
}
WSFUNCTION = re.compile(r"^(core|mod|enrol|gradereport)_[a-z_]+$")


def wsfunctions_of(module: ModuleType) -> set[str]:
    return {
        value
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, str) and WSFUNCTION.match(value)
    }


def test_the_facade_has_one_area_per_attribute_on_one_client() -> None:
    client = RecordedReplies({}).client()
    lms_ = MoodleLms(client)
    for attribute, area in [
        ("site", site.Site),
        ("users", users.Users),
        ("courses", courses.Courses),
        ("enrol", enrol.Enrol),
        ("groups", groups.Groups),
        ("roles", roles.Roles),
        ("calendar", calendar.Calendar),
        ("assignments", assignments.Assignments),
        ("quizzes", quizzes.Quizzes),
        ("completion", completion.Completion),
        ("grades", grades.Grades),
        ("messages", messages.Messages),
    ]:
        assert isinstance(getattr(lms_, attribute), area)
        assert getattr(lms_, attribute)._client is client


def test_every_function_the_areas_call_is_listed_exactly_once() -> None:
    called = set().union(*(wsfunctions_of(module) for module in AREAS))
    assert set(REQUIRED_FUNCTIONS) | set(PARTICIPANT_FUNCTIONS) == called
    assert not set(REQUIRED_FUNCTIONS) & set(PARTICIPANT_FUNCTIONS)


def test_required_functions_beyond_the_recorded_service_are_the_readme_additions() -> None:
    """The recorded production service lacks the survey report the pull needs: the README
    (and the sandbox, set up as the README says) add exactly those."""
    service = set(meta("environment")["service"]["functions"])
    assert set(REQUIRED_FUNCTIONS) - service == set(README_ADDED_FUNCTIONS)


def test_declared_capabilities_are_all_listed() -> None:
    declared = {
        row["function"]: [cap.strip() for cap in row["capabilities"].split(",") if cap.strip()]
        for row in meta("service_functions_capabilities")["functions"]
    }
    for function in REQUIRED_FUNCTIONS:
        for capability in declared.get(function, []):
            assert function in REQUIRED_CAPABILITIES[capability], (capability, function)
    assert REQUIRED_CAPABILITIES["mod/assign:grade"] == (
        "mod_assign_get_grades",
        "mod_assign_get_submissions",
        "mod_assign_save_grade",
    )
    for functions in REQUIRED_CAPABILITIES.values():
        assert set(functions) <= set(REQUIRED_FUNCTIONS)


@pytest.mark.parametrize("area", list(AREAS.values()), ids=lambda area: area.__name__)
def test_every_public_method_names_its_wsfunction(area: type) -> None:
    own = wsfunctions_of(inspect.getmodule(area))  # type: ignore[arg-type]
    for name, method in inspect.getmembers(area, inspect.isfunction):
        if name.startswith("_") or not name.replace("_", "").isalpha():
            continue
        if name.endswith("problems"):
            continue  # the checks behind the calls, not calls
        doc = inspect.getdoc(method) or ""
        named = set(re.findall(r"``([a-z_]+)``", doc)) & own
        assert named, f"{area.__name__}.{name} names no wsfunction"
        assert any(fn.endswith(name) for fn in named), (name, named)


def test_missing_functions_come_from_site_info() -> None:
    replies = RecordedReplies({GET_SITE_INFO: "core_webservice_get_site_info__ok"})

    missing = MoodleLms(replies.client()).missing_functions()

    offered = {
        fn["name"] for fn in recorded("core_webservice_get_site_info__ok")["response"]["functions"]
    }
    assert set(missing) == set(REQUIRED_FUNCTIONS) - offered
    assert missing["core_user_create_users"] == "provisioning: accounts"
