"""`manage.py audit_attest`: put finished records that predate record digests into the chain.

Signed screenings and published rule sets whose events carry no digest (the default rule set
that `migrate` publishes, records from before digests existed) get one `audit.attest` event
each, with the digest of their rows as they are now; from then on `verify_audit` holds them to
it. Idempotent: a record is attested once. `make run` runs it after migrating.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from screening.core.records import attest_records


class Command(BaseCommand):
    help = "Record the digest of every finished record that no audit event carries one of yet."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            attested = attest_records()
        for label, count in attested.items():
            self.stdout.write(f"{count} {label}{'s' if count != 1 else ''} attested")
