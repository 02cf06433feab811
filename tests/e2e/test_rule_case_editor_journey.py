"""A rule admin previews a draft's impact, opens a changed past screening (its facts with the age
instead of dates, never the patient) and writes a test case with the structured editor: facts
as JSON (an error named by line and column), the expected outcome chosen part by part.
Screenshots `impact-preview.png` and `case-editor.png` go to the artefacts."""

import json
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from rules.cases import outcome
from rules.impact import impact_preview_execute
from rules.labels import DISPOSITIONS, STATUSES
from rules.loader import compiled_version
from rules.models import ImpactPreview, RuleSet, RuleTestCase
from rules.selectors import condition_titles, published_version
from rules.services import draft_start, rule_update
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.e2e
ON = date(2026, 11, 24)
MRN, FAMILY = "JOURNEY-4242", "Abernethy"
FACTS = {
    "age_years": 45,
    "sex_at_birth": "male",
    "diagnoses": ["mdd"],
    "phq9_total": 19,
    "systolic_bp": 150,
    "diastolic_bp": 95,
}


def test_rule_admin_opens_an_impact_example_and_writes_a_case_field_by_field(
    page: Page, live_server, login, clinician, rule_admin, password, artifacts_dir
):
    patient = make_patient(created_by=clinician, born=date(1984, 3, 1), mrn=MRN, family_name=FAMILY)
    screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician, on=ON)
    rule_set = RuleSet.objects.get(name="ketamine")
    draft = draft_start(rule_set=rule_set, user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={"logic": "age_years >= 40"},
    )

    login(page, live_server, rule_admin, password)
    page.goto(f"{live_server.url}/rules/versions/{draft.uuid}/")
    page.get_by_role("button", name="Preview impact on past screenings").click()
    expect(page.get_by_role("heading", name="Impact on past screenings")).to_be_visible()
    impact_preview_execute(preview_uuid=str(ImpactPreview.objects.get(draft=draft).uuid))
    page.reload()

    expect(page.get_by_test_id("impact-transitions")).to_contain_text(
        "Eligible → Review required: 1"
    )
    examples = page.get_by_test_id("impact-examples")
    expect(examples).to_contain_text("Eligible → Review required")
    expect(examples).not_to_contain_text("review_required")
    page.screenshot(path=artifacts_dir / "impact-preview.png", full_page=True)
    page.get_by_role("link", name="Example 1").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("example 1 of 1")
    facts = page.get_by_test_id("example-facts")
    expect(facts.get_by_role("row", name="age_years")).to_contain_text("42")
    results = page.get_by_test_id("example-results")
    disposition = results.get_by_role("row", name="Disposition")
    expect(disposition.get_by_role("cell").nth(0)).to_have_text("Eligible")
    expect(disposition.get_by_role("cell").nth(1)).to_have_text("Review required")
    expect(results.get_by_role("row", name="Flags")).to_contain_text("REV-OLDER-ADULT")
    for identity in (MRN, FAMILY, "1984"):
        expect(page.locator("main")).not_to_contain_text(identity)
    page.screenshot(path=artifacts_dir / "impact-example.png", full_page=True)

    # A test case for the same kind of patient, written with the structured editor.
    expected = outcome(compiled_version(published_version()).screen(FACTS, today=ON))
    page.goto(f"{live_server.url}/rules/{rule_set.uuid}/cases/")
    page.get_by_role("link", name="Add a case").click()
    facts_field = page.get_by_role("textbox", name=re.compile(r"^Facts"))
    expect(facts_field).to_have_value("{}")
    page.get_by_role("textbox", name=re.compile(r"^Name")).fill("older-man-raised-bp")
    facts_field.fill('{\n  "age_years": 45,\n  "sex_at_birth" "male"\n}')
    page.get_by_label("Disposition").select_option(label=DISPOSITIONS[expected["disposition"]])
    page.get_by_role("button", name="Add case").click()

    expect(page.locator("#id_facts_error")).to_contain_text("line 3, column 18")
    expect(page.get_by_label("Disposition")).to_have_value(expected["disposition"])
    page.get_by_role("textbox", name=re.compile(r"^Facts")).fill(json.dumps(FACTS, indent=2))
    if expected["urgent"]:
        page.get_by_label("Urgent").check()
    titles = condition_titles(rule_set)
    for condition, status in expected["indications"].items():
        label = re.compile(rf"^{re.escape(titles.get(condition, condition))}\*?$")
        page.get_by_role("combobox", name=label).select_option(label=STATUSES[status])
    flags = page.get_by_role("group", name="Flags")
    for rule_id in expected["flags"]:
        page.locator(f'input[name="flags"][value="{rule_id}"]').check()
    expect(flags).to_contain_text("REV-BP-ELEVATED: ")
    for fact in expected["missing"]:
        page.locator(f'input[name="missing"][value="{fact}"]').check()
    page.screenshot(path=artifacts_dir / "case-editor.png", full_page=True)
    page.get_by_role("button", name="Add case").click()

    expect(
        page.get_by_role("status").filter(has_text="Test case older-man-raised-bp added")
    ).to_be_visible()
    case = RuleTestCase.objects.get(name="older-man-raised-bp")
    assert case.facts == FACTS
    assert case.expected["disposition"] == expected["disposition"]
    assert case.expected["flags"] == sorted(expected["flags"])
    assert case.expected["indications"] == expected["indications"]
    assert sorted(case.expected["missing"]) == sorted(expected["missing"])
