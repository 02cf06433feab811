"""The user administrator role: a group that may list, invite and change accounts
(`auth.view_user`, `auth.add_user`, `auth.change_user`), and nothing clinical.

Permissions are normally created by the post_migrate signal, after every migration has run, so
this migration creates the auth app's permissions itself before granting them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE = "user_admin"
CODENAMES = ["view_user", "add_user", "change_user"]


def create_role(apps, schema_editor):
    app_config = apps.get_app_config("auth")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=ROLE)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="auth", codename__in=CODENAMES)
    )


def remove_role(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ROLE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role, remove_role)]
