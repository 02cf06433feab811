"""The reviewer's view of one screening: the snapshot, reviews, signature, amendments and trail;
every view logged; the JSON export; re-evaluation under later rules; and reviewers never
change anything (PostgreSQL)."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Intake
from rules.models import RuleSetVersion
from rules.selectors import published_version
from screening.core.models import AuditEvent
from screening.models import FlagReview, Screening
from screening.services import flag_override, screening_amend, screening_run
from tests.screening.review_helpers import ON, overridden_pregnancy, run

pytestmark = pytest.mark.django_db


def review_url(screening):
    return reverse("screening:review", args=[screening.uuid])


def test_reviewer_detail_shows_facts_reason_signature_and_trail(client, reviewer, clinician):
    screening = overridden_pregnancy(clinician, sign=True)
    client.force_login(clinician)
    client.get(reverse("patients:intake_edit", args=[screening.intake.uuid]))
    client.force_login(reviewer)

    html = client.get(review_url(screening)).content.decode()

    assert "Facts as entered" in html
    # The question as the intake asked it, with the stored name the API and rules use.
    assert (
        'Pregnancy status <code class="small">pregnancy_status</code></th><td>pregnant</td>' in html
    )
    review = html[html.index('data-testid="review-row-STOP-PREGNANCY"') :]
    review = review[: review.index("</tr>")]
    assert "Overridden" in review
    assert "Specialist or MDT approval documented" in review
    assert "Obstetric MDT reviewed and approved" in review
    assert f"Signed by {clinician.get_full_name()}" in html
    trail = html[html.index('id="trail"') :]
    for action in ("intake.view", "screening.run", "flag.overridden", "screening.sign"):
        assert f"<code>{action}</code>" in trail, action
    assert "<code>screening.view</code>" in trail


def test_reviewer_detail_escapes_what_clinicians_typed(client, reviewer, clinician):
    screening = run(clinician, pregnancy_status="pregnant")
    flag_override(
        screening=screening,
        rule_id="STOP-PREGNANCY",
        user=clinician,
        reason_code="other",
        reason="<script>alert(1)</script>",
    )
    client.force_login(reviewer)
    html = client.get(review_url(screening)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_reviewer_detail_links_amendments_both_ways(client, reviewer, clinician):
    original = overridden_pregnancy(clinician, sign=True)
    intake = screening_amend(screening=original, user=clinician, reason="Mistyped answer")
    Intake.objects.filter(pk=intake.pk).update(pregnancy_status="not_pregnant")
    amendment = screening_run(intake=Intake.objects.get(pk=intake.pk), user=clinician, on=ON)
    client.force_login(reviewer)

    original_html = client.get(review_url(original)).content.decode()
    amendment_html = client.get(review_url(amendment)).content.decode()

    assert f'href="{review_url(amendment)}"' in original_html
    assert "Amended by" in original_html
    assert f'href="{review_url(original)}"' in amendment_html
    assert "Amends" in amendment_html


def test_reviewer_detail_is_refused_to_clinicians_and_rule_admins(
    client, clinician, rule_admin, outsider
):
    screening = run(clinician)
    for user in (clinician, rule_admin, outsider):
        client.force_login(user)
        assert client.get(review_url(screening)).status_code == 403
        assert client.get(reverse("screening:reevaluate", args=[screening.uuid])).status_code == 403
        assert (
            client.get(reverse("screening:export_json", args=[screening.uuid])).status_code == 403
        )


# --- every view is audited ----------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["clinician", "reviewer"])
def test_opening_the_result_page_records_screening_view(client, request, clinician, viewer):
    user = request.getfixturevalue(viewer)
    screening = run(clinician)
    client.force_login(user)

    client.get(reverse("screening:detail", args=[screening.uuid]))

    event = AuditEvent.objects.get(action="screening.view")
    assert (event.actor, event.object_type, event.object_id) == (
        user,
        "screening.screening",
        str(screening.uuid),
    )
    assert event.detail == {"page": "result"}


def test_opening_the_reviewer_detail_records_screening_view(client, reviewer, clinician):
    screening = run(clinician)
    client.force_login(reviewer)
    client.get(review_url(screening))
    client.get(reverse("screening:reevaluate", args=[screening.uuid]))
    pages = list(
        AuditEvent.objects.filter(action="screening.view", actor=reviewer)
        .order_by("seq")
        .values_list("detail__page", flat=True)
    )
    assert pages == ["review", "reevaluate"]


def test_opening_an_intake_records_intake_view_but_saving_does_not(client, reviewer, clinician):
    screening = run(clinician)
    url = reverse("patients:intake_edit", args=[screening.intake.uuid])
    client.force_login(reviewer)
    client.get(url)
    event = AuditEvent.objects.get(action="intake.view")
    assert (event.actor, event.object_type, event.object_id) == (
        reviewer,
        "patients.intake",
        str(screening.intake.uuid),
    )


def test_a_refused_view_records_nothing(client, rule_admin, clinician):
    screening = run(clinician)
    client.force_login(rule_admin)
    client.get(reverse("screening:detail", args=[screening.uuid]))
    assert not AuditEvent.objects.filter(action="screening.view").exists()


# --- reviewers read but never change -----------------------------------------------------------


def test_reviewer_posts_to_acknowledge_override_sign_and_amend_are_refused(
    client, reviewer, clinician
):
    screening = run(clinician, pregnancy_status="pregnant")
    client.force_login(reviewer)
    posts = {
        reverse("screening:override", args=[screening.uuid, "STOP-PREGNANCY"]): {
            "reason_code": "other",
            "reason": "reviewer trying",
        },
        reverse("screening:acknowledge", args=[screening.uuid, "STOP-PREGNANCY"]): {
            "reason": "reviewer trying"
        },
        reverse("screening:sign", args=[screening.uuid]): {},
        reverse("screening:amend", args=[screening.uuid]): {},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert not FlagReview.objects.exists()
    screening.refresh_from_db()
    assert screening.status == Screening.Status.UNSIGNED


def test_reviewer_pages_refuse_post(client, reviewer, clinician):
    screening = run(clinician)
    client.force_login(reviewer)
    assert client.post(review_url(screening)).status_code == 405
    # The list takes a POST only as a patient search, which changes nothing but the session.
    assert client.post(reverse("screening:list")).status_code == 302


def test_reviewer_detail_has_no_forms_that_change_the_screening(client, reviewer, clinician):
    screening = run(clinician, pregnancy_status="pregnant")
    client.force_login(reviewer)
    html = client.get(review_url(screening)).content.decode()
    assert 'method="post" action="/screenings/' not in html
    assert reverse("screening:override", args=[screening.uuid, "STOP-PREGNANCY"]) not in html


# --- JSON export --------------------------------------------------------------------------------


def test_json_export_downloads_the_whole_screening_and_is_audited(client, reviewer, clinician):
    screening = overridden_pregnancy(clinician, sign=True)
    client.force_login(reviewer)

    response = client.get(reverse("screening:export_json", args=[screening.uuid]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert f'filename="screening-{screening.uuid}.json"' in response["Content-Disposition"]
    document = json.loads(response.content)
    assert document["screening"] == str(screening.uuid)
    assert document["facts"]["pregnancy_status"] == "pregnant"
    assert document["disposition"] == "contraindicated"
    assert document["reviews"][0]["reason"] == "Obstetric MDT reviewed and approved"
    assert document["signed_by"] == clinician.username
    event = AuditEvent.objects.get(action="export.json")
    assert (event.actor, event.object_id) == (reviewer, str(screening.uuid))


# --- re-evaluation ------------------------------------------------------------------------------


def publish_v3_without_pregnancy_stop(rule_admin) -> RuleSetVersion:
    version_2 = published_version()
    draft = RuleSetVersion.objects.create(
        rule_set=version_2.rule_set,
        based_on=version_2,
        created_by=rule_admin,
        language=version_2.language,
    )
    for rule in version_2.rules.order_by("position"):
        if rule.rule_id == "STOP-PREGNANCY":
            continue
        rule.pk, rule.version = None, draft
        rule.save()
    version_2.status, version_2.retired_at = RuleSetVersion.Status.RETIRED, timezone.now()
    version_2.save()
    draft.status, draft.number = RuleSetVersion.Status.PUBLISHED, 3
    draft.published_at, draft.published_by = timezone.now(), rule_admin
    draft.save()
    return draft


def test_reevaluate_shows_what_a_later_version_would_say_without_changing_anything(
    client, reviewer, clinician, rule_admin
):
    screening = run(clinician, pregnancy_status="pregnant")
    stored = (screening.result, screening.disposition, screening.ruleset_version_id)
    publish_v3_without_pregnancy_stop(rule_admin)
    client.force_login(reviewer)

    html = client.get(reverse("screening:reevaluate", args=[screening.uuid])).content.decode()

    assert "The current rules give a different outcome." in html
    disposition = html[html.index('id="compare-disposition"') :]
    disposition = disposition[: disposition.index("</tr>")]
    assert disposition.index("Contraindicated") < disposition.index("Eligible")
    assert "Removed now: <code>STOP-PREGNANCY</code>" in html
    assert "version 3" in html
    screening.refresh_from_db()
    assert (screening.result, screening.disposition, screening.ruleset_version_id) == stored


def test_a_version_1_screening_keeps_its_text_and_reevaluation_shows_version_2_beside_it(
    client, reviewer, clinician, version_1_in_force
):
    # Breastfeeding after a hysterectomy (pregnancy not applicable): no flag under version 1,
    # a breastfeeding review under version 2 (C1). The version-2 questions are answered.
    screening = run(clinician, pregnancy_status="not_applicable", breastfeeding=True)
    version_1_in_force()  # version 2 is published again
    stored = (screening.result, screening.disposition, screening.ruleset_version_id)
    assert screening.ruleset_version.number == 1
    assert screening.disposition == "eligible"
    client.force_login(reviewer)

    html = client.get(reverse("screening:reevaluate", args=[screening.uuid])).content.decode()

    assert "Stored: ketamine, version 1;\n    now: ketamine, version 2." in html
    assert "The current rules give a different outcome." in html
    disposition = html[html.index('id="compare-disposition"') :]
    disposition = disposition[: disposition.index("</tr>")]
    assert disposition.index("Eligible") < disposition.index("Review required")
    assert "Added now: <code>REV-BREASTFEEDING</code>" in html
    assert "version 2" in html
    screening.refresh_from_db()
    assert (screening.result, screening.disposition, screening.ruleset_version_id) == stored
    # The stored rule text is version 1's, whatever is published now.
    assert screening.rule_texts["REV-PEDIATRIC"]["source"] == (
        "Seed article; esketamine US label (not approved < 18)"
    )


def test_reevaluate_under_the_same_rules_shows_no_difference(client, reviewer, clinician):
    screening = run(clinician, pregnancy_status="pregnant")
    client.force_login(reviewer)
    html = client.get(reverse("screening:reevaluate", args=[screening.uuid])).content.decode()
    assert "The current rules give the same outcome." in html
    assert "Removed now" not in html
    assert "Added now" not in html


def test_the_record_and_json_export_show_the_version_2_answers_and_which_were_not_recorded(
    client, reviewer, clinician
):
    answered = run(clinician, bladder_symptoms_or_cystitis=True, planned_formulation="undecided")
    unasked = run(
        clinician,
        bp_rise_serious_hazard=None,
        respiratory_compromise=None,
        other_cns_depressant_use=None,
        bladder_symptoms_or_cystitis=None,
        planned_formulation="",
    )
    client.force_login(reviewer)

    record = client.get(review_url(answered)).content.decode()
    old_record = client.get(review_url(unasked)).content.decode()
    exported = json.loads(
        b"".join([client.get(reverse("screening:export_json", args=[answered.uuid])).content])
    )

    assert '<code class="small">bladder_symptoms_or_cystitis</code></th><td>yes</td>' in record
    assert (
        'Planned ketamine formulation <code class="small">planned_formulation</code></th>'
        "<td>undecided</td>"
    ) in record
    assert '<code class="small">heart_rate</code></th><td>72</td>' in record
    for name in ("bp_rise_serious_hazard", "planned_formulation", "respiratory_compromise"):
        assert f'<code class="small">{name}</code></th><td>not recorded</td>' in old_record
    assert exported["facts"]["bladder_symptoms_or_cystitis"] is True
    assert exported["facts"]["planned_formulation"] == "undecided"
    assert exported["rule_set"] == {"name": "ketamine", "version": 2}
