"""The data migration that publishes version 2 (rules/0009_publish_ketamine_v2), run again on
this database's state: it publishes version 2's rules after whatever version is in force, the way
an admin would, unless they are already in force or an admin's draft is open (then it leaves the
draft alone and says so); and it makes the version-2 vignettes the rule set's test cases."""

import importlib
import json
import tomllib
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps

from rules.models import RuleSet, RuleSetVersion, RuleTestCase
from rules.selectors import numbered_version, published_version
from rules.services import draft_discard, draft_start, rule_set_publish, rule_update
from screening.services import screening_run
from tests.factories import make_intake, make_patient

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("rules.migrations.0009_publish_ketamine_v2")
DATA = Path(__file__).resolve().parents[2] / "rules" / "data"
ON = date(2026, 11, 24)


def publish_v2() -> None:
    MIGRATION.publish(apps, schema_editor=None)


def version_3(rule_admin) -> RuleSetVersion:
    """Version 3: version 2 with one message reworded by an admin."""
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="INFO-ESCORT"),
        user=rule_admin,
        values={"message": "Arrange a lift home."},
    )
    return rule_set_publish(version=draft, user=rule_admin, change_note="Reworded.", today=ON)


def test_migrate_publishes_version_2_with_the_change_note_and_keeps_version_1():
    version_2, version_1 = published_version(), numbered_version(1)
    assert (version_2.number, version_2.language, version_2.based_on) == (2, 2, version_1)
    for change in (f"C{n}:" for n in range(1, 12)):
        assert change in version_2.change_note
    assert version_2.published_at == version_1.retired_at
    spec = tomllib.loads((DATA / "ketamine-v2.toml").read_text())
    assert list(version_2.rules.order_by("position").values_list("rule_id", flat=True)) == [
        rule["id"] for rule in spec["rules"]
    ]
    names = sorted(path.stem for path in (DATA / "vignettes-v2").glob("*.json"))
    assert sorted(RuleTestCase.objects.values_list("name", flat=True)) == names


def test_applied_again_with_version_2_in_force_it_changes_nothing_and_says_so(capsys):
    before = list(RuleSetVersion.objects.values_list("number", "status"))
    publish_v2()
    assert list(RuleSetVersion.objects.values_list("number", "status")) == before
    assert "version 2 already has version 2's rules" in capsys.readouterr().out


def test_an_open_draft_is_left_alone_and_nothing_is_published_and_it_says_so(rule_admin, capsys):
    version_3(rule_admin)
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    rule_update(
        rule=draft.rules.get(rule_id="INFO-ESCORT"), user=rule_admin, values={"title": "Mine"}
    )

    publish_v2()

    said = capsys.readouterr().out
    assert "version 2 NOT published" in said
    assert "avery has an open draft" in said
    assert "migrate rules 0008" in said
    assert published_version().number == 3
    draft.refresh_from_db()
    assert draft.is_draft
    assert draft.rules.get(rule_id="INFO-ESCORT").title == "Mine"
    assert RuleSetVersion.objects.count() == 4


def test_once_the_draft_is_gone_it_publishes_version_2s_rules_as_the_next_version(
    rule_admin, clinician
):
    replaced = version_3(rule_admin)
    patient = make_patient(created_by=clinician)
    past = screening_run(intake=make_intake(patient=patient, by=clinician), user=clinician, on=ON)
    draft = draft_start(rule_set=RuleSet.objects.get(name="ketamine"), user=rule_admin)
    publish_v2()
    draft_discard(draft=draft, user=rule_admin)

    publish_v2()

    new = published_version()
    assert (new.number, new.language, new.based_on) == (4, 2, replaced)
    assert (
        new.rules.get(rule_id="INFO-ESCORT").message
        == numbered_version(2).rules.get(rule_id="INFO-ESCORT").message
    )
    assert "C11:" in new.change_note
    replaced.refresh_from_db()
    assert replaced.status == RuleSetVersion.Status.RETIRED
    past.refresh_from_db()
    assert past.ruleset_version == replaced  # past screenings stay pinned


def test_version_1_vignette_cases_go_unless_an_admin_edited_them(capsys):
    rule_set = RuleSet.objects.get(name="ketamine")

    def load(name: str) -> dict:
        return json.loads((DATA / "vignettes" / f"{name}.json").read_text())

    untouched, edited = load("ptsd-high-bp"), load("sparse-intake")
    RuleTestCase.objects.create(
        rule_set=rule_set,
        name="ptsd-high-bp",
        facts=untouched["facts"],
        expected=untouched["expected"],
    )
    RuleTestCase.objects.create(
        rule_set=rule_set,
        name="sparse-intake",
        facts=edited["facts"],
        expected={**edited["expected"], "urgent": True},
    )

    MIGRATION._replace_test_cases(apps, rule_set)

    names = set(RuleTestCase.objects.values_list("name", flat=True))
    assert "ptsd-high-bp" not in names
    assert "sparse-intake" in names
    assert len(names) == 19
    assert "test case sparse-intake was edited by an admin and is kept" in capsys.readouterr().out
