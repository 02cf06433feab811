"""The engine suite's inputs from disk: the default rule set and the clinical vignettes.

Paths are relative to the repository root, so the suite runs from any working directory.
"""

import json
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from rules.engine import ScreeningResult

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULESET = ROOT / "rules" / "data" / "ketamine-v1.toml"
VIGNETTES = ROOT / ".." / "shared" / "clinical" / "vignettes"
#: Version 2 of the default rule set, its vignettes and its catalogue.
RULESET_V2 = ROOT / "rules" / "data" / "ketamine-v2.toml"
VIGNETTES_V2 = ROOT / ".." / "shared" / "clinical" / "vignettes-v2"
CATALOGUE_V2 = ROOT / ".." / "shared" / "clinical" / "rule-catalogue-v2.md"

#: The screening date every test passes in (the engine never reads the clock).
TODAY = date(2026, 11, 24)

#: The eight conditions, in the rule catalogue's order.
CONDITIONS = ["mdd", "trd", "bipolar_depression", "gad", "ptsd", "ocd", "fibromyalgia", "crps"]

#: The `screen` fixture: screen the `trd-eligible` patient with some facts changed.
Screen = Callable[..., ScreeningResult]

DISPOSITIONS = {"contraindicated", "incomplete", "not_indicated", "review_required", "eligible"}


def default_ruleset_spec() -> dict[str, Any]:
    with DEFAULT_RULESET.open("rb") as toml:
        return tomllib.load(toml)


def vignette(name: str) -> dict[str, Any]:
    return json.loads((VIGNETTES / f"{name}.json").read_text(encoding="utf-8"))


def vignette_names() -> list[str]:
    return sorted(path.stem for path in VIGNETTES.glob("*.json"))


def outcome(result: ScreeningResult) -> dict[str, Any]:
    """A result reduced to what a vignette expects (as /work/shared/tools/check-vignettes does)."""
    return {
        "disposition": result.disposition,
        "urgent": result.urgent,
        "indications": {i.condition: i.status for i in result.indications},
        "flags": sorted(f.rule for f in result.flags),
        "missing": [m.fact for m in result.missing],
    }


def ruleset_v2_spec() -> dict[str, Any]:
    with RULESET_V2.open("rb") as toml:
        return tomllib.load(toml)


def vignette_v2(name: str) -> dict[str, Any]:
    return json.loads((VIGNETTES_V2 / f"{name}.json").read_text(encoding="utf-8"))


def vignette_v2_names() -> list[str]:
    return sorted(path.stem for path in VIGNETTES_V2.glob("*.json"))
