"""An intake's answers in the API: the data dictionary's facts document, without the facts that
come from the patient record (age, date of birth, sex at birth) or the screening date.

Reading turns intake columns into that document (`patients.facts.intake_document`); writing
validates a document with the engine's schema (`validate_facts`, the same one door as the form
and the command) and turns it back into intake columns for `intake_update`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from patients.facts import intake_document
from patients.models import Intake, Patient, TrialsRecorded
from patients.services import INTAKE_FIELDS
from rules.engine import DiagnosesInPart, FactsInvalid, FieldError, IntakeFacts, validate_facts

#: Facts an intake does not hold: the patient record and the screening run supply them.
NOT_ANSWERS = ("age_years", "date_of_birth", "screening_date", "sex_at_birth")


def intake_answers(intake: Intake, *, today: date) -> dict[str, Any]:
    """The recorded answers of `intake` as a facts document (not-recorded facts left out)."""
    document = intake_document(intake, screening_date=today)
    for name in NOT_ANSWERS:
        document.pop(name, None)
    return document


def answers_to_columns(
    answers: Any, *, patient: Patient, today: date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Intake column values and trial rows for a facts document of answers.

    Every column gets a value (absent facts become "not recorded"), so a save replaces the whole
    answer set. Raises `FactsInvalid` listing every problem by field.
    """
    if not isinstance(answers, dict):
        raise FactsInvalid([FieldError("answers", "must be a JSON object of facts")])
    misplaced = [
        FieldError(name, "comes from the patient record, not the intake")
        for name in NOT_ANSWERS
        if name in answers
    ]
    if misplaced:
        raise FactsInvalid(misplaced)
    document = {
        **answers,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "sex_at_birth": patient.sex_at_birth,
    }
    facts: IntakeFacts = validate_facts(document, today=today).intake
    if isinstance(facts.diagnoses, DiagnosesInPart):
        raise FactsInvalid(
            [
                FieldError(
                    "diagnoses",
                    "an intake records the complete list of diagnoses (a list, [] for none); "
                    'diagnoses known in part ({"includes": …}) are for evaluate',
                )
            ]
        )
    dose = facts.benzodiazepine_dose_mg_diazepam_eq
    if dose is not None and Decimal(str(dose)) != Decimal(str(dose)).quantize(Decimal("0.1")):
        raise FactsInvalid(
            [FieldError("benzodiazepine_dose_mg_diazepam_eq", "give at most one decimal place")]
        )
    return _columns(facts), _trials(facts)


def _columns(facts: IntakeFacts) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in INTAKE_FIELDS:
        if name.startswith("cssrs_"):
            answer = name.removeprefix("cssrs_")
            values[name] = getattr(facts.cssrs, answer) if facts.cssrs else None
        elif name == "antidepressant_trials_recorded":
            trials = facts.antidepressant_trials
            values[name] = (
                "" if trials is None else TrialsRecorded.LISTED if trials else TrialsRecorded.NONE
            )
        elif name == "diagnoses":
            values[name] = None if facts.diagnoses is None else list(facts.diagnoses)
        elif name == "benzodiazepine_dose_mg_diazepam_eq":
            dose = facts.benzodiazepine_dose_mg_diazepam_eq
            values[name] = None if dose is None else Decimal(str(dose))
        else:
            value = getattr(facts, name)
            blank = "" if Intake._meta.get_field(name).get_internal_type() == "CharField" else None
            values[name] = blank if value is None else value
    return values


def _trials(facts: IntakeFacts) -> list[dict[str, Any]]:
    return [trial.model_dump() for trial in facts.antidepressant_trials or ()]
