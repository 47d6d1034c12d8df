"""Site or category cohorts: ``core_cohort_*``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connector.batching import BatchOutcome
from connector.client import MoodleClient
from connector.common import (
    MoodleModel,
    WarningsOnly,
    WsWarning,
    batches_for,
    created_rows,
    parse,
    send_rows,
    settle_dropped,
    to_params,
)
from connector.validation import name_problem

CREATE_COHORTS = "core_cohort_create_cohorts"
ADD_COHORT_MEMBERS = "core_cohort_add_cohort_members"


@dataclass(frozen=True)
class CohortContext:
    """Where a cohort lives: ``system``, or a category by ``id`` or ``idnumber``."""

    type: Literal["system", "id", "idnumber"] = "system"
    value: str = ""


@dataclass(frozen=True)
class NewCohort:
    """One cohort for ``core_cohort_create_cohorts``."""

    categorytype: CohortContext
    name: str
    idnumber: str
    description: str | None = None
    descriptionformat: int | None = None
    visible: bool | None = None
    theme: str | None = None

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = to_params(self)
        return params


@dataclass(frozen=True)
class CohortMember:
    """A user, by id, idnumber or username, in a cohort by id or idnumber."""

    cohort_value: str
    user_value: str
    cohort_by: Literal["id", "idnumber"] = "idnumber"
    user_by: Literal["id", "idnumber", "username"] = "username"

    def params(self) -> dict[str, Any]:
        return {
            "cohorttype": {"type": self.cohort_by, "value": self.cohort_value},
            "usertype": {"type": self.user_by, "value": self.user_value},
        }


class Cohort(MoodleModel):
    id: int
    name: str
    idnumber: str = ""
    description: str = ""
    visible: bool | None = None


class Cohorts:
    """``core_cohort_*`` web service functions."""

    def __init__(self, client: MoodleClient) -> None:
        self._client = client

    def create_cohorts(self, cohorts: Sequence[NewCohort]) -> BatchOutcome[NewCohort, Cohort]:
        """Create cohorts: ``core_cohort_create_cohorts`` (an idnumber in use fails the row)."""
        outcome = send_rows(
            self._client,
            CREATE_COHORTS,
            "cohorts",
            cohorts,
            row_params=NewCohort.params,
            describe=lambda index, cohort: f"cohorts[{index}] {cohort.idnumber!r}",
            read_answer=created_rows(
                self._client,
                CREATE_COHORTS,
                Cohort,
                row_params=NewCohort.params,
                key_of_row=lambda cohort: cohort.idnumber,
                key_of_created=lambda cohort: cohort.idnumber,
            ),
            check=lambda _, cohort: [
                problem
                for problem in (
                    name_problem("name", cohort.name, required=True, max_length=254),
                    None if cohort.idnumber else "idnumber is empty",
                )
                if problem
            ],
        )
        return settle_dropped(outcome, CREATE_COHORTS, lambda cohort: f"cohort {cohort.idnumber!r}")

    def add_cohort_members(self, members: Sequence[CohortMember]) -> tuple[WsWarning, ...]:
        """Add users to cohorts: ``core_cohort_add_cohort_members``.

        Not atomic: an unknown user or cohort is skipped with a warning (returned), the
        others are added.
        """
        warnings: list[WsWarning] = []
        for batch in batches_for(self._client, members, CohortMember.params):
            payload = self._client.call(
                ADD_COHORT_MEMBERS, {"members": [member.params() for member in batch]}, write=True
            )
            warnings.extend(parse(WarningsOnly, payload, ADD_COHORT_MEMBERS).warnings)
        return tuple(warnings)
