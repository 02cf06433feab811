"""The FHIR code lists the product uses, defined once.

Every FHIR door reads its codes here: the screening export (`screening.fhir.bundle`), the intake
Questionnaire (`screening.fhir.questionnaire`) and the EHR integration (CDS Hooks, prefilling an
intake from FHIR). Pure data: no Django, so any app can import it.

LOINC displays are LOINC's own long common names, as LOINC publishes them; a code is listed only
once it has been checked. Scores without a checked code are coded by text alone rather than
claim a code nobody verified: Y-BOCS (no LOINC term for the original scale's total was found)
and the pain NRS (LOINC 72514-3 is *current* pain severity, 0-10, while the intake asks for
*average* pain: not the same observation, so it is not borrowed).

Where each code was checked:
- 44261-6, 44260-8, 70274-6: US Core 7.0.0 examples (Observation PHQ9-item-example-44260-8,
  QuestionnaireResponse phq-9-example) and LOINC's PHQ-9/GAD-7 panels.
- 101698-9 "PTSD PCL-5 score [PCL-5]" (LOINC 2.75, in the PCL-5 panel 101697-1 "Post traumatic
  stress disorder checklist - civilian version DSM-5 [PCL-5]"): the LOINC term pages mirrored at
  findacode.com and healthassure.in (loinc.org itself was not reachable from here).
- Blood pressure, heart rate: FHIR R4's vital-signs profiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

#: The product's own code systems and canonical URLs (URNs: identifiers, not addresses).
PRODUCT = "urn:ketamine-screening"
MRN_SYSTEM = f"{PRODUCT}:mrn"
RULE_SYSTEM = f"{PRODUCT}:rule"
#: DetectedIssue.reference: a rule's published source (percent-encoded citation).
RULE_SOURCE_PREFIX = f"{PRODUCT}:rule-source:"
QUESTIONNAIRE_URL = f"{PRODUCT}:questionnaire:ketamine-intake"

#: HL7 extensions used on Questionnaire items.
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
QUESTIONNAIRE_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"

#: Profiles the vital-sign observations claim (FHIR R4 core vital signs profiles).
BP_PROFILE = "http://hl7.org/fhir/StructureDefinition/bp"
HEART_RATE_PROFILE = "http://hl7.org/fhir/StructureDefinition/heartrate"


def fact_system(fact: str) -> str:
    """The code system of one fact's choices (`pregnancy_status` → its own system), so a code
    such as `none` means one thing in one system."""
    return f"{PRODUCT}:fact:{fact}"


@dataclass(frozen=True, slots=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "display": self.display}

    def concept(self, text: str | None = None) -> dict[str, Any]:
        """A CodeableConcept with this coding and `text` (the display unless given)."""
        return {"coding": [self.coding()], "text": text or self.display}


@dataclass(frozen=True, slots=True)
class Unit:
    """A UCUM unit: `code` is the UCUM code, `unit` what a person reads."""

    code: str
    unit: str

    def quantity(self, value: float) -> dict[str, Any]:
        return {"value": value, "unit": self.unit, "system": UCUM, "code": self.code}

    def coding(self) -> dict[str, Any]:
        return {"system": UCUM, "code": self.code, "display": self.unit}


SURVEY = Code(OBSERVATION_CATEGORY, "survey", "Survey")
VITAL_SIGNS = Code(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")

PHQ9_TOTAL = Code(
    LOINC, "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"
)
PHQ9_ITEM9 = Code(
    LOINC,
    "44260-8",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)
GAD7_TOTAL = Code(
    LOINC, "70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"
)
PCL5_TOTAL = Code(LOINC, "101698-9", "PTSD PCL-5 score [PCL-5]")
BP_PANEL = Code(LOINC, "85354-9", "Blood pressure panel with all children optional")
SYSTOLIC_BP = Code(LOINC, "8480-6", "Systolic blood pressure")
DIASTOLIC_BP = Code(LOINC, "8462-4", "Diastolic blood pressure")
HEART_RATE = Code(LOINC, "8867-4", "Heart rate")

MM_HG = Unit("mm[Hg]", "mmHg")
PER_MINUTE = Unit("/min", "beats/minute")
MG_PER_DAY = Unit("mg/d", "mg/day")

#: Scores exported as survey Observations: fact → its LOINC code, or the text that names it
#: when no code has been verified.
SCORES: dict[str, Code | str] = {
    "phq9_total": PHQ9_TOTAL,
    "phq9_item9": PHQ9_ITEM9,
    "gad7_total": GAD7_TOTAL,
    "pcl5_total": PCL5_TOTAL,
    "ybocs_total": "Yale-Brown Obsessive Compulsive Scale (Y-BOCS) total score",
    "pain_nrs": "Average pain, numeric rating scale (0-10)",
}

#: Vital signs from the intake: fact → (code, unit). Blood pressure travels as the panel with
#: these two as its components.
VITALS: dict[str, tuple[Code, Unit]] = {
    "systolic_bp": (SYSTOLIC_BP, MM_HG),
    "diastolic_bp": (DIASTOLIC_BP, MM_HG),
    "heart_rate": (HEART_RATE, PER_MINUTE),
}

#: Units shown beside intake questions (Questionnaire `questionnaire-unit`).
QUESTION_UNITS: dict[str, Unit] = {
    "systolic_bp": MM_HG,
    "diastolic_bp": MM_HG,
    "heart_rate": PER_MINUTE,
    "benzodiazepine_dose_mg_diazepam_eq": MG_PER_DAY,
}

#: A flag's severity as DetectedIssue.severity (info flags are not issues).
FLAG_SEVERITY = {"stop": "high", "urgent": "moderate", "review": "low"}

#: Sex at birth as Patient.gender (administrative gender has no "intersex": `other`).
GENDER = {"female": "female", "male": "male", "intersex": "other"}
