"""Rule administration pages: who may use them, and what they show (PostgreSQL, test client)."""

import html
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from rules import urls as rule_urls
from rules.impact import impact_preview_execute
from rules.models import ImpactPreview, RuleSet, RuleSetVersion
from rules.selectors import numbered_version, published_version
from rules.services import (
    draft_start,
    impact_preview_start,
    rule_add,
    rule_retire,
    rule_set_publish,
    rule_update,
)
from screening.core.models import AuditEvent
from tests.rules.conftest import case_form_data

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)
NEW_MESSAGE = "Blood pressure above 140/90: recheck before dosing and weigh the risk."


@pytest.fixture
def rule_set():
    return RuleSet.objects.get(name="ketamine")


@pytest.fixture
def draft(rule_set, rule_admin):
    return draft_start(rule_set=rule_set, user=rule_admin)


@pytest.fixture
def admin_client(client, rule_admin):
    client.force_login(rule_admin)
    return client


def side_text(fragment: str) -> str:
    """One side of a word diff as its text: the tags and the screen-reader markers removed."""
    fragment = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", fragment)
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def field_errors(response, field):
    """The text of the error block crispy draws under `field` (empty when there is none)."""
    content = response.content.decode()
    match = re.search(
        rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>', content, re.S
    )
    return html.unescape(match.group(1)) if match else ""


# --- who may use the pages ---------------------------------------------------------------------

#: An impact preview's example as `rules.impact` keeps it (facts without dates).
EXAMPLE = {
    "screening": "9f0c6a51-32a4-4c1e-8d0b-6f2f1f3b7c11",
    "screening_date": "2026-11-24",
    "old_disposition": "eligible",
    "new_disposition": "review_required",
    "flags_added": ["REV-OLDER-ADULT"],
    "flags_removed": [],
    "new_questions": [],
    "facts": {"age_years": 42, "sex_at_birth": "male", "diagnoses": ["mdd"]},
}


@pytest.fixture
def every_url(rule_set, draft, rule_admin):
    case = rule_set.test_cases.get(name="breastfeeding-after-hysterectomy")
    preview = impact_preview_start(draft=draft, user=rule_admin)
    ImpactPreview.objects.filter(pk=preview.pk).update(examples=[EXAMPLE])
    return {
        "list": reverse("rules:list"),
        "draft_start": reverse("rules:draft_start", args=[rule_set.uuid]),
        "compare": reverse("rules:compare", args=[rule_set.uuid]),
        "case_list": reverse("rules:case_list", args=[rule_set.uuid]),
        "case_add": reverse("rules:case_add", args=[rule_set.uuid]),
        "case_edit": reverse("rules:case_edit", args=[case.uuid]),
        "version": reverse("rules:version", args=[draft.uuid]),
        "draft_discard": reverse("rules:draft_discard", args=[draft.uuid]),
        "rule_add": reverse("rules:rule_add", args=[draft.uuid]),
        "rule_edit": reverse("rules:rule_edit", args=[draft.uuid, "REV-BP-ELEVATED"]),
        "rule_retire": reverse("rules:rule_retire", args=[draft.uuid, "REV-BP-ELEVATED"]),
        "rule_try": reverse("rules:rule_try", args=[draft.uuid, "REV-BP-ELEVATED"]),
        "case_results": reverse("rules:case_results", args=[draft.uuid]),
        "case_accept": reverse("rules:case_accept", args=[draft.uuid, case.uuid]),
        "impact_start": reverse("rules:impact_start", args=[draft.uuid]),
        "publish": reverse("rules:publish", args=[draft.uuid]),
        "submit": reverse("rules:submit", args=[draft.uuid]),
        "approval": reverse("rules:approval", args=[draft.uuid]),
        "restore": reverse("rules:restore", args=[numbered_version(1).uuid]),
        "impact": reverse("rules:impact", args=[preview.uuid]),
        "impact_progress": reverse("rules:impact_progress", args=[preview.uuid]),
        "impact_example": reverse("rules:impact_example", args=[preview.uuid, 1]),
    }


