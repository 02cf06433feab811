"""Prefills confirmed all at once before answers were checked one by one: each of their answers
counts as confirmed by whoever confirmed them then, so an intake already checked is not held."""

from django.db import migrations


def confirmed_answers_checked(apps, schema_editor):
    IntakePrefill = apps.get_model("ehr", "IntakePrefill")
    for prefill in IntakePrefill.objects.filter(confirmed_at__isnull=False).select_related(
        "confirmed_by"
    ):
        by = prefill.confirmed_by.username if prefill.confirmed_by else ""
        at = prefill.confirmed_at.isoformat()
        prefill.checked = {
            fact: {"outcome": "confirmed", "by": by, "at": at} for fact in prefill.sources
        }
        prefill.save(update_fields=["checked"])


class Migration(migrations.Migration):
    dependencies = [("ehr", "0003_intakeprefill_checked_intakeprefill_values")]

    operations = [migrations.RunPython(confirmed_answers_checked, migrations.RunPython.noop)]
