"""An impact preview read by a rule admin: dispositions in words, counts by transition, and each
example opened as its facts without the patient's identity and both versions' results."""

from datetime import date

import pytest
from django.urls import reverse

from rules.impact import impact_preview_execute
from rules.models import ImpactPreview, RuleSet
from rules.selectors import published_version
from rules.services import draft_start, impact_preview_start, rule_retire, rule_update
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)
MRN = "IMPACT-0301"
FAMILY, GIVEN = "Wetherall", "Perpetua"


@pytest.fixture
def preview(clinician, rule_admin):
    """Two past screenings of one 42-year-old (eligible; blood pressure 150/95 under review),
    previewed under a draft that reviews adults from 40 and drops the blood-pressure review."""
    patient = make_patient(
        created_by=clinician, born=date(1984, 3, 1), mrn=MRN, family_name=FAMILY, given_names=GIVEN
    )
    screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician, on=ON)
    screening_run(
        intake=make_intake(patient=patient, by=clinician, systolic_bp=150, diastolic_bp=95),
        user=clinician,
        on=ON,
    )
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={"logic": "age_years >= 40"},
    )
    rule_retire(rule=draft.rules.get(rule_id="REV-BP-ELEVATED"), user=rule_admin)
    queued = impact_preview_start(draft=draft, user=rule_admin)
    impact_preview_execute(preview_uuid=str(queued.uuid))
    return ImpactPreview.objects.get(pk=queued.pk)


def number_of(preview, old_disposition):
    return next(
        n
        for n, example in enumerate(preview.examples, 1)
        if example["old_disposition"] == old_disposition
    )


def test_the_preview_counts_dispositions_by_transition_in_words(client, rule_admin, preview):
    client.force_login(rule_admin)
    page = client.get(reverse("rules:impact", args=[preview.uuid])).content.decode()

    transitions = page[page.index('data-testid="impact-transitions"') :].split("</section>")[0]
    assert "Eligible → Review required: <strong>1</strong>" in transitions
    examples = page[page.index('data-testid="impact-examples"') :].split("</table>")[0]
    assert "Eligible → <strong>Review required</strong>" in examples
    assert "Review required (unchanged)" in examples
    assert "review_required" not in examples
    for number in (1, 2):
        assert reverse("rules:impact_example", args=[preview.uuid, number]) in examples
    for example in preview.examples:
        assert example["screening"] not in page


def test_an_example_shows_facts_with_the_age_and_both_results_but_not_the_patient(
    client, rule_admin, preview
):
    client.force_login(rule_admin)
    number = number_of(preview, "eligible")

    response = client.get(reverse("rules:impact_example", args=[preview.uuid, number]))

    assert response.status_code == 200
    page = response.content.decode()
    for identity in (MRN, FAMILY, GIVEN, "1984-03-01", "1 Mar 1984", "date_of_birth"):
        assert identity not in page, identity
    facts = page[page.index('data-testid="example-facts"') :].split("</table>")[0]
    assert "<code>age_years</code></th><td>42</td>" in facts
    results = page[page.index('data-testid="example-results"') :].split("</table>")[0]
    assert "Version 2 (published now)" in " ".join(results.split())
    assert "This draft" in results
    disposition = results[results.index("Disposition") :].split("</tr>")[0]
    assert "<div>Eligible</div>" in disposition
    assert "<div>Review required</div>" in disposition
    assert "differs" in disposition
    mdd = published_version().rules.get(kind="indication", condition="mdd").title
    assert f'<th scope="row">{mdd}</th>' in results  # conditions read under their titles
    flags = results[results.index(">Flags") :].split("</tr>")[0]
    assert "REV-OLDER-ADULT: " in flags  # the flag with its title
    title = preview.draft.rules.get(rule_id="REV-OLDER-ADULT").title
    assert title in flags
    recorded = page[page.index('data-testid="example-recorded"') :].split("</section>")[0]
    assert "When screened: <strong>Eligible</strong>" in recorded


def test_the_example_of_a_flag_swap_lists_each_version_s_flags(client, rule_admin, preview):
    client.force_login(rule_admin)
    number = number_of(preview, "review_required")
    page = client.get(reverse("rules:impact_example", args=[preview.uuid, number])).content.decode()
    results = page[page.index('data-testid="example-results"') :].split("</table>")[0]
    flags = results[results.index(">Flags") :].split("</tr>")[0]
    published, draft = flags.split("</td>")[0], flags.split("</td>")[1]
    assert "REV-BP-ELEVATED" in published
    assert "REV-BP-ELEVATED" not in draft
    assert "REV-OLDER-ADULT" in draft


def test_an_example_the_preview_did_not_keep_is_not_found(client, rule_admin, preview):
    client.force_login(rule_admin)
    for number in (0, 3):
        url = reverse("rules:impact_example", args=[preview.uuid, number])
        assert client.get(url).status_code == 404


def test_an_example_kept_before_examples_had_facts_asks_for_a_new_run(client, rule_admin, preview):
    ImpactPreview.objects.filter(pk=preview.pk).update(
        examples=[{k: v for k, v in preview.examples[0].items() if k != "facts"}]
    )
    client.force_login(rule_admin)
    page = client.get(reverse("rules:impact_example", args=[preview.uuid, 1])).content.decode()
    assert 'data-testid="example-no-facts"' in page
    assert "Run the preview again" in page


@pytest.mark.parametrize("role", ["clinician", "reviewer", "outsider"])
def test_only_rule_admins_open_examples(client, request, role, preview):
    client.force_login(request.getfixturevalue(role))
    url = reverse("rules:impact_example", args=[preview.uuid, 1])
    assert client.get(url).status_code == 403


def test_the_approval_page_lists_the_transitions_in_words(client, other_rule_admin, preview):
    client.force_login(other_rule_admin)
    page = client.get(reverse("rules:approval", args=[preview.draft.uuid])).content.decode()
    transitions = page[page.index('data-testid="approval-transitions"') :].split("</ul>")[0]
    assert "<li>Eligible → Review required: 1</li>" in transitions
