"""WCAG 2.1 AA, checked by axe-core in Chromium on the pages a clinician meets when work is kept
or a sign-off needs more: no serious or critical finding on any of them (minor and moderate
ones are printed for the next pass)."""

from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Page, expect

from patients.models import Intake
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e

#: axe-core's rule tags for WCAG 2.0 and 2.1, levels A and AA.
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = {"serious", "critical"}


def assert_accessible(page: Page, what: str) -> None:
    results = Axe().run(page, options=WCAG_AA)
    violations = results.response["violations"]
    for violation in violations:
        if violation["impact"] not in BLOCKING:
            print(f"{what}: {violation['impact']} {violation['id']}: {violation['help']}")
    blocking = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]
    assert not blocking, f"{what}: {blocking}"


def test_pages_that_keep_work_and_ask_for_reasons_have_no_serious_finding(
    page: Page, live_server, login, clinician, password
):
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    incomplete = screening_run(
        intake=make_intake(patient=patient, by=clinician, pregnancy_status=""), user=clinician
    )

    # The sign-in page that says answers are kept.
    page.goto(live_server.url + reverse("patients:intake_edit", args=[intake.uuid]))
    login(page, live_server, clinician, password)
    edit = live_server.url + reverse("patients:intake_edit", args=[intake.uuid])
    page.goto(edit)
    page.get_by_label("PHQ-9 total").fill("21")
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#held-post-notice")).to_be_visible()
    assert_accessible(page, "sign-in with held answers")

    page.get_by_label("Username").fill(clinician.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#restored-alert")).to_be_visible()
    assert_accessible(page, "intake with restored answers")

    # The intake with an error summary.
    page.get_by_label("Systolic blood pressure").fill("120")
    page.get_by_label("Diastolic blood pressure").fill("130")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#form-errors")).to_be_focused()
    assert_accessible(page, "intake with an error summary")

    # An incomplete result whose sign-off asks for reasons, with its error summary.
    page.goto(live_server.url + reverse("screening:detail", args=[incomplete.uuid]))
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#sign-errors")).to_be_focused()
    assert_accessible(page, "result with a sign-off error summary")
