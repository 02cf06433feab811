"""A clinician registers a patient, fills an intake in the browser, and an invalid blood pressure
is refused beside its field with every other answer still on the page."""

import re

import pytest
from playwright.sync_api import Page, expect

from patients.models import Intake, Patient
from screening.models import Screening

pytestmark = pytest.mark.e2e

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def question(page: Page, name: str):
    """The group of radios or checkboxes for one question (its fieldset carries `id_<name>`)."""
    return page.locator(f"#id_{name}")


def answer(page: Page, name: str, label: str) -> None:
    question(page, name).get_by_label(label, exact=True).check()


def register_patient(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/patients/")
    page.get_by_role("link", name="Register a patient").click()
    page.get_by_label("Medical record number (MRN)").fill("MRN-E2E-1")
    page.get_by_label("Family name").fill("Okafor")
    page.get_by_label("Given names").fill("Ada")
    page.get_by_label("Date of birth").fill("1984-03-01")
    answer(page, "sex_at_birth", "Female")
    page.get_by_role("button", name="Register patient").click()
    expect(page).to_have_url(re.compile(rf"/patients/{UUID}/$"))
    expect(page.get_by_role("heading", name="OKAFOR, Ada")).to_be_visible()


def add_trial(page: Page, index: int, drug: str, weeks: str, outcome: str) -> None:
    """Fill in trial `index`: an empty list's blank row as it is, any later one after "Add"."""
    if not page.locator(f"#id_trials-{index}-drug").count():
        page.get_by_role("button", name="Add a trial").click()
        expect(page.locator(f"#id_trials-{index}-drug")).to_be_focused()
    page.locator(f"#id_trials-{index}-drug").fill(drug)
    page.locator(f"#id_trials-{index}-weeks_at_adequate_dose").fill(weeks)
    page.locator(f"#id_trials-{index}-outcome").select_option(outcome)


def fill_intake(page: Page) -> None:
    page.get_by_label("Pregnancy status").select_option("not_pregnant")
    answer(page, "breastfeeding", "No")
    answer(page, "planning_pregnancy", "No")
    answer(page, "diagnoses", "Major depressive disorder")
    answer(page, "diagnoses", "Generalised anxiety disorder")
    page.get_by_label("Current mood episode").select_option("depressive")

    # An empty list starts with one blank row, ready for the first trial; the button adds more.
    expect(page.locator("[data-trial-row]")).to_have_count(1)
    expect(page.locator("#id_trials-0-drug")).to_have_value("")
    add_trial(page, 0, "sertraline", "8", "no_response")
    # Filling in the row answered the question above the list.
    expect(
        question(page, "antidepressant_trials_recorded").get_by_label("Trials listed below")
    ).to_be_checked()
    add_trial(page, 1, "venlafaxine", "6", "partial_response")
    add_trial(page, 2, "mirtazapine", "2", "intolerance")
    page.get_by_role("button", name="Remove trial 3").click()
    expect(page.locator("[data-trial-row]")).to_have_count(2)
    expect(page.locator("#id_trials-TOTAL_FORMS")).to_have_value("2")
    # Adding a trial answered the question above the list.
    expect(
        question(page, "antidepressant_trials_recorded").get_by_label("Trials listed below")
    ).to_be_checked()

    page.get_by_label("PHQ-9 total").fill("19")
    page.get_by_label("GAD-7 total").fill("12")

    follow_ups = page.locator("#cssrs-follow-ups")
    expect(follow_ups).to_be_hidden()
    answer(page, "cssrs_wish_dead", "Yes")
    answer(page, "cssrs_active_thoughts", "No")
    expect(follow_ups).to_be_hidden()
    answer(page, "cssrs_active_thoughts", "Yes")
    expect(follow_ups).to_be_visible()
    answer(page, "cssrs_method", "Yes")
    answer(page, "cssrs_intent", "No")
    answer(page, "cssrs_plan", "No")

    page.get_by_label("Systolic blood pressure").fill("120")
    page.get_by_label("Diastolic blood pressure").fill("130")
    page.get_by_label("Heart rate").fill("72")
    page.get_by_label("Benzodiazepine dose").fill("5")
    answer(page, "takes_maoi", "No")
    answer(page, "has_escort_home", "Yes")


def expect_answers_kept(page: Page) -> None:
    expect(page.get_by_label("Pregnancy status")).to_have_value("not_pregnant")
    expect(question(page, "breastfeeding").get_by_label("No", exact=True)).to_be_checked()
    expect(question(page, "planning_pregnancy").get_by_label("No", exact=True)).to_be_checked()
    expect(question(page, "diagnoses").get_by_label("Major depressive disorder")).to_be_checked()
    expect(question(page, "diagnoses").get_by_label("Generalised anxiety disorder")).to_be_checked()
    expect(question(page, "diagnoses").get_by_label("Bipolar I disorder")).not_to_be_checked()
    expect(page.get_by_label("Current mood episode")).to_have_value("depressive")
    expect(
        question(page, "antidepressant_trials_recorded").get_by_label("Trials listed below")
    ).to_be_checked()
    expect(page.locator("[data-trial-row]")).to_have_count(2)
    expect(page.locator("#id_trials-0-drug")).to_have_value("sertraline")
    expect(page.locator("#id_trials-0-weeks_at_adequate_dose")).to_have_value("8")
    expect(page.locator("#id_trials-0-outcome")).to_have_value("no_response")
    expect(page.locator("#id_trials-1-drug")).to_have_value("venlafaxine")
    expect(page.locator("#id_trials-1-weeks_at_adequate_dose")).to_have_value("6")
    expect(page.locator("#id_trials-1-outcome")).to_have_value("partial_response")
    expect(page.get_by_label("PHQ-9 total")).to_have_value("19")
    expect(page.get_by_label("GAD-7 total")).to_have_value("12")
    expect(page.get_by_label("PCL-5 total")).to_have_value("")
    expect(question(page, "cssrs_wish_dead").get_by_label("Yes", exact=True)).to_be_checked()
    expect(question(page, "cssrs_active_thoughts").get_by_label("Yes", exact=True)).to_be_checked()
    expect(page.locator("#cssrs-follow-ups")).to_be_visible()
    expect(question(page, "cssrs_method").get_by_label("Yes", exact=True)).to_be_checked()
    expect(question(page, "cssrs_intent").get_by_label("No", exact=True)).to_be_checked()
    expect(question(page, "cssrs_plan").get_by_label("No", exact=True)).to_be_checked()
    expect(
        question(page, "cssrs_behavior_lifetime").get_by_label("Not recorded", exact=True)
    ).to_be_checked()
    expect(page.get_by_label("Systolic blood pressure")).to_have_value("120")
    expect(page.get_by_label("Diastolic blood pressure")).to_have_value("130")
    expect(page.get_by_label("Heart rate")).to_have_value("72")
    expect(page.get_by_label("Benzodiazepine dose")).to_have_value("5")
    expect(question(page, "takes_maoi").get_by_label("No", exact=True)).to_be_checked()
    expect(question(page, "takes_opioid").get_by_label("Not recorded", exact=True)).to_be_checked()
    expect(question(page, "has_escort_home").get_by_label("Yes", exact=True)).to_be_checked()


def test_clinician_fills_an_intake_and_an_invalid_blood_pressure_keeps_every_answer(
    page: Page, live_server, login, clinician, password, artifacts_dir
):
    login(page, live_server, clinician, password)
    register_patient(page, live_server)

    page.get_by_role("button", name="New intake").click()
    expect(page).to_have_url(re.compile(rf"/intakes/{UUID}/$"))
    expect(page.get_by_test_id("patient-sex")).to_have_text("Female")
    fill_intake(page)

    page.get_by_role("button", name="Run screening").click()

    diastolic = page.locator("#div_id_diastolic_bp")
    expect(diastolic).to_contain_text(
        "Diastolic pressure must be lower than systolic pressure (120 mmHg)."
    )
    expect(page.get_by_label("Diastolic blood pressure")).to_have_class(
        re.compile(r"\bis-invalid\b")
    )
    expect(page.locator("#div_id_systolic_bp .invalid-feedback")).to_have_count(0)
    expect(page.locator("#form-errors")).to_contain_text("Nothing was saved")
    expect_answers_kept(page)
    diastolic.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "intake-invalid-blood-pressure.png", full_page=True)

    patient = Patient.objects.get(mrn="MRN-E2E-1")
    intake = Intake.objects.get(patient=patient)
    assert intake.version == 1
    assert intake.phq9_total is None
    assert not Screening.objects.exists()

    page.get_by_label("Diastolic blood pressure").fill("80")
    page.get_by_role("button", name="Run screening").click()

    expect(page).to_have_url(re.compile(rf"/screenings/{UUID}/$"))
    screening = Screening.objects.get(intake=intake)
    assert page.url.endswith(f"/screenings/{screening.uuid}/")
    stored = Intake.objects.get(pk=intake.pk)
    assert (stored.systolic_bp, stored.diastolic_bp, stored.cssrs_method) == (120, 80, True)
    assert [t.drug for t in stored.trials.all()] == ["sertraline", "venlafaxine"]