def test_the_permission_checks_cover_every_rules_page(every_url):
    names = {pattern.name for pattern in rule_urls.urlpatterns}
    assert names == set(every_url)
    for pattern in rule_urls.urlpatterns:
        assert pattern.callback.required_permission == "rules.change_ruleset", pattern.name


@pytest.mark.parametrize("person", ["clinician", "reviewer", "outsider"])
def test_other_roles_get_403_on_every_rules_page_and_post(
    person, request, client, every_url, draft
):
    client.force_login(request.getfixturevalue(person))
    for name, url in every_url.items():
        assert client.get(url).status_code == 403, name
        assert client.post(url, {"change_note": "x", "reason": "x"}).status_code == 403, name
    draft.refresh_from_db()
    assert draft.is_draft
    assert RuleSetVersion.objects.filter(status="draft").count() == 1
    assert not AuditEvent.objects.filter(
        action__in=["rules.version_publish", "rules.draft_discard"]
    ).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, every_url):
    for name, url in every_url.items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/login/?next="), name


def test_the_rule_admin_can_open_every_page(admin_client, every_url):
    post_only = {"draft_start", "impact_start", "restore", "rule_try"}
    for name, url in every_url.items():
        if name not in post_only:
            assert admin_client.get(url).status_code == 200, name


def test_the_navigation_shows_rule_sets_to_rule_admins_only(client, admin_client, clinician):
    assert b'href="/rules/">Rule sets</a>' in admin_client.get("/").content
    client.force_login(clinician)
    assert b"Rule sets" not in client.get("/").content


# --- rule sets, versions and drafts ------------------------------------------------------------


def test_the_list_shows_each_version_with_status_author_time_and_change_note(
    admin_client, rule_set, draft, rule_admin
):
    rule_admin.first_name, rule_admin.last_name = "Avery", "Jones"
    rule_admin.save()
    rule_set_publish(
        version=draft, user=rule_admin, change_note="Second version, same rules.", today=ON
    )
    draft_start(rule_set=rule_set, user=rule_admin)

    page = admin_client.get(reverse("rules:list")).content.decode()

    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]
    text = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]
    assert text[0].startswith("Draft based on version 3 Draft Started by Avery Jones")
    assert text[1].startswith("Version 3 Published Published by Avery Jones")
    assert text[1].endswith("Second version, same rules.")
    assert text[2].startswith("Version 2 Retired Loaded with the application")
    assert "C11: partial C-SSRS answers" in text[2]
    assert text[3].startswith("Version 1 Retired Loaded with the application")
    assert "retired" in text[3]
    assert text[3].endswith("Default rule set from the rule catalogue (version 1).")


def test_starting_a_draft_opens_it_and_a_second_start_says_one_is_open(admin_client, rule_set):
    response = admin_client.post(reverse("rules:draft_start", args=[rule_set.uuid]))
    draft = RuleSetVersion.objects.get(status="draft")
    assert response["Location"] == reverse("rules:version", args=[draft.uuid])

    again = admin_client.post(reverse("rules:draft_start", args=[rule_set.uuid]), follow=True)

    assert again.redirect_chain[-1][0] == reverse("rules:version", args=[draft.uuid])
    assert "already has an open draft, started by avery" in again.content.decode()
    assert RuleSetVersion.objects.filter(status="draft").count() == 1
    listing = admin_client.get(reverse("rules:list")).content.decode()
    assert "Continue the open draft" in listing
    assert reverse("rules:draft_start", args=[rule_set.uuid]) not in listing


def test_a_draft_page_shows_every_rule_and_that_all_eighteen_cases_pass(admin_client, draft):
    response = admin_client.get(reverse("rules:version", args=[draft.uuid]))
    content = response.content.decode()
    assert content.count('class="card mb-3" id="rule-') == 50
    assert "<strong>18/18</strong> test cases pass under this draft" in content
    assert reverse("rules:rule_edit", args=[draft.uuid, "IND-MDD"]) in content
    assert reverse("rules:rule_retire", args=[draft.uuid, "INFO-ESCORT"]) in content
    assert reverse("rules:rule_retire", args=[draft.uuid, "IND-MDD"]) not in content


