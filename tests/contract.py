"""Access to the responses recorded from a real Moodle 4.5 (../shared/moodle-contract/)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "shared" / "moodle-contract"


@cache
def recorded(name: str) -> dict[str, Any]:
    """One recorded case by file stem, e.g. ``core_user_create_users__ok_batch_vietnamese``."""
    data: dict[str, Any] = json.loads((CONTRACT_DIR / f"{name}.json").read_text("utf-8"))
    return data


def recorded_cases() -> list[str]:
    """Every recorded case (file stems), metadata files excluded."""
    return sorted(p.stem for p in CONTRACT_DIR.glob("*.json") if not p.stem.startswith("_meta"))


def meta(name: str) -> dict[str, Any]:
    """A ``_meta__<name>.json`` file."""
    data: dict[str, Any] = json.loads((CONTRACT_DIR / f"_meta__{name}.json").read_text("utf-8"))
    return data
