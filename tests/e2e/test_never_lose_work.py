"""Clinicians never lose work and never sign a result they should not: the six problems a new
clinician met, each as a journey in Chromium against the live server.

1. The session ends mid-intake: the answers come back after signing in again.
2. Saving a draft without a change keeps the pending result and its reviews.
3. Changing an answer and running again carries forward the reviews whose flags fired again for
   the same reasons, and asks for the others.
4. A result computed under rules since retired shows what the current rules would change, and is
   signed only after running it again or with a reason.
5. Amendments and incomplete results are signed only with a reason, shown on the records.
6. Errors are summarised where the eye is, with focus on the summary.
"""

import re
from datetime import date

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from patients.models import Intake
from rules.models import RuleSet
from rules.services import draft_start, rule_add, rule_set_publish
from screening.models import FlagReview, Screening
from screening.services import flag_acknowledge, flag_override, screening_run, screening_sign
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e


def sign_in_here(page: Page, user, password: str) -> None:
    """Sign in on the sign-in page the browser was sent to (keeping its `next`)."""
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def flagged_result(clinician, **answers) -> Screening:
    """Pregnant with raised blood pressure: STOP-PREGNANCY overridden, REV-BP-ELEVATED
    acknowledged, awaiting sign-off."""
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1))
    intake = make_intake(
        patient=patient,
        by=clinician,
        pregnancy_status="pregnant",
        systolic_bp=150,
        diastolic_bp=95,
        **answers,
    )
    screening = screening_run(intake=intake, user=clinician)
    flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="specialist_approval",
        reason="Obstetric MDT approved",
    )
    flag_acknowledge(
        screening=screening, rule_id="REV-BP-ELEVATED", user=clinician, reason="Rechecked twice"
    )
    return screening


def url(live_server, name: str, *args) -> str:
    return live_server.url + reverse(name, args=args)


def test_answers_typed_when_the_session_ends_come_back_after_signing_in(
    page: Page, live_server, login, clinician, password, artifacts_dir
):
    patient = make_patient(created_by=clinician)
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    login(page, live_server, clinician, password)
    page.goto(url(live_server, "patients:intake_edit", intake.uuid))
    page.get_by_label("Pregnancy status").select_option("not_pregnant")
    page.get_by_label("PHQ-9 total").fill("21")
    page.get_by_label("Systolic blood pressure").fill("132")

    # The idle session lapses: the browser no longer has it.
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Save draft").click()

    expect(page).to_have_url(re.compile(r"/login/\?next="))
    expect(page.locator("#held-post-notice")).to_contain_text("They are kept")
    sign_in_here(page, clinician, password)

    expect(page).to_have_url(url(live_server, "patients:intake_edit", intake.uuid))
    expect(page.locator("#restored-alert")).to_contain_text(
        "Your session ended before these answers were saved"
    )
    expect(page.get_by_label("Pregnancy status")).to_have_value("not_pregnant")
    expect(page.get_by_label("PHQ-9 total")).to_have_value("21")
    expect(page.get_by_label("Systolic blood pressure")).to_have_value("132")
    page.screenshot(path=str(artifacts_dir / "expiry-recovery.png"), full_page=False)
    assert Intake.objects.get(pk=intake.pk).phq9_total is None  # shown, not yet saved

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()
    stored = Intake.objects.get(pk=intake.pk)
    assert (stored.phq9_total, stored.systolic_bp, stored.pregnancy_status) == (
        21,
        132,
        "not_pregnant",
    )


def test_the_page_autosaves_a_working_copy_that_comes_back(
    page: Page, live_server, login, clinician, password
):
    patient = make_patient(created_by=clinician)
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    login(page, live_server, clinician, password)
    page.goto(url(live_server, "patients:intake_edit", intake.uuid))
    page.get_by_label("PHQ-9 total").fill("17")

    expect(page.locator("#autosave-status")).to_contain_text(re.compile(r"Autosaved at \d\d:\d\d"))
    assert Intake.objects.get(pk=intake.pk).phq9_total is None  # the intake itself unchanged

    page.goto(url(live_server, "home"))
    page.goto(url(live_server, "patients:intake_edit", intake.uuid))
    expect(page.locator("#restored-alert")).to_contain_text("Your unsaved answers from")
    expect(page.get_by_label("PHQ-9 total")).to_have_value("17")


