"""Publish version 2 of the default ketamine rule set (rules/data/ketamine-v2.toml) as an admin
would: a draft based on the version in force, filled with the file's rules, then published as the
next number with a change note summarising the catalogue's changes C1–C11, the previous version
retired. Past screenings keep pointing at the version they used. The version-2 vignettes
(rules/data/vignettes-v2/*.json) become the rule set's test cases.

Reads the data files with tomllib and json and writes rows with historical models: it does not
import the engine (tests compile the same file and run the same vignettes with it).

It publishes nothing when:
- version 2's rules (same text, logic and language level) are already the version in force;
- an admin has an open draft of the rule set. The draft is left alone (one open draft per rule
  set, and publishing over it would make it a draft of a retired version) and the migration
  says so, with what to do: publish or discard the draft, then apply this migration again
  (`manage.py migrate rules 0008`, then `manage.py migrate rules`).

Unapplying it changes nothing: published versions never change and are never deleted (publish a
new version instead).
"""

import json
import sys
import tomllib
from pathlib import Path

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

DATA = Path(__file__).resolve().parent.parent / "data"
DATA_FILE = DATA / "ketamine-v2.toml"
VIGNETTES = DATA / "vignettes-v2"
VERSION_1_VIGNETTES = DATA / "vignettes"

CHANGE_NOTE = (
    "Version 2 of the rule catalogue (rule-catalogue-v2.md; data dictionary, "
    '"Added in version 2"). '
    "C1: REV-BREASTFEEDING fires on breastfeeding alone (a breastfeeding woman recorded as "
    "pregnancy not applicable got no flag); breastfeeding counts as no for a man when not "
    "entered. "
    "C2: new STOP-CHILD, age under 13 (stop, documented override); REV-PEDIATRIC still reviews "
    "13 to 17. "
    "C3: IND-MDD is indicated with at least 2 failed adequate antidepressant trials or acute "
    "suicidal ideation or behaviour (C-SSRS Q2, or behaviour in the past 3 months); one failed "
    "trial alone is now possible, not indicated. "
    "C4: new question and STOP-BP-HAZARD, a condition in which a blood-pressure rise would be a "
    "serious hazard (Ketalar label contraindication). "
    "C5: new question and REV-RESPIRATORY, reduced respiratory reserve or airway risk. "
    "C6: new question; REV-SEDATION also covers other CNS depressants (gabapentinoids, Z-drugs, "
    "sedating antipsychotics or antihistamines, barbiturates, regular alcohol). "
    "C7: new question and REV-BLADDER, bladder symptoms or ulcerative/interstitial cystitis. "
    "C8: new REV-HYPOMANIA, a current hypomanic episode. "
    "C9: new question (planned formulation) and INFO-REMS, the SPRAVATO REMS conditions when "
    "esketamine nasal spray is planned. "
    "C10: every rule cites a specific, checkable source (label section with its title, guideline "
    "with year). "
    "C11: partial C-SSRS answers: a suicide-risk comparison is decided when every risk level "
    "consistent with the recorded answers agrees (Q1 unrecorded with every other answer no rules "
    "out high risk). "
    "Intakes saved before version 2 have the five new questions unrecorded: they screen as "
    "incomplete until the questions are answered. Past screenings keep the version they used."
)


def _say(message):
    # `migrate` prints "Applying …" and then "OK" on the same line: start on a fresh one.
    sys.stdout.write(f"\n  {message}\n")


def _rule_rows(spec):
    return [
        {
            "rule_id": rule["id"],
            "position": position,
            "kind": rule["kind"],
            "condition": rule.get("condition", ""),
            "severity": rule.get("severity", ""),
            "title": rule["title"],
            "message": rule.get("message", ""),
            "evidence": rule.get("evidence", ""),
            "source": rule.get("source", ""),
            "diagnosis_logic": rule.get("diagnosis", ""),
            "logic": rule["logic"],
        }
        for position, rule in enumerate(spec["rules"], start=1)
    ]


def _same_rules(version, rows, language):
    if version is None or version.language != language:
        return False
    fields = list(rows[0]) if rows else []
    stored = list(version.rules.order_by("position").values(*fields))
    return stored == rows


def publish(apps, schema_editor):
    RuleSet = apps.get_model("rules", "RuleSet")
    RuleSetVersion = apps.get_model("rules", "RuleSetVersion")
    Rule = apps.get_model("rules", "Rule")
    spec = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    rule_set = RuleSet.objects.filter(name=spec["name"]).first()
    if rule_set is None:  # 0003 loads it; a database without it has nothing to update
        return
    rows = _rule_rows(spec)
    language = spec.get("language", 1)
    versions = RuleSetVersion.objects.filter(rule_set=rule_set)
    current = versions.filter(status="published").first()
    if _same_rules(current, rows, language):
        _say(f"{rule_set.title}: version {current.number} already has version 2's rules.")
        return
    draft = versions.filter(status="draft").first()
    if draft is not None:
        who = getattr(draft.created_by, "username", "") or "an admin"
        _say(
            f"{rule_set.title}: version 2 NOT published. {who} has an open draft (started "
            f"{draft.created_at:%Y-%m-%d %H:%M}); it is left alone. Publish or discard that "
            "draft, then run `python manage.py migrate rules 0008` and "
            "`python manage.py migrate rules` to publish version 2."
        )
        return
    now = timezone.now()
    number = (versions.aggregate(last=Max("number"))["last"] or 0) + 1
    version = RuleSetVersion.objects.create(
        rule_set=rule_set, status="draft", based_on=current, language=language
    )
    Rule.objects.bulk_create(Rule(version=version, **row) for row in rows)
    if current is not None:
        # Retire first: at most one version is published (constraint rules_one_published_version).
        versions.filter(pk=current.pk).update(status="retired", retired_at=now)
    versions.filter(pk=version.pk).update(
        status="published", number=number, change_note=CHANGE_NOTE, published_at=now
    )
    _replace_test_cases(apps, rule_set)


def _replace_test_cases(apps, rule_set):
    """The version-2 vignettes become the rule set's cases; the version-1 vignettes loaded by
    0006 that version 2 has no case for go, unless an admin edited them (they are kept, and the
    migration says so: their expectations are version 1's)."""
    RuleTestCase = apps.get_model("rules", "RuleTestCase")
    current = {}
    for path in sorted(VIGNETTES.glob("*.json")):
        vignette = json.loads(path.read_text(encoding="utf-8"))
        current[vignette["name"]] = vignette
        RuleTestCase.objects.update_or_create(
            rule_set=rule_set,
            name=vignette["name"],
            defaults={
                "description": vignette.get("description", ""),
                "facts": vignette["facts"],
                "expected": vignette["expected"],
            },
        )
    if not current:  # an install without the data files must not pass as "no test cases"
        raise RuntimeError(
            f"no vignette files in {VIGNETTES}: the rule set's test cases are missing"
        )
    for path in sorted(VERSION_1_VIGNETTES.glob("*.json")):
        vignette = json.loads(path.read_text(encoding="utf-8"))
        if vignette["name"] in current:
            continue
        case = RuleTestCase.objects.filter(rule_set=rule_set, name=vignette["name"]).first()
        if case is None:
            continue
        if case.facts == vignette["facts"] and case.expected == vignette["expected"]:
            case.delete()
        else:
            _say(
                f"{rule_set.title}: test case {case.name} was edited by an admin and is kept; "
                "it expects version-1 outcomes, so check it before publishing a new version."
            )


class Migration(migrations.Migration):
    dependencies = [("rules", "0008_impactpreview_needs_new_questions_and_more")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
