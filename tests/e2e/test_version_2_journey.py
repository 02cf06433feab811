"""Rule set version 2 in the browser: an intake saved before its five questions screens as
incomplete, its missing information links to each new question, and once they are answered in
the form (bladder symptoms yes, esketamine nasal spray planned) the result shows REV-BLADDER and
INFO-REMS with their sources. The intake comes from the factories; the answers and the run go
through the intake form's page."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from patients.models import Intake
from screening.models import Screening
from tests.factories import (
    NOT_ASKED_BEFORE_VERSION_2,
    VERSION_2_QUESTIONS,
    make_intake,
    make_patient,
)

pytestmark = pytest.mark.e2e

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

BLADDER_SOURCE = "Spravato US PI §5.9 Ulcerative or Interstitial Cystitis"
REMS_SOURCE = (
    "Spravato US PI §5.4 REMS, §5.6, §5.1; FDA SPRAVATO REMS (REMS 386, 12/2024); "
    "spravatohcp.com dosing page"
)


def question(page: Page, name: str):
    return page.locator(f"#id_{name}")


def answer(page: Page, name: str, label: str) -> None:
    question(page, name).get_by_label(label, exact=True).check()


def test_an_intake_answered_with_the_new_questions_shows_rev_bladder_and_info_rems_with_sources(
    page: Page, live_server, login, clinician, password, artifacts_dir
):
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    intake = make_intake(patient=patient, by=clinician, **NOT_ASKED_BEFORE_VERSION_2)
    login(page, live_server, clinician, password)
    page.goto(f"{live_server.url}/intakes/{intake.uuid}/")

    # Saved before version 2: run as it is, the five questions are missing, each with its link.
    page.get_by_role("button", name="Run screening").click()
    expect(page).to_have_url(re.compile(rf"/screenings/{UUID}/$"))
    expect(page.get_by_test_id("disposition")).to_have_text("Incomplete")
    missing = page.locator("#missing")
    for fact in VERSION_2_QUESTIONS:
        link = missing.locator(f"#missing-{fact}").get_by_test_id("missing-link")
        expect(link).to_have_attribute("href", re.compile(rf"/intakes/{UUID}/#id_{fact}$"))
    expect(missing.locator("#missing-bp_rise_serious_hazard")).to_contain_text(
        "Condition in which a rise in blood pressure would be a serious hazard"
    )
    # What a stop rule needs comes first.
    expect(missing.locator("section").first).to_have_id("missing-stop")
    page.screenshot(path=artifacts_dir / "v2-intake-without-new-questions.png", full_page=True)

    # The link leads to the question in the form.
    missing.locator("#missing-bladder_symptoms_or_cystitis").get_by_test_id("missing-link").click()
    expect(
        question(page, "bladder_symptoms_or_cystitis").get_by_label("Not recorded", exact=True)
    ).to_be_focused()
    expect(question(page, "bladder_symptoms_or_cystitis")).to_contain_text(
        "ketamine-associated uropathy"
    )

    answer(page, "bp_rise_serious_hazard", "No")
    answer(page, "respiratory_compromise", "No")
    answer(page, "bladder_symptoms_or_cystitis", "Yes")
    answer(page, "other_cns_depressant_use", "No")
    page.get_by_label("Planned ketamine formulation").select_option(label="Esketamine nasal spray")
    page.get_by_role("button", name="Run screening").click()

    # (A redirect keeps the fragment the intake page was opened at.)
    expect(page).to_have_url(re.compile(rf"/screenings/{UUID}/(#id_[a-z_]+)?$"))
    expect(page.get_by_test_id("disposition")).to_have_text("Review required")
    expect(page.locator("#screening-header")).to_contain_text("ketamine, version 2")
    bladder = page.locator("#flag-REV-BLADDER")
    expect(bladder).to_contain_text("Bladder symptoms or cystitis")
    expect(bladder).to_contain_text("Bladder symptoms or cystitis: yes")
    expect(bladder).to_contain_text(f"Source: {BLADDER_SOURCE}")
    rems = page.locator("#flag-INFO-REMS")
    expect(rems).to_contain_text("SPRAVATO REMS")
    expect(rems).to_contain_text("Planned ketamine formulation: esketamine nasal spray")
    expect(rems).to_contain_text(f"Source: {REMS_SOURCE}")
    expect(page.locator("#missing")).to_contain_text("Nothing missing")
    page.screenshot(path=artifacts_dir / "v2-rev-bladder-info-rems.png", full_page=True)

    stored = Intake.objects.get(pk=intake.pk)
    assert (stored.bladder_symptoms_or_cystitis, stored.planned_formulation) == (
        True,
        "esketamine_nasal",
    )
    latest = Screening.objects.filter(intake=intake).order_by("-run_at").first()
    assert latest is not None
    assert latest.ruleset_version.number == 2
    assert {flag["rule"] for flag in latest.result["flags"]} == {"REV-BLADDER", "INFO-REMS"}
