"""The emulated web-service functions; importing this package registers them all."""

from sandbox.functions import (
    assign,
    calendar,
    calendar_move,
    completion_ws,
    contents,
    courses,
    enrol,
    feedback_reports,
    grades,
    groups,
    learning,
    messages,
    quiz,
    roles,
    site,
    users,
)

__all__ = [
    "assign",
    "calendar",
    "calendar_move",
    "completion_ws",
    "contents",
    "courses",
    "enrol",
    "feedback_reports",
    "grades",
    "groups",
    "learning",
    "messages",
    "quiz",
    "roles",
    "site",
    "users",
]