def test_links_from_missing_information_focus_the_question(
    page: Page, live_server, login, clinician, password
):
    patient = Patient.objects.create(
        mrn="MRN-E2E-2",
        family_name="Lindqvist",
        given_names="Ola",
        date_of_birth="1990-05-05",
        sex_at_birth="male",
        created_by=clinician,
    )
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    login(page, live_server, clinician, password)
    url = f"{live_server.url}/intakes/{intake.uuid}/"

    # Opening the page at a group of radios focuses the checked answer, as tabbing into it does.
    page.goto(f"{url}#id_cssrs_active_thoughts")
    expect(
        question(page, "cssrs_active_thoughts").get_by_label("Not recorded", exact=True)
    ).to_be_focused()

    # Following further links within the page moves the focus too.
    page.goto(f"{url}#id_systolic_bp")
    expect(page.get_by_label("Systolic blood pressure")).to_be_focused()

    page.goto(f"{url}#id_diagnoses")
    expect(question(page, "diagnoses").get_by_label("Major depressive disorder")).to_be_focused()
    expect(question(page, "diagnoses")).to_be_in_viewport()


def test_without_javascript_trials_are_added_through_the_blank_row(
    browser, live_server, clinician, password
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    patient = Patient.objects.create(
        mrn="MRN-E2E-3",
        family_name="Moreau",
        given_names="Jules",
        date_of_birth="1975-11-30",
        sex_at_birth="female",
        created_by=clinician,
    )
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    try:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(clinician.get_username())
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/intakes/{intake.uuid}/")

        # Every question is shown, the Add button is not (it needs the script), a blank row is.
        expect(page.locator("#cssrs-follow-ups")).to_be_visible()
        expect(page.get_by_role("button", name="Add a trial")).to_be_hidden()
        expect(page.locator("[data-trial-row]")).to_have_count(1)
        answer(page, "antidepressant_trials_recorded", "Trials listed below")
        page.locator("#id_trials-0-drug").fill("escitalopram")
        page.locator("#id_trials-0-weeks_at_adequate_dose").fill("10")
        page.locator("#id_trials-0-outcome").select_option("no_response")
        page.get_by_role("button", name="Save draft").click()

        expect(page.get_by_text("Draft saved")).to_be_visible()
        expect(page.locator("[data-trial-row]")).to_have_count(2)
        expect(page.locator("#id_trials-0-drug")).to_have_value("escitalopram")
        expect(page.locator("#id_trials-1-drug")).to_have_value("")
        stored = Intake.objects.get(pk=intake.pk)
        assert [(t.drug, t.weeks_at_adequate_dose) for t in stored.trials.all()] == [
            ("escitalopram", 10)
        ]
    finally:
        context.close()
