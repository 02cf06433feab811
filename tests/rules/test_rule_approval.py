"""Two-person approval of rule-set drafts, scheduled publishing and restoring (PostgreSQL).

These tests run with the production default: a second rule admin must approve a draft
(`two_person_rule_publishing`); the one-person clinic's setting is tested on its own.
"""

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from rules.models import RuleSet, RuleSetVersion
from rules.selectors import numbered_version, published_version
from rules.services import (
    PublishRefused,
    draft_start,
    rule_set_approve,
    rule_set_publish,
    rule_set_return,
    rule_set_submit,
    rule_update,
)
from rules.tasks import rule_set_publish_due
from screening.core.errors import LockedError, ServiceError
from screening.core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("two_person_rule_publishing")]
ON = date(2026, 11, 24)
NOTE = "Reworded the elevated blood pressure message."


@pytest.fixture
def rule_set():
    return RuleSet.objects.get(name="ketamine")


@pytest.fixture
def draft(rule_set, rule_admin):
    draft = draft_start(rule_set=rule_set, user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-BP-ELEVATED"),
        user=rule_admin,
        values={"message": "Blood pressure above 140/90: recheck before dosing."},
    )
    return draft


@pytest.fixture
def submitted(draft, rule_admin):
    return rule_set_submit(draft=draft, user=rule_admin, change_note=NOTE, today=ON)


@pytest.fixture
def approved(submitted, other_rule_admin):
    return rule_set_approve(draft=submitted, user=other_rule_admin, note="Checked.", today=ON)


def actions():
    return list(
        AuditEvent.objects.filter(action__startswith="rules.").values_list("action", flat=True)
    )


def test_an_unapproved_draft_cannot_be_published(draft, rule_admin):
    with pytest.raises(PublishRefused, match="second rule admin must approve"):
        rule_set_publish(version=draft, user=rule_admin, change_note=NOTE, today=ON)
    assert published_version().number == 2


def test_a_submitted_draft_cannot_be_edited_until_returned(submitted, rule_admin, other_rule_admin):
    rule = submitted.rules.get(rule_id="REV-BP-ELEVATED")
    with pytest.raises(LockedError, match="submitted for approval"):
        rule_update(rule=rule, user=rule_admin, values={"title": "Changed"})
    with pytest.raises(ValidationError):
        rule_set_return(draft=submitted, user=other_rule_admin, comment="  ")
    rule_set_return(draft=submitted, user=other_rule_admin, comment="Cite the guideline.")
    assert rule_update(rule=rule, user=rule_admin, values={"title": "Changed"}) == ["title"]
    submitted.refresh_from_db()
    assert submitted.approval == RuleSetVersion.Approval.RETURNED
    assert submitted.return_comment == "Cite the guideline."
    assert submitted.returned_by == other_rule_admin


def test_the_submitter_can_never_approve_or_return_their_own_draft(submitted, rule_admin):
    with pytest.raises(ServiceError, match="another rule admin must approve"):
        rule_set_approve(draft=submitted, user=rule_admin, today=ON)
    with pytest.raises(ServiceError, match="another rule admin must approve"):
        rule_set_return(draft=submitted, user=rule_admin, comment="Looks fine to me")
    submitted.refresh_from_db()
    assert submitted.approval == RuleSetVersion.Approval.SUBMITTED
    assert submitted.approved_by is None


def test_a_draft_approved_by_a_second_admin_is_published_with_both_people_audited(
    approved, rule_admin, other_rule_admin
):
    version = rule_set_publish(version=approved, user=rule_admin, today=ON)
    assert version.number == 3
    assert version.change_note == NOTE
    assert version.submitted_by == rule_admin
    assert version.approved_by == other_rule_admin
    assert version.approval_note == "Checked."
    assert not version.single_person
    assert actions()[-4:] == [
        "rules.draft_submit",
        "rules.draft_approve",
        "rules.version_retire",
        "rules.version_publish",
    ]
    publish_event = AuditEvent.objects.get(action="rules.version_publish")
    assert publish_event.detail["submitted_by"] == "avery"
    assert publish_event.detail["approved_by"] == "ruth"
    approve_event = AuditEvent.objects.get(action="rules.draft_approve")
    assert approve_event.actor == other_rule_admin
    assert approve_event.detail["note"] == "Checked."


