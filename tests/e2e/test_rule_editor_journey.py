"""A rule admin opens a rule of a draft, finds facts in the palette by searching, tries the logic
as typed against a test case in place (true, then unknown, then a logic error with its caret),
and nothing is saved; the same answer comes without JavaScript. Then the draft's rule list is
searched and filtered to the changed rules."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from rules.models import RuleSet
from rules.services import draft_start, rule_update
from screening.core.models import AuditEvent

pytestmark = pytest.mark.e2e


def test_rule_admin_uses_the_palette_and_tries_logic_against_a_case(
    page: Page, browser: Browser, live_server, login, rule_admin, password, artifacts_dir
):
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={"logic": "age_years >= 70"},
    )
    saved_logic = draft.rules.get(rule_id="REV-BP-ELEVATED").logic

    login(page, live_server, rule_admin, password)
    events = AuditEvent.objects.count()  # signing in is audited; trying is not
    page.goto(live_server.url + reverse("rules:version", args=[draft.uuid]))
    page.get_by_role("link", name="Edit REV-BP-ELEVATED").click()
    expect(page.get_by_role("heading", name="Edit REV-BP-ELEVATED")).to_be_visible()

    # The palette: search it, and the matching group opens.
    palette = page.locator("#facts-palette")
    search = palette.get_by_role("searchbox", name="Search facts and operators")
    search.fill("respiratory")
    fact = palette.get_by_test_id("palette-fact-respiratory_compromise")
    expect(fact).to_be_visible()
    expect(fact).to_contain_text("Reduced respiratory reserve or airway risk")
    expect(palette.get_by_test_id("palette-fact-phq9_total")).to_be_hidden()
    search.fill("pregnancy")
    expect(palette.get_by_test_id("palette-fact-pregnancy_status")).to_contain_text(
        '"pregnant", "not_pregnant", "not_applicable"'
    )
    search.fill(">=")
    expect(palette.get_by_test_id("palette-operators")).to_have_attribute("open", "")
    expect(palette.get_by_role("row", name=re.compile("at least"))).to_contain_text(
        "phq9_total >= 10"
    )
    search.fill("")

    # Try it, in place: the page does not reload, what was typed stays.
    logic = page.get_by_label("Logic")
    logic.fill('pregnancy_status = "pregnant"')
    page.get_by_label("Test case").select_option(label="pregnant")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("button", name="Try the logic").click()
    result = page.get_by_test_id("try-result")
    expect(result.get_by_test_id("try-answer")).to_have_text("true")
    expect(result).to_contain_text("Tried on pregnant (not saved)")
    expect(result).to_contain_text("because pregnancy_status = pregnant")
    assert page.evaluate("window.notReloaded") is True
    expect(logic).to_have_value('pregnancy_status = "pregnant"')

    logic.fill("respiratory_compromise or bp_elevated")
    page.get_by_label("Test case").select_option(label="v1-intake-without-v2-facts")
    page.get_by_role("button", name="Try the logic").click()
    expect(result.get_by_test_id("try-answer")).to_have_text("unknown")
    expect(result.get_by_test_id("try-unknown")).to_contain_text("respiratory_compromise")
    page.get_by_test_id("try-it").scroll_into_view_if_needed()
    page.screenshot(path=artifacts_dir / "rule-editor-try-it.png", full_page=True)

    logic.fill("bp_elevated and not bp_crissis")
    page.get_by_role("button", name="Try the logic").click()
    expect(result).to_contain_text("unknown fact 'bp_crissis'; did you mean bp_crisis? (column 21)")
    expect(result.locator(".logic-pointer")).to_have_text(
        "bp_elevated and not bp_crissis\n                    ^^^^^^^^^^"
    )
    assert page.evaluate("window.notReloaded") is True

    # Nothing was saved or audited by trying.
    assert draft.rules.get(rule_id="REV-BP-ELEVATED").logic == saved_logic
    assert AuditEvent.objects.count() == events

    # Without JavaScript the same button posts the form and the page comes back with the answer.
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    login(plain, live_server, rule_admin, password)
    plain.goto(live_server.url + reverse("rules:rule_edit", args=[draft.uuid, "REV-BP-ELEVATED"]))
    plain.get_by_label("Logic").fill("bp_elevated and not bp_crisis")
    plain.get_by_label("Test case").select_option(label="trd-eligible")
    plain.get_by_role("button", name="Try the logic").click()
    expect(plain).to_have_url(re.compile(r"/try/#try-it$"))
    expect(plain.get_by_test_id("try-answer")).to_have_text("false")
    expect(plain.get_by_label("Logic")).to_have_value("bp_elevated and not bp_crisis")
    expect(plain.get_by_label("Test case")).to_have_value(
        str(draft.rule_set.test_cases.get(name="trd-eligible").uuid)
    )
    context.close()

    # The draft's rule list: search, then only what changed in the draft.
    page.get_by_role("link", name="Back to the draft").click()
    filters = page.get_by_role("search", name="Rules of this version")
    filters.get_by_label("Search rules").fill("escort")
    filters.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("rule-INFO-ESCORT")).to_be_visible()
    expect(page.get_by_test_id("rule-REV-BP-ELEVATED")).to_have_count(0)
    filters = page.get_by_role("search", name="Rules of this version")
    filters.get_by_label("Search rules").fill("")
    filters.get_by_label(re.compile("Changed in this draft")).check()
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("article[id^='rule-']")).to_have_count(1)
    expect(
        page.get_by_test_id("rule-REV-OLDER-ADULT").get_by_test_id("rule-changed")
    ).to_be_visible()
    page.get_by_test_id("jump-list").get_by_role("link", name="REV-OLDER-ADULT").click()
    expect(page).to_have_url(re.compile("#rule-REV-OLDER-ADULT$"))
