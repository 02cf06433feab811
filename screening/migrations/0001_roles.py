"""Create the three role groups. Permissions for each app's models are granted by that app's
own data migrations as the models appear (see `grant_role_permissions` below for the pattern)."""

from django.db import migrations

ROLES = ("clinician", "reviewer", "rule_admin")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def delete_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
