"""`manage.py audit_checkpoint`: sign a checkpoint of the audit chain now.

    manage.py audit_checkpoint              # one checkpoint, stored and appended to the sinks
    manage.py audit_checkpoint --schedule   # also make sure the worker's periodic ones run
    manage.py audit_checkpoint --schedule --if-configured   # what `make run` does

The worker (`manage.py db_worker`) writes them anyway, every AUDIT_CHECKPOINT_INTERVAL and after
every AUDIT_CHECKPOINT_EVERY_EVENTS events; this is for a deploy, a backup, or an auditor's
visit. Needs the signing key; prints what was signed.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from screening.core.checkpoints import CheckpointError, audit_checkpoint, checkpoints_configured
from screening.core.tasks import schedule_periodic_checkpoints


class Command(BaseCommand):
    help = "Sign a checkpoint of the audit chain now and append it to the outside sinks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Also queue the periodic checkpoint task for the worker, unless it is queued.",
        )
        parser.add_argument(
            "--if-configured",
            action="store_true",
            help="Do nothing (successfully) when no signing key is configured.",
        )

    def handle(self, *args: Any, schedule: bool, if_configured: bool, **options: Any) -> None:
        if if_configured and not checkpoints_configured():
            self.stdout.write("no audit signing key is configured: no checkpoint written")
            return
        try:
            checkpoint = audit_checkpoint()
        except CheckpointError as exc:
            raise CommandError(str(exc)) from None
        assert checkpoint is not None
        sinks = [getattr(settings, "AUDIT_CHECKPOINT_FILE", "")]
        if checkpoint.timestamp_token:
            sinks.append(f"timestamped by {settings.AUDIT_TSA_URL}")
        where = ", ".join(filter(None, sinks)) or "the database only (no AUDIT_CHECKPOINT_FILE)"
        self.stdout.write(
            self.style.SUCCESS(
                f"checkpoint #{checkpoint.number}: seq {checkpoint.seq}, head "
                f"{checkpoint.head_hash[:16]}…, key {checkpoint.key_id}; in {where}"
            )
        )
        if schedule:
            queued = schedule_periodic_checkpoints()
            self.stdout.write(
                "periodic checkpoints queued for the worker"
                if queued
                else "periodic checkpoints already queued (or the task backend cannot defer)"
            )
