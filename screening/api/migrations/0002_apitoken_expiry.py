"""API tokens expire: existing tokens get 90 days from their creation (some have expired
already, which is the point), and a revocation records why it happened."""

from datetime import timedelta

from django.db import migrations, models

LIFETIME = timedelta(days=90)


def expire_existing(apps, schema_editor):
    ApiToken = apps.get_model("api", "ApiToken")
    for token in ApiToken.objects.filter(expires_at=None).only("pk", "created_at"):
        ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at + LIFETIME)
    ApiToken.objects.exclude(revoked_at=None).update(revoked_reason="owner")


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("owner", "by its owner"),
                    ("password_changed", "when the password changed"),
                    ("deactivated", "when the account was deactivated"),
                ],
                max_length=16,
                default="",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(expire_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(help_text="The token stops working at this time."),
        ),
    ]
