"""`manage.py database_runtime_role`: create or update the least-privilege role the app runs as.

    DATABASE_URL=postgres://screening_app@db/screening \\
    MIGRATE_DATABASE_URL=postgres://screening_owner@db/screening \\
    RUNTIME_ROLE_PASSWORD=… manage.py database_runtime_role --password-env RUNTIME_ROLE_PASSWORD

Connects as the owner (MIGRATE_DATABASE_URL when set, else DATABASE_URL); the role is the user
of DATABASE_URL unless --role names another. What it may do: `screening.core.database_roles`.
PostgreSQL only. `manage.py migrate` re-applies the grants after migrating when both URLs are set.
"""

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from screening.core.database_roles import RoleError, grant_runtime_role
from screening.core.management.owner import as_owner, runtime_user


class Command(BaseCommand):
    help = "Create or update the least-privilege PostgreSQL role the app runs as (DATABASE_URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", help="default: the user of DATABASE_URL")
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="Set the role's password from this environment variable (never on the "
            "command line, where other users of the machine can read it).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"] or runtime_user()
        if not role:
            raise CommandError("Which role? Pass --role, or put its user in DATABASE_URL.")
        password = None
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"{options['password_env']} is not set")
        try:
            with as_owner() as connection:
                done = grant_runtime_role(connection, role=role, password=password)
        except RoleError as exc:
            raise CommandError(str(exc)) from None
        for sql in done:
            self.stdout.write(f"  {sql}")
        owner = "MIGRATE_DATABASE_URL" if settings.MIGRATE_DATABASE_URL else "DATABASE_URL"
        self.stdout.write(
            self.style.SUCCESS(
                f"runtime role {role}: reads and appends to the audit tables only, no TRUNCATE, "
                f"owns nothing (granted as the owner from {owner})"
            )
        )
