"""The audit trail moves from the screening app to the platform (`screening.core`).

The tables stay as they are (`screening_auditevent`, `screening_auditchainhead`, their indexes,
constraints and append-only triggers): this migration only tells Django's model state that the
models now belong here, and renames their content types so that permissions already granted
(`view_auditevent` for reviewers) follow them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("auditevent", "auditchainhead")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="core", model=model).exists():
            ContentType.objects.filter(app_label="screening", model=model).update(app_label="core")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not ContentType.objects.filter(app_label="screening", model=model).exists():
            ContentType.objects.filter(app_label="core", model=model).update(app_label="screening")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("screening", "0010_screening_status_superseded_label"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditChainHead",
                    fields=[
                        (
                            "id",
                            models.PositiveSmallIntegerField(
                                default=1, editable=False, primary_key=True, serialize=False
                            ),
                        ),
                        ("last_seq", models.PositiveBigIntegerField(default=0)),
                        (
                            "last_hash",
                            models.CharField(
                                default="0000000000000000000000000000000000000000000000000000000000000000",
                                max_length=64,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "screening_auditchainhead",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("id", 1)), name="auditchainhead_single_row"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "seq",
                            models.PositiveBigIntegerField(
                                editable=False,
                                help_text="Position in the hash chain, contiguous from 1.",
                                unique=True,
                            ),
                        ),
                        ("occurred_at", models.DateTimeField(db_index=True, editable=False)),
                        (
                            "actor_repr",
                            models.CharField(
                                blank=True,
                                help_text="The actor's username when the event happened.",
                                max_length=150,
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                db_index=True, help_text="For example auth.login.", max_length=64
                            ),
                        ),
                        (
                            "object_type",
                            models.CharField(
                                blank=True, help_text="app_label.model", max_length=64
                            ),
                        ),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        ("detail", models.JSONField(blank=True, default=dict)),
                        ("prev_hash", models.CharField(editable=False, max_length=64)),
                        ("hash", models.CharField(editable=False, max_length=64, unique=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty for the system or an anonymous visitor.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="audit_events",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "screening_auditevent",
                        "ordering": ("seq",),
                        "indexes": [
                            models.Index(
                                fields=["object_type", "object_id"],
                                name="screening_a_object__9bda50_idx",
                            )
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("seq__gte", 1)), name="auditevent_seq_from_1"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
