"""Builders for tests. Dates are passed in, never frozen."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from patients.models import AntidepressantTrial, Intake, Patient, TrialsRecorded

_mrn = itertools.count(1000)

#: The answers of the `trd-eligible` vignette (versions 1 and 2) as intake columns: eligible,
#: nothing fires.
ELIGIBLE_TRD: dict[str, Any] = {
    "pregnancy_status": "not_pregnant",
    "breastfeeding": False,
    "planning_pregnancy": False,
    "diagnoses": ["mdd"],
    "current_mood_episode": "depressive",
    "antidepressant_trials_recorded": TrialsRecorded.LISTED,
    "failed_anxiety_treatments": 0,
    "failed_pain_treatments": 0,
    "phq9_total": 19,
    "phq9_item9": 0,
    "cssrs_wish_dead": False,
    "cssrs_active_thoughts": False,
    "cssrs_behavior_past_3_months": False,
    "cssrs_behavior_lifetime": False,
    "systolic_bp": 124,
    "diastolic_bp": 78,
    "heart_rate": 72,
    "hypersensitivity_to_ketamine": False,
    "aneurysmal_vascular_disease": False,
    "arteriovenous_malformation": False,
    "intracerebral_hemorrhage_history": False,
    "cardiovascular_disease": "none",
    "hypertensive_encephalopathy_history": False,
    "elevated_intracranial_pressure": False,
    "elevated_intraocular_pressure": False,
    "hepatic_impairment": "none",
    "cognitive_impairment": False,
    "psychosis_current": False,
    "psychosis_history": False,
    "family_history_schizophrenia": False,
    "substance_use_disorder": "none",
    "ketamine_misuse_history": False,
    "prior_ketamine_response": "none",
    "benzodiazepine_dose_mg_diazepam_eq": 0,
    "takes_lamotrigine": False,
    "takes_maoi": False,
    "takes_stimulant": False,
    "takes_opioid": False,
    "takes_mood_stabilizer": False,
    "engaged_in_psychotherapy": True,
    "has_escort_home": True,
    # The version-2 questions, answered as the version-2 `trd-eligible` vignette answers them.
    "bp_rise_serious_hazard": False,
    "respiratory_compromise": False,
    "other_cns_depressant_use": False,
    "bladder_symptoms_or_cystitis": False,
    "planned_formulation": "racemic_iv",
}

#: The five questions version 2 added (data dictionary, "Added in version 2").
VERSION_2_QUESTIONS = (
    "bp_rise_serious_hazard",
    "respiratory_compromise",
    "other_cns_depressant_use",
    "bladder_symptoms_or_cystitis",
    "planned_formulation",
)

TWO_FAILED_TRIALS = (
    {"drug": "sertraline", "weeks_at_adequate_dose": 8, "outcome": "no_response"},
    {"drug": "venlafaxine", "weeks_at_adequate_dose": 6, "outcome": "partial_response"},
)


def make_patient(
    *, created_by, born: date = date(1984, 3, 1), sex: str = "female", **extra
) -> Patient:
    number = next(_mrn)
    values = {
        "mrn": f"MRN{number}",
        "family_name": f"Family{number}",
        "given_names": "Alex",
        "date_of_birth": born,
        "sex_at_birth": sex,
        "created_by": created_by,
        **extra,
    }
    return Patient.objects.create(**values)


#: The version-2 questions as an intake saved before version 2 has them: not recorded.
NOT_ASKED_BEFORE_VERSION_2: dict[str, Any] = {
    name: "" if name == "planned_formulation" else None for name in VERSION_2_QUESTIONS
}


def make_intake(*, patient: Patient, by, trials=TWO_FAILED_TRIALS, **answers: Any) -> Intake:
    """An intake with the eligible-TRD answers, overridden by `answers` (pass
    `**NOT_ASKED_BEFORE_VERSION_2` for an intake saved before version 2's questions)."""
    values = {**ELIGIBLE_TRD, **answers}
    intake = Intake.objects.create(patient=patient, created_by=by, updated_by=by, **values)
    for position, trial in enumerate(trials):
        AntidepressantTrial.objects.create(intake=intake, position=position, **trial)
    return intake
