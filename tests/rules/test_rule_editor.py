"""The rule editor's help (facts palette, operators, "Try it") and the version page's rule list
(search, filters, jump list, changed rules first): PostgreSQL, test client."""

import html
import re

import pytest
from django.urls import reverse

from rules.engine import DEFINITIONS, FACT_LABELS, FACTS, OPERATORS
from rules.models import Rule, RuleSet, RuleSetVersion, RuleTestCase
from rules.selectors import published_version
from rules.services import draft_start, rule_add, rule_update
from screening.core.models import AuditEvent

pytestmark = pytest.mark.django_db


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


def text_of(fragment: str) -> str:
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return re.sub(r" ([,.;])", r"\1", words)


def case_uuid(rule_set, name):
    return str(rule_set.test_cases.get(name=name).uuid)


# --- the palette -----------------------------------------------------------------------------


@pytest.mark.parametrize("url_name", ["rule_edit", "rule_add"])
def test_the_editor_lists_every_fact_with_type_label_and_values_and_every_operator(
    admin_client, draft, url_name
):
    args = [draft.uuid, "REV-BP-ELEVATED"] if url_name == "rule_edit" else [draft.uuid]
    content = admin_client.get(reverse(f"rules:{url_name}", args=args)).content.decode()

    for name in [*FACTS, *DEFINITIONS]:
        match = re.search(rf'data-testid="palette-fact-{name}">(.*?)</li>', content, re.S)
        assert match, name
        assert html.escape(FACT_LABELS[name]) in match.group(1), name
    phq9 = re.search(r'data-testid="palette-fact-phq9_total">(.*?)</li>', content, re.S)
    assert "whole number 0–27" in text_of(phq9.group(1))
    pregnancy = re.search(r'data-testid="palette-fact-pregnancy_status">(.*?)</li>', content, re.S)
    assert '"pregnant", "not_pregnant", "not_applicable"' in text_of(pregnancy.group(1))
    bp = re.search(r'data-testid="palette-fact-bp_elevated">(.*?)</li>', content, re.S)
    assert "means systolic_bp > 140 or diastolic_bp > 90" in text_of(bp.group(1))
    assert content.count('data-testid="palette-operator"') == len(OPERATORS)
    for operator in OPERATORS:
        assert html.escape(operator.example) in content
    assert 'src="/static/js/rule_editor.js"' in content
    assert "<script>" not in content


# --- try it ------------------------------------------------------------------------------------


def try_it(admin_client, draft, rule_id, case, **logic):
    data = {
        "title": "Typed title, not saved",
        "message": "Typed message",
        "try_case": case,
        **logic,
    }
    return admin_client.post(reverse("rules:rule_try", args=[draft.uuid, rule_id]), data)


def answer(response, field="logic"):
    content = response.content.decode()
    match = re.search(rf'data-testid="try-{field}">(.*?)</dd>', content, re.S)
    assert match, content[-3000:]
    return text_of(match.group(1))


def test_trying_logic_says_true_with_the_reason(admin_client, draft, rule_set):
    response = try_it(
        admin_client,
        draft,
        "REV-BP-ELEVATED",
        case_uuid(rule_set, "pregnant"),
        logic='pregnancy_status = "pregnant"',
    )
    assert response.status_code == 200
    assert answer(response).startswith("true because pregnancy_status = pregnant")


def test_trying_logic_says_false(admin_client, draft, rule_set):
    response = try_it(
        admin_client,
        draft,
        "REV-BP-ELEVATED",
        case_uuid(rule_set, "trd-eligible"),
        logic="bp_elevated and not bp_crisis",
    )
    assert answer(response).startswith("false because systolic_bp = 124")


def test_trying_logic_says_unknown_and_names_the_facts_not_recorded(admin_client, draft, rule_set):
    response = try_it(
        admin_client,
        draft,
        "REV-BP-ELEVATED",
        case_uuid(rule_set, "v1-intake-without-v2-facts"),
        logic="respiratory_compromise or (other_cns_depressant_use and phq9_total > 30)",
    )
    assert "Does not compile" in answer(response)  # 30 is outside PHQ-9's range

    response = try_it(
        admin_client,
        draft,
        "REV-BP-ELEVATED",
        case_uuid(rule_set, "v1-intake-without-v2-facts"),
        logic="respiratory_compromise or other_cns_depressant_use",
    )
    said = answer(response)
    assert said.startswith("unknown")
    assert (
        "Unknown: not recorded in this case: other_cns_depressant_use, respiratory_compromise."
        in said
    )


