"""Shared by the form and view tests: a patient, and intake form data as a browser posts it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pytest

from patients.models import Intake
from patients.services import INTAKE_FIELDS
from tests.factories import ELIGIBLE_TRD, TWO_FAILED_TRIALS, make_patient


@pytest.fixture
def patient(clinician):
    return make_patient(created_by=clinician, born=date(1984, 3, 1), sex="female")


def _posted(value: Any) -> Any:
    """A Python answer as the form posts it (yes/no radios post "yes"/"no"/"")."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None:
        return ""
    return str(value)


def intake_data(
    intake: Intake,
    *,
    answers: Mapping[str, Any] | None = None,
    trials: Iterable[Mapping[str, Any]] = (),
    action: str | None = "save",
    version: int | None = None,
) -> dict[str, Any]:
    """POST data for the intake form: every question not recorded unless `answers` says so."""
    data: dict[str, Any] = {"version": str(version or intake.version)}
    if action:
        data["action"] = action
    for name in INTAKE_FIELDS:
        value = (answers or {}).get(name)
        if name == "diagnoses":
            if value is not None:
                data[name] = list(value) or ["none"]
            continue
        data[name] = _posted(value)
    rows = list(trials)
    data.update(
        {
            "trials-TOTAL_FORMS": str(len(rows)),
            "trials-INITIAL_FORMS": "0",
            "trials-MIN_NUM_FORMS": "0",
            "trials-MAX_NUM_FORMS": "1000",
        }
    )
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"trials-{index}-{key}"] = _posted(value)
    return data


def eligible_data(intake: Intake, **changes: Any) -> dict[str, Any]:
    """The eligible-TRD answers with two failed trials, as posted, changed by `changes`."""
    action = changes.pop("action", "save")
    trials = changes.pop("trials", TWO_FAILED_TRIALS)
    return intake_data(intake, answers={**ELIGIBLE_TRD, **changes}, trials=trials, action=action)