def test_saving_a_draft_without_a_change_keeps_the_result_and_its_reviews(
    page: Page, live_server, login, clinician, password
):
    screening = flagged_result(clinician)
    login(page, live_server, clinician, password)
    page.goto(url(live_server, "patients:intake_edit", screening.intake.uuid))

    expect(page.locator("#pending-result-notice")).to_contain_text("with 2 flag reviews")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Draft saved")).to_be_visible()

    page.goto(url(live_server, "screening:detail", screening.uuid))
    expect(page.get_by_test_id("status")).to_contain_text("Awaiting sign-off")
    expect(page.get_by_test_id("review-STOP-PREGNANCY")).to_contain_text("Obstetric MDT approved")
    expect(page.get_by_role("button", name="Sign", exact=True)).to_be_enabled()
    screening.refresh_from_db()
    assert screening.status == Screening.Status.UNSIGNED


def test_changing_an_answer_and_running_again_carries_forward_unchanged_reviews(
    page: Page, live_server, login, clinician, password
):
    screening = flagged_result(clinician)
    login(page, live_server, clinician, password)
    page.goto(url(live_server, "patients:intake_edit", screening.intake.uuid))

    page.get_by_label("Systolic blood pressure").fill("156")
    page.get_by_role("button", name="Run screening").click()

    expect(page).not_to_have_url(url(live_server, "screening:detail", screening.uuid))
    carried = page.get_by_test_id("carried-STOP-PREGNANCY")
    expect(carried).to_contain_text("carried forward")
    expect(page.get_by_test_id("review-STOP-PREGNANCY")).to_contain_text("Obstetric MDT approved")
    # The blood pressure changed, so its flag fired for another reason: a fresh review.
    expect(page.get_by_test_id("review-REV-BP-ELEVATED")).to_have_count(0)
    expect(page.get_by_test_id("pending")).to_contain_text("REV-BP-ELEVATED")

    carried.get_by_role("link").click()
    expect(page).to_have_url(
        re.compile(re.escape(reverse("screening:detail", args=[screening.uuid])))
    )
    expect(page.get_by_test_id("status")).to_contain_text("Superseded")


def publish_next_version(rule_admin) -> None:
    """The next version adds a review flag for patients aged 80 or more (no vignette is)."""
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_add(
        draft=draft,
        user=rule_admin,
        rule_id="REV-AGE-80",
        severity="review",
        title="Aged 80 or more",
        logic="age_years >= 80",
        message="Review frailty and falls risk before treatment.",
        source="Local guideline",
    )
    rule_set_publish(version=draft, user=rule_admin, change_note="Review from age 80")


def test_a_result_computed_under_retired_rules_shows_the_change_and_both_ways_out(
    page: Page, live_server, login, clinician, rule_admin, password, artifacts_dir
):
    born_1940 = make_patient(created_by=clinician, born=date(1940, 5, 1))
    first = screening_run(intake=make_intake(patient=born_1940, by=clinician), user=clinician)
    flag_acknowledge(
        screening=first, rule_id="REV-OLDER-ADULT", user=clinician, reason="Dose plan agreed"
    )
    second = screening_run(
        intake=make_intake(
            patient=make_patient(created_by=clinician, born=date(1939, 1, 1)), by=clinician
        ),
        user=clinician,
    )
    publish_next_version(rule_admin)
    login(page, live_server, clinician, password)

    expect(page.locator("#rules-changed")).to_contain_text("2 results awaiting your sign-off")
    page.goto(url(live_server, "screening:detail", first.uuid))
    banner = page.locator("#stale-rules")
    was = first.ruleset_version.number
    expect(banner.get_by_test_id("stale-versions")).to_contain_text(
        f"Computed under ketamine version {was}; version {was + 1} is published now."
    )
    expect(banner.get_by_test_id("stale-changes")).to_contain_text("REV-AGE-80")
    page.screenshot(path=str(artifacts_dir / "stale-rules-banner.png"), full_page=False)

    # Either way out: sign as it is, with a reason...
    page.get_by_role("button", name="Sign", exact=True).click()
    summary = page.locator("#sign-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Reason for signing under the rules it was run with")
    page.get_by_label("Reason for signing under the rules it was run with").fill(
        "Frailty assessed in clinic today"
    )
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_test_id("stale-rules-reason")).to_contain_text(
        "Frailty assessed in clinic today"
    )

    # ...or run it again under the current rules.
    page.goto(url(live_server, "screening:detail", second.uuid))
    page.get_by_role("button", name="Run again under the current rules").click()
    expect(page.get_by_test_id("ruleset")).to_contain_text(f"version {was + 1}")
    expect(page.locator("#flag-REV-AGE-80")).to_be_visible()
    expect(page.locator("#stale-rules")).to_have_count(0)


