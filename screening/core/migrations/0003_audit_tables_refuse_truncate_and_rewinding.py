"""Database hardening of the audit tables, for every deployment:

- TRUNCATE is refused on the events, the chain head and the checkpoints (row triggers never see
  a TRUNCATE, so the append-only trigger of `screening.0003` did not cover it);
- the chain head only moves forward: an UPDATE that lowers its seq, or changes its hash
  without raising its seq, is refused, and so is deleting it;
- checkpoints are append-only, like the events.

The table owner can still disable these triggers (`ALTER TABLE … DISABLE TRIGGER`, or
`session_replication_role = replica` as a superuser); the runtime role the app should run as
cannot (`manage.py database_runtime_role`), and the signed checkpoints kept outside the
database catch what the owner does (`screening.core.checkpoints`).
"""

from django.db import migrations

TABLES = ("screening_auditevent", "screening_auditchainhead", "screening_auditcheckpoint")

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION screening_audit_no_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit tables cannot be truncated: TRUNCATE on % rejected', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    *(
        f"""
        CREATE TRIGGER screening_audit_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION screening_audit_no_truncate()
        """
        for table in TABLES
    ),
    """
    CREATE OR REPLACE FUNCTION screening_auditchainhead_forward_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'the audit chain head only moves forward: DELETE rejected'
                USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.id IS DISTINCT FROM OLD.id OR NEW.last_seq < OLD.last_seq
           OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash IS DISTINCT FROM OLD.last_hash) THEN
            RAISE EXCEPTION 'the audit chain head only moves forward: seq % to % rejected',
                OLD.last_seq, NEW.last_seq USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
    """
    CREATE TRIGGER screening_auditchainhead_forward_only
    BEFORE UPDATE OR DELETE ON screening_auditchainhead
    FOR EACH ROW EXECUTE FUNCTION screening_auditchainhead_forward_only()
    """,
    """
    CREATE OR REPLACE FUNCTION screening_auditcheckpoint_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit checkpoints are append-only: % on % rejected', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$
    """,
    """
    CREATE TRIGGER screening_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON screening_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION screening_auditcheckpoint_append_only()
    """,
]

POSTGRES_REVERSE = [
    *(f"DROP TRIGGER IF EXISTS screening_audit_no_truncate ON {table}" for table in TABLES),
    "DROP FUNCTION IF EXISTS screening_audit_no_truncate()",
    "DROP TRIGGER IF EXISTS screening_auditchainhead_forward_only ON screening_auditchainhead",
    "DROP FUNCTION IF EXISTS screening_auditchainhead_forward_only()",
    "DROP TRIGGER IF EXISTS screening_auditcheckpoint_append_only ON screening_auditcheckpoint",
    "DROP FUNCTION IF EXISTS screening_auditcheckpoint_append_only()",
]


def _abort(message: str) -> str:
    return f"BEGIN SELECT RAISE(ABORT, '{message}'); END"


# SQLite has no TRUNCATE: a DELETE without WHERE fires the row triggers.
SQLITE = [
    f"""CREATE TRIGGER screening_auditchainhead_forward_only
        BEFORE UPDATE ON screening_auditchainhead
        WHEN NEW.id IS NOT OLD.id OR NEW.last_seq < OLD.last_seq
            OR (NEW.last_seq = OLD.last_seq AND NEW.last_hash IS NOT OLD.last_hash)
        {_abort("the audit chain head only moves forward")}""",
    f"""CREATE TRIGGER screening_auditchainhead_no_delete
        BEFORE DELETE ON screening_auditchainhead
        {_abort("the audit chain head only moves forward: DELETE rejected")}""",
    *(
        f"""CREATE TRIGGER screening_auditcheckpoint_append_only_{op.lower()}
            BEFORE {op} ON screening_auditcheckpoint
            {_abort(f"audit checkpoints are append-only: {op} rejected")}"""
        for op in ("UPDATE", "DELETE")
    ),
]

SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "screening_auditchainhead_forward_only",
        "screening_auditchainhead_no_delete",
        "screening_auditcheckpoint_append_only_update",
        "screening_auditcheckpoint_append_only_delete",
    )
]


def _run(schema_editor, postgres, sqlite):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = postgres
    elif vendor == "sqlite":
        statements = sqlite
    else:
        raise NotImplementedError(f"No audit triggers written for the {vendor} database.")
    for sql in statements:
        # No params: plpgsql's own % placeholders must reach the server untouched.
        schema_editor.execute(sql, params=None)


def forwards(apps, schema_editor):
    _run(schema_editor, POSTGRES, SQLITE)


def backwards(apps, schema_editor):
    _run(schema_editor, POSTGRES_REVERSE, SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditcheckpoint")]

    operations = [migrations.RunPython(forwards, backwards)]
