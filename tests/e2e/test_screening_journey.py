"""A clinician reads a screening result, overrides a stop flag, signs, and follows a missing-fact
link back to the intake. Patients and intakes come from the factories and screenings from the
`screening_run` service, so these journeys do not depend on the intake form's pages."""

import re
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from screening.models import FlagReview, Screening
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e


def test_clinician_overrides_the_pregnancy_stop_flag_and_signs(
    page: Page, live_server, login, clinician, password, artifacts_dir
):
    clinician.first_name, clinician.last_name = "Casey", "Okafor"
    clinician.save()
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1), given_names="Maria")
    intake = make_intake(patient=patient, by=clinician, pregnancy_status="pregnant")
    screening = screening_run(intake=intake, user=clinician)
    login(page, live_server, clinician, password)

    page.goto(live_server.url + reverse("screening:detail", args=[screening.uuid]))

    expect(page.get_by_role("heading", name="Screening result")).to_be_visible()
    expect(page.get_by_test_id("patient")).to_contain_text(patient.mrn)
    expect(page.get_by_test_id("disposition")).to_have_text("Contraindicated")
    expect(page.locator("#disposition code")).to_have_count(0)  # words, not the code
    flag = page.locator("#flag-STOP-PREGNANCY")
    expect(flag).to_contain_text("Not recommended in pregnancy")
    expect(flag).to_contain_text("Pregnancy status: pregnant")
    expect(flag).to_contain_text(
        "Spravato US PI §8.1 Pregnancy and §5.10 Embryo-fetal Toxicity; ASRA 2018"
    )
    expect(page.get_by_test_id("pending")).to_contain_text("STOP-PREGNANCY")
    expect(page.get_by_role("button", name="Sign", exact=True)).to_be_disabled()

    flag.get_by_label("Coded reason").select_option(label="Specialist or MDT approval documented")
    flag.get_by_label("Documented reason").fill("Obstetric MDT reviewed; see letter of 20 Nov.")
    flag.get_by_role("button", name="Override").click()

    # The message names the flag by its title, not its rule ID.
    expect(page.get_by_role("status").filter(has_text="“Pregnancy” overridden")).to_be_visible()
    review = page.get_by_test_id("review-STOP-PREGNANCY")
    expect(review).to_contain_text("Overridden by Casey Okafor")
    expect(review).to_contain_text("Specialist or MDT approval documented")
    expect(review).to_contain_text("Obstetric MDT reviewed; see letter of 20 Nov.")
    expect(page.get_by_test_id("pending")).to_have_count(0)

    page.get_by_role("button", name="Sign", exact=True).click()

    expect(page.get_by_test_id("signature")).to_contain_text(
        re.compile(r"Signed by Casey Okafor\s+on .+ — locked")
    )
    expect(page.get_by_test_id("status")).to_contain_text("— locked")
    expect(page.locator("form[action*='/flags/']")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Amend")).to_be_visible()
    expect(review).to_contain_text("Obstetric MDT reviewed")
    page.screenshot(path=artifacts_dir / "screening-result-signed.png", full_page=True)

    screening.refresh_from_db()
    assert screening.status == Screening.Status.SIGNED
    assert screening.signed_by == clinician
    assert FlagReview.objects.get(screening=screening).reason_code == "specialist_approval"


def test_unrecorded_pregnancy_is_incomplete_and_links_to_the_intake_field(
    page: Page, live_server, login, clinician, password, artifacts_dir
):
    woman = make_patient(created_by=clinician, born=date(1996, 1, 1))
    intake = make_intake(patient=woman, by=clinician, pregnancy_status="")
    screening = screening_run(intake=intake, user=clinician)
    login(page, live_server, clinician, password)
    field_url = reverse("patients:intake_edit", args=[intake.uuid]) + "#id_pregnancy_status"

    page.goto(live_server.url + reverse("screening:detail", args=[screening.uuid]))

    expect(page.get_by_test_id("disposition")).to_have_text("Incomplete")
    link = page.locator("#missing-pregnancy_status").get_by_role("link", name="Pregnancy status")
    expect(link).to_have_attribute("href", field_url)
    expect(page.locator("#missing-pregnancy_status")).to_contain_text("Needed by: Pregnancy")
    page.screenshot(path=artifacts_dir / "screening-result-incomplete.png", full_page=True)

    with page.expect_navigation() as navigation:
        link.click()

    expect(page).to_have_url(live_server.url + field_url)
    assert navigation.value is not None
    assert navigation.value.ok
    expect(page.locator("#id_pregnancy_status")).to_be_attached()
