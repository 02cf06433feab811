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
from tests.ehr.bundles import (
    blood_pressure,
    bundle,
    condition,
    cssrs_response,
    medication,
    patient,
    score,
)
from tests.factories import make_patient
from tests.patients.conftest import intake_data

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


# --- prefilled answers checked one by one -------------------------------------------------


def prefilled_intake(clinician, browser: Client) -> Intake:
    patient_row = make_patient(created_by=clinician)
    response = browser.post(
        reverse("ehr:intake_from_ehr", args=[patient_row.uuid]),
        {"bundle_text": json.dumps(ehr_bundle(timezone.localdate()))},
    )
    assert response.status_code == 302
    return Intake.objects.get(patient=patient_row)


PREFILLED = ("diagnoses", "phq9_total", "takes_mood_stabilizer")


def test_each_prefilled_answer_has_its_own_confirm_and_clear(clinician):
    browser = Client()
    browser.force_login(clinician)
    intake = prefilled_intake(clinician, browser)

    page = browser.get(reverse("patients:intake_edit", args=[intake.uuid])).content.decode()

    for fact in PREFILLED:
        assert f'name="prefill_confirmed" value="{fact}" id="prefill-confirm-{fact}"' in page
        assert f'name="prefill_clear" value="{fact}"' in page
    assert '<label class="form-check-label" for="prefill-confirm-phq9_total">Confirm' in page
    assert "3 of 3 prefilled answers still to check" in page
    assert "From EHR data (Observation/phq, " in page  # beside the question too
    assert "not checked yet: confirm, change or clear it" in page


def test_a_resource_id_from_the_ehr_is_escaped_beside_the_question(clinician):
    browser = Client()
    browser.force_login(clinician)
    patient_row = make_patient(created_by=clinician)
    hostile = score("<b>x</b>", "44261-6", 19, timezone.localdate())
    browser.post(
        reverse("ehr:intake_from_ehr", args=[patient_row.uuid]),
        {"bundle_text": json.dumps(bundle(patient(born="1984-03-01", sex="F"), hostile))},
    )
    intake = Intake.objects.get(patient=patient_row)

    page = browser.get(reverse("patients:intake_edit", args=[intake.uuid])).content.decode()

    assert "<b>x</b>" not in page
    assert "Observation/&lt;b&gt;x&lt;/b&gt;" in page


def test_run_is_refused_naming_the_unchecked_answers_and_keeps_every_answer(clinician):
    browser = Client()
    browser.force_login(clinician)
    intake = prefilled_intake(clinician, browser)
    url = reverse("patients:intake_edit", args=[intake.uuid])
    data = intake_data(
        intake,
        answers={
            "diagnoses": ["mdd"],
            "phq9_total": 19,
            "takes_mood_stabilizer": True,
            "heart_rate": 72,
        },
        action="run",
    )
    data["prefill_confirmed"] = ["phq9_total"]

    response = browser.post(url, data)

    assert response.status_code == 422
    page = response.content.decode()
    assert "The screening did not run: 2 answers prefilled from EHR data are not checked" in page
    assert "not checked yet (Diagnoses, Takes a mood stabiliser)" in page
    assert 'name="heart_rate" value="72"' in page  # what was typed is still there
    assert 'value="phq9_total" id="prefill-confirm-phq9_total" checked' in page
    assert Screening.objects.count() == 0
    intake.refresh_from_db()
    assert intake.heart_rate is None  # nothing saved
    assert IntakePrefill.objects.get(intake=intake).pending == list(PREFILLED)

    data["prefill_confirmed"] = list(PREFILLED)
    response = browser.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Screening.objects.filter(intake=intake).count() == 1
    prefill = IntakePrefill.objects.get(intake=intake)
    assert {f: c["outcome"] for f, c in prefill.checked.items()} == dict.fromkeys(
        PREFILLED, "confirmed"
    )
    assert prefill.confirmed_by == clinician
    event = AuditEvent.objects.filter(action="intake.prefill_check").get()
    assert event.detail == {"confirmed": list(PREFILLED)}


