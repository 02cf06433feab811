"""Each intake records the version of the intake form its answers were saved with (the FHIR
QuestionnaireResponse of its screenings names that version of the intake Questionnaire).

Intakes saved before this column existed keep it empty (null): nobody recorded which form they
were entered on, and a locked intake cannot change. `Intake.answered_form_version` reads them as
the earliest version that asks every question they answer.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_intake_amendment_reason_autosave"),
    ]

    operations = [
        # Added without a default, so existing rows stay null ("not recorded") ...
        migrations.AddField(
            model_name="intake",
            name="form_version",
            field=models.PositiveSmallIntegerField(
                null=True,
                editable=False,
                help_text="The version of the intake form the answers were last saved with "
                "(null: saved before intakes recorded it).",
            ),
        ),
        # ... and new intakes record the current form's version.
        migrations.AlterField(
            model_name="intake",
            name="form_version",
            field=models.PositiveSmallIntegerField(
                default=2,
                null=True,
                editable=False,
                help_text="The version of the intake form the answers were last saved with "
                "(null: saved before intakes recorded it).",
            ),
        ),
    ]
