"""Saving a sandbox LMS site to a JSON file and loading it back.

The CLI keeps the sandbox between runs this way (``[lms] url = "sandbox:"``). Tables are
stored as lists of records; every secondary index is rebuilt on load, so the file holds
no derived data. Options and the clock are not stored: they belong to whoever loads.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sandbox.state import (
    Activity,
    AssignGrade,
    BackgroundTask,
    Category,
    Cohort,
    Completion,
    Course,
    Enrolment,
    Event,
    FeedbackResponse,
    Group,
    Message,
    ProfileField,
    QuizAttempt,
    Section,
    Site,
    Submission,
    User,
)

FORMAT = 1


def _records(items: Any) -> list[dict[str, Any]]:
    return [dataclasses.asdict(item) for item in items]


def dump_site(site: Site) -> dict[str, Any]:
    """The whole site as JSON-compatible data."""
    with site.lock:
        return {
            "format": FORMAT,
            "ids": site.ids.snapshot(),
            "profile_fields": _records(site.profile_fields),
            "users": _records(site.users.values()),
            "categories": _records(site.categories.values()),
            "courses": _records(site.courses.values()),
            "sections": _records(site.sections.values()),
            "activities": _records(site.activities.values()),
            "groups": _records(site.groups.values()),
            "cohorts": [
                {**dataclasses.asdict(c), "members": list(c.members.items())}
                for c in site.cohorts.values()
            ],
            "events": _records(site.events.values()),
            "submissions": _records(site.submissions.values()),
            "assign_grades": _records(site.assign_grades.values()),
            "extensions": [[a, u, d] for (a, u), d in site.extensions.items()],
            "quiz_attempts": _records(site.quiz_attempts.values()),
            "completions": [
                [cmid, userid, dataclasses.asdict(c)]
                for (cmid, userid), c in site.completions.items()
            ],
            "feedback_done": [[f, u, t] for (f, u), t in site.feedback_done.items()],
            "feedback_responses": [
                {**dataclasses.asdict(r), "answers": [[i, v] for i, v in r.answers.items()]}
                for r in site.feedback_responses.values()
            ],
            "messages": _records(site.messages),
            "background_tasks": _records(site.background_tasks),
            "conversations": [[sorted(pair), cid] for pair, cid in site.conversations.items()],
            "enrolments": [_records(by_user.values()) for by_user in site.enrolments.values()],
            "group_members": [
                [gid, list(members.items())] for gid, members in site.group_members.items()
            ],
            "role_assignments": [
                [level, instance, userid, roles]
                for (level, instance), by_user in site.role_assignments.items()
                for userid, roles in by_user.items()
            ],
            "role_changes": [
                [roleid, capability, allowed]
                for roleid, changes in site.role_changes.items()
                for capability, allowed in changes.items()
            ],
        }


def _pairs(items: list[list[Any]]) -> dict[int, int]:
    return {int(key): int(value) for key, value in items}


def load_site(data: dict[str, Any]) -> Site:
    """Rebuild a site (with its indexes) from :func:`dump_site` data."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported sandbox state format {data.get('format')!r}")
    site = Site(profile_fields=[ProfileField(**f) for f in data["profile_fields"]])
    for table, next_id in data["ids"].items():
        site.ids.skip_to(table, int(next_id))
    for record in data["users"]:
        site.add_user(User(**record))
    for record in data["categories"]:
        site.add_category(Category(**record))
    for record in data["courses"]:
        site.add_course(Course(**record))
    for record in data["sections"]:
        site.sections[record["id"]] = Section(**record)
    for record in data["activities"]:
        activity = Activity(**record)
        site.activities[activity.cmid] = activity
        site.activity_by_instance[(activity.modname, activity.instance)] = activity.cmid
    for record in data["groups"]:
        site.add_group(Group(**record))
    for record in data["cohorts"]:
        site.add_cohort(Cohort(**{**record, "members": _pairs(record["members"])}))
    for record in data["events"]:
        site.events[record["id"]] = Event(**record)
    for record in data["submissions"]:
        submission = Submission(**record)
        site.submissions[(submission.assignment, submission.userid)] = submission
    for record in data["assign_grades"]:
        grade = AssignGrade(**record)
        site.assign_grades[(grade.assignment, grade.userid)] = grade
    site.extensions = {(a, u): d for a, u, d in data["extensions"]}
    for record in data["quiz_attempts"]:
        attempt = QuizAttempt(**record)
        site.quiz_attempts[attempt.id] = attempt
        site.attempts_of_user_quiz[(attempt.quiz, attempt.userid)].append(attempt.id)
    for cmid, userid, record in data["completions"]:
        site.completions[(cmid, userid)] = Completion(**record)
    site.feedback_done = {(f, u): t for f, u, t in data["feedback_done"]}
    for record in data.get("feedback_responses", []):
        response = FeedbackResponse(**{**record, "answers": dict(record["answers"])})
        site.feedback_responses[(response.feedback, response.userid)] = response
    site.messages = [Message(**record) for record in data["messages"]]
    # Files saved before the sandbox modelled background tasks have none queued.
    site.background_tasks = [BackgroundTask(**r) for r in data.get("background_tasks", [])]
    site.conversations = {frozenset(pair): cid for pair, cid in data["conversations"]}
    for by_course in data["enrolments"]:
        for record in by_course:
            site.enrol(Enrolment(**record))
    for group_id, members in data["group_members"]:
        for userid, when in members:
            site.add_group_member(group_id, userid, when)
    for level, instance, userid, roles in data["role_assignments"]:
        for roleid in roles:
            site.assign_role(level, instance, userid, roleid)
    # Files saved before role changes were kept have none.
    for roleid, capability, allowed in data.get("role_changes", []):
        site.role_changes.setdefault(int(roleid), {})[capability] = bool(allowed)
    return site
