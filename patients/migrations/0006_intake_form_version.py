"""Each intake records the version of the intake form its answers were saved with (the FHIR
QuestionnaireResponse of its screenings names that version of the intake Questionnaire).

Intakes saved before this column existed keep it empty (null): nobody recorded which form they
were entered on, and a locked intake cannot change. `Intake.answered_form_version` reads them as
the earliest version that asks every question they answer. New intakes record the current
form's version (the model's default, set by Django, not by the database).
"""

from django.db import migrations, models

HELP = (
    "The version of the intake form the answers were last saved with "
    "(null: saved before intakes recorded it)."
)


def _column():
    field = models.PositiveSmallIntegerField(null=True, editable=False, help_text=HELP)
    field.set_attributes_from_name("form_version")
    return field


def add_form_version(apps, schema_editor):
    """Add the nullable column with no default, so existing rows stay null, and without
    rebuilding the table on SQLite: a rebuild drops the triggers that lock signed intakes
    (screening/0006) and fails on the trials' triggers that read this table."""
    Intake = apps.get_model("patients", "Intake")
    if schema_editor.connection.vendor == "sqlite":
        table = schema_editor.quote_name(Intake._meta.db_table)
        schema_editor.execute(
            f'ALTER TABLE {table} ADD COLUMN "form_version" smallint unsigned NULL '
            'CHECK ("form_version" >= 0)'
        )
    else:
        schema_editor.add_field(Intake, _column())


def remove_form_version(apps, schema_editor):
    schema_editor.remove_field(apps.get_model("patients", "Intake"), _column())


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_intake_amendment_reason_autosave"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="intake",
                    name="form_version",
                    field=models.PositiveSmallIntegerField(
                        default=2, null=True, editable=False, help_text=HELP
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(add_form_version, remove_form_version),
            ],
        ),
    ]