def test_a_published_version_has_no_edit_pages(admin_client, draft):
    """Its edit URLs (from when it was a draft) lead to the version, which never changes."""
    version_2 = published_version()
    version_url = reverse("rules:version", args=[version_2.uuid])
    page = admin_client.get(version_url).content.decode()
    assert "This version never changes." in page
    assert "/rules/REV-BP-ELEVATED/" not in page
    edit = reverse("rules:rule_edit", args=[version_2.uuid, "REV-BP-ELEVATED"])
    assert admin_client.get(edit).url == version_url
    assert admin_client.post(edit, {"title": "x", "logic": "bipolar"}).url == version_url
    assert published_version().rules.get(rule_id="REV-BP-ELEVATED").title != "x"


def test_discarding_a_draft_asks_first_then_deletes_it(admin_client, draft):
    url = reverse("rules:draft_discard", args=[draft.uuid])
    assert b"Discard this draft?" in admin_client.get(url).content
    response = admin_client.post(url)
    assert response["Location"] == reverse("rules:list")
    assert not RuleSetVersion.objects.filter(pk=draft.pk).exists()


# --- editing rules -----------------------------------------------------------------------------


def edit_data(**changes):
    rule = published_version().rules.get(rule_id="REV-BP-ELEVATED")
    data = {
        name: getattr(rule, name)
        for name in ("title", "message", "evidence", "source", "severity", "logic")
    }
    return {**data, **changes}


def test_saving_a_rule_edit_shows_the_new_text_on_the_draft(admin_client, draft):
    url = reverse("rules:rule_edit", args=[draft.uuid, "REV-BP-ELEVATED"])
    response = admin_client.post(url, edit_data(message=NEW_MESSAGE), follow=True)
    assert response.redirect_chain[0][0].endswith("#rule-REV-BP-ELEVATED")
    assert "REV-BP-ELEVATED saved (message changed)." in response.content.decode()
    assert NEW_MESSAGE in response.content.decode()
    assert draft.rules.get(rule_id="REV-BP-ELEVATED").message == NEW_MESSAGE


@pytest.mark.parametrize(
    ("logic", "message", "pointer"),
    [
        (
            'pregancy_status = "pregnant"',
            "unknown fact 'pregancy_status'; did you mean pregnancy_status? (column 1)",
            'pregancy_status = "pregnant"\n^^^^^^^^^^^^^^^',
        ),
        (
            'pregnancy_status = "pregant"',
            "value 'pregant' is not allowed for pregnancy_status (allowed: pregnant, "
            "not_pregnant, not_applicable); did you mean 'pregnant'? (column 20)",
            'pregnancy_status = "pregant"\n                   ^^^^^^^^^',
        ),
        (
            "bp_elevated and (not bp_crisis",
            "expected ')' to close the '(' at column 17, found the end (column 31)",
            "bp_elevated and (not bp_crisis\n                              ^",
        ),
    ],
)
def test_logic_errors_are_shown_beside_the_field_with_their_position(
    admin_client, draft, logic, message, pointer
):
    url = reverse("rules:rule_edit", args=[draft.uuid, "REV-BP-ELEVATED"])
    response = admin_client.post(url, edit_data(logic=logic))
    assert response.status_code == 200
    errors = field_errors(response, "logic")
    assert message in errors
    assert pointer in errors
    assert field_errors(response, "title") == ""
    assert draft.rules.get(rule_id="REV-BP-ELEVATED").logic == "bp_elevated and not bp_crisis"


