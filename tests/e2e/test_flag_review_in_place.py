"""Reviewing flags on the result page: with JavaScript each review is saved without reloading
the page and the focus moves on to the next flag waiting (then to Sign); one reason can be given
to several review flags at once, with or without JavaScript."""

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from screening.core.models import AuditEvent
from screening.models import FlagReview, Screening
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e

#: A stop flag (pregnancy) and three review flags (breastfeeding, planning, BP 150/95).
ANSWERS = {
    "pregnancy_status": "pregnant",
    "breastfeeding": True,
    "planning_pregnancy": True,
    "systolic_bp": 150,
    "diastolic_bp": 95,
}


@pytest.fixture
def screening(clinician) -> Screening:
    patient = make_patient(created_by=clinician, born=date(1992, 1, 1))
    return screening_run(
        intake=make_intake(patient=patient, by=clinician, **ANSWERS), user=clinician
    )


def first_pending(page: Page) -> str:
    href = page.locator("[data-testid='pending'] a").first.get_attribute("href") or ""
    return href.removeprefix("#flag-")


def test_reviews_are_saved_in_place_and_the_focus_moves_on(
    page: Page, live_server, login, clinician, password, screening, artifacts_dir
):
    login(page, live_server, clinician, password)
    page.goto(f"{live_server.url}/screenings/{screening.uuid}/")
    page.evaluate("window.notReloaded = true")
    status = page.locator("[data-flag-review-status]")

    stop = page.locator("#flag-STOP-PREGNANCY")
    stop.get_by_label("Coded reason").select_option(label="Benefit judged to outweigh the risk")
    stop.get_by_label("Documented reason").fill("Obstetric and psychiatric MDT agreed.")
    stop.get_by_role("button", name="Override").click()
    expect(page.get_by_test_id("review-STOP-PREGNANCY")).to_contain_text("MDT agreed")
    expect(status).to_contain_text("“Pregnancy” overridden")  # named by its title
    # The focus is on the next flag waiting for a review, ready for its reason.
    expect(page.locator(f"#flag-{first_pending(page)} textarea")).to_be_focused()

    bulk = page.locator("#acknowledge-several")
    bulk.get_by_label("Breastfeeding", exact=False).check()
    bulk.get_by_role("checkbox").nth(2).check()
    bulk.get_by_label("Reason for acknowledging these flags").fill("Discussed with the patient.")
    bulk.get_by_role("button", name="Acknowledge selected flags").click()
    expect(status).to_contain_text("2 flags acknowledged")
    expect(page.locator("#acknowledge-several")).to_have_count(0)  # one flag left: no need
    left = first_pending(page)
    expect(page.locator(f"#flag-{left} textarea")).to_be_focused()

    # An error comes back beside the form, with the focus on its summary.
    flag = page.locator(f"#flag-{left}")
    flag.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(f"#errors-{left}")).to_be_focused()
    expect(page.locator(f"#errors-{left}")).to_contain_text("Give a reason")
    flag.get_by_label("Reason for acknowledging").fill("Rechecked: 132/84.")
    flag.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id(f"review-{left}")).to_contain_text("132/84")
    expect(page.get_by_role("button", name="Sign", exact=True)).to_be_focused()
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=artifacts_dir / "flags-reviewed-in-place.png", full_page=True)

    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_test_id("signature")).to_contain_text("locked")
    assert FlagReview.objects.filter(screening=screening).count() == 4
    actions = list(
        AuditEvent.objects.filter(action__startswith="flag.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["flag.acknowledged"] * 3 + ["flag.overridden"]


def test_without_javascript_one_reason_acknowledges_several_flags(
    browser, live_server, clinician, password, screening
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(clinician.get_username())
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{live_server.url}/screenings/{screening.uuid}/")
        bulk = page.locator("#acknowledge-several")
        for box in bulk.get_by_role("checkbox").all():
            box.check()
        bulk.get_by_label("Reason for acknowledging these flags").fill("Discussed.")
        bulk.get_by_role("button", name="Acknowledge selected flags").click()
        expect(page.get_by_text("3 flags acknowledged")).to_be_visible()
        for rule in ("REV-BREASTFEEDING", "REV-PLANNING-PREGNANCY", "REV-BP-ELEVATED"):
            expect(page.get_by_test_id(f"review-{rule}")).to_contain_text("Discussed.")
    finally:
        context.close()
