# The MRN is unique in any case ("mrn0042" and "MRN0042" are one record typed twice). The form
# always refused case variants; the API did not, so a database may hold some. They cannot be
# merged automatically (each may have intakes and signed screenings): the migration stops and
# names the records (by UUID, never by MRN) for someone to correct first.

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


def refuse_case_variants(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    clashes = (
        Patient.objects.annotate(key=django.db.models.functions.text.Lower("mrn"))
        .values("key")
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .values_list("key", flat=True)
    )
    keys = list(clashes)
    if keys:
        uuids = sorted(
            str(u)
            for u in Patient.objects.annotate(key=django.db.models.functions.text.Lower("mrn"))
            .filter(key__in=keys)
            .values_list("uuid", flat=True)
        )
        raise RuntimeError(
            f"{len(keys)} medical record numbers are registered more than once in different "
            "case (e.g. mrn0042 and MRN0042). Correct the MRNs of these patients so that each "
            "is unique in any case, then migrate again: " + ", ".join(uuids)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_intake_form_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(refuse_case_variants, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("mrn"),
                name="patient_mrn_unique_any_case",
                violation_error_message="A patient with this medical record number is already registered.",
            ),
        ),
    ]
