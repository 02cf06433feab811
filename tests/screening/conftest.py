"""Audit anchors for the tests that need them: a signing key, its public key directory and a
checkpoint file, all in a temporary directory, and a way to tamper as the database's owner."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction


@dataclass
class Anchors:
    directory: Path
    private_key: Path
    public_keys: Path
    checkpoints: Path

    def public_key_files(self) -> list[Path]:
        return sorted(self.public_keys.glob("*.pem"))

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.checkpoints.read_text().splitlines()]

    def write_lines(self, lines: list[str]) -> None:
        self.checkpoints.write_text("".join(line + "\n" for line in lines))


@pytest.fixture
def anchors(tmp_path, settings) -> Anchors:
    """Checkpointing configured as in production: a key made by `audit_keygen`, its public key
    in a directory of public keys, and the checkpoint file outside the database."""
    made = Anchors(
        directory=tmp_path,
        private_key=tmp_path / "signing-key.pem",
        public_keys=tmp_path / "public-keys",
        checkpoints=tmp_path / "sink" / "checkpoints.jsonl",
    )
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_SIGNING_KEY_FILE = str(made.private_key)
    settings.AUDIT_PUBLIC_KEYS = [str(made.public_keys)]
    settings.AUDIT_CHECKPOINT_FILE = str(made.checkpoints)
    settings.AUDIT_TSA_URL = ""
    settings.AUDIT_TSA_CA_FILE = ""
    made.public_keys.mkdir()
    call_command("audit_keygen", stdout=io.StringIO())
    return made


@contextlib.contextmanager
def as_database_owner() -> Iterator:
    """Tamper the way whoever administers the database can: in one transaction with every
    trigger off (`session_replication_role = replica`, as PostgreSQL's restores do), then
    back on."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Deferred foreign-key checks queued by the test's own writes must not wait for us.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET LOCAL session_replication_role = origin")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
