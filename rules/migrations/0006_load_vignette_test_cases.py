"""Load the 14 public clinical vignettes (rules/data/vignettes/*.json) as the ketamine rule set's
test cases, the cases version 1 passes.

The files are copies of the shared clinical vignettes kept in the repository, because
production has no shared folder. Reads JSON and writes rows with historical models: it does not
import the engine (the rule-admin tests check that version 1 passes every loaded case).
"""

import json
from pathlib import Path

from django.db import migrations

VIGNETTES = Path(__file__).resolve().parent.parent / "data" / "vignettes"
RULE_SET = "ketamine"


def load(apps, schema_editor):
    RuleSet = apps.get_model("rules", "RuleSet")
    RuleTestCase = apps.get_model("rules", "RuleTestCase")
    rule_set = RuleSet.objects.filter(name=RULE_SET).first()
    if rule_set is None:
        return
    paths = sorted(VIGNETTES.glob("*.json"))
    if not paths:  # an install without the data files must not pass as "no test cases"
        raise RuntimeError(
            f"no vignette files in {VIGNETTES}: the rule set's test cases are missing"
        )
    for path in paths:
        vignette = json.loads(path.read_text(encoding="utf-8"))
        RuleTestCase.objects.get_or_create(
            rule_set=rule_set,
            name=vignette["name"],
            defaults={
                "description": vignette.get("description", ""),
                "facts": vignette["facts"],
                "expected": vignette["expected"],
            },
        )


def unload(apps, schema_editor):
    RuleTestCase = apps.get_model("rules", "RuleTestCase")
    names = [path.stem for path in VIGNETTES.glob("*.json")]
    RuleTestCase.objects.filter(rule_set__name=RULE_SET, name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [("rules", "0005_impactpreview_ruletestcase_and_more")]

    operations = [migrations.RunPython(load, unload)]
