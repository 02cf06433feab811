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


#: The C-SSRS screener's answers (data dictionary).
CSSRS_ANSWERS = (
    "wish_dead",
    "active_thoughts",
    "method",
    "intent",
    "plan",
    "behavior_past_3_months",
    "behavior_lifetime",
)


def sample_documents(count: int, seed: int = 15) -> list[dict[str, Any]]:
    """`count` valid facts documents with every input fact present (a random allowed value) or
    not recorded, at random but the same on every run: enough to make every rule of the
    default rule sets fire, fail and stay open, and so write every shape of explanation."""
    import random

    from rules.engine import FACTS, FactsInvalid, validate_facts

    rng = random.Random(seed)
    documents: list[dict[str, Any]] = []
    derived = {"failed_adequate_antidepressant_trials", "suicide_risk"}
    derived |= {"acute_suicidal_ideation_or_behavior"}
    while len(documents) < count:
        document: dict[str, Any] = {}
        for name, fact_type in FACTS.items():
            if name in derived or rng.random() < 0.3:
                continue
            if fact_type.kind == "boolean":
                document[name] = rng.random() < 0.5
            elif fact_type.kind == "enum":
                document[name] = rng.choice(fact_type.values)
            elif fact_type.kind == "set":
                document[name] = rng.sample(fact_type.values, rng.randint(0, 2))
            else:
                low, high = int(fact_type.minimum or 0), int(fact_type.maximum or 100)
                document[name] = rng.choice([low, high, rng.randint(low, high)])
        if rng.random() < 0.7:
            document["cssrs"] = {
                name: rng.random() < 0.3 for name in CSSRS_ANSWERS if rng.random() < 0.8
            }
            if document["cssrs"].get("active_thoughts") is False:
                for name in ("method", "intent", "plan"):
                    document["cssrs"].pop(name, None)
        if rng.random() < 0.7:
            document["antidepressant_trials"] = [
                {
                    "drug": "sertraline",
                    "weeks_at_adequate_dose": rng.choice([4, 8]),
                    "outcome": rng.choice(["no_response", "partial_response", "response"]),
                }
                for _ in range(rng.randint(0, 3))
            ]
        try:
            validate_facts(document, today=TODAY)
        except FactsInvalid:
            continue
        documents.append(document)
    return documents
