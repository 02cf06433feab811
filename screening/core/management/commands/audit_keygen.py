"""`manage.py audit_keygen`: make the Ed25519 key pair that signs audit checkpoints.

    manage.py audit_keygen                      # to AUDIT_SIGNING_KEY_FILE; refuses to overwrite
    manage.py audit_keygen --if-missing         # what `make run` does: a development key once
    manage.py audit_keygen --rotate             # a new key in its place, the old public key kept
    manage.py audit_keygen --private-key k.pem --public-key k.pub.pem

The private key is written readable by its owner only (0600); keep it off the database server
and out of backups the database's administrators hold. The public key goes to the first
directory in AUDIT_PUBLIC_KEYS as `<key id>.pem` (else beside the private key): it is all an
auditor needs, so hand it to whoever verifies. After a rotation the old public key stays there,
so checkpoints signed before it still verify.
"""

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from screening.core.checkpoints import (
    CheckpointError,
    generate_key_pair,
    key_id,
    load_private_key,
)


class Command(BaseCommand):
    help = "Generate the Ed25519 key pair that signs audit checkpoints."
    # Run before anything else exists (no database needed), and it is what fixes W103.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--private-key", metavar="FILE", help="default AUDIT_SIGNING_KEY_FILE")
        parser.add_argument(
            "--public-key",
            metavar="FILE",
            help="default <first directory of AUDIT_PUBLIC_KEYS>/<key id>.pem",
        )
        parser.add_argument(
            "--if-missing", action="store_true", help="Do nothing when the private key exists."
        )
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Replace the existing private key, keeping its public key for verification.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        private_path = options["private_key"] or getattr(settings, "AUDIT_SIGNING_KEY_FILE", "")
        if not private_path and options["if_missing"]:
            self.stdout.write("no AUDIT_SIGNING_KEY_FILE is set: audit checkpoints are off")
            return
        if not private_path:
            raise CommandError(
                "Where should the key go? Set AUDIT_SIGNING_KEY_FILE or pass --private-key."
            )
        private_file = Path(private_path)
        if private_file.exists():
            if options["if_missing"]:
                self.stdout.write(f"audit signing key exists: {private_file}")
                return
            if not options["rotate"]:
                raise CommandError(
                    f"{private_file} exists. To replace it, use --rotate (its public key is kept "
                    "so that older checkpoints still verify)."
                )
            self._keep_old_public_key(private_file, options["public_key"])
        private_pem, public_pem, new_id = generate_key_pair()
        public_file = self._public_path(private_file, options["public_key"], new_id)
        _write(public_file, public_pem, mode=0o644)
        _write(private_file, private_pem, mode=0o600)
        self.stdout.write(
            self.style.SUCCESS(
                f"audit signing key {new_id}: private key {private_file}, public key {public_file}"
            )
        )

    def _public_path(self, private_file: Path, explicit: str | None, kid: str) -> Path:
        if explicit:
            return Path(explicit)
        for entry in getattr(settings, "AUDIT_PUBLIC_KEYS", []):
            location = Path(entry)
            if location.is_dir() or not location.suffix:
                return location / f"{kid}.pem"
        return private_file.with_name(f"{private_file.stem}.{kid}.pub.pem")

    def _keep_old_public_key(self, private_file: Path, explicit: str | None) -> None:
        try:
            old = load_private_key(private_file).public_key()
        except CheckpointError as exc:
            raise CommandError(f"cannot read the key to rotate: {exc}") from None
        if explicit is None and not any(
            Path(entry).is_dir() or not Path(entry).suffix
            for entry in getattr(settings, "AUDIT_PUBLIC_KEYS", [])
        ):
            raise CommandError(
                "Rotating needs a directory in AUDIT_PUBLIC_KEYS to keep the old public key in."
            )
        path = self._public_path(private_file, None, key_id(old))
        if not path.exists():
            pem = old.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            _write(path, pem, mode=0o644)
        self.stdout.write(f"old key {key_id(old)}: public key kept at {path}")


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write `data` to `path` with `mode`, atomically (a new file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, mode)
    os.replace(temporary, path)
