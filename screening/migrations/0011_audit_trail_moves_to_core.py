"""The audit trail's models now belong to the platform app (`core`, migration 0001): drop them
from this app's model state only. The tables are untouched."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0010_screening_status_superseded_label"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="AuditChainHead"),
            ],
            database_operations=[],
        ),
    ]
