"""The test-case editor: facts as JSON (errors with line and column), the expected outcome part
by part, stored in the same shape as before."""

import html
import re
from datetime import date

import pytest
from django.urls import reverse

from rules.cases import outcome
from rules.forms import RuleCaseForm
from rules.loader import compiled_version
from rules.models import RuleSet, RuleTestCase
from rules.selectors import published_version
from rules.validators import clean_expected
from tests.rules.conftest import case_form_data

pytestmark = pytest.mark.django_db

FACTS = {
    "age_years": 40,
    "sex_at_birth": "male",
    "diagnoses": ["mdd"],
    "phq9_total": 19,
    "systolic_bp": 150,
    "diastolic_bp": 95,
}


@pytest.fixture
def rule_set():
    return RuleSet.objects.get(name="ketamine")


@pytest.fixture
def admin_client(client, rule_admin):
    client.force_login(rule_admin)
    return client


def field_errors(page: str, field: str) -> str:
    match = re.search(
        rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>', page, re.S
    )
    return html.unescape(match.group(1)) if match else ""


def test_a_new_case_starts_from_empty_facts_not_null(admin_client, rule_set):
    page = admin_client.get(reverse("rules:case_add", args=[rule_set.uuid])).content.decode()
    facts = re.search(r'<textarea name="facts"[^>]*>(.*?)</textarea>', page, re.S)
    assert facts is not None
    assert facts.group(1).strip() == "{}"
    assert "null" not in page.split('name="facts"')[1].split("</textarea>")[0]
    assert '<option value="" selected>Choose the disposition</option>' in page


def test_the_outcome_is_chosen_with_words_and_rule_titles(admin_client, rule_set):
    page = admin_client.get(reverse("rules:case_add", args=[rule_set.uuid])).content.decode()
    assert '<option value="review_required">Review required</option>' in page
    assert re.search(r'<input type="checkbox" name="urgent"', page)
    title = published_version().rules.get(rule_id="REV-BP-ELEVATED").title
    assert f"REV-BP-ELEVATED: {html.escape(title)}" in page
    assert 'name="indication_mdd"' in page
    assert '<option value="not_indicated" selected>Not indicated</option>' in page
    assert 'value="phq9_total"' in page  # a missing fact to tick
    assert 'name="expected"' not in page


def test_a_case_saved_from_the_fields_is_stored_as_the_json_was(admin_client, rule_set):
    expected = outcome(
        compiled_version(published_version()).screen(FACTS, today=date(2026, 11, 24))
    )
    data = case_form_data(name="older-man-raised-bp", facts=FACTS, expected=expected)

    response = admin_client.post(reverse("rules:case_add", args=[rule_set.uuid]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    case = RuleTestCase.objects.get(name="older-man-raised-bp")
    assert case.facts == FACTS
    assert case.expected == clean_expected(expected)
    assert "REV-BP-ELEVATED" in case.expected["flags"]
    assert set(case.expected) == {"disposition", "urgent", "indications", "flags", "missing"}


def test_editing_a_case_fills_every_part_and_saving_unchanged_changes_nothing(
    admin_client, rule_set
):
    case = rule_set.test_cases.get(name="pregnant")
    url = reverse("rules:case_edit", args=[case.uuid])
    form = admin_client.get(url).context["form"]
    assert form.initial["disposition"] == case.expected["disposition"]
    assert form.initial["flags"] == case.expected["flags"]
    for condition, status in case.expected["indications"].items():
        assert form.initial[f"indication_{condition}"] == status
    data = case_form_data(
        name=case.name, description=case.description, facts=case.facts, expected=case.expected
    )

    response = admin_client.post(url, data, follow=True)

    assert "Test case: nothing changed." in response.content.decode()


def test_a_stored_flag_that_is_no_rule_now_is_kept_as_a_choice(rule_set):
    case = rule_set.test_cases.get(name="pregnant")
    expected = {**case.expected, "flags": [*case.expected["flags"], "REV-GONE"]}
    form = RuleCaseForm(initial={"expected": expected}, rule_set=rule_set)
    choices = dict(form.fields["flags"].choices)
    assert choices["REV-GONE"] == "REV-GONE (not a rule of the published version or draft)"


def test_facts_that_are_not_json_are_refused_with_line_and_column(admin_client, rule_set):
    case = rule_set.test_cases.get(name="pregnant")
    broken = '{\n  "age_years": 30,\n  "pregnancy_status" "pregnant"\n}'
    data = case_form_data(name="broken", facts=broken, expected=case.expected)

    page = admin_client.post(reverse("rules:case_add", args=[rule_set.uuid]), data)

    error = field_errors(page.content.decode(), "facts")
    assert "not valid JSON: Expecting ':' delimiter at line 3, column 22." in error
    assert broken in html.unescape(page.content.decode())  # what was typed stays
    assert not RuleTestCase.objects.filter(name="broken").exists()


def test_a_missing_disposition_is_said_beside_its_field(admin_client, rule_set):
    case = rule_set.test_cases.get(name="pregnant")
    data = case_form_data(
        name="no-disposition", facts=case.facts, expected={**case.expected, "disposition": ""}
    )
    page = admin_client.post(reverse("rules:case_add", args=[rule_set.uuid]), data)
    assert "This field is required." in field_errors(page.content.decode(), "disposition")
    assert 'id="case-errors"' in page.content.decode()


@pytest.mark.parametrize("role", ["clinician", "reviewer"])
def test_only_rule_admins_add_cases(client, request, role, rule_set):
    client.force_login(request.getfixturevalue(role))
    url = reverse("rules:case_add", args=[rule_set.uuid])
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x"}).status_code == 403


def test_the_case_list_shows_expected_dispositions_in_words(admin_client, rule_set):
    page = admin_client.get(reverse("rules:case_list", args=[rule_set.uuid])).content.decode()
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "<td>Contraindicated</td>" in table
    assert "review_required" not in table
