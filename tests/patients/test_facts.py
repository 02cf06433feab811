"""An intake as the engine's facts document (`patients.facts`): the version-2 questions are
facts when answered and left out (not recorded, never "no") when not, as in an intake saved
before they existed."""

from datetime import date

import pytest

from patients.facts import intake_document, intake_facts
from rules.loader import compiled_version
from rules.selectors import published_version
from tests.factories import (
    ELIGIBLE_TRD,
    NOT_ASKED_BEFORE_VERSION_2,
    VERSION_2_QUESTIONS,
    make_intake,
)

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)


def test_answered_version_2_questions_are_facts_of_the_document(patient, clinician):
    intake = make_intake(
        patient=patient,
        by=clinician,
        bladder_symptoms_or_cystitis=True,
        planned_formulation="esketamine_nasal",
    )

    document = intake_document(intake, screening_date=ON)

    assert {name: document[name] for name in VERSION_2_QUESTIONS} == {
        "bp_rise_serious_hazard": False,
        "respiratory_compromise": False,
        "other_cns_depressant_use": False,
        "bladder_symptoms_or_cystitis": True,
        "planned_formulation": "esketamine_nasal",
    }


def test_an_intake_saved_before_version_2_leaves_them_out_and_screens_listing_each(
    patient, clinician
):
    intake = make_intake(patient=patient, by=clinician, **NOT_ASKED_BEFORE_VERSION_2)

    document = intake_document(intake, screening_date=ON)
    result = compiled_version(published_version()).evaluate(intake_facts(intake, screening_date=ON))

    assert not set(VERSION_2_QUESTIONS) & set(document)
    columns = {name for name in ELIGIBLE_TRD if not name.startswith("cssrs_")}
    columns -= {*VERSION_2_QUESTIONS, "antidepressant_trials_recorded"}
    assert columns <= set(document)
    assert {"cssrs", "antidepressant_trials"} <= set(document)
    assert result.disposition == "incomplete"
    assert [item.fact for item in result.missing] == sorted(VERSION_2_QUESTIONS)