def test_an_amendment_records_its_reason_on_both_records(
    page: Page, live_server, login, clinician, password
):
    screening = screening_sign(screening=flagged_result(clinician), user=clinician)
    login(page, live_server, clinician, password)
    page.goto(url(live_server, "screening:detail", screening.uuid))

    page.get_by_label("Reason for the amendment").fill("   ")
    page.get_by_role("button", name="Amend").click()
    expect(page.locator("#amend-errors")).to_be_focused()
    page.get_by_label("Reason for the amendment").fill("Blood pressure was mistyped")
    page.get_by_role("button", name="Amend").click()

    expect(page.get_by_role("heading", name=re.compile("^Intake for"))).to_be_visible()
    page.get_by_label("Systolic blood pressure").fill("151")
    page.get_by_role("button", name="Run screening").click()
    expect(page.get_by_test_id("amends-reason")).to_contain_text("Blood pressure was mistyped")
    expect(page.get_by_test_id("carried-STOP-PREGNANCY")).to_be_visible()

    page.goto(url(live_server, "screening:detail", screening.uuid))
    expect(page.get_by_test_id("amendment-reason")).to_contain_text("Blood pressure was mistyped")


def test_an_incomplete_result_is_signed_only_with_a_reason(
    page: Page, live_server, login, clinician, password
):
    patient = make_patient(created_by=clinician)
    screening = screening_run(
        intake=make_intake(patient=patient, by=clinician, pregnancy_status=""), user=clinician
    )
    assert screening.disposition == "incomplete"
    login(page, live_server, clinician, password)
    page.goto(url(live_server, "screening:detail", screening.uuid))

    expect(page.get_by_test_id("incomplete-sign-note")).to_be_visible()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#sign-errors")).to_be_focused()
    assert Screening.objects.get(pk=screening.pk).status == Screening.Status.UNSIGNED

    page.get_by_label("Why the missing information could not be obtained (for all items)").fill(
        "Patient declined a pregnancy test today"
    )
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_test_id("incomplete-reasons")).to_contain_text(
        "Pregnancy status: Patient declined a pregnancy test today"
    )


def test_errors_are_summarised_where_the_eye_is(
    page: Page, live_server, login, clinician, password
):
    patient = make_patient(created_by=clinician)
    intake = Intake.objects.create(patient=patient, created_by=clinician, updated_by=clinician)
    login(page, live_server, clinician, password)
    page.goto(url(live_server, "patients:intake_edit", intake.uuid))
    page.get_by_label("PHQ-9 total").fill("18")
    page.get_by_label("Systolic blood pressure").fill("120")
    page.get_by_label("Diastolic blood pressure").fill("130")
    page.get_by_role("button", name="Save draft").click()

    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Diastolic blood pressure")
    expect(page.get_by_label("PHQ-9 total")).to_have_value("18")
    summary.get_by_role("link", name="Diastolic blood pressure").click()
    expect(page.get_by_label("Diastolic blood pressure")).to_be_focused()

    # A flag's form with an error comes back at that flag, not at the top of the page (sent
    # without a reload by the page's script; without it the page opens at #flag-<rule>).
    screening = screening_run(
        intake=make_intake(patient=patient, by=clinician, systolic_bp=150, diastolic_bp=95),
        user=clinician,
    )
    page.goto(url(live_server, "screening:detail", screening.uuid))
    flag = page.locator("#flag-REV-BP-ELEVATED")
    flag.get_by_label("Reason for acknowledging").fill("   ")
    flag.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#errors-REV-BP-ELEVATED")).to_be_focused()
    expect(page.locator("#errors-REV-BP-ELEVATED")).to_be_in_viewport()
    assert not FlagReview.objects.filter(screening=screening).exists()
