"""Create one demo login per role, for trying the app on a development machine."""

import os
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from screening.core.permissions import Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: Role


# "Demo" in every name, so screenings and audit rows made with these accounts say so.
DEMO_USERS = (
    DemoUser("clinician", "Demo", "Clinician", Role.CLINICIAN),
    DemoUser("reviewer", "Demo", "Reviewer", Role.REVIEWER),
    DemoUser("ruleadmin", "Demo", "Rule Admin", Role.RULE_ADMIN),
    DemoUser("useradmin", "Demo", "User Admin", Role.USER_ADMIN),
)


class Command(BaseCommand):
    help = (
        "Create (or reset the password of) one demo user per role: clinician, reviewer, "
        "ruleadmin and useradmin. Password from --password or DEMO_PASSWORD, otherwise a random one per "
        "user. Refuses to run with DEBUG off unless --force is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help="Password for all demo users (default: $DEMO_PASSWORD, else random per user).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. Demo accounts do not belong in production.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to create demo users with DEBUG off: demo accounts must not reach "
                "production by accident. Pass --force if this really is a demo installation."
            )
        shared_password = options["password"] or os.environ.get("DEMO_PASSWORD") or None
        rows = self._create_all(shared_password)
        self._print_table(rows)

    @transaction.atomic
    def _create_all(self, shared_password: str | None) -> list[tuple[str, str, str]]:
        user_model = get_user_model()
        rows = []
        for demo in DEMO_USERS:
            password = shared_password or secrets.token_urlsafe(12)
            user, _ = user_model.objects.get_or_create(username=demo.username)
            user.first_name = demo.first_name
            user.last_name = demo.last_name
            # Exactly one role and no admin powers, so the demo shows what that role can do.
            user.is_active = True
            user.is_staff = False
            user.is_superuser = False
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(
                    f"Password rejected for {demo.username}: " + " ".join(exc.messages)
                ) from exc
            user.set_password(password)
            user.save()
            user.groups.set([_role_group(demo.role)])
            rows.append((demo.username, demo.role.label, password))
        return rows

    def _print_table(self, rows: list[tuple[str, str, str]]) -> None:
        header = ("Username", "Role", "Password")
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        for row in (header, tuple("-" * width for width in widths), *rows):
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        self.stdout.write(
            self.style.WARNING("Demo accounts: for development and demonstrations only.")
        )


def _role_group(role: Role) -> Group:
    try:
        return Group.objects.get(name=role.value)
    except Group.DoesNotExist as exc:
        raise CommandError(
            f"The {role.value!r} group is missing; run `manage.py migrate` first."
        ) from exc
