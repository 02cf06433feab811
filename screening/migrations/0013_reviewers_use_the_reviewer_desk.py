"""Reviewers use the reviewer desk: grant the `reviewer` group `screening.review_screening`,
which the desk's pages and selectors check instead of the group's name."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"reviewer": ("review_screening",)}


def grant(apps, schema_editor):
    create_permissions(global_apps.get_app_config("screening"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GRANTS.items():
        Group.objects.get(name=group_name).permissions.add(
            *Permission.objects.filter(content_type__app_label="screening", codename__in=codenames)
        )


def revoke(apps, schema_editor):
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
    dependencies = [("screening", "0012_review_screening_permission")]

    operations = [migrations.RunPython(grant, revoke)]
