"""Clinicians work with patients and intakes; reviewers read them."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "clinician": (
        "add_patient",
        "change_patient",
        "view_patient",
        "add_intake",
        "change_intake",
        "view_intake",
    ),
    "reviewer": ("view_patient", "view_intake"),
}


def grant(apps, schema_editor):
    create_permissions(global_apps.get_app_config("patients"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        Group.objects.get(name=group_name).permissions.add(
            *Permission.objects.filter(content_type__app_label="patients", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_initial"), ("screening", "0001_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
