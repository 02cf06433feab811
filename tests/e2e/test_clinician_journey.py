"""The clinician's whole journey in the browser, nothing prepared behind the scenes: register a
pregnant patient with treatment-resistant depression, fill the intake, run the screening, read
the contraindication and its reason, override it with a documented reason, sign, and find the
screening locked."""

import re

import pytest
from playwright.sync_api import Page, expect

from screening.core.models import AuditEvent
from screening.models import FlagReview, Screening
from tests.e2e.test_intake_journey import UUID, add_trial, answer, register_patient

pytestmark = pytest.mark.e2e


def test_pregnant_patient_with_trd_is_contraindicated_overridden_signed_and_locked(
    page: Page, live_server, login, clinician, password, artifacts_dir
):
    login(page, live_server, clinician, password)
    register_patient(page, live_server)
    page.get_by_role("button", name="New intake").click()
    expect(page).to_have_url(re.compile(rf"/intakes/{UUID}/$"))

    page.get_by_label("Pregnancy status").select_option("pregnant")
    answer(page, "diagnoses", "Major depressive disorder")
    page.get_by_label("Current mood episode").select_option("depressive")
    add_trial(page, 0, "sertraline", "8", "no_response")
    add_trial(page, 1, "venlafaxine", "6", "partial_response")
    page.get_by_label("PHQ-9 total").fill("19")
    page.get_by_role("button", name="Run screening").click()

    expect(page).to_have_url(re.compile(rf"/screenings/{UUID}/$"))
    expect(page.get_by_test_id("disposition")).to_have_text("Contraindicated")
    trd = page.locator("#conditions")
    expect(trd).to_contain_text(
        "2 adequate antidepressant trials without response (criterion: at least 2)"
    )
    flag = page.locator("#flag-STOP-PREGNANCY")
    expect(flag).to_contain_text("Pregnancy")
    expect(flag).to_contain_text("Pregnancy status: pregnant")

    flag.get_by_label("Coded reason").select_option(label="Benefit judged to outweigh the risk")
    flag.get_by_label("Documented reason").fill("Severe TRD; obstetric and psychiatric MDT agreed.")
    flag.get_by_role("button", name="Override").click()
    expect(page.get_by_test_id("review-STOP-PREGNANCY")).to_contain_text(
        "obstetric and psychiatric"
    )

    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_test_id("signature")).to_contain_text("locked")
    expect(page.locator("form[action*='/flags/']")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "clinician-journey-signed.png", full_page=True)

    screening = Screening.objects.get()
    assert screening.status == Screening.Status.SIGNED
    assert screening.facts["pregnancy_status"] == "pregnant"
    review = FlagReview.objects.get(screening=screening)
    assert (review.rule_id, review.reason_code) == ("STOP-PREGNANCY", "benefit_outweighs_risk")
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    for action in (
        "patient.register",
        "intake.create",
        "screening.run",
        "flag.overridden",
        "screening.sign",
    ):
        assert action in actions

    # The intake behind a signed screening is read-only now.
    page.goto(f"{live_server.url}/intakes/{screening.intake.uuid}/")
    expect(page.get_by_role("button", name="Run screening")).to_have_count(0)
