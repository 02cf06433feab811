"""`manage.py verify_audit`: check the audit hash chain end to end.

Exits 0 when the chain is intact; otherwise exits 1 naming the first broken event and why, so it
can run from cron or CI and alert on a non-zero status.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from screening.core.audit import VERIFY_CHUNK_SIZE, audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and report the first broken event, if any."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=VERIFY_CHUNK_SIZE,
            help=f"Events read from the database at a time (default {VERIFY_CHUNK_SIZE}).",
        )

    def handle(self, *args: Any, chunk_size: int, **options: Any) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        result = audit_verify(chunk_size=chunk_size)
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(f"audit trail intact: {result.events_checked} events")
            )
            return
        where = "audit trail broken"
        if result.first_broken_seq is not None:
            row = (
                "row missing" if result.first_broken_id is None else f"id {result.first_broken_id}"
            )
            where += f" at event seq {result.first_broken_seq} ({row})"
        raise CommandError(
            f"{where}: {result.reason}. {result.events_checked} events before it verified."
        )
