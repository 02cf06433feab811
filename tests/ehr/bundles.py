"""FHIR R4 resources and Bundles as an EHR would send them, for the EHR integration tests."""

from datetime import date, timedelta
from typing import Any

LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
BIRTHSEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"


def patient(pid: str = "p1", *, born: str = "1984-03-02", sex: str | None = "F") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": pid, "birthDate": born}
    if sex:
        resource["extension"] = [{"url": BIRTHSEX, "valueCode": sex}]
    return resource


def score(rid: str, code: str, value: float, on: date) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": on.isoformat(),
        "valueQuantity": {"value": value},
    }


def blood_pressure(rid: str, systolic: int, diastolic: int, on: date) -> dict[str, Any]:
    def component(code: str, value: int) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmHg"},
        }

    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "effectiveDateTime": on.isoformat(),
        "component": [component("8480-6", systolic), component("8462-4", diastolic)],
    }


def pregnancy(rid: str, answer: str, on: date) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "82810-3"}]},
        "effectiveDateTime": on.isoformat(),
        "valueCodeableConcept": {"coding": [{"system": LOINC, "code": answer}]},
    }


def condition(rid: str, icd10: str, *, status: str = "active", text: str = "") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": status,
                }
            ]
        },
        "code": {"coding": [{"system": ICD10CM, "code": icd10}], "text": text or icd10},
        "recordedDate": "2025-06-01",
    }


def medication(rid: str, rxcui: str, *, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "authoredOn": "2026-10-01",
    }


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def days_before(today: date, days: int) -> date:
    return today - timedelta(days=days)


#: C-SSRS screener ("recent") item codes, by the data dictionary's `cssrs` field.
CSSRS_ITEMS = {
    "wish_dead": "93246-7",
    "active_thoughts": "93247-5",
    "method": "93248-3",
    "intent": "93249-1",
    "plan": "93250-9",
    "behavior_lifetime": "93267-3",
    "behavior_past_3_months": "93269-9",
}
YES, NO = "LA33-6", "LA32-8"


def cssrs_item(rid: str, field: str, answer: bool, on: date) -> dict[str, Any]:
    """One C-SSRS item as an Observation answered with LOINC's Yes/No (LA33-6 / LA32-8)."""
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": CSSRS_ITEMS[field]}]},
        "effectiveDateTime": on.isoformat(),
        "valueCodeableConcept": {"coding": [{"system": LOINC, "code": YES if answer else NO}]},
    }


def cssrs_items(prefix: str, on: date, **answers: bool) -> list[dict[str, Any]]:
    """One administration as Observations, one per answered item."""
    return [cssrs_item(f"{prefix}-{field}", field, value, on) for field, value in answers.items()]


def cssrs_response(rid: str, on: date, **answers: bool) -> dict[str, Any]:
    """One administration as a QuestionnaireResponse of the LOINC 93373-9 form (linkIds
    "/<item code>", answers as valueCoding)."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "status": "completed",
        "authored": f"{on.isoformat()}T10:00:00Z",
        "item": [
            {
                "linkId": f"/{CSSRS_ITEMS[field]}",
                "answer": [{"valueCoding": {"system": LOINC, "code": YES if value else NO}}],
            }
            for field, value in answers.items()
        ],
    }
