"""The intake's shortcuts in the browser: "None of these" per section (only unanswered yes/no
questions, marked, undoable), progress by section, and Save/Run in view while scrolling."""

import pytest
from playwright.sync_api import Page, expect

from patients.models import Intake, Patient
from tests.e2e.test_intake_journey import question

pytestmark = pytest.mark.e2e

MEDICAL_YES_NO = [
    "hypersensitivity_to_ketamine",
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage_history",
    "hypertensive_encephalopathy_history",
    "elevated_intracranial_pressure",
    "elevated_intraocular_pressure",
    "cognitive_impairment",
    "bp_rise_serious_hazard",
    "respiratory_compromise",
    "bladder_symptoms_or_cystitis",
]


@pytest.fixture
def intake(clinician) -> Intake:
    patient = Patient.objects.create(
        mrn="MRN-E2E-NONE",
        family_name="Varga",
        given_names="Eszter",
        date_of_birth="1990-02-02",
        sex_at_birth="female",
        created_by=clinician,
    )
    # One medical answer is already recorded (yes): "None of these" must leave it alone.
    return Intake.objects.create(
        patient=patient,
        created_by=clinician,
        updated_by=clinician,
        arteriovenous_malformation=True,
    )


def checked(page: Page, name: str, label: str):
    return expect(question(page, name).get_by_label(label, exact=True))


def test_none_of_these_answers_only_the_unanswered_and_undo_restores_exactly_those(
    page: Page, live_server, login, clinician, password, intake, artifacts_dir
):
    login(page, live_server, clinician, password)
    page.goto(f"{live_server.url}/intakes/{intake.uuid}/")
    medical = page.locator("[data-intake-section='medical']")
    progress = medical.locator("[data-section-progress]")
    expect(progress).to_have_text("1 of 13 answered · 12 not recorded")
    expect(page.locator(".app-section-nav a[href='#section-medical']")).to_contain_text("1/13")

    # The clinician answers one question themselves before using the shortcut.
    question(page, "cognitive_impairment").get_by_label("Yes", exact=True).check()
    expect(progress).to_have_text("2 of 13 answered · 11 not recorded")

    none = medical.get_by_role("button", name="None of these: Medical history")
    expect(none).to_have_accessible_description(
        "Answers No to this section’s unanswered yes/no questions; answered ones stay as they are."
    )
    none.click()

    status = medical.get_by_role("status")
    expect(status).to_have_text(
        "9 unanswered questions set to No (marked below). Answered questions were not changed."
    )
    set_ones = [
        n for n in MEDICAL_YES_NO if n not in ("arteriovenous_malformation", "cognitive_impairment")
    ]
    for name in set_ones:
        checked(page, name, "No").to_be_checked()
        expect(page.locator(f"#div_id_{name}")).to_contain_text("Set to No by “None of these”.")
    checked(page, "arteriovenous_malformation", "Yes").to_be_checked()
    checked(page, "cognitive_impairment", "Yes").to_be_checked()
    expect(page.locator("#div_id_cognitive_impairment [data-set-by-none]")).to_have_count(0)
    # The two choice questions of the section are not yes/no: still not recorded.
    expect(page.get_by_label("Cardiovascular disease")).to_have_value("")
    expect(progress).to_have_text("11 of 13 answered · 2 not recorded")
    # Other sections are untouched.
    checked(page, "takes_opioid", "Not recorded").to_be_checked()
    medical.scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "intake-none-of-these.png")

    # A question the shortcut set, then answered by the clinician, is theirs: Undo leaves it.
    question(page, "respiratory_compromise").get_by_label("Yes", exact=True).check()
    expect(page.locator("#div_id_respiratory_compromise [data-set-by-none]")).to_have_count(0)

    medical.get_by_role("button", name="Undo: Medical history").click()
    expect(status).to_have_text("Undone: 8 questions are not recorded again.")
    expect(none).to_be_focused()
    for name in set_ones:
        if name != "respiratory_compromise":
            checked(page, name, "Not recorded").to_be_checked()
    checked(page, "respiratory_compromise", "Yes").to_be_checked()
    checked(page, "arteriovenous_malformation", "Yes").to_be_checked()
    checked(page, "cognitive_impairment", "Yes").to_be_checked()
    expect(page.locator("[data-set-by-none]")).to_have_count(0)
    expect(medical.get_by_role("button", name="Undo: Medical history")).to_be_hidden()

    # The suicide-risk section: follow-up questions that are not shown are not answered.
    page.locator("[data-none-of-these='suicide-risk']").click()
    checked(page, "cssrs_active_thoughts", "No").to_be_checked()
    expect(page.locator("#cssrs-follow-ups")).to_be_hidden()
    checked(page, "cssrs_method", "Not recorded").to_be_checked()

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved")).to_be_visible()
    stored = Intake.objects.get(pk=intake.pk)
    assert stored.respiratory_compromise is True
    assert stored.cognitive_impairment is True
    assert stored.hypersensitivity_to_ketamine is None  # undone: unknown, not "no"
    assert stored.cssrs_wish_dead is False
    assert stored.cssrs_method is None


def test_save_and_run_stay_in_view_while_scrolling(
    page: Page, live_server, login, clinician, password, intake
):
    login(page, live_server, clinician, password)
    page.goto(f"{live_server.url}/intakes/{intake.uuid}/")
    bar = page.locator("#intake-actions")
    for anchor in ("#section-demographics", "#section-medical", "#section-support"):
        page.locator(anchor).scroll_into_view_if_needed()
        expect(bar.get_by_role("button", name="Run screening")).to_be_in_viewport()
        expect(bar.get_by_role("button", name="Save draft")).to_be_in_viewport()
    expect(bar).to_contain_text("answered")


def test_without_javascript_no_answer_is_set_for_the_clinician(
    browser, live_server, clinician, password, intake
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(clinician.get_username())
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/intakes/{intake.uuid}/")
        expect(page.get_by_role("button", name="None of these")).to_have_count(0)
        checked(page, "hypersensitivity_to_ketamine", "Not recorded").to_be_checked()
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_text("Draft saved")).to_be_visible()
        assert Intake.objects.get(pk=intake.pk).hypersensitivity_to_ketamine is None
    finally:
        context.close()