def test_an_indication_rule_form_edits_the_diagnosis_test_and_shows_its_errors(admin_client, draft):
    url = reverse("rules:rule_edit", args=[draft.uuid, "IND-GAD"])
    page = admin_client.get(url).content.decode()
    assert 'name="diagnosis_logic"' in page
    assert 'name="severity"' not in page
    assert "Indication rule for <strong>gad</strong>" in page
    rule = draft.rules.get(rule_id="IND-GAD")
    data = {
        name: getattr(rule, name) for name in ("title", "message", "evidence", "source", "logic")
    }
    response = admin_client.post(url, {**data, "diagnosis_logic": '"gda" in diagnoses'})
    assert "value 'gda' is not allowed for diagnoses" in field_errors(response, "diagnosis_logic")


def test_adding_a_rule_through_the_form(admin_client, draft):
    url = reverse("rules:rule_add", args=[draft.uuid])
    bad = admin_client.post(
        url, {"rule_id": "REV-BP-ELEVATED", "severity": "review", "title": "x", "logic": "bipolar"}
    )
    assert "already a rule of this draft" in field_errors(bad, "rule_id")
    data = {"severity": "review", "title": "Fast heart rate", "logic": "heart_rate > 110"}
    lower_case = admin_client.post(url, {**data, "rule_id": "rev-heart-rate"})
    assert "Use capital letters, digits and single hyphens" in field_errors(lower_case, "rule_id")
    response = admin_client.post(url, {**data, "rule_id": "REV-HEART-RATE"})
    assert response["Location"].endswith("#rule-REV-HEART-RATE")
    assert draft.rules.get(rule_id="REV-HEART-RATE").logic == "heart_rate > 110"


def test_retiring_from_the_page_refuses_indication_rules(admin_client, draft):
    response = admin_client.post(
        reverse("rules:rule_retire", args=[draft.uuid, "IND-MDD"]), follow=True
    )
    assert "cannot be retired" in response.content.decode()
    assert draft.rules.filter(rule_id="IND-MDD").exists()
    admin_client.post(reverse("rules:rule_retire", args=[draft.uuid, "INFO-ESCORT"]))
    assert not draft.rules.filter(rule_id="INFO-ESCORT").exists()


SCRIPT = '<script>alert("rule")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;rule&quot;)&lt;/script&gt;"


def test_rule_text_is_escaped_on_every_page_that_shows_it(admin_client, draft, rule_admin):
    rule_update(
        rule=draft.rules.get(rule_id="REV-BP-ELEVATED"),
        user=rule_admin,
        values={"title": f"Raised BP {SCRIPT}", "message": f"Recheck {SCRIPT}"},
    )
    rule_add(
        draft=draft,
        user=rule_admin,
        rule_id="INFO-NEW",
        severity="info",
        title=SCRIPT,
        message=SCRIPT,
        logic="takes_opioid",
    )
    compare = reverse("rules:compare", args=[draft.rule_set.uuid])
    pages = [
        reverse("rules:version", args=[draft.uuid]),
        reverse("rules:rule_edit", args=[draft.uuid, "REV-BP-ELEVATED"]),
        reverse("rules:rule_retire", args=[draft.uuid, "REV-BP-ELEVATED"]),
        f"{compare}?old={published_version().uuid}&new={draft.uuid}",
    ]
    for url in pages:
        content = admin_client.get(url).content.decode()
        assert "<script>alert" not in content, url
        assert ESCAPED in content, url
    refused = admin_client.post(
        reverse("rules:rule_edit", args=[draft.uuid, "INFO-NEW"]),
        {"title": "x", "severity": "info", "logic": f"takes_opioid and {SCRIPT}"},
    ).content.decode()
    assert "<script>alert" not in refused
    assert f"takes_opioid and {ESCAPED}" in refused  # the caret excerpt under the error

    version_2 = rule_set_publish(
        version=draft, user=rule_admin, change_note=f"Note {SCRIPT}", today=ON
    )
    for url in (reverse("rules:version", args=[version_2.uuid]), reverse("rules:list")):
        content = admin_client.get(url).content.decode()
        assert "<script>alert" not in content, url
        assert ESCAPED in content, url


