"""The intake as a FHIR Questionnaire: generated from the intake form's own fields, served at
`GET /api/v1/fhir/Questionnaire/ketamine-intake`, referenced by every exported
QuestionnaireResponse, and round-tripping every vignette's facts."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from patients.forms import IntakeForm
from patients.models import (
    INTAKE_FORM_VERSION,
    QUESTIONS_ADDED,
    Intake,
    Patient,
    PregnancyStatus,
    TrialOutcome,
)
from patients.services import INTAKE_FIELDS, intake_update
from screening.fhir.questionnaire import (
    FORM_VERSIONS,
    intake_questionnaire,
    questionnaire_canonical,
    response_facts,
    response_items,
)
from screening.services import screening_run
from tests.api.conftest import client_for
from tests.factories import NOT_ASKED_BEFORE_VERSION_2, make_intake, make_patient
from tests.fhir.checks import all_problems
from tests.fhir.conftest import VIGNETTE_FILES, vignette_id

QUESTIONNAIRE = "/fhir/Questionnaire/ketamine-intake"
CLEAN = {"schema": [], "hygiene": [], "fhir.resources": []}

#: SHA-256 of the form's structure (sections, linkIds, types, answer codes) for each version:
#: a change to the intake's questions must come with a new INTAKE_FORM_VERSION and a line here.
STRUCTURE_DIGESTS = {
    1: "e32673402f74c8d092c8ea4510bc939de317edf466fed6555859e0815cec4ed6",
    2: "b46afe557141c62228e2898664187440f6c85470551d885bdb2eebb3a5afdf79",
}


def _questions(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for item in items:
        found[item["linkId"]] = item
        found.update(_questions(item.get("item", [])))
    return found


def _extension(item: dict[str, Any], name: str) -> Any:
    for extension in item.get("extension", []):
        if extension["url"].endswith(f"/{name}"):
            return next(v for k, v in extension.items() if k.startswith("value"))
    return None


@pytest.mark.django_db
def test_the_questionnaire_is_served_as_valid_fhir(clinician):
    response = client_for(clinician).get(QUESTIONNAIRE)
    assert response.status_code == 200
    questionnaire = response.json()
    assert all_problems(questionnaire) == CLEAN
    assert questionnaire["resourceType"] == "Questionnaire"
    assert f"{questionnaire['url']}|{questionnaire['version']}" == questionnaire_canonical()
    assert questionnaire["text"]["status"] == "generated"
    assert "never 'no'" in questionnaire["description"]


@pytest.mark.django_db
def test_earlier_versions_are_served_and_an_unknown_version_is_not_found(clinician):
    as_clinician = client_for(clinician)
    current = as_clinician.get(f"{QUESTIONNAIRE}?version={INTAKE_FORM_VERSION}").json()
    assert current == as_clinician.get(QUESTIONNAIRE).json()
    first = as_clinician.get(f"{QUESTIONNAIRE}?version=1").json()
    assert all_problems(first) == CLEAN
    assert first["version"] == "1"
    # Version 1 is the form without the questions version 2 added (its last section with them).
    assert set(_questions(current["item"])) - set(_questions(first["item"])) == {
        *QUESTIONS_ADDED[2],
        "plan",
    }
    response = as_clinician.get(f"{QUESTIONNAIRE}?version=99")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_the_questionnaire_is_refused_to_a_rule_admin(rule_admin):
    assert client_for(rule_admin).get(QUESTIONNAIRE).status_code == 403


def test_every_form_question_is_a_questionnaire_item_in_its_section():
    questionnaire = intake_questionnaire()
    sections = [group["linkId"] for group in questionnaire["item"]]
    assert sections[:3] == ["demographics", "diagnoses", "treatment"]
    questions = _questions(questionnaire["item"])
    form = IntakeForm({}, intake=Intake(patient=Patient()), read_only=True)
    for name in INTAKE_FIELDS:
        assert questions[name]["text"] == str(form.fields[name].label), name
    assert {"sex_at_birth", "age_years", "antidepressant_trials"} <= set(questions)
    counted = [q for g in questionnaire["item"] for q in g["item"] if q["linkId"] in INTAKE_FIELDS]
    assert len(counted) == len(INTAKE_FIELDS)  # each question once


def test_question_types_follow_the_form_fields():
    questions = _questions(intake_questionnaire()["item"])
    # yes / no / not recorded: a boolean, left unanswered when not recorded
    assert questions["breastfeeding"]["type"] == "boolean"
    assert "answerOption" not in questions["breastfeeding"]
    # choices: the model's choices, without "Not recorded"
    pregnancy = questions["pregnancy_status"]
    assert pregnancy["type"] == "choice"
    assert [o["valueCoding"]["code"] for o in pregnancy["answerOption"]] == PregnancyStatus.values
    # ranges: the form field's bounds
    assert (
        _extension(questions["phq9_total"], "minValue"),
        _extension(questions["phq9_total"], "maxValue"),
    ) == (0, 27)
    assert questions["benzodiazepine_dose_mg_diazepam_eq"]["type"] == "decimal"
    assert _extension(questions["benzodiazepine_dose_mg_diazepam_eq"], "maxValue") == 200.0
    assert _extension(questions["systolic_bp"], "questionnaire-unit")["code"] == "mm[Hg]"
    # diagnoses: a repeating choice with "none of these conditions" as an answer
    diagnoses = questions["diagnoses"]
    assert diagnoses["repeats"] is True
    assert "none" in [o["valueCoding"]["code"] for o in diagnoses["answerOption"]]
    # trials: a repeating group shown when trials are listed
    trials = questions["antidepressant_trials"]
    assert (trials["type"], trials["repeats"]) == ("group", True)
    assert trials["enableWhen"][0]["question"] == "antidepressant_trials_recorded"
    assert [i["linkId"] for i in trials["item"]] == ["drug", "weeks_at_adequate_dose", "outcome"]
    outcome = trials["item"][2]
    assert [o["valueCoding"]["code"] for o in outcome["answerOption"]] == TrialOutcome.values
    assert trials["item"][0]["maxLength"] == 80
    # C-SSRS Q3-Q5 are asked after a yes to Q2, as on the form
    for name in ("cssrs_method", "cssrs_intent", "cssrs_plan"):
        assert questions[name]["enableWhen"] == [
            {"question": "cssrs_active_thoughts", "operator": "=", "answerBoolean": True}
        ]
    assert "enableWhen" not in questions["cssrs_wish_dead"]


@pytest.mark.parametrize("version", FORM_VERSIONS)
def test_the_form_structure_is_pinned_to_its_version(version):
    """Changing the intake's questions (names, types, answer codes, sections) without a new
    INTAKE_FORM_VERSION fails here: a system holding version N must still read version N."""
    structure = [
        [
            group["linkId"],
            [
                [
                    q["linkId"],
                    q["type"],
                    [o["valueCoding"]["code"] for o in q.get("answerOption", [])],
                    [i["linkId"] for i in q.get("item", [])],
                ]
                for q in group["item"]
            ],
        ]
        for group in intake_questionnaire(version)["item"]
    ]
    digest = hashlib.sha256(json.dumps(structure).encode()).hexdigest()
    assert STRUCTURE_DIGESTS.get(version) == digest, (
        f"The intake's questions changed: give the form a new INTAKE_FORM_VERSION and record its "
        f"digest {digest} in STRUCTURE_DIGESTS."
    )


def _conforms(answered: list[dict[str, Any]], asked: list[dict[str, Any]]) -> None:
    """Every answered item is a question of the Questionnaire at the same place, answered with
    its type (choices among its options); questions that do not repeat appear once."""
    by_link = {q["linkId"]: q for q in asked}
    seen: list[str] = []
    for item in answered:
        question = by_link[item["linkId"]]
        assert item["text"] == question["text"]
        if not question.get("repeats"):
            assert item["linkId"] not in seen, item["linkId"]
        seen.append(item["linkId"])
        if question["type"] == "group":
            assert "answer" not in item
            _conforms(item["item"], question["item"])
            continue
        assert item["answer"]
        assert "item" not in item
        if not question.get("repeats"):
            assert len(item["answer"]) == 1
        for answer in item["answer"]:
            [(key, value)] = answer.items()
            kind = {"valueCoding": "choice", "valueBoolean": "boolean"}.get(key, key[5:].lower())
            assert kind == question["type"], item["linkId"]
            if kind == "choice":
                assert {"valueCoding": value} in question["answerOption"]


@pytest.mark.parametrize("path", VIGNETTE_FILES, ids=vignette_id)
def test_every_vignette_round_trips_through_a_questionnaire_response(path):
    """Each vignette answers the form of its data dictionary version, and reads back as the
    same facts."""
    vignette = json.loads(path.read_text())
    facts, version = vignette["facts"], vignette["ruleset_version"]
    questionnaire = intake_questionnaire(version)
    response = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire_canonical(version),
        "status": "completed",
        "item": response_items(facts, version),
    }
    assert all_problems(response) == CLEAN
    _conforms(response["item"], questionnaire["item"])
    assert response_facts(response["item"], version) == facts


def test_not_recorded_is_left_unanswered_and_none_is_an_answer():
    items = response_items({"diagnoses": [], "antidepressant_trials": [], "cssrs": {}})
    answered = _questions(items)
    assert answered["diagnoses"]["answer"][0]["valueCoding"]["code"] == "none"
    assert answered["antidepressant_trials_recorded"]["answer"][0]["valueCoding"]["code"] == "none"
    assert "antidepressant_trials" not in answered
    assert not any(name.startswith("cssrs") for name in answered)  # nothing recorded: no group
    assert "suicide-risk" not in answered
    assert response_facts(items) == {"diagnoses": [], "antidepressant_trials": []}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("saved_with", "answers", "referenced"),
    [
        (2, {}, 2),  # saved with the current form
        (None, NOT_ASKED_BEFORE_VERSION_2, 1),  # saved before intakes recorded it, v1 answers
        (None, {}, 2),  # saved before intakes recorded it, but answers version 2's questions
    ],
)
def test_the_response_references_the_form_version_the_intake_was_saved_with(
    clinician, saved_with, answers, referenced
):
    patient = make_patient(created_by=clinician)
    intake = make_intake(patient=patient, by=clinician, form_version=saved_with, **answers)
    screening = screening_run(intake=intake, user=clinician)
    bundle = client_for(clinician).get(f"/screenings/{screening.uuid}/fhir").json()
    [response] = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    assert response["questionnaire"] == questionnaire_canonical(referenced)
    _conforms(response["item"], intake_questionnaire(referenced)["item"])


@pytest.mark.django_db
def test_saving_an_intake_records_the_current_form_version(clinician):
    patient = make_patient(created_by=clinician)
    intake = make_intake(
        patient=patient, by=clinician, form_version=None, **NOT_ASKED_BEFORE_VERSION_2
    )
    assert intake.answered_form_version == 1
    intake_update(
        intake=intake,
        user=clinician,
        expected_version=intake.version,
        values={"phq9_total": 20},
        trials=[],
    )
    intake.refresh_from_db()
    assert (intake.form_version, intake.answered_form_version) == (INTAKE_FORM_VERSION,) * 2
