"""Build the engine's facts document from an intake: the form, the API and the command share the
engine's one schema (`rules.engine.IntakeFacts`).

Blank columns are left out of the document (not recorded), never sent as "no". Age comes from the
patient's date of birth at the screening date; sex at birth from the patient record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from patients.models import AntidepressantTrial, Intake, TrialsRecorded
from rules.engine import Facts, FieldError, IntakeFacts, validate_facts

CSSRS_ANSWERS = (
    "wish_dead",
    "active_thoughts",
    "method",
    "intent",
    "plan",
    "behavior_past_3_months",
    "behavior_lifetime",
)

#: Facts read straight from an intake column of the same name.
_COLUMN_FACTS = tuple(
    name
    for name in IntakeFacts.model_fields
    if name
    not in {
        "age_years",
        "date_of_birth",
        "screening_date",
        "sex_at_birth",
        "diagnoses",
        "antidepressant_trials",
        "cssrs",
    }
)


def intake_document(
    intake: Intake, *, screening_date: date, trials: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The facts document for `intake` as the data dictionary defines it. `trials` are its
    antidepressant trials (drug, weeks_at_adequate_dose, outcome) when the caller has just saved
    them; otherwise they are read from the database."""
    patient = intake.patient
    document: dict[str, Any] = {
        "date_of_birth": patient.date_of_birth.isoformat(),
        "screening_date": screening_date.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
    }
    for name in _COLUMN_FACTS:
        value = getattr(intake, name)
        if value is None or value == "":
            continue
        if name == "benzodiazepine_dose_mg_diazepam_eq":
            value = float(value)
        document[name] = value
    if intake.diagnoses is not None:
        document["diagnoses"] = list(intake.diagnoses)
    if intake.antidepressant_trials_recorded == TrialsRecorded.NONE:
        document["antidepressant_trials"] = []
    elif intake.antidepressant_trials_recorded == TrialsRecorded.LISTED:
        document["antidepressant_trials"] = (
            [trial.as_fact() for trial in intake.trials.all()]
            if trials is None
            else [{name: row[name] for name in AntidepressantTrial.FACTS} for row in trials]
        )
    answers = {
        name: getattr(intake, f"cssrs_{name}")
        for name in CSSRS_ANSWERS
        if getattr(intake, f"cssrs_{name}") is not None
    }
    if answers:
        document["cssrs"] = answers
    return document


def intake_facts(
    intake: Intake, *, screening_date: date, trials: Sequence[Mapping[str, Any]] | None = None
) -> Facts:
    """Validated facts for `intake` (raises `FactsInvalid` naming each field); `trials` as for
    `intake_document`."""
    return validate_facts(
        intake_document(intake, screening_date=screening_date, trials=trials),
        today=screening_date,
    )


def form_field(error: FieldError) -> str:
    """The intake form field an engine error belongs to (`cssrs.method` → `cssrs_method`)."""
    field = error.field
    if field.startswith("cssrs."):
        return "cssrs_" + field.split(".", 1)[1]
    if field.startswith("antidepressant_trials"):
        return "antidepressant_trials_recorded"
    if field in ("date_of_birth", "screening_date", "sex_at_birth", "age_years"):
        return "__all__"
    return field.split("[")[0]
