import json
from pathlib import Path

import pytest

CLINICAL = Path(__file__).resolve().parents[2].parent / "shared" / "clinical"
VIGNETTES = CLINICAL / "vignettes"
VIGNETTES_V2 = CLINICAL / "vignettes-v2"


@pytest.fixture
def vignettes_dir() -> Path:
    return VIGNETTES


@pytest.fixture
def trd_eligible_facts() -> dict:
    """The version-2 `trd-eligible` vignette's facts (the version-2 questions answered):
    eligible under version 1 and version 2 alike."""
    return json.loads((VIGNETTES_V2 / "trd-eligible.json").read_text())["facts"]


@pytest.fixture
def facts_file(tmp_path):
    """Write the facts (the part `screen` reads) of the vignette `name` written for rule-set
    version `version` to a file and return its path."""

    def write(name: str, *, version: int) -> str:
        folder = {1: VIGNETTES, 2: VIGNETTES_V2}[version]
        path = tmp_path / f"v{version}-{name}.json"
        path.write_text(json.dumps(json.loads((folder / f"{name}.json").read_text())["facts"]))
        return str(path)

    return write


def case_form_data(*, name: str, description: str = "", facts, expected: dict) -> dict:
    """A test case in the stored shape as the case editor POSTs it: the facts as JSON text,
    the expected outcome part by part (one field per condition, one value per flag)."""
    data = {
        "name": name,
        "description": description,
        "facts": facts if isinstance(facts, str) else json.dumps(facts),
        "disposition": expected.get("disposition", ""),
        "flags": list(expected.get("flags") or []),
        "missing": list(expected.get("missing") or []),
    }
    if expected.get("urgent"):
        data["urgent"] = "on"
    for condition, status in (expected.get("indications") or {}).items():
        data[f"indication_{condition}"] = status
    return data
