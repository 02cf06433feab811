"""The least-privilege runtime role: created by `manage.py database_runtime_role`, connected as
for real, and shown every statement an attacker holding the app's credentials would try:
changing, deleting or truncating audit rows, altering the tables, disabling or dropping their
triggers, replacing a trigger function, skipping triggers with `session_replication_role`,
moving the chain head backwards. The app's own work still runs as it.
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from screening.core.audit import audit_record, audit_verify
from screening.core.checkpoints import audit_checkpoint
from tests.screening.review_helpers import overridden_pregnancy

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = secrets.token_urlsafe(16)


def role_name() -> str:
    return f"{connection.settings_dict['NAME']}_app"


@pytest.fixture(scope="module")
def runtime_role(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The runtime role of the test database, as the command creates it (committed: a real
    connection as the role must see its grants). Dropped afterwards."""
    with django_db_blocker.unblock():
        role = role_name()
        os.environ["H13_TEST_ROLE_PASSWORD"] = PASSWORD
        try:
            call_command(
                "database_runtime_role",
                role=role,
                password_env="H13_TEST_ROLE_PASSWORD",
                stdout=io.StringIO(),
            )
        finally:
            del os.environ["H13_TEST_ROLE_PASSWORD"]
        yield role
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")


@pytest.fixture
def as_role(runtime_role) -> Iterator[psycopg.Connection]:
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=runtime_role,
        password=PASSWORD,
    ) as role_connection:
        yield role_connection


def refused(role_connection: psycopg.Connection, sql: str) -> psycopg.Error:
    """Run `sql` as the role in a transaction that is rolled back; return the error it got."""
    try:
        with role_connection.transaction(force_rollback=True):
            role_connection.execute(sql)
    except psycopg.Error as exc:
        return exc
    pytest.fail(f"the runtime role was allowed to run: {sql}")


FORBIDDEN = {
    "UPDATE screening_auditevent SET action = 'system.forged'": "permission denied for table",
    "DELETE FROM screening_auditevent": "permission denied for table",
    "TRUNCATE screening_auditevent": "permission denied for table",
    "UPDATE screening_auditcheckpoint SET seq = 0": "permission denied for table",
    "DELETE FROM screening_auditcheckpoint": "permission denied for table",
    "TRUNCATE screening_auditcheckpoint": "permission denied for table",
    "DELETE FROM screening_auditchainhead": "permission denied for table",
    "TRUNCATE screening_auditchainhead": "permission denied for table",
    "ALTER TABLE screening_auditevent DISABLE TRIGGER ALL": "must be owner",
    "ALTER TABLE screening_auditevent DISABLE TRIGGER screening_auditevent_append_only": (
        "must be owner"
    ),
    "ALTER TABLE screening_auditchainhead DISABLE TRIGGER USER": "must be owner",
    "ALTER TABLE screening_auditevent ADD COLUMN note text": "must be owner",
    "ALTER TABLE screening_screening DISABLE TRIGGER screening_screening_guard": "must be owner",
    "DROP TRIGGER screening_audit_no_truncate ON screening_auditevent": "must be owner",
    "DROP TABLE screening_auditcheckpoint": "must be owner",
    "CREATE OR REPLACE FUNCTION screening_auditevent_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$": "permission denied for schema",
    "SET session_replication_role = replica": "permission denied to set parameter",
    "CREATE TABLE shadow_trail (id int)": "permission denied for schema",
    "UPDATE django_migrations SET name = name": "permission denied for table",
}


@pytest.mark.parametrize("sql", list(FORBIDDEN))
def test_the_runtime_role_is_refused(as_role, sql):
    error = refused(as_role, sql)

    assert FORBIDDEN[sql] in str(error)


def test_the_runtime_role_cannot_move_the_chain_head_backwards(as_role):
    with as_role.transaction(force_rollback=True):
        as_role.execute(
            "INSERT INTO screening_auditchainhead (id, last_seq, last_hash) "
            "VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING"
        )
        # Forward is how every append moves it.
        as_role.execute(
            "UPDATE screening_auditchainhead SET last_seq = last_seq + 2, "
            "last_hash = repeat('a', 64)"
        )
        with (
            pytest.raises(psycopg.errors.RestrictViolation, match="only moves forward"),
            as_role.transaction(),
        ):
            as_role.execute("UPDATE screening_auditchainhead SET last_seq = last_seq - 1")


def test_the_runtime_role_reads_and_appends_to_the_audit_tables(as_role):
    with as_role.transaction(force_rollback=True):
        as_role.execute("SELECT count(*) FROM screening_auditevent").fetchone()
        as_role.execute("SELECT last_seq FROM screening_auditchainhead FOR UPDATE").fetchall()
        as_role.execute(
            "INSERT INTO screening_auditevent (seq, occurred_at, actor_repr, action, "
            "object_type, object_id, detail, prev_hash, hash) VALUES "
            "(987654, now(), '', 'system.check', '', '', '{}', repeat('0', 64), 'h13')"
        )
        as_role.execute(
            "INSERT INTO screening_auditcheckpoint (number, seq, head_hash, created_at, key_id, "
            "prev_digest, signature, timestamp_token) VALUES "
            "(987654, 0, repeat('0', 64), now(), 'k', repeat('0', 64), 's', '')"
        )


@pytest.mark.django_db
def test_the_app_runs_as_the_runtime_role(runtime_role, anchors, clinician):
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {runtime_role}")
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == runtime_role

    audit_record(actor=clinician, action="system.check")
    overridden_pregnancy(clinician, sign=True)  # run, override, sign: every write the app does
    checkpoint = audit_checkpoint()
    result = audit_verify()

    assert checkpoint.number == 1
    assert result.ok, result.findings
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


@pytest.mark.django_db
def test_the_command_refuses_to_make_the_owner_the_runtime_role():
    owner = connection.settings_dict["USER"]

    with pytest.raises(CommandError, match="the runtime role must be another one"):
        call_command("database_runtime_role", role=owner, stdout=io.StringIO())


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "test-only", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def role_url(role: str) -> str:
    settings = connection.settings_dict
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{role}:{PASSWORD}@{host}:{port}/{settings['NAME']}"


def owner_url() -> str:
    settings = connection.settings_dict
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    return f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}"


def test_migrations_as_the_runtime_role_are_refused(runtime_role):
    # Unapplying the audit hardening would drop its triggers: only the owner may.
    result = manage("migrate", "core", "0002", DATABASE_URL=role_url(runtime_role))

    assert result.returncode != 0
    assert "must be owner" in result.stderr


def test_migrate_runs_as_the_owner_and_reapplies_the_runtime_grants(runtime_role):
    result = manage(
        "migrate", DATABASE_URL=role_url(runtime_role), MIGRATE_DATABASE_URL=owner_url()
    )

    assert result.returncode == 0, result.stderr
    assert f"Runtime role {runtime_role}: grants re-applied." in result.stdout


def test_the_command_says_it_needs_postgresql(tmp_path):
    result = manage(
        "database_runtime_role", "--role", "screening_app", DATABASE_URL=f"sqlite:///{tmp_path}/x"
    )

    assert result.returncode == 1
    assert "A runtime database role needs PostgreSQL; this database is sqlite" in result.stderr
