"""Rule governance in Chromium, as two rule admins live it (the production default: a draft
is published only after a second rule admin approves it).

Casey rewords REV-BP-ELEVATED and submits the draft; Ruth returns it with a comment; Casey
answers the comment and submits again; Ruth approves; Casey schedules the publish for later;
when that time comes the background worker (`db_worker`, the command `make run` starts)
publishes version 3. Then a restore: version 1 becomes a new draft, which its failing test
cases keep from being submitted. And a past screening's reference, as the reviewer's record
gives it, becomes a test case. Screenshots of the approval page, the approval record and the
case from a screening go to the artefacts.
"""

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import Browser, Page, expect

from rules.models import RuleSetVersion
from rules.selectors import numbered_version, published_version
from rules.tasks import rule_set_publish_due
from screening.services import screening_run
from tests.e2e.conftest import diff_side_text
from tests.factories import make_intake, make_patient

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("two_person_rule_publishing")]

FIRST_WORDING = "Blood pressure above 140/90 at intake: recheck before dosing."
SECOND_WORDING = (
    "Blood pressure above 140/90 at intake: recheck after 5 minutes of rest before dosing."
)
NOTE = "Reworded the elevated blood pressure message."
RETURN_COMMENT = "Say when to recheck: after 5 minutes of rest."


def reword(page: Page, message: str) -> None:
    page.get_by_role("link", name="Edit REV-BP-ELEVATED").click()
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("status").filter(has_text="REV-BP-ELEVATED saved")).to_be_visible()


def submit(page: Page) -> None:
    page.get_by_role("link", name="Submit for approval…").click()
    page.get_by_label("Change note").fill(NOTE)
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("approval-submitted")).to_be_visible()