def test_saving_keeps_each_answers_check_and_a_changed_or_cleared_one_is_the_clinicians(
    clinician,
):
    browser = Client()
    browser.force_login(clinician)
    intake = prefilled_intake(clinician, browser)
    url = reverse("patients:intake_edit", args=[intake.uuid])
    data = intake_data(
        intake,
        answers={"diagnoses": ["mdd", "gad"], "phq9_total": 19, "takes_mood_stabilizer": True},
    )
    data["prefill_confirmed"] = ["phq9_total"]

    assert browser.post(url, data).status_code == 302

    prefill = IntakePrefill.objects.get(intake=intake)
    assert prefill.outcome("phq9_total") == "confirmed"
    assert prefill.outcome("diagnoses") == "changed"  # gad ticked: the clinician's list now
    assert prefill.pending == ["takes_mood_stabilizer"]
    assert prefill.confirmed_at is None
    page = browser.get(url).content.decode()
    assert 'value="phq9_total" id="prefill-confirm-phq9_total" checked' in page
    assert "1 of 3 prefilled answers still to check" in page

    # Clear: that answer becomes not recorded and the draft is saved with the others as sent.
    intake.refresh_from_db()
    data = intake_data(
        intake,
        answers={
            "diagnoses": ["mdd", "gad"],
            "phq9_total": 19,
            "takes_mood_stabilizer": True,
            "heart_rate": 64,
        },
        action=None,
    )
    data["prefill_confirmed"] = ["phq9_total"]
    data["prefill_clear"] = "takes_mood_stabilizer"

    response = browser.post(url, data)

    assert response.status_code == 302
    intake.refresh_from_db()
    assert (intake.takes_mood_stabilizer, intake.heart_rate, intake.phq9_total) == (None, 64, 19)
    prefill = IntakePrefill.objects.get(intake=intake)
    assert prefill.outcome("takes_mood_stabilizer") == "cleared"
    assert prefill.pending == []
    assert prefill.confirmed_by == clinician
    page = browser.get(url).content.decode()
    assert 'id="ehr-prefill-confirmed"' in page


def test_the_api_runs_a_prefilled_intake_only_once_its_answers_are_saved(clinician):
    patient_row = make_patient(created_by=clinician)
    api = client_for(clinician)
    created = api.post(
        "/intakes/from-fhir",
        {"patient": str(patient_row.uuid), "bundle": ehr_bundle(timezone.localdate())},
    ).json()
    uuid = created["intake"]["uuid"]

    refused = api.post(f"/intakes/{uuid}/screenings")

    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == set(PREFILLED)

    answers = created["intake"]["answers"]
    saved = api.put(
        f"/intakes/{uuid}", {"version": created["intake"]["version"], "answers": answers}
    )
    assert saved.status_code == 200, saved.content
    assert api.post(f"/intakes/{uuid}/screenings").status_code == 201


def test_a_cssrs_screener_prefills_its_answers_one_column_each(clinician):
    patient_row = make_patient(created_by=clinician)
    today = timezone.localdate()
    ehr = bundle(
        patient(born="1984-03-01", sex="F"),
        cssrs_response("qr", today, wish_dead=True, active_thoughts=True, intent=True),
    )

    response = client_for(clinician).post(
        "/intakes/from-fhir", {"patient": str(patient_row.uuid), "bundle": ehr}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["intake"]["answers"]["cssrs"] == {
        "wish_dead": True,
        "active_thoughts": True,
        "intent": True,
    }
    assert sorted(body["sources"]) == ["cssrs_active_thoughts", "cssrs_intent", "cssrs_wish_dead"]
    assert body["sources"]["cssrs_intent"][0]["reference"] == "QuestionnaireResponse/qr"
    intake = Intake.objects.get(patient=patient_row)
    assert (intake.cssrs_intent, intake.cssrs_plan) == (True, None)  # Q5 not answered: unknown
