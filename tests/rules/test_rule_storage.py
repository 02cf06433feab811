"""Versioned rule storage: migrate leaves version 2 published after version 1, each as its data
file says, and published and retired versions never change."""

import tomllib
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from rules.engine import compile_ruleset
from rules.loader import compiled_version, version_spec
from rules.models import ImmutableVersionError, Rule, RuleSetVersion
from rules.selectors import RuleSetVersionNotFound, numbered_version, published_version

DATA = Path(__file__).resolve().parents[2] / "rules" / "data"

pytestmark = pytest.mark.django_db


def test_migrate_leaves_version_2_published_with_the_whole_catalogue_and_version_1_retired():
    version = published_version()
    assert version.number == 2
    assert version.status == RuleSetVersion.Status.PUBLISHED
    assert version.published_at is not None
    assert version.language == 2
    kinds = list(version.rules.values_list("kind", flat=True))
    assert kinds.count("indication") == 8
    assert kinds.count("consideration") == 42
    version_1 = numbered_version(1)
    assert version_1.status == RuleSetVersion.Status.RETIRED
    assert version_1.retired_at == version.published_at
    assert version.based_on == version_1
    assert version_1.language == 1
    assert version_1.rules.count() == 44


@pytest.mark.parametrize("number", [1, 2])
def test_each_stored_version_is_its_data_file_rule_for_rule(number):
    stored = version_spec(numbered_version(number))
    from_file = tomllib.loads((DATA / f"ketamine-v{number}.toml").read_text())
    assert (stored.version, stored.language) == (from_file["version"], from_file["language"])
    assert [r.id for r in stored.rules] == [r["id"] for r in from_file["rules"]]
    for rule, source in zip(stored.rules, from_file["rules"], strict=True):
        expected = {"message": "", "evidence": "", "source": "", "diagnosis": "", **source}
        for field, value in expected.items():
            assert getattr(rule, field) == value, (rule.id, field)
    assert compile_ruleset(stored)  # and it compiles under the engine's checks


def test_a_published_rule_cannot_be_edited_through_the_model():
    rule = published_version().rules.get(rule_id="REV-BP-ELEVATED")
    rule.message = "Reworded"
    with pytest.raises(ImmutableVersionError):
        rule.save()
    rule.refresh_from_db()
    assert rule.message.startswith("Blood pressure above 140/90")


def test_a_published_rule_cannot_be_deleted_through_the_model():
    rule = published_version().rules.get(rule_id="STOP-PREGNANCY")
    with pytest.raises(ImmutableVersionError):
        rule.delete()
    assert published_version().rules.filter(rule_id="STOP-PREGNANCY").exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE rules_rule SET message = 'tampered'",
        "DELETE FROM rules_rule",
        "UPDATE rules_rulesetversion SET change_note = 'tampered'",
        "UPDATE rules_rulesetversion SET status = 'draft'",
        "UPDATE rules_rulesetversion SET language = 1 WHERE number = 2",
        "UPDATE rules_rulesetversion SET language = 2 WHERE number = 1",
        "DELETE FROM rules_rulesetversion",
    ],
)
def test_the_database_rejects_changes_to_a_published_or_retired_version(statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert published_version().rules.count() == 50
    assert [(v.number, v.language) for v in RuleSetVersion.objects.order_by("number")] == [
        (1, 1),
        (2, 2),
    ]


def test_the_database_rejects_adding_a_rule_to_a_published_version():
    version = published_version()
    with pytest.raises(DatabaseError), transaction.atomic():
        Rule.objects.bulk_create(
            [
                Rule(
                    version=version,
                    rule_id="INFO-NEW",
                    position=99,
                    kind="consideration",
                    severity="info",
                    title="New",
                    logic="takes_maoi",
                )
            ]
        )
    assert not version.rules.filter(rule_id="INFO-NEW").exists()


def test_a_published_version_may_only_move_to_retired():
    version = published_version()
    version.change_note = "rewritten history"
    with pytest.raises(ImmutableVersionError):
        version.save()
    version.refresh_from_db()
    version.status = RuleSetVersion.Status.RETIRED
    version.save()
    version.refresh_from_db()
    assert version.status == RuleSetVersion.Status.RETIRED
    version.status = RuleSetVersion.Status.PUBLISHED
    with pytest.raises(ImmutableVersionError):
        version.save()


def test_a_draft_is_editable():
    published = published_version()
    draft = RuleSetVersion.objects.create(rule_set=published.rule_set, based_on=published)
    rule = Rule.objects.create(
        version=draft,
        rule_id="INFO-ESCORT",
        position=1,
        kind="consideration",
        severity="info",
        title="No escort home",
        logic="not has_escort_home",
    )
    rule.message = "Arrange transport."
    rule.save()
    rule.delete()
    draft.delete()
    assert not RuleSetVersion.objects.filter(pk=draft.pk).exists()


def test_the_published_version_compiles_and_screens(trd_eligible_facts):
    from datetime import date

    result = compiled_version(published_version()).screen(
        trd_eligible_facts, today=date(2026, 11, 24)
    )
    assert result.ruleset.name == "ketamine"
    assert result.ruleset.version == 2
    assert result.disposition == "eligible"


def test_an_unknown_version_number_is_named_with_the_versions_there_are():
    with pytest.raises(RuleSetVersionNotFound, match=r"no version 7 \(versions: 1, 2\)"):
        numbered_version(7)


def test_published_version_follows_each_publish_and_each_caller_gets_its_own_copy(rule_admin):
    first = published_version()
    first.change_note = "set by one caller"
    assert published_version().change_note != "set by one caller"

    draft = RuleSetVersion.objects.create(
        rule_set=first.rule_set, based_on=first, created_by=rule_admin
    )
    first.status, first.retired_at = RuleSetVersion.Status.RETIRED, timezone.now()
    first.save(update_fields=["status", "retired_at"])
    draft.status, draft.number = RuleSetVersion.Status.PUBLISHED, 3
    draft.published_at, draft.published_by = timezone.now(), rule_admin
    draft.save()

    now_published = published_version()
    assert (now_published.pk, now_published.number) == (draft.pk, 3)
    assert now_published.rule_set.name == "ketamine"


def test_a_rule_set_without_a_published_version_is_named():
    with pytest.raises(RuleSetVersionNotFound, match="rule set 'no-such-set' has no published"):
        published_version("no-such-set")
