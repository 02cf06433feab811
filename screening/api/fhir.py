"""A screening as a FHIR R4 Bundle (type `collection`), built from what the screening stored.

- `Patient` from the patient record (MRN as identifier).
- `QuestionnaireResponse` with one item per recorded fact (the facts as evaluated); choices
  (pregnancy status, planned formulation, …) as `valueCoding` in the fact code system.
- `Observation` per recorded scale total, category `survey`, `valueInteger`. Only PHQ-9
  (LOINC 44261-6) and GAD-7 (LOINC 70274-6) totals carry a LOINC code; the others are coded by
  text alone rather than claim a code we have not verified.
- `DetectedIssue` per stop/urgent/review flag: severity high/moderate/low, `detail` = the flag's
  message, each "because" reason as an `evidence.code.text`.

Entries are addressed by `urn:uuid:` full URLs; derived resources get UUIDv5 ids from the
screening, so exporting the same screening twice gives the same ids.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field
from django.utils import timezone

from patients.models import Diagnosis, Intake
from screening.models import Screening

LOINC = "http://loinc.org"
MRN_SYSTEM = "urn:ketamine-screening:mrn"
FACT_SYSTEM = "urn:ketamine-screening:fact"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

#: Scale totals exported as Observations: fact → (LOINC code or None, display text).
SCALES: dict[str, tuple[str | None, str]] = {
    "phq9_total": ("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score"),
    "gad7_total": ("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score"),
    "pcl5_total": (None, "PTSD Checklist for DSM-5 (PCL-5) total score"),
    "ybocs_total": (None, "Yale-Brown Obsessive Compulsive Scale (Y-BOCS) total score"),
    "pain_nrs": (None, "Average pain, numeric rating scale (0-10)"),
}

FLAG_SEVERITY = {"stop": "high", "urgent": "moderate", "review": "low"}
GENDER = {"female": "female", "male": "male", "intersex": "other"}


def screening_bundle(screening: Screening) -> dict[str, Any]:
    """The Bundle for `screening` as FHIR JSON."""
    patient_url = f"urn:uuid:{screening.patient.uuid}"
    resources = [
        (patient_url, _patient(screening)),
        (f"urn:uuid:{screening.intake.uuid}", _questionnaire_response(screening, patient_url)),
        *_observations(screening, patient_url),
        *_detected_issues(screening, patient_url),
    ]
    return {
        "resourceType": "Bundle",
        "id": str(_derived_id(screening, "bundle")),
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in resources],
    }


def _derived_id(screening: Screening, name: str) -> uuid.UUID:
    return uuid.uuid5(screening.uuid, name)


def _patient(screening: Screening) -> dict[str, Any]:
    patient = screening.patient
    return {
        "resourceType": "Patient",
        "id": str(patient.uuid),
        "identifier": [{"system": MRN_SYSTEM, "value": patient.mrn}],
        "name": [{"family": patient.family_name, "given": patient.given_names.split()}],
        "gender": GENDER.get(patient.sex_at_birth, "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
    }


def _questionnaire_response(screening: Screening, patient_url: str) -> dict[str, Any]:
    items = [_item(name, value) for name, value in screening.facts.items() if value is not None]
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(screening.intake.uuid),
        "status": "completed",
        "subject": {"reference": patient_url},
        "authored": screening.run_at.isoformat(),
        "item": items,
    }


def _label(name: str) -> str:
    try:
        field = Intake._meta.get_field(name)
    except FieldDoesNotExist:  # facts that are not intake columns keep their name
        field = None
    if isinstance(field, Field):
        return str(field.verbose_name)
    return name.replace("_", " ")


def _item(name: str, value: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": name, "text": _label(name)}
    if name == "cssrs":
        item["item"] = [
            {"linkId": f"cssrs.{answer}", "text": _label(f"cssrs_{answer}"), "answer": [_answer(v)]}
            for answer, v in value.items()
            if v is not None
        ]
    elif name == "antidepressant_trials":
        item["item"] = [
            {
                "linkId": f"antidepressant_trials[{index}]",
                "text": f"trial {index + 1}",
                "item": [
                    {
                        "linkId": f"antidepressant_trials[{index}].{key}",
                        "text": key.replace("_", " "),
                        "answer": [_answer(v)],
                    }
                    for key, v in trial.items()
                ],
            }
            for index, trial in enumerate(value)
        ]
    elif name == "diagnoses":
        if value:
            item["answer"] = [
                {
                    "valueCoding": {
                        "system": FACT_SYSTEM,
                        "code": code,
                        "display": Diagnosis(code).label,
                    }
                }
                for code in value
            ]
        else:
            item["answer"] = [{"valueString": "none of the listed conditions"}]
    elif isinstance(value, str) and _choices(name):
        # A choice (pregnancy status, planned formulation, …) is coded, with its label.
        display = _choices(name).get(value, value)
        item["answer"] = [
            {"valueCoding": {"system": FACT_SYSTEM, "code": value, "display": display}}
        ]
    else:
        item["answer"] = [_answer(value)]
    return item


def _choices(name: str) -> dict[str, str]:
    """The intake column's choices for a fact (code → label), empty when it has none."""
    try:
        field = Intake._meta.get_field(name)
    except FieldDoesNotExist:
        return {}
    return {str(code): str(label) for code, label in getattr(field, "choices", None) or ()}


def _answer(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueString": str(value)}


def _observations(screening: Screening, patient_url: str) -> list[tuple[str, dict[str, Any]]]:
    entries = []
    for fact, (loinc, display) in SCALES.items():
        value = screening.facts.get(fact)
        if value is None:
            continue
        code: dict[str, Any] = {"text": display}
        if loinc is not None:
            code["coding"] = [{"system": LOINC, "code": loinc, "display": display}]
        resource_id = _derived_id(screening, f"observation:{fact}")
        entries.append(
            (
                f"urn:uuid:{resource_id}",
                {
                    "resourceType": "Observation",
                    "id": str(resource_id),
                    "status": "final",
                    "category": [
                        {
                            "coding": [
                                {
                                    "system": OBSERVATION_CATEGORY,
                                    "code": "survey",
                                    "display": "Survey",
                                }
                            ]
                        }
                    ],
                    "code": code,
                    "subject": {"reference": patient_url},
                    "effectiveDateTime": screening.run_at.isoformat(),
                    "valueInteger": value,
                },
            )
        )
    return entries


def _detected_issues(screening: Screening, patient_url: str) -> list[tuple[str, dict[str, Any]]]:
    entries = []
    for flag in screening.outcome.flags:
        severity = FLAG_SEVERITY.get(flag.severity)
        if severity is None:
            continue
        resource_id = _derived_id(screening, f"flag:{flag.rule}")
        entries.append(
            (
                f"urn:uuid:{resource_id}",
                {
                    "resourceType": "DetectedIssue",
                    "id": str(resource_id),
                    "status": "final",
                    "severity": severity,
                    "code": {
                        "coding": [{"system": "urn:ketamine-screening:rule", "code": flag.rule}],
                        "text": flag.title,
                    },
                    "patient": {"reference": patient_url},
                    "identifiedDateTime": screening.run_at.isoformat(),
                    "detail": flag.message,
                    "evidence": [{"code": [{"text": reason}]} for reason in flag.because],
                },
            )
        )
    return entries
