"""`manage.py verify_audit`: check the audit trail end to end.

The hash chain, then the chain against every signed checkpoint in the checkpoint file (outside
the database), then every signed screening and published rule set against the digests their
events recorded. Exits 0 when everything holds; otherwise exits 1 naming the first broken point
and listing every problem, so it can run from cron or CI and alert on a non-zero status.

An auditor needs only read access to the database, the checkpoint file and the public key(s):

    manage.py verify_audit --checkpoints checkpoints.jsonl --public-key audit-2026.pem \\
        [--public-key audit-2025.pem ...] [--tsa-ca tsa-root.pem]
"""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from screening.core.audit import VERIFY_CHUNK_SIZE, AuditVerification, audit_verify
from screening.core.checkpoints import (
    CheckpointError,
    CheckpointSource,
    load_certificates,
    public_keys,
)


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain against the signed checkpoints kept outside the "
        "database, and the signed clinical records against their digests; report every problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=VERIFY_CHUNK_SIZE,
            help=f"Events read from the database at a time (default {VERIFY_CHUNK_SIZE}).",
        )
        parser.add_argument(
            "--checkpoints",
            metavar="FILE",
            help="The checkpoint file (JSON lines) to trust (default AUDIT_CHECKPOINT_FILE).",
        )
        parser.add_argument(
            "--public-key",
            metavar="PEM",
            action="append",
            dest="public_keys",
            help="A public key file, or a directory of them, that verifies checkpoints; repeat "
            "for old keys (default AUDIT_PUBLIC_KEYS and the signing key's own).",
        )
        parser.add_argument(
            "--tsa-ca",
            metavar="PEM",
            help="Root certificate(s) of the timestamp authority: every checkpoint must then "
            "carry a valid RFC 3161 token (default AUDIT_TSA_CA_FILE).",
        )
        parser.add_argument(
            "--no-records",
            action="store_true",
            help="Skip recomputing the digests of signed screenings and published rule sets.",
        )

    def handle(self, *args: Any, chunk_size: int, **options: Any) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        try:
            source = self._source(options)
        except (CheckpointError, OSError, ValueError) as exc:
            raise CommandError(f"cannot read the keys or certificates: {exc}") from None
        result = audit_verify(
            chunk_size=chunk_size, checkpoints=source, records=not options["no_records"]
        )
        for line in summary(result):
            self.stdout.write(line)
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(f"audit trail intact: {result.events_checked} events")
            )
            return
        raise CommandError("\n".join(problems(result)))

    def _source(self, options: dict[str, Any]) -> CheckpointSource:
        path = options["checkpoints"] or getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
        ca_file = options["tsa_ca"] or getattr(settings, "AUDIT_TSA_CA_FILE", "")
        keys = public_keys(options["public_keys"]) if options["public_keys"] else public_keys()
        return CheckpointSource(
            file=Path(path) if path else None,
            keys=keys,
            tsa_roots=tuple(load_certificates(ca_file)) if ca_file else (),
        )


def summary(result: AuditVerification) -> list[str]:
    """What was checked, and what could not be."""
    lines = []
    if result.checkpoint_source:
        latest = result.latest_checkpoint
        upto = f", the latest #{latest.number} at seq {latest.seq} ({latest.at})" if latest else ""
        lines.append(
            f"checkpoints: {result.checkpoints_checked} trusted from "
            f"{result.checkpoint_source}{upto}"
        )
    for label, count in result.records_checked.items():
        lines.append(f"records: {count} {label}{'s' if count != 1 else ''} compared with digests")
    lines.extend(f"note: {note}" for note in result.notes)
    return lines


def problems(result: AuditVerification) -> list[str]:
    """The first broken point, then every other problem."""
    where = "audit trail broken"
    if result.first_broken_seq is not None:
        row = "row missing" if result.first_broken_id is None else f"id {result.first_broken_id}"
        where += f" at event seq {result.first_broken_seq} ({row})"
    if result.chain_broken:
        walked = f". {result.events_checked} events before it verified"
    else:
        walked = f"; the hash chain itself holds ({result.events_checked} events)"
    lines = [f"{where}: {result.reason}{walked}."]
    lines.extend(f"  also: {finding.message}" for finding in result.findings[1:])
    return lines
