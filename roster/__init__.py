"""Roster import: read the schools' Excel/CSV lists, normalise, validate, decide who is
enrolled in what, and report every row's outcome in Vietnamese.

Layout (pure core, thin edges):

- ``readers``: the only file access (xlsx streaming, CSV), header detection via ``headers``.
- ``text``, ``normalize``, ``subjects``, ``schools``, ``notes``: pure normalisers.
- ``validate`` (one row), ``crosscheck`` (duplicates, shared e-mails), ``eligibility``.
- ``importer``: ``import_roster`` (files) and ``build_result`` (rows) -> ``ImportResult``.
- ``model``, ``reasons``: the result model; ``report``: Excel report and rich table.
"""

from roster.eligibility import EligibilityPolicy, PrerequisitePolicy, ReducedPolicy
from roster.errors import RosterFormatError
from roster.headers import Field, RosterKind
from roster.importer import ImportOptions, build_result, import_roster, read_schools
from roster.model import (
    Audience,
    CoreRole,
    CoreStaff,
    Exemption,
    ExemptionKind,
    Gender,
    ImportResult,
    Learner,
    Level,
    RowOutcome,
    RowSource,
    School,
    Track,
)
from roster.reasons import Reason, ReasonCode, Status
from roster.validate import ValidationRules

__all__ = [
    "Audience",
    "CoreRole",
    "CoreStaff",
    "EligibilityPolicy",
    "Exemption",
    "ExemptionKind",
    "Field",
    "Gender",
    "ImportOptions",
    "ImportResult",
    "Learner",
    "Level",
    "PrerequisitePolicy",
    "Reason",
    "ReasonCode",
    "ReducedPolicy",
    "RosterFormatError",
    "RosterKind",
    "RowOutcome",
    "RowSource",
    "School",
    "Status",
    "Track",
    "ValidationRules",
    "build_result",
    "import_roster",
    "read_schools",
]
