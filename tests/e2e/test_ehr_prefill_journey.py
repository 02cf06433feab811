"""A clinician starts an intake from EHR data in the browser: the answers the Bundle gives are
prefilled and marked with their source, last spring's blood pressure is shown and not used,
nothing runs until Run; Run is refused while a prefilled answer is unchecked (naming it, with
every typed answer kept), and the clinician confirms or clears each answer one by one."""

import json
import re
from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from patients.models import Intake, Patient
from screening.ehr.models import IntakePrefill
from screening.models import Screening
from tests.e2e.test_accessibility import assert_accessible
from tests.ehr.bundles import blood_pressure, bundle, condition, medication, patient, score

pytestmark = pytest.mark.e2e

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_clinician_starts_an_intake_from_ehr_data_checks_it_and_runs(
    page: Page, live_server, login, clinician, password, artifacts_dir
):
    record = Patient.objects.create(
        mrn="MRN-EHR-1",
        family_name="Moreau",
        given_names="Lea",
        date_of_birth="1984-03-01",
        sex_at_birth="female",
        created_by=clinician,
    )
    today = timezone.localdate()
    ehr = bundle(
        patient(born="1984-03-01", sex="F"),
        score("phq-1", "44261-6", 19, today),
        blood_pressure("bp-spring", 150, 95, date(today.year - 1, 4, 2)),
        condition("dx-1", "F33.1", text="Recurrent major depression"),
        medication("rx-1", "6448"),
    )
    login(page, live_server, clinician, password)

    page.goto(f"{live_server.url}/patients/{record.uuid}/")
    page.get_by_role("link", name="Start from EHR data").click()
    page.get_by_label("Paste a FHIR R4 Bundle (JSON)").fill(json.dumps(ehr))
    page.get_by_role("button", name="Create the draft intake").click()

    expect(page).to_have_url(re.compile(rf"/intakes/{UUID}/$"))
    panel = page.locator("#ehr-prefill")
    expect(panel).to_contain_text("Prefilled from EHR data")
    expect(panel.locator("tr[data-fact='phq9_total']")).to_contain_text("Observation/phq-1")
    expect(panel.locator("tr[data-fact='diagnoses']")).to_contain_text("Condition/dx-1")
    expect(panel.locator("#ehr-not-used")).to_contain_text("Observation/bp-spring")
    expect(page.get_by_label("PHQ-9 total", exact=True)).to_have_value("19")
    expect(page.get_by_label("Systolic blood pressure")).to_have_value("")  # not used
    page.screenshot(path=artifacts_dir / "ehr-prefilled-intake.png", full_page=True)
    assert Screening.objects.count() == 0  # nothing ran
    assert_accessible(page, "intake prefilled from EHR data")

    # A typed answer, one prefilled answer confirmed, then Run: refused, naming the other two.
    page.get_by_label("Heart rate").fill("68")
    page.get_by_label("Confirm PHQ-9 total").check()
    page.get_by_role("button", name="Run screening").click()

    expect(page.locator("#form-errors")).to_contain_text(
        "not checked yet (Diagnoses, Takes a mood stabiliser)"
    )
    expect(page.get_by_label("Heart rate")).to_have_value("68")
    expect(page.get_by_label("Confirm PHQ-9 total")).to_be_checked()
    expect(page.get_by_label("Confirm Diagnoses")).not_to_be_checked()
    assert Screening.objects.count() == 0
    assert_accessible(page, "Run refused: prefilled answers unchecked")

    # Clear the medicine (saves the draft with it not recorded), confirm the diagnoses, run.
    page.get_by_role("button", name="Clear Takes a mood stabiliser and save the draft").click()
    expect(page.locator(".alert-success, [role=status]").first).to_be_visible()
    expect(page.locator("tr[data-fact='takes_mood_stabilizer']")).to_contain_text("Cleared")
    expect(page.get_by_label("Heart rate")).to_have_value("68")  # saved with the draft
    expect(page.get_by_label("Confirm PHQ-9 total")).to_be_checked()
    expect(page.locator("#ehr-prefill-progress")).to_contain_text("1 of 3")
    page.get_by_label("Confirm Diagnoses").check()
    page.get_by_role("button", name="Run screening").click()

    expect(page).to_have_url(re.compile(rf"/screenings/{UUID}/$"))
    intake = Intake.objects.get(patient=record)
    assert Screening.objects.filter(intake=intake).count() == 1
    assert (intake.heart_rate, intake.takes_mood_stabilizer, intake.phq9_total) == (68, None, 19)
    prefill = IntakePrefill.objects.get(intake=intake)
    assert {f: c["outcome"] for f, c in prefill.checked.items()} == {
        "diagnoses": "confirmed",
        "phq9_total": "confirmed",
        "takes_mood_stabilizer": "cleared",
    }
    assert prefill.confirmed_by == clinician