def test_a_logic_error_shows_with_its_column_and_pointer_and_what_was_typed_is_kept(
    admin_client, draft, rule_set
):
    response = try_it(
        admin_client,
        draft,
        "REV-BP-ELEVATED",
        case_uuid(rule_set, "pregnant"),
        logic="bp_elevated and not bp_crissis",
    )
    content = response.content.decode()
    said = answer(response)
    assert "unknown fact 'bp_crissis'; did you mean bp_crisis? (column 21)" in said
    assert (
        '<code class="logic-pointer" aria-hidden="true">bp_elevated and not bp_crissis\n'
        "                    ^^^^^^^^^^</code>"
    ) in content
    assert "\nbp_elevated and not bp_crissis</textarea>" in content
    assert 'value="Typed title, not saved"' in content
    assert "\nTyped message</textarea>" in content
    # The chosen case stays chosen.
    chosen = case_uuid(rule_set, "pregnant")
    assert re.search(rf'<option value="{chosen}" selected>', content)


def test_an_indication_rule_tries_both_fields_and_says_the_status(admin_client, draft, rule_set):
    rule = draft.rules.get(rule_id="IND-MDD")
    response = try_it(
        admin_client,
        draft,
        "IND-MDD",
        case_uuid(rule_set, "trd-eligible"),
        diagnosis_logic=rule.diagnosis_logic,
        logic="phq9_total >= 27",
    )
    assert answer(response, "diagnosis_logic").startswith("true")
    assert answer(response, "logic").startswith("false")
    assert "The condition would be possible." in text_of(response.content.decode())


def test_a_case_whose_facts_no_longer_validate_says_so_instead_of_an_answer(
    admin_client, draft, rule_set
):
    case = RuleTestCase.objects.create(
        rule_set=rule_set, name="old-shape", facts={"phq9_total": 40}, expected={}
    )
    response = try_it(admin_client, draft, "REV-BP-ELEVATED", str(case.uuid), logic="bp_elevated")
    said = text_of(response.content.decode())
    assert "This case's facts are not valid, so nothing could be evaluated" in said
    assert "phq9_total must be between 0 and 27 (got 40)" in said
    assert 'data-testid="try-answer"' not in response.content.decode()


def test_trying_saves_nothing_and_audits_nothing(admin_client, draft, rule_set):
    before = {rule.rule_id: rule.text() for rule in draft.rules.all()}
    events = AuditEvent.objects.count()
    versions = RuleSetVersion.objects.count()
    cases = list(RuleTestCase.objects.values("facts", "expected"))

    response = try_it(
        admin_client,
        draft,
        "REV-BP-ELEVATED",
        case_uuid(rule_set, "pregnant"),
        logic='pregnancy_status = "pregnant"',
    )

    assert response.status_code == 200
    assert {rule.rule_id: rule.text() for rule in draft.rules.all()} == before
    assert AuditEvent.objects.count() == events
    assert RuleSetVersion.objects.count() == versions
    assert list(RuleTestCase.objects.values("facts", "expected")) == cases
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.approval == ""


def test_trying_needs_a_case_of_this_rule_set_and_is_post_only(admin_client, draft):
    url = reverse("rules:rule_try", args=[draft.uuid, "REV-BP-ELEVATED"])
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url, {"logic": "bipolar", "try_case": "not-a-case"})
    assert response.status_code == 200
    assert 'data-testid="try-form-error"' in response.content.decode()
    assert 'data-testid="try-outcome"' not in response.content.decode()


def test_trying_is_csrf_protected(client, rule_admin, draft, rule_set):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rule_admin)
    response = strict.post(
        reverse("rules:rule_try", args=[draft.uuid, "REV-BP-ELEVATED"]),
        {"logic": "bipolar", "try_case": case_uuid(rule_set, "pregnant")},
    )
    assert response.status_code == 403


def test_the_edit_form_posts_save_to_the_edit_url_and_try_to_the_try_url(admin_client, draft):
    content = admin_client.get(
        reverse("rules:rule_edit", args=[draft.uuid, "REV-BP-ELEVATED"])
    ).content.decode()
    edit = reverse("rules:rule_edit", args=[draft.uuid, "REV-BP-ELEVATED"])
    assert f'<form method="post" action="{edit}" id="rule-form">' in content
    form = content[
        content.index('id="rule-form"') : content.index("</form>", content.index('id="rule-form"'))
    ]
    assert form.count("csrfmiddlewaretoken") == 1
    try_url = reverse("rules:rule_try", args=[draft.uuid, "REV-BP-ELEVATED"])
    assert f'formaction="{try_url}#try-it"' in content
    assert "formnovalidate" in content


