"""A clinician who uses only the keyboard (Tab, typing, arrow keys, Space, Enter; no mouse)
signs in, completes an intake, runs it, acknowledges the flag it raises and signs."""

import re
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect

from patients.models import Intake
from screening.models import FlagReview, Screening
from tests.e2e.test_intake_effort import NO_BY_SECTION
from tests.e2e.test_intake_journey import UUID
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e

MOST_TAB_PRESSES = 400


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through the page."""
    for _ in range(MOST_TAB_PRESSES):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


@pytest.fixture
def intake(clinician) -> Intake:
    """An intake started earlier: the medical history, the blood pressure and the escort home
    are not recorded yet."""
    patient = make_patient(created_by=clinician, born=date(1992, 1, 1))
    not_yet = dict.fromkeys(NO_BY_SECTION["medical"])
    return make_intake(
        patient=patient,
        by=clinician,
        systolic_bp=None,
        diastolic_bp=None,
        has_escort_home=None,
        **not_yet,
    )


def test_intake_flag_review_and_sign_off_with_the_keyboard_only(
    page: Page, live_server, clinician, password, intake
):
    page.goto(f"{live_server.url}/login/")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(clinician.get_username())
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/intakes/{intake.uuid}/")
    tab_to(page, page.get_by_label("Systolic blood pressure"))
    page.keyboard.type("150")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Diastolic blood pressure")).to_be_focused()
    page.keyboard.type("95")

    none = page.get_by_role("button", name="None of these: Medical history")
    tab_to(page, none)
    page.keyboard.press("Space")
    expect(page.locator("[data-none-status='medical']")).to_contain_text(
        "11 unanswered questions set to No"
    )

    # Tab enters a group of radios at its checked answer; the arrow keys choose another.
    escort = page.locator("#id_has_escort_home")
    tab_to(page, escort.get_by_label("Not recorded", exact=True))
    page.keyboard.press("ArrowRight")  # from the last option round to the first: Yes
    expect(escort.get_by_label("Yes", exact=True)).to_be_checked()
    expect(escort.get_by_label("Yes", exact=True)).to_be_focused()

    tab_to(page, page.get_by_role("button", name="Run screening"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/screenings/{UUID}/$"))

    flag = page.locator("#flag-REV-BP-ELEVATED")
    tab_to(page, flag.get_by_label("Reason for acknowledging"))
    page.keyboard.type("Rechecked after rest: 138/88. Plan agreed.")
    page.keyboard.press("Tab")
    expect(flag.get_by_role("button", name="Acknowledge")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("review-REV-BP-ELEVATED")).to_contain_text("138/88")

    # Nothing else waits: the focus is on Sign.
    sign = page.get_by_role("button", name="Sign", exact=True)
    expect(sign).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("signature")).to_contain_text("locked")

    screening = Screening.objects.get(intake=intake)
    assert screening.status == Screening.Status.SIGNED
    assert (screening.facts["systolic_bp"], screening.facts["diastolic_bp"]) == (150, 95)
    assert screening.facts["hypersensitivity_to_ketamine"] is False
    assert screening.facts["has_escort_home"] is True
    review = FlagReview.objects.get(screening=screening)
    assert (review.rule_id, review.kind) == ("REV-BP-ELEVATED", "acknowledged")
