"""A screening as a FHIR R4 Bundle (type `collection`), built from what the screening stored.

- `Patient` from the patient record (MRN as identifier).
- `QuestionnaireResponse` answering the intake Questionnaire in the version of the form the
  intake was saved with (`questionnaire` = its canonical URL and that version, see
  `screening.fhir.questionnaire`), with the facts as evaluated.
- `Observation`s shaped like US Core's screening-assessment observations: category `survey`,
  LOINC code with LOINC's display for every score with a verified code (text alone otherwise),
  the screening time as `effectiveDateTime`, `derivedFrom` the QuestionnaireResponse. Blood
  pressure is one panel (85354-9) with systolic/diastolic components and heart rate a quantity,
  both category `vital-signs` and claiming FHIR's core `bp`/`heartrate` profiles.
- `DetectedIssue` per stop/urgent/review flag: severity high/moderate/low, `detail` = the flag's
  message, each "because" reason as an `evidence.code.text`, the rule's published source as
  `reference` (a URN carrying the citation, percent-encoded: a uri holds no spaces).

Every resource carries a generated narrative, and the whole bundle goes through the FHIR JSON
hygiene pass. Entries are addressed by `urn:uuid:` full URLs equal to their ids; derived
resources get UUIDv5 ids from the screening, so exporting the same screening twice gives the
same ids. Codes come from `screening.fhir.codes`.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from django.utils import timezone

from screening.fhir import codes
from screening.fhir.hygiene import fhir_hygiene
from screening.fhir.narrative import with_narrative
from screening.fhir.questionnaire import questionnaire_canonical, response_items
from screening.models import Screening

Entry = tuple[str, dict[str, Any]]


def screening_bundle(screening: Screening) -> dict[str, Any]:
    """The Bundle for `screening` as FHIR JSON (hygiene applied)."""
    patient_url = f"urn:uuid:{screening.patient.uuid}"
    response_url = f"urn:uuid:{screening.intake.uuid}"
    resources = [
        (patient_url, _patient(screening)),
        (response_url, _questionnaire_response(screening, patient_url)),
        *_observations(screening, patient_url, response_url),
        *_detected_issues(screening, patient_url),
    ]
    bundle = {
        "resourceType": "Bundle",
        "id": str(_derived_id(screening, "bundle")),
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [
            {"fullUrl": url, "resource": with_narrative(resource)} for url, resource in resources
        ],
    }
    return fhir_hygiene(bundle)


def _derived_id(screening: Screening, name: str) -> uuid.UUID:
    return uuid.uuid5(screening.uuid, name)


def _patient(screening: Screening) -> dict[str, Any]:
    patient = screening.patient
    return {
        "resourceType": "Patient",
        "id": str(patient.uuid),
        "identifier": [{"system": codes.MRN_SYSTEM, "value": patient.mrn}],
        "name": [{"family": patient.family_name, "given": patient.given_names.split()}],
        "gender": codes.GENDER.get(patient.sex_at_birth, "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
    }


def _questionnaire_response(screening: Screening, patient_url: str) -> dict[str, Any]:
    version = screening.intake.answered_form_version
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(screening.intake.uuid),
        "questionnaire": questionnaire_canonical(version),
        "status": "completed",
        "subject": {"reference": patient_url},
        "authored": screening.run_at.isoformat(),
        "item": response_items(screening.facts, version),
    }


def _observation(
    screening: Screening,
    name: str,
    *,
    category: codes.Code,
    code: dict[str, Any],
    patient_url: str,
    response_url: str,
    **value: Any,
) -> Entry:
    resource_id = _derived_id(screening, f"observation:{name}")
    return (
        f"urn:uuid:{resource_id}",
        {
            "resourceType": "Observation",
            "id": str(resource_id),
            **value.pop("meta", {}),
            "status": "final",
            "category": [{"coding": [category.coding()]}],
            "code": code,
            "subject": {"reference": patient_url},
            "effectiveDateTime": screening.run_at.isoformat(),
            "derivedFrom": [{"reference": response_url}],
            **value,
        },
    )


def _observations(screening: Screening, patient_url: str, response_url: str) -> list[Entry]:
    facts = screening.facts
    where = {"patient_url": patient_url, "response_url": response_url}
    entries = []
    for fact, code in codes.SCORES.items():
        if facts.get(fact) is None:
            continue
        concept = code.concept() if isinstance(code, codes.Code) else {"text": code}
        entries.append(
            _observation(
                screening,
                fact,
                category=codes.SURVEY,
                code=concept,
                valueInteger=facts[fact],
                **where,
            )
        )
    components = [
        {"code": code.concept(), "valueQuantity": unit.quantity(facts[fact])}
        for fact, (code, unit) in codes.VITALS.items()
        if fact in ("systolic_bp", "diastolic_bp") and facts.get(fact) is not None
    ]
    if components:
        entries.append(
            _observation(
                screening,
                "blood_pressure",
                category=codes.VITAL_SIGNS,
                code=codes.BP_PANEL.concept(),
                meta={"meta": {"profile": [codes.BP_PROFILE]}},
                component=components,
                **where,
            )
        )
    if facts.get("heart_rate") is not None:
        code, unit = codes.VITALS["heart_rate"]
        entries.append(
            _observation(
                screening,
                "heart_rate",
                category=codes.VITAL_SIGNS,
                code=code.concept(),
                meta={"meta": {"profile": [codes.HEART_RATE_PROFILE]}},
                valueQuantity=unit.quantity(facts["heart_rate"]),
                **where,
            )
        )
    return entries


def _detected_issues(screening: Screening, patient_url: str) -> list[Entry]:
    entries = []
    outcome = screening.outcome
    for flag in outcome.flags:
        severity = codes.FLAG_SEVERITY.get(flag.severity)
        if severity is None:
            continue
        resource_id = _derived_id(screening, f"flag:{flag.rule}")
        rule = {
            "system": codes.RULE_SYSTEM,
            "version": f"{outcome.ruleset.name}-{outcome.ruleset.version}",
            "code": flag.rule,
            "display": flag.title,
        }
        entries.append(
            (
                f"urn:uuid:{resource_id}",
                {
                    "resourceType": "DetectedIssue",
                    "id": str(resource_id),
                    "status": "final",
                    "severity": severity,
                    "code": {"coding": [rule], "text": flag.title},
                    "patient": {"reference": patient_url},
                    "identifiedDateTime": screening.run_at.isoformat(),
                    "detail": flag.message,
                    "evidence": [{"code": [{"text": reason}]} for reason in flag.because],
                    "reference": f"{codes.RULE_SOURCE_PREFIX}{quote(flag.source, safe='')}",
                },
            )
        )
    return entries