# --- test cases and publishing -----------------------------------------------------------------


def test_publishing_needs_a_change_note_shown_beside_the_field(admin_client, draft):
    response = admin_client.post(reverse("rules:publish", args=[draft.uuid]), {"change_note": ""})
    assert "Write a change note" in field_errors(response, "change_note")
    draft.refresh_from_db()
    assert draft.is_draft


def test_publishing_from_the_page_makes_version_3(admin_client, draft):
    response = admin_client.post(
        reverse("rules:publish", args=[draft.uuid]),
        {"change_note": "Reworded a message."},
        follow=True,
    )
    draft.refresh_from_db()
    assert draft.number == 3
    assert response.redirect_chain[-1][0] == reverse("rules:version", args=[draft.uuid])
    assert "Version 3 published." in response.content.decode()
    assert published_version() == draft


def test_a_failing_case_is_shown_with_its_differences_and_blocks_publishing_until_accepted(
    admin_client, draft, rule_set, rule_admin
):
    rule_retire(rule=draft.rules.get(rule_id="REV-BREASTFEEDING"), user=rule_admin)
    failing_case = "breastfeeding-after-hysterectomy"

    summary = admin_client.get(reverse("rules:version", args=[draft.uuid])).content.decode()
    assert (
        f"<strong>17/18</strong> test cases pass under this draft; failing: {failing_case}."
        in summary
    )
    results = admin_client.get(reverse("rules:case_results", args=[draft.uuid])).content.decode()
    failing = results[results.index(f'data-testid="case-{failing_case}"') :]
    failing = " ".join(
        html.unescape(re.sub(r"<[^>]+>", " ", failing[: failing.index("</section>")])).split()
    )
    assert "disposition review_required eligible" in failing
    assert "flags REV-BREASTFEEDING none no longer: REV-BREASTFEEDING" in failing

    refused = admin_client.post(
        reverse("rules:publish", args=[draft.uuid]), {"change_note": "No lactation review."}
    )
    assert "1 of 18 test cases fail under this draft" in refused.content.decode()
    assert f"<li>{failing_case}</li>" in refused.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft

    case = rule_set.test_cases.get(name=failing_case)
    accept = reverse("rules:case_accept", args=[draft.uuid, case.uuid])
    no_reason = admin_client.post(accept, {"reason": ""})
    assert "Say why" in field_errors(no_reason, "reason")
    admin_client.post(accept, {"reason": "Lactation advice is given at every consultation."})
    case.refresh_from_db()
    assert case.expected["disposition"] == "eligible"
    assert AuditEvent.objects.get(action="rules.case_expectation_update").detail["reason"] == (
        "Lactation advice is given at every consultation."
    )

    admin_client.post(
        reverse("rules:publish", args=[draft.uuid]), {"change_note": "No lactation review."}
    )
    draft.refresh_from_db()
    assert draft.number == 3


