"""Reviewers read the audit trail: grant the `reviewer` group `screening.view_auditevent`.

Permissions are normally created by the post_migrate signal, after every migration has run, so
this migration creates the screening app's permissions itself before granting one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"reviewer": ["view_auditevent"]}


def grant_role_permissions(apps, schema_editor):
    app_config = apps.get_app_config("screening")
    # Migration-state app configs have no models module, which create_permissions requires.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group = Group.objects.get(name=group_name)
        permissions = Permission.objects.filter(
            content_type__app_label="screening", codename__in=codenames
        )
        group.permissions.add(*permissions)


def revoke_role_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        group = Group.objects.filter(name=group_name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="screening", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0003_auditevent_append_only"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_role_permissions, revoke_role_permissions)]
