import json
from pathlib import Path

import pytest

VIGNETTES = Path(__file__).resolve().parents[2].parent / "shared" / "clinical" / "vignettes"


@pytest.fixture
def vignettes_dir() -> Path:
    return VIGNETTES


@pytest.fixture
def trd_eligible_facts() -> dict:
    return json.loads((VIGNETTES / "trd-eligible.json").read_text())["facts"]


@pytest.fixture
def facts_file(tmp_path):
    """Write a vignette's facts (the part `screen` reads) to a file and return its path."""

    def write(name: str) -> str:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(json.loads((VIGNETTES / f"{name}.json").read_text())["facts"]))
        return str(path)

    return write
