"""`manage.py migrate`, as the tables' owner when `MIGRATE_DATABASE_URL` is set.

Django's own command, connected with MIGRATE_DATABASE_URL instead of DATABASE_URL (the same
database, the owning role). Afterwards, when DATABASE_URL's user is another role, its grants are
re-applied (`screening.core.database_roles`), so tables added by the migrations are covered and
the audit tables stay append-only for it. Without MIGRATE_DATABASE_URL nothing changes.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import DEFAULT_DB_ALIAS

from screening.core.database_roles import RoleError, grant_runtime_role
from screening.core.management.owner import as_owner, runtime_user


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.MIGRATE_DATABASE_URL or options["database"] != DEFAULT_DB_ALIAS:
            super().handle(*args, **options)
            return
        role = runtime_user()
        with as_owner() as connection:
            super().handle(*args, **options)
            if options.get("check_unapplied") or options.get("plan"):
                return
            if role and role != connection.settings_dict["USER"]:
                try:
                    grant_runtime_role(connection, role=role, create=False)
                except RoleError as exc:
                    raise CommandError(str(exc)) from None
                if options["verbosity"]:
                    self.stdout.write(f"Runtime role {role}: grants re-applied.")
