"""Rule admins maintain rule sets; clinicians and reviewers may read them."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ("ruleset", "rulesetversion", "rule")
GRANTS = {
    "rule_admin": ("add", "change", "view"),
    "clinician": ("view",),
    "reviewer": ("view",),
}


def grant(apps, schema_editor):
    create_permissions(global_apps.get_app_config("rules"), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, actions in GRANTS.items():
        group = Group.objects.get(name=group_name)
        codenames = [f"{action}_{model}" for action in actions for model in MODELS]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="rules", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=GRANTS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="rules"))


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0003_load_default_ruleset"),
        ("screening", "0001_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
