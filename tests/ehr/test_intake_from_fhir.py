"""Intakes prefilled from FHIR: `POST /api/v1/intakes/from-fhir` and "Start from EHR data".

Each prefilled answer keeps its source until the clinician saves the intake; stale and
conflicting data is shown and not used; nothing runs until Run."""

import json
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.models import Intake
from screening.core.models import AuditEvent
from screening.ehr.models import IntakePrefill
from screening.models import Screening
from tests.api.conftest import client_for
from tests.ehr.bundles import blood_pressure, bundle, condition, medication, patient, score
from tests.factories import make_patient

pytestmark = pytest.mark.django_db


def ehr_bundle(today: date) -> dict:
    return bundle(
        patient(born="1984-03-01", sex="F"),
        score("phq", "44261-6", 19, today),
        blood_pressure("bp-old", 150, 95, date(2026, 4, 2)),
        condition("c1", "F33.1", text="Recurrent major depression"),
        medication("m1", "6448"),
    )


def test_the_api_creates_a_draft_with_each_answer_sourced_and_runs_nothing(clinician):
    patient_row = make_patient(created_by=clinician)
    today = timezone.localdate()

    response = client_for(clinician).post(
        "/intakes/from-fhir", {"patient": str(patient_row.uuid), "bundle": ehr_bundle(today)}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    answers = body["intake"]["answers"]
    assert answers["phq9_total"] == 19
    assert answers["diagnoses"] == ["mdd"]
    assert answers["takes_mood_stabilizer"] is True
    assert "systolic_bp" not in answers  # last spring's blood pressure is not an intake's
    assert "takes_opioid" not in answers  # no MedicationRequest is never "no"
    assert body["sources"]["phq9_total"][0]["reference"] == "Observation/phq"
    assert {n["source"]["reference"] for n in body["not_used"]} == {"Observation/bp-old"}
    assert Screening.objects.count() == 0
    event = AuditEvent.objects.filter(action="intake.prefill_from_fhir").get()
    assert event.detail == {
        "facts": ["diagnoses", "phq9_total", "takes_mood_stabilizer"],
        "not_used": 2,
        "unmapped": 0,
    }


def test_a_bundle_about_another_patient_is_refused(clinician):
    patient_row = make_patient(created_by=clinician, born=date(1990, 1, 1))

    response = client_for(clinician).post(
        "/intakes/from-fhir",
        {"patient": str(patient_row.uuid), "bundle": ehr_bundle(timezone.localdate())},
    )

    assert response.status_code == 422
    assert "birth date" in response.content.decode()
    assert not Intake.objects.filter(patient=patient_row).exists()


def test_what_is_not_a_bundle_is_422_naming_it(clinician):
    patient_row = make_patient(created_by=clinician)

    response = client_for(clinician).post(
        "/intakes/from-fhir",
        {"patient": str(patient_row.uuid), "bundle": {"resourceType": "Patient"}},
    )

    assert response.status_code == 422
    assert "bundle" in response.content.decode()


def test_the_page_marks_prefilled_answers_until_the_clinician_saves(clinician):
    patient_row = make_patient(created_by=clinician)
    browser = Client()
    browser.force_login(clinician)

    response = browser.post(
        reverse("ehr:intake_from_ehr", args=[patient_row.uuid]),
        {"bundle_text": json.dumps(ehr_bundle(timezone.localdate()))},
    )

    assert response.status_code == 302
    intake = Intake.objects.get(patient=patient_row)
    page = browser.get(response["Location"]).content.decode()
    assert 'id="ehr-prefill"' in page
    assert "Observation/phq" in page
    assert "Observation/bp-old" in page  # shown, not used
    prefill = IntakePrefill.objects.get(intake=intake)
    assert prefill.confirmed_at is None


def test_invalid_json_comes_back_with_the_reason(clinician):
    patient_row = make_patient(created_by=clinician)
    browser = Client()
    browser.force_login(clinician)

    response = browser.post(
        reverse("ehr:intake_from_ehr", args=[patient_row.uuid]), {"bundle_text": "{nope"}
    )

    assert response.status_code == 422
    assert "not valid JSON" in response.content.decode()
    assert not Intake.objects.filter(patient=patient_row).exists()
