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
