"""Clinicians run, review and sign screenings; reviewers read them."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "clinician": (
        "add_screening",
        "change_screening",
        "view_screening",
        "add_flagreview",
        "change_flagreview",
        "view_flagreview",
    ),
    "reviewer": ("view_screening", "view_flagreview"),
}


def grant(apps, schema_editor):
    create_permissions(global_apps.get_app_config("screening"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        Group.objects.get(name=group_name).permissions.add(
            *Permission.objects.filter(content_type__app_label="screening", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("screening", "0006_signed_screenings_are_locked")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
