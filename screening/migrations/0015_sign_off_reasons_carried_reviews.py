"""Sign-off reasons (a result signed under retired rules; an incomplete result) and reviews
carried forward from the run a screening replaced."""

import django.db.models.deletion
from django.db import migrations, models

INCOMPLETE_REASONS = models.JSONField(
    blank=True,
    default=dict,
    help_text="Why missing information could not be obtained, by fact (`*`: for all), given "
    "when an incomplete result was signed.",
)
STALE_RULES_REASON = models.TextField(
    blank=True,
    help_text="Why it was signed although its rule-set version was no longer published.",
)
#: On SQLite, columns added with ALTER TABLE: a rebuild of the table (Django's way for a NOT NULL
#: column with a default) drops the triggers that lock signed screenings (0006) and fails on the
#: flag-review triggers that read this table.
SQLITE_COLUMNS = (
    "\"stale_rules_reason\" text NOT NULL DEFAULT ''",
    "\"incomplete_reasons\" text NOT NULL DEFAULT '{}' "
    'CHECK (JSON_VALID("incomplete_reasons") OR "incomplete_reasons" IS NULL)',
)


def _fields():
    for name, template in (
        ("incomplete_reasons", INCOMPLETE_REASONS),
        ("stale_rules_reason", STALE_RULES_REASON),
    ):
        field = template.clone()
        field.set_attributes_from_name(name)
        yield field


def add_columns(apps, schema_editor):
    Screening = apps.get_model("screening", "Screening")
    if schema_editor.connection.vendor == "sqlite":
        table = schema_editor.quote_name(Screening._meta.db_table)
        for column in SQLITE_COLUMNS:
            schema_editor.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    else:
        for field in _fields():
            schema_editor.add_field(Screening, field)


def remove_columns(apps, schema_editor):
    Screening = apps.get_model("screening", "Screening")
    for field in _fields():
        schema_editor.remove_field(Screening, field)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0014_flags_and_reviews_locked_when_signed"),
    ]

    operations = [
        migrations.AddField(
            model_name="flagreview",
            name="carried_from",
            field=models.ForeignKey(
                blank=True,
                help_text="The review of the same flag, fired for the same reasons, on the screening this one replaced: it is carried forward, not made again.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="carried_to",
                to="screening.flagreview",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="screening", name="incomplete_reasons", field=INCOMPLETE_REASONS
                ),
                migrations.AddField(
                    model_name="screening", name="stale_rules_reason", field=STALE_RULES_REASON
                ),
            ],
            database_operations=[migrations.RunPython(add_columns, remove_columns)],
        ),
    ]