def test_a_draft_is_returned_approved_by_a_second_admin_and_published_by_the_worker_at_its_time(
    page: Page,
    browser: Browser,
    live_server,
    login,
    rule_admin,
    other_rule_admin,
    password,
    artifacts_dir,
):
    login(page, live_server, rule_admin, password)
    page.goto(live_server.url + reverse("rules:list"))
    page.get_by_role("button", name="Start a draft").click()
    expect(page.get_by_test_id("version-status")).to_have_text("Draft")
    draft_url = page.url
    reword(page, FIRST_WORDING)
    submit(page)
    # The submitter can never approve their own draft: the page offers no decision.
    page.get_by_role("link", name="Review for approval…").click()
    expect(page.get_by_test_id("approval-own")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    # Ruth, a second rule admin, reads the change and returns it with a comment.
    context = browser.new_context()
    ruth = context.new_page()
    login(ruth, live_server, other_rule_admin, password)
    ruth.goto(draft_url)
    ruth.get_by_role("link", name="Review for approval…").click()
    expect(ruth.get_by_test_id("change-note")).to_have_text(NOTE)
    expect(ruth.get_by_test_id("case-summary")).to_contain_text("test cases pass")
    changed = ruth.get_by_test_id("diff-changed-REV-BP-ELEVATED")
    assert FIRST_WORDING in diff_side_text(changed.get_by_test_id("diff-new"))
    ruth.get_by_role("button", name="Return with comment").click()  # the comment is required
    expect(ruth.get_by_label("What should change")).to_be_focused()
    ruth.get_by_label("What should change").fill(RETURN_COMMENT)
    ruth.get_by_role("button", name="Return with comment").click()
    expect(ruth.get_by_role("status").filter(has_text="Draft returned")).to_be_visible()

    # Casey reads the comment on the draft, answers it and submits again.
    page.goto(draft_url)
    expect(page.get_by_test_id("approval-returned")).to_contain_text(RETURN_COMMENT)
    reword(page, SECOND_WORDING)
    submit(page)

    # Ruth approves the new wording.
    ruth.goto(live_server.url + reverse("rules:approval", args=[page.url.split("/")[-2]]))
    changed = ruth.get_by_test_id("diff-changed-REV-BP-ELEVATED")
    assert SECOND_WORDING in diff_side_text(changed.get_by_test_id("diff-new"))
    expect(changed.locator("ins").first).to_be_visible()  # the new words marked
    ruth.get_by_label("Approval note (optional)").fill("Checked against the label.")
    ruth.screenshot(path=artifacts_dir / "rule-approval-page.png", full_page=True)
    ruth.get_by_role("button", name="Approve").click()
    expect(ruth.get_by_role("status").filter(has_text="Draft approved")).to_be_visible()
    context.close()

    # Casey schedules the publish for two hours from now.
    page.goto(draft_url)
    page.get_by_role("link", name="Publish…").click()
    at = timezone.localtime() + timedelta(hours=2)
    page.get_by_label("Effective from (optional)").fill(at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").filter(has_text="Publishing scheduled for")).to_be_visible()
    expect(page.get_by_test_id("approval-scheduled")).to_be_visible()
    assert published_version().number == 2

    # The worker, run before that time, leaves the draft alone.
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert published_version().number == 2

    # The time comes (the clock is moved on: the scheduled time is set a moment ago) and the
    # worker publishes it.
    draft = RuleSetVersion.objects.get(approval=RuleSetVersion.Approval.APPROVED, status="draft")
    past = timezone.now() - timedelta(seconds=1)
    RuleSetVersion.objects.filter(pk=draft.pk).update(publish_after=past)
    DBTaskResult.objects.filter(task_path=rule_set_publish_due.module_path).update(run_after=past)
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    version = published_version()
    assert (version.pk, version.number) == (draft.pk, 3)
    page.reload()
    expect(page.get_by_test_id("version-status")).to_have_text("Published")
    record = page.get_by_test_id("approval-record")
    expect(record.get_by_test_id("approval-submitted")).to_contain_text("Submitted for approval")
    expect(record.get_by_test_id("approval-approved")).to_contain_text("Checked against the label.")
    expect(page.get_by_test_id("rule-REV-BP-ELEVATED").get_by_test_id("rule-message")).to_have_text(
        SECOND_WORDING
    )
    page.screenshot(path=artifacts_dir / "rule-approval-record.png", full_page=True)


def test_restoring_version_1_starts_a_new_draft_that_its_failing_cases_keep_back(
    page: Page, live_server, login, rule_admin, password
):
    login(page, live_server, rule_admin, password)
    page.goto(live_server.url + reverse("rules:version", args=[numbered_version(1).uuid]))
    expect(page.get_by_test_id("version-status")).to_have_text("Retired")
    page.get_by_role("button", name="Restore: start a draft from version 1").click()

    expect(
        page.get_by_role("status").filter(has_text="Draft started from version 1")
    ).to_be_visible()
    expect(page.get_by_test_id("version-status")).to_have_text("Draft")
    expect(page.get_by_test_id("version-meta")).to_contain_text("from a copy of version 1")
    # Version 1's rules do not pass version 2's test cases: restoring skips no check.
    expect(page.get_by_test_id("case-summary")).to_contain_text("failing:")
    page.get_by_role("link", name="Submit for approval…").click()
    page.get_by_label("Change note").fill("Back to version 1")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_text("test cases fail").first).to_be_visible()
    assert numbered_version(1).status == RuleSetVersion.Status.RETIRED
    assert published_version().number == 2


def test_a_reviewer_s_reference_becomes_a_rule_test_case(
    page: Page, live_server, login, rule_admin, clinician, password, artifacts_dir
):
    patient = make_patient(created_by=clinician, born=date(1990, 4, 27), mrn="CASE-0427")
    intake = make_intake(patient=patient, by=clinician, pregnancy_status="pregnant")
    screening = screening_run(intake=intake, user=clinician)

    login(page, live_server, rule_admin, password)
    rule_set = published_version().rule_set
    page.goto(live_server.url + reverse("rules:case_list", args=[rule_set.uuid]))
    page.get_by_label("Add a case from a past screening").fill(str(screening.uuid))
    page.get_by_role("button", name="Open").click()

    expect(page.get_by_test_id("case-outcome")).to_contain_text("Contraindicated")
    expect(page.get_by_test_id("case-outcome")).to_contain_text("STOP-PREGNANCY")
    expect(page.locator("main")).not_to_contain_text("CASE-0427")
    page.get_by_label("Name").fill("pregnant-from-a-screening")
    page.screenshot(path=artifacts_dir / "rule-case-from-screening.png", full_page=True)
    page.get_by_role("button", name="Add test case").click()

    expect(
        page.get_by_role("status").filter(has_text="Test case pregnant-from-a-screening added")
    ).to_be_visible()
    expect(page.get_by_test_id("case-table")).to_contain_text("pregnant-from-a-screening")