def test_editing_a_case_shows_fact_errors_beside_the_field(admin_client, rule_set):
    case = rule_set.test_cases.get(name="male-no-pregnancy-or-breastfeeding")
    url = reverse("rules:case_edit", args=[case.uuid])
    assert '"sex_at_birth": "male"' in html.unescape(admin_client.get(url).content.decode())
    wrong = case_form_data(
        name=case.name,
        description=case.description,
        facts='{"pregancy_status": "pregnant"}',
        expected={**case.expected, "disposition": "cured"},
    )
    response = admin_client.post(url, wrong)
    assert "pregancy_status unknown fact 'pregancy_status'" in field_errors(response, "facts")
    assert "Select a valid choice" in field_errors(response, "disposition")
    response = admin_client.post(
        url,
        case_form_data(
            name=case.name,
            description="Only three facts recorded.",
            facts='{"age_years": 29, "sex_at_birth": "male", "diagnoses": ["gad"]}',
            expected=case.expected,
        ),
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.description == "Only three facts recorded."
    assert AuditEvent.objects.get(action="rules.case_update").detail["changes"]["description"][
        "new"
    ] == ("Only three facts recorded.")


# --- comparing versions and impact previews ----------------------------------------------------


def test_the_compare_page_shows_a_changed_message_old_and_new_side_by_side(
    admin_client, draft, rule_admin
):
    old_message = draft.rules.get(rule_id="REV-BP-ELEVATED").message
    rule_update(
        rule=draft.rules.get(rule_id="REV-BP-ELEVATED"),
        user=rule_admin,
        values={"message": NEW_MESSAGE},
    )
    rule_retire(rule=draft.rules.get(rule_id="INFO-YOUNG-ADULT"), user=rule_admin)
    version_2 = rule_set_publish(version=draft, user=rule_admin, change_note="Reworded.", today=ON)

    response = admin_client.get(
        reverse("rules:compare", args=[version_2.rule_set.uuid]),
        {"old": published_version().based_on.uuid, "new": version_2.uuid},
    )
    content = response.content.decode()
    changed = content[content.index('data-testid="diff-changed-REV-BP-ELEVATED"') :]
    changed = changed[: changed.index("</section>")]
    assert '<h3 class="h6">Message</h3>' in changed
    before = changed.split('data-testid="diff-old">')[1].split("</div>")[0]
    after = changed.split('data-testid="diff-new">')[1].split("</div>")[0]
    assert side_text(before) == old_message
    assert side_text(after) == NEW_MESSAGE
    assert "<del " in before
    assert "<ins " not in before
    assert "<ins " in after
    assert "<del " not in after
    assert "Logic" not in changed
    assert 'data-testid="diff-retired-INFO-YOUNG-ADULT"' in content
    assert "1 changed, 0 added, 1 retired, 48 unchanged." in content


def test_an_impact_preview_is_queued_from_the_draft_and_reports_its_progress(admin_client, draft):
    response = admin_client.post(reverse("rules:impact_start", args=[draft.uuid]))
    preview = ImpactPreview.objects.get(draft=draft)
    assert response["Location"] == reverse("rules:impact", args=[preview.uuid])

    page = admin_client.get(response["Location"]).content.decode()
    assert 'src="/static/js/impact_progress.js"' in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert reverse("rules:impact_progress", args=[preview.uuid]) in page
    progress = admin_client.get(reverse("rules:impact_progress", args=[preview.uuid])).json()
    assert progress["status"] == "queued"
    assert progress["finished"] is False

    impact_preview_execute(preview_uuid=str(preview.uuid))

    progress = admin_client.get(reverse("rules:impact_progress", args=[preview.uuid])).json()
    assert (progress["status"], progress["finished"], progress["percent"]) == ("done", True, 100)
    page = admin_client.get(response["Location"]).content.decode()
    assert "impact_progress.js" not in page
    assert "No past screening would come out differently." in page
    assert preview.requested_at <= timezone.now()


def test_comparing_version_1_with_version_2_shows_the_rule_changes_and_the_language_level(
    admin_client, rule_set
):
    version_1, version_2 = numbered_version(1), numbered_version(2)

    content = admin_client.get(
        reverse("rules:compare", args=[rule_set.uuid]),
        {"old": version_1.uuid, "new": version_2.uuid},
    ).content.decode()
    detail = admin_client.get(reverse("rules:version", args=[version_2.uuid])).content.decode()

    for rule_id in ("STOP-BP-HAZARD", "STOP-CHILD", "REV-BLADDER", "INFO-REMS"):
        assert f'data-testid="diff-added-{rule_id}"' in content, rule_id
    for rule_id in ("IND-MDD", "REV-BREASTFEEDING", "REV-SEDATION"):
        assert f'data-testid="diff-changed-{rule_id}"' in content, rule_id
    language = content[content.index('data-testid="diff-language"') :]
    assert "Rule language level 1 → 2" in language
    assert "partial C-SSRS answers" in language
    assert "Its rules are read with rule language level 2." in detail
