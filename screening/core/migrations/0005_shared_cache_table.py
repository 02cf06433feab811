"""The cache table every process shares (settings.CACHES): single-use TOTP codes and rate limits
must be seen by every worker and web node, not kept in one process's memory."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS screening_cache")


class Migration(migrations.Migration):
    dependencies = [("core", "0004_signinfailuretally")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