def test_an_approved_draft_keeps_the_change_note_it_was_approved_with(approved, rule_admin):
    with pytest.raises(ValidationError):
        rule_set_publish(version=approved, user=rule_admin, change_note="Other note", today=ON)
    assert published_version().number == 2


def test_the_approval_record_of_a_published_version_never_changes(
    approved, rule_admin, other_rule_admin
):
    version = rule_set_publish(version=approved, user=rule_admin, today=ON)
    with pytest.raises(DatabaseError), transaction.atomic():
        RuleSetVersion.objects.filter(pk=version.pk).update(approved_by=rule_admin)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rules_rulesetversion SET return_comment = 'x' WHERE id = %s", [version.pk]
        )
    version.refresh_from_db()
    assert version.approved_by == other_rule_admin


def test_a_one_person_clinic_publishes_without_approval_and_the_version_says_so(
    settings, draft, rule_admin, client
):
    settings.RULES_SINGLE_PERSON_PUBLISH = True
    version = rule_set_publish(version=draft, user=rule_admin, change_note=NOTE, today=ON)
    assert version.single_person
    assert AuditEvent.objects.get(action="rules.version_publish").detail["single_person"]
    client.force_login(rule_admin)
    page = client.get(reverse("rules:version", args=[version.uuid])).content.decode()
    assert "without a second person's approval" in page


def test_a_scheduled_publish_waits_for_its_time_then_the_worker_publishes_it(approved, rule_admin):
    at = timezone.now() + timedelta(hours=2)
    scheduled = rule_set_publish(version=approved, user=rule_admin, effective_at=at, today=ON)
    assert scheduled.is_draft
    assert scheduled.publish_after == at
    task = DBTaskResult.objects.get(task_path=rule_set_publish_due.module_path)
    assert task.run_after == at
    assert task.args_kwargs["args"] == [str(approved.uuid)]
    # Run early (a worker with a skewed clock, a duplicate): nothing happens.
    assert rule_set_publish_due.call(str(approved.uuid)) == "not due"
    assert published_version().number == 2
    # The time comes.
    RuleSetVersion.objects.filter(pk=approved.pk).update(
        publish_after=timezone.now() - timedelta(seconds=1)
    )
    assert rule_set_publish_due.call(str(approved.uuid)) == "published"
    version = published_version()
    assert version.pk == approved.pk
    assert version.number == 3
    assert version.published_by == rule_admin
    assert AuditEvent.objects.filter(action="rules.version_schedule").count() == 1
    assert AuditEvent.objects.get(action="rules.version_publish").detail["scheduled"]
    assert rule_set_publish_due.call(str(approved.uuid)) == "not a draft"


def test_restoring_version_1_starts_a_draft_with_its_rules_and_publishes_a_new_version(
    rule_set, rule_admin, other_rule_admin
):
    version_1 = numbered_version(1)
    draft = draft_start(rule_set=rule_set, user=rule_admin, from_version=version_1)
    assert draft.based_on == version_1
    assert draft.language == version_1.language
    assert list(draft.rules.values_list("rule_id", "logic")) == list(
        version_1.rules.values_list("rule_id", "logic")
    )
    assert AuditEvent.objects.get(action="rules.draft_start").detail["restore"] is True
    # Version 1's rules do not pass version 2's cases: restoring does not skip the checks.
    with pytest.raises(PublishRefused, match="test cases fail"):
        rule_set_submit(draft=draft, user=rule_admin, change_note="Back to version 1", today=ON)
    assert numbered_version(1).status == RuleSetVersion.Status.RETIRED


