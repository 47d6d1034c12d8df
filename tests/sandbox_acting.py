"""Acting in the sandbox LMS as one of its users, for tests that need learner or assessor steps."""

from __future__ import annotations

from typing import Any

from sandbox.lms import SandboxLms


def act_as(lms: SandboxLms, username: str, function: str, params: dict[str, Any]) -> Any:
    """Call ``function`` with ``username``'s token, through the REST form encoding."""
    return lms.call(function, params, token=lms.token_for(username))


def grade_final_product(
    lms: SandboxLms, userid: int, grade: float, username: str = "thao.gv"
) -> None:
    """Grade the recorded site's final assignment (id 3) for ``userid`` as ``username``."""
    act_as(
        lms,
        username,
        "mod_assign_save_grade",
        {
            "assignmentid": 3,
            "userid": userid,
            "grade": grade,
            "attemptnumber": -1,
            "addattempt": 0,
            "workflowstate": "",
            "applytoall": 1,
        },
    )
