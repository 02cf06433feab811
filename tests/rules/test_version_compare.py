"""Comparing versions: rule text and logic marked word by word, and each version's change note
and approvals beside the comparison."""

import html
import re
from datetime import date

import pytest
from django.urls import reverse

from rules.models import RuleSet
from rules.selectors import published_version
from rules.services import (
    draft_start,
    rule_set_approve,
    rule_set_publish,
    rule_set_submit,
    rule_update,
)
from rules.textdiff import side, word_diff

pytestmark = pytest.mark.django_db
ON = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("old", "new", "removed", "added"),
    [
        ("bp_elevated and not bp_crisis", "bp_elevated and bp_crisis", ["not "], []),
        ("age_years >= 65", "age_years >= 40", ["65"], ["40"]),
        (
            "Recheck the blood pressure now.",
            "Recheck blood pressure after rest now.",
            ["the "],
            [" after rest"],
        ),
        ("same words", "same words", [], []),
        ("", "all new", [], ["all new"]),
    ],
)
def test_a_word_diff_marks_only_the_changed_words(old, new, removed, added):
    pieces = word_diff(old, new)
    assert [p.text for p in pieces if p.kind == "removed"] == removed
    assert [p.text for p in pieces if p.kind == "added"] == added
    assert "".join(p.text for p in side(pieces, "removed")) == old
    assert "".join(p.text for p in side(pieces, "added")) == new


@pytest.fixture
def approved_version_3(rule_admin, other_rule_admin, two_person_rule_publishing):
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="REV-OLDER-ADULT"),
        user=rule_admin,
        values={
            "logic": "age_years >= 60",
            "message": "Older adult <script>x</script>: check blood pressure after rest.",
        },
    )
    rule_set_submit(draft=draft, user=rule_admin, change_note="Older-adult review from 60.")
    rule_set_approve(draft=draft, user=other_rule_admin, note="Checked against the guideline.")
    return rule_set_publish(version=draft, user=other_rule_admin, change_note="", today=ON)


def compare_page(client, old, new):
    url = reverse("rules:compare", args=[new.rule_set.uuid])
    return client.get(url, {"old": old.uuid, "new": new.uuid}).content.decode()


def test_changed_logic_and_text_are_marked_word_by_word_and_escaped(
    client, rule_admin, approved_version_3
):
    client.force_login(rule_admin)
    page = compare_page(client, approved_version_3.based_on, approved_version_3)

    changed = page[page.index('data-testid="diff-changed-REV-OLDER-ADULT"') :]
    changed = changed[: changed.index("</section>")]
    logic = changed[changed.index('<h3 class="h6">Logic</h3>') :]
    old_logic = logic.split('data-testid="diff-old">')[1].split("</div>")[0]
    new_logic = logic.split('data-testid="diff-new">')[1].split("</div>")[0]
    assert re.search(
        r'<del class="app-word-removed"><span class="visually-hidden">\[removed: </span>65<span',
        old_logic,
    )
    assert re.search(
        r'<ins class="app-word-added"><span class="visually-hidden">\[added: </span>60<span',
        new_logic,
    )
    assert "age_years &gt;= " in old_logic
    assert "age_years &gt;= " in new_logic
    assert "<script>" not in page
    assert html.escape("<script>x</script>") in changed


def test_each_version_s_change_note_and_approvers_are_shown(
    client, rule_admin, other_rule_admin, approved_version_3
):
    other_rule_admin.first_name, other_rule_admin.last_name = "Ruth", "Okafor"
    other_rule_admin.save()
    client.force_login(rule_admin)
    page = compare_page(client, approved_version_3.based_on, approved_version_3)

    old = page[page.index('data-testid="record-old"') :].split("</section>")[0]
    new = page[page.index('data-testid="record-new"') :].split("</section>")[0]
    assert "From: Version 2" in " ".join(old.split())
    assert approved_version_3.based_on.change_note in html.unescape(old)
    assert "To: Version 3" in " ".join(new.split())
    assert "Older-adult review from 60." in new
    submitter = rule_admin.get_full_name() or rule_admin.get_username()
    assert f"Submitted for approval by {submitter} on" in new
    assert "Approved by Ruth Okafor on" in new
    assert "Checked against the guideline." in new
    assert 'data-testid="record-published"' in new
    assert published_version() == approved_version_3


@pytest.mark.parametrize("role", ["clinician", "reviewer"])
def test_only_rule_admins_compare(client, request, role):
    client.force_login(request.getfixturevalue(role))
    rule_set = RuleSet.objects.get(name="ketamine")
    assert client.get(reverse("rules:compare", args=[rule_set.uuid])).status_code == 403