def test_a_draft_page_bookmarked_before_publishing_leads_to_the_version(
    settings, draft, rule_admin, client
):
    settings.RULES_SINGLE_PERSON_PUBLISH = True
    rule_set_publish(version=draft, user=rule_admin, change_note=NOTE, today=ON)
    client.force_login(rule_admin)
    version_url = reverse("rules:version", args=[draft.uuid])
    for name in ("case_results", "publish", "submit", "approval", "rule_add"):
        response = client.get(reverse(f"rules:{name}", args=[draft.uuid]), follow=True)
        assert response.redirect_chain == [(version_url, 302)], name
        assert "is now version 3" in response.content.decode()


# --- pages -----------------------------------------------------------------------------------


def test_publish_is_disabled_with_the_reason_until_a_second_admin_approves(
    draft, client, rule_admin
):
    client.force_login(rule_admin)
    page = client.get(reverse("rules:publish", args=[draft.uuid])).content.decode()
    assert "A second rule admin must approve this draft first" in page
    assert re.search(r'<input type="submit"[^>]*disabled="disabled"', page)
    assert 'aria-describedby="publish-blockers"' in page


def test_publish_is_disabled_with_the_reason_while_test_cases_fail(
    settings, rule_set, draft, client, rule_admin
):
    settings.RULES_SINGLE_PERSON_PUBLISH = True
    case = rule_set.test_cases.get(name="trd-eligible")
    case.expected = {**case.expected, "disposition": "contraindicated"}
    case.save()
    client.force_login(rule_admin)
    page = client.get(reverse("rules:publish", args=[draft.uuid])).content.decode()
    assert "1 of 18 test cases fail under this draft" in page
    assert re.search(r'<input type="submit"[^>]*disabled="disabled"', page)
    assert 'aria-describedby="publish-blockers"' in page


def test_the_approver_sees_the_diff_cases_and_preview_then_approves(
    submitted, client, other_rule_admin, rule_admin
):
    client.force_login(other_rule_admin)
    url = reverse("rules:approval", args=[submitted.uuid])
    page = client.get(url).content.decode()
    assert 'data-testid="diff-changed-REV-BP-ELEVATED"' in page
    assert "test cases pass under this draft" in page
    assert "No impact preview has been run" in page
    assert NOTE in page
    response = client.post(url + "?action=approve", {"note": "Fine."})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.approved_by == other_rule_admin
    page = client.get(reverse("rules:version", args=[submitted.uuid])).content.decode()
    assert "Approved by Ruth" in page


def test_the_submitter_sees_no_decision_forms_and_a_forged_post_is_refused(
    submitted, client, rule_admin
):
    client.force_login(rule_admin)
    url = reverse("rules:approval", args=[submitted.uuid])
    page = client.get(url).content.decode()
    assert "You submitted this draft" in page
    assert 'data-testid="approve-form"' not in page
    response = client.post(url + "?action=approve", {"note": ""}, follow=True)
    assert "another rule admin must approve" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.approval == RuleSetVersion.Approval.SUBMITTED


def test_returning_needs_a_comment_shown_on_the_draft(submitted, client, other_rule_admin):
    client.force_login(other_rule_admin)
    url = reverse("rules:approval", args=[submitted.uuid])
    page = client.post(url + "?action=return", {"comment": ""}).content.decode()
    assert "Say what should change" in page
    client.post(url + "?action=return", {"comment": "Cite the guideline."})
    page = client.get(reverse("rules:version", args=[submitted.uuid])).content.decode()
    assert "Cite the guideline." in page
    assert "Submit for approval" in page


def test_restore_page_action_starts_a_draft_from_version_1(client, rule_admin):
    client.force_login(rule_admin)
    version_1 = numbered_version(1)
    page = client.get(reverse("rules:version", args=[version_1.uuid])).content.decode()
    assert "Restore: start a draft from version 1" in page
    response = client.post(reverse("rules:restore", args=[version_1.uuid]))
    draft = RuleSetVersion.objects.get(status="draft")
    assert response.url == reverse("rules:version", args=[draft.uuid])
    assert draft.based_on == version_1
    assert draft.rules.count() == version_1.rules.count() == 44
