"""FHIR test helpers: a stored screening of any clinical vignette, under the rule-set version the
vignette was written for."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import models

from patients.models import AntidepressantTrial, Intake, TrialsRecorded
from patients.services import INTAKE_FIELDS
from screening.models import Screening
from screening.services import screening_run
from tests.factories import make_patient
from tests.rules.conftest import VIGNETTES, VIGNETTES_V2

#: The screening date vignettes are run on (ages are whole years on it).
SCREENING_DATE = date(2026, 11, 24)
VIGNETTE_FILES = sorted([*VIGNETTES.glob("*.json"), *VIGNETTES_V2.glob("*.json")])


def vignette_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def intake_columns(facts: dict[str, Any]) -> dict[str, Any]:
    """A facts document as intake columns (blank = not recorded)."""
    columns: dict[str, Any] = {
        name: "" if isinstance(Intake._meta.get_field(name), models.CharField) else None
        for name in INTAKE_FIELDS
    }
    for name in INTAKE_FIELDS:
        if name in facts:
            columns[name] = facts[name]
    for answer, value in (facts.get("cssrs") or {}).items():
        columns[f"cssrs_{answer}"] = value
    trials = facts.get("antidepressant_trials")
    if trials is not None:
        columns["antidepressant_trials_recorded"] = (
            TrialsRecorded.LISTED if trials else TrialsRecorded.NONE
        )
    return columns


@pytest.fixture
def vignette_screening(clinician, version_1_in_force) -> Callable[[Path], Screening]:
    """Store a screening of the vignette at `path`: a patient of its age and sex, an intake with
    its answers, run under its rule-set version on `SCREENING_DATE`."""
    version_2_in_force = version_1_in_force

    def build(path: Path) -> Screening:
        vignette = json.loads(path.read_text(encoding="utf-8"))
        facts = vignette["facts"]
        age = facts.get("age_years", 40)
        patient = make_patient(
            created_by=clinician,
            born=date(SCREENING_DATE.year - age, 1, 1),
            sex=facts.get("sex_at_birth", "female"),
        )
        intake = Intake.objects.create(
            patient=patient, created_by=clinician, updated_by=clinician, **intake_columns(facts)
        )
        for position, trial in enumerate(facts.get("antidepressant_trials") or []):
            AntidepressantTrial.objects.create(intake=intake, position=position, **trial)
        if vignette["ruleset_version"] == 2:
            version_2_in_force()
        return screening_run(intake=intake, user=clinician, on=SCREENING_DATE)

    return build