# --- the rule list -----------------------------------------------------------------------------


def rule_ids(response) -> list[str]:
    return re.findall(
        r'<article class="card mb-3" id="rule-([A-Z0-9-]+)"', response.content.decode()
    )


def test_search_matches_rule_id_title_and_text_ignoring_case(admin_client, draft):
    url = reverse("rules:version", args=[draft.uuid])
    assert rule_ids(admin_client.get(url, {"q": "rev-bp-elev"})) == ["REV-BP-ELEVATED"]
    by_logic = rule_ids(admin_client.get(url, {"q": "bp_crisis"}))
    assert set(by_logic) == {
        r.rule_id for r in draft.rules.all() if "bp_crisis" in r.logic + r.diagnosis_logic
    }
    title = draft.rules.get(rule_id="STOP-PREGNANCY").title
    assert "STOP-PREGNANCY" in rule_ids(admin_client.get(url, {"q": title.upper()}))
    response = admin_client.get(url, {"q": "no rule says this"})
    assert rule_ids(response) == []
    assert 'data-testid="no-rules-match"' in response.content.decode()


def test_filter_by_severity(admin_client, draft):
    url = reverse("rules:version", args=[draft.uuid])
    shown = rule_ids(admin_client.get(url, {"severity": "stop"}))
    expected = list(
        draft.rules.filter(severity="stop").order_by("position").values_list("rule_id", flat=True)
    )
    assert shown == expected
    assert shown
    assert f"Rules ({len(expected)} of {draft.rules.count()})" in text_of(
        admin_client.get(url, {"severity": "stop"}).content.decode()
    )


def test_changed_rules_come_first_on_a_draft_and_can_be_shown_alone(
    admin_client, draft, rule_admin
):
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={"logic": "age_years >= 70"},
    )
    rule_add(
        draft=draft,
        user=rule_admin,
        rule_id="REV-NEW-CHECK",
        severity="info",
        title="A new check",
        message="",
        evidence="",
        source="",
        logic="heart_rate > 120",
    )
    url = reverse("rules:version", args=[draft.uuid])

    everything = rule_ids(admin_client.get(url))
    assert everything[:2] == ["REV-OLDER-ADULT", "REV-NEW-CHECK"]
    assert len(everything) == draft.rules.count()
    assert rule_ids(admin_client.get(url, {"changed": "on"})) == [
        "REV-OLDER-ADULT",
        "REV-NEW-CHECK",
    ]
    assert rule_ids(admin_client.get(url, {"changed": "on", "severity": "info"})) == [
        "REV-NEW-CHECK"
    ]
    content = admin_client.get(url).content.decode()
    assert content.count('data-testid="rule-changed"') == 2
    assert "Changed in this draft (since version 2)" in content


def test_the_jump_list_links_every_rule_shown(admin_client, draft):
    content = admin_client.get(
        reverse("rules:version", args=[draft.uuid]), {"severity": "urgent"}
    ).content.decode()
    jump = re.search(r'data-testid="jump-list">(.*?)</nav>', content, re.S).group(1)
    links = re.findall(r'href="#rule-([A-Z0-9-]+)"', jump)
    assert links == list(
        draft.rules.filter(severity="urgent").order_by("position").values_list("rule_id", flat=True)
    )


def test_a_published_version_keeps_its_order_and_filters_changes_since_its_base(admin_client):
    version_2 = published_version()
    url = reverse("rules:version", args=[version_2.uuid])
    everything = rule_ids(admin_client.get(url))
    assert everything == list(
        version_2.rules.order_by("position").values_list("rule_id", flat=True)
    )
    changed = rule_ids(admin_client.get(url, {"changed": "on"}))
    assert changed
    assert set(changed) < set(everything)
    assert "Changed since version 1" in admin_client.get(url).content.decode()


def test_an_invalid_filter_filters_nothing(admin_client, draft):
    url = reverse("rules:version", args=[draft.uuid])
    response = admin_client.get(url, {"severity": "nonsense"})
    assert response.status_code == 200
    assert len(rule_ids(response)) == Rule.objects.filter(version=draft).count()


def test_search_text_is_escaped(admin_client, draft):
    response = admin_client.get(
        reverse("rules:version", args=[draft.uuid]), {"q": "<script>alert(1)</script>"}
    )
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.content.decode()
