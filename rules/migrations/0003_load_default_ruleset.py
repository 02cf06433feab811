"""Load the default ketamine rule set (rules/data/ketamine-v1.toml) as published version 1.

Reads the data file with tomllib and writes rows with historical models: it does not import
the engine (a test compiles the same file with the engine and runs the vignettes on it).
The version is created as a draft, filled, then published, as the immutability triggers require.
"""

import tomllib
from pathlib import Path

from django.db import migrations
from django.utils import timezone

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "ketamine-v1.toml"


def load(apps, schema_editor):
    RuleSet = apps.get_model("rules", "RuleSet")
    RuleSetVersion = apps.get_model("rules", "RuleSetVersion")
    Rule = apps.get_model("rules", "Rule")
    spec = tomllib.loads(DATA_FILE.read_text(encoding="utf-8"))
    if RuleSet.objects.filter(name=spec["name"]).exists():
        return
    rule_set = RuleSet.objects.create(name=spec["name"], title="Ketamine therapy eligibility")
    version = RuleSetVersion.objects.create(rule_set=rule_set, status="draft")
    Rule.objects.bulk_create(
        Rule(
            version=version,
            rule_id=rule["id"],
            position=position,
            kind=rule["kind"],
            condition=rule.get("condition", ""),
            severity=rule.get("severity", ""),
            title=rule["title"],
            message=rule.get("message", ""),
            evidence=rule.get("evidence", ""),
            source=rule.get("source", ""),
            diagnosis_logic=rule.get("diagnosis", ""),
            logic=rule["logic"],
        )
        for position, rule in enumerate(spec["rules"], start=1)
    )
    RuleSetVersion.objects.filter(pk=version.pk).update(
        status="published",
        number=spec["version"],
        change_note="Default rule set from the rule catalogue (version 1).",
        published_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("rules", "0002_immutable_published_versions")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
