"""A rule admin rewords REV-BP-ELEVATED in a draft of version 2 (the version `migrate` publishes),
sees the test cases pass and publishes version 3; a screening run afterwards shows the new text
while one signed under version 2 keeps the text it showed. Screenings come from the services, so this journey does not depend on the
intake form's pages."""

import re
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from rules.models import RuleSetVersion
from rules.selectors import published_version
from screening.models import Screening
from screening.services import flag_acknowledge, screening_run, screening_sign
from tests.e2e.conftest import diff_side_text
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e

NEW_MESSAGE = (
    "Blood pressure above 140/90 at intake: recheck after rest, weigh the risk of a further rise "
    "during dosing and consider delaying treatment."
)


def bp_screening(patient, clinician):
    intake = make_intake(patient=patient, by=clinician, systolic_bp=150, diastolic_bp=95)
    return screening_run(intake=intake, user=clinician)


def flag_message(screening: Screening, rule_id: str) -> str:
    [flag] = [f for f in screening.result["flags"] if f["rule"] == rule_id]
    return flag["message"]


def test_rule_admin_rewords_a_message_and_publishes_version_3(
    page: Page,
    browser: Browser,
    live_server,
    login,
    rule_admin,
    clinician,
    password,
    artifacts_dir,
):
    old_message = published_version().rules.get(rule_id="REV-BP-ELEVATED").message
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    signed_v2 = bp_screening(patient, clinician)
    flag_acknowledge(
        screening=signed_v2,
        rule_id="REV-BP-ELEVATED",
        user=clinician,
        reason="Rechecked at rest: 138/86.",
    )
    screening_sign(screening=signed_v2, user=clinician)

    login(page, live_server, rule_admin, password)
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Rule sets"
    ).click()
    expect(page.get_by_role("heading", name="Rule sets")).to_be_visible()
    page.get_by_role("button", name="Start a draft").click()

    expect(page.get_by_test_id("version-status")).to_have_text("Draft")
    expect(page.get_by_test_id("case-summary")).to_contain_text("18/18 test cases pass")
    page.get_by_role("link", name="Edit REV-BP-ELEVATED").click()

    message = page.get_by_label("Message")
    expect(message).to_have_value(old_message)
    message.fill(NEW_MESSAGE)
    page.get_by_label("Logic").fill("bp_elevated and not bp_crissis")
    page.get_by_role("button", name="Save rule").click()

    error = page.locator("#id_logic_error")
    expect(error).to_contain_text("unknown fact 'bp_crissis'; did you mean bp_crisis? (column 21)")
    expect(error.locator(".logic-pointer")).to_have_text(
        "bp_elevated and not bp_crissis\n                    ^^^^^^^^^^"
    )
    page.screenshot(path=artifacts_dir / "rule-admin-logic-error.png", full_page=True)
    expect(page.get_by_label("Message")).to_have_value(NEW_MESSAGE)
    page.get_by_label("Logic").fill("bp_elevated and not bp_crisis")
    page.get_by_role("button", name="Save rule").click()

    expect(page.get_by_role("status").filter(has_text="REV-BP-ELEVATED saved")).to_be_visible()
    expect(page.get_by_test_id("rule-REV-BP-ELEVATED").get_by_test_id("rule-message")).to_have_text(
        NEW_MESSAGE
    )
    expect(page.get_by_test_id("case-summary")).to_contain_text("18/18 test cases pass")

    page.get_by_role("link", name="Publish…").click()
    note = page.get_by_label("Change note")
    page.get_by_role("button", name="Publish").click()  # the browser holds back an empty note
    assert note.evaluate("field => field.validity.valueMissing")
    expect(page.get_by_role("heading", name="Publish this draft")).to_be_visible()
    note.fill("Reworded the elevated blood pressure message.")
    page.get_by_role("button", name="Publish").click()

    expect(page.get_by_role("status").filter(has_text="Version 3 published.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Version 3")
    expect(page.get_by_test_id("version-status")).to_have_text("Published")
    expect(page.get_by_test_id("change-note")).to_have_text(
        "Reworded the elevated blood pressure message."
    )
    page.screenshot(path=artifacts_dir / "rule-admin-version-3.png")

    page.get_by_role("link", name="Changes from version 2").click()
    changed = page.get_by_test_id("diff-changed-REV-BP-ELEVATED")
    assert diff_side_text(changed.get_by_test_id("diff-old")) == old_message
    assert diff_side_text(changed.get_by_test_id("diff-new")) == NEW_MESSAGE
    expect(page.get_by_test_id("diff-summary")).to_have_text(
        re.compile(r"1 changed, 0 added, 0 retired, 49 unchanged\.")
    )

    version_3 = published_version()
    assert version_3.number == 3
    assert RuleSetVersion.objects.get(number=2).status == RuleSetVersion.Status.RETIRED
    run_v3 = bp_screening(patient, clinician)
    signed_v2.refresh_from_db()
    assert run_v3.ruleset_version == version_3
    assert run_v3.rule_texts["REV-BP-ELEVATED"]["message"] == NEW_MESSAGE
    assert flag_message(run_v3, "REV-BP-ELEVATED") == NEW_MESSAGE
    assert signed_v2.ruleset_version.number == 2
    assert signed_v2.rule_texts["REV-BP-ELEVATED"]["message"] == old_message
    assert flag_message(signed_v2, "REV-BP-ELEVATED") == old_message

    # The clinician's result pages show each screening's own text.
    context = browser.new_context()
    clinician_page = context.new_page()
    login(clinician_page, live_server, clinician, password)
    clinician_page.goto(live_server.url + reverse("screening:detail", args=[run_v3.uuid]))
    expect(clinician_page.locator("#flag-REV-BP-ELEVATED")).to_contain_text(NEW_MESSAGE)
    clinician_page.screenshot(path=artifacts_dir / "screening-under-version-3.png", full_page=True)
    clinician_page.goto(live_server.url + reverse("screening:detail", args=[signed_v2.uuid]))
    flag = clinician_page.locator("#flag-REV-BP-ELEVATED")
    expect(flag).to_contain_text(old_message)
    expect(flag).not_to_contain_text(NEW_MESSAGE)
    clinician_page.screenshot(
        path=artifacts_dir / "screening-signed-under-version-2.png", full_page=True
    )
    context.close()
